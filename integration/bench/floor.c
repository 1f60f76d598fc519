/* The physical floor for the benchmark: copy BYTES bytes of a live process's resident writable
   memory (pages /proc/PID/pagemap says hold data, never a page that does not) with
   process_vm_readv (up to 1024 iovecs of 4 MiB per call, as pypeek's image copy) into one fresh
   buffer prepared the way pypeek prepares its image (mmap, MADV_POPULATE_WRITE, then a
   kernel-side write into every page), and print the microseconds the copy took. Built by
   bench.py; not part of pypeek. usage: floor PID BYTES */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PIECE ((size_t)4 << 20)
#define NIOV 1024
#define MAX_RUNS 65536

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static uint64_t run_start[MAX_RUNS], run_end[MAX_RUNS];
static size_t nruns;

/* Resident runs of [s, e), from pagemap. */
static void add_resident(int pm, uint64_t s, uint64_t e)
{
    static uint64_t ent[8192];
    uint64_t open_at = 0;
    int open = 0;
    for (uint64_t a = s; a < e && nruns < MAX_RUNS;) {
        size_t n = (e - a) / 4096 < 8192 ? (size_t)((e - a) / 4096) : 8192;
        ssize_t got = pread(pm, ent, n * 8, (off_t)(a / 4096 * 8));
        if (got < 8) return;
        n = (size_t)got / 8;
        for (size_t i = 0; i < n; i++, a += 4096) {
            int res = (ent[i] >> 62) != 0;
            if (res && !open) open = 1, open_at = a;
            if (!res && open) {
                open = 0;
                run_start[nruns] = open_at, run_end[nruns] = a;
                if (++nruns == MAX_RUNS) return;
            }
        }
    }
    if (open && nruns < MAX_RUNS) run_start[nruns] = open_at, run_end[nruns++] = e;
}

static void warm(char *buf, uint64_t len)
{
    static const char zeros[65536];
    struct iovec l[64], r[64];
    for (uint64_t off = 0; off < len;) {
        size_t k = 0;
        for (; k < 64 && off < len; k++) {
            size_t n = len - off < sizeof zeros ? (size_t)(len - off) : sizeof zeros;
            l[k] = (struct iovec){buf + off, n};
            r[k] = (struct iovec){(void *)zeros, n};
            off += n;
        }
        process_vm_readv(getpid(), l, k, r, k, 0);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: floor PID BYTES\n");
        return 1;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    uint64_t want = strtoull(argv[2], NULL, 10);
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    int pm = open(path, O_RDONLY);
    if (!f || pm < 0) {
        perror(path);
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        unsigned long long s, e;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3) continue;
        if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p' || strstr(line, "[vvar"))
            continue;
        add_resident(pm, s, e);
    }
    fclose(f);
    close(pm);
    if (!want) want = 4096;
    char *buf = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED || nruns == 0) return 1;
    madvise(buf, want, MADV_POPULATE_WRITE);
    warm(buf, want);
    static struct iovec local[NIOV], remote[NIOV];
    uint64_t done = 0, t0 = now_us();
    size_t ri = 0;
    uint64_t a = run_start[0];
    while (done < want && ri < nruns) {
        size_t k = 0;
        uint64_t total = 0;
        while (k < NIOV && ri < nruns && done + total < want) {
            uint64_t len = run_end[ri] - a < PIECE ? run_end[ri] - a : PIECE;
            if (done + total + len > want) len = want - done - total;
            local[k] = (struct iovec){buf + done + total, (size_t)len};
            remote[k] = (struct iovec){(void *)(uintptr_t)a, (size_t)len};
            total += len;
            a += len;
            k++;
            if (a == run_end[ri] && ++ri < nruns) a = run_start[ri];
        }
        ssize_t r = process_vm_readv(pid, local, k, remote, k, 0);
        if (r <= 0) break;
        done += (uint64_t)r;
        if ((uint64_t)r < total) break; /* a run shrank meanwhile: what was copied counts */
    }
    uint64_t us = now_us() - t0;
    printf("{\"floor_us\": %llu, \"bytes\": %llu}\n", (unsigned long long)us,
           (unsigned long long)done);
    return 0;
}
