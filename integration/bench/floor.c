/* The physical floor for the benchmark: copy BYTES bytes of a live process's writable memory
   with process_vm_readv in large reads (many 1 MiB iovecs per call) into one reused buffer,
   and print the microseconds it took. Built by bench.py; not part of pypeek.
   usage: floor PID BYTES */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#define PIECE ((size_t)1 << 20)
#define NIOV 16

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
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
    if (!f) {
        perror(path);
        return 1;
    }
    /* Writable private mappings: the heap, pymalloc arenas, malloc'd blocks. */
    uint64_t starts[4096], ends[4096];
    size_t n = 0;
    while (n < 4096 && fgets(line, sizeof line, f)) {
        unsigned long long s, e;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3) continue;
        if (perms[0] != 'r' || perms[1] != 'w' || strstr(line, "[vvar") || strstr(line, "[stack"))
            continue;
        starts[n] = s;
        ends[n] = e;
        n++;
    }
    fclose(f);
    char *buf = malloc(PIECE * NIOV);
    if (!buf || n == 0) return 1;
    memset(buf, 0, PIECE * NIOV); /* fault the destination in before timing */
    uint64_t done = 0, t0 = now_us();
    for (int pass = 0; pass < 64 && done < want; pass++) {
        for (size_t i = 0; i < n && done < want; i++) {
            for (uint64_t a = starts[i]; a < ends[i] && done < want;) {
                struct iovec local[NIOV], remote[NIOV];
                size_t k = 0;
                uint64_t total = 0;
                while (k < NIOV && a < ends[i] && done + total < want) {
                    size_t len = ends[i] - a < PIECE ? (size_t)(ends[i] - a) : PIECE;
                    if (done + total + len > want) len = (size_t)(want - done - total);
                    local[k].iov_base = buf + k * PIECE;
                    local[k].iov_len = len;
                    remote[k].iov_base = (void *)(uintptr_t)a;
                    remote[k].iov_len = len;
                    total += len;
                    a += len;
                    k++;
                }
                ssize_t r = process_vm_readv(pid, local, k, remote, k, 0);
                if (r <= 0) break;
                done += (uint64_t)r;
            }
        }
    }
    uint64_t us = now_us() - t0;
    printf("{\"floor_us\": %llu, \"bytes\": %llu}\n", (unsigned long long)us,
           (unsigned long long)done);
    return 0;
}
