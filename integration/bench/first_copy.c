/* Is the first process_vm_readv into a fresh buffer slower than the next one into the same
   pages, and which way of preparing the buffer removes the difference? (issue 14). Not part
   of pypeek; run by hand on a quiet machine:
     cc -O2 -o /tmp/first_copy integration/bench/first_copy.c
     for m in populate memset devzero selfpvr srcwarm; do /tmp/first_copy $m; done
     /tmp/first_copy populate fork     # the source shares its pages with pypeek (fork)
   A source process (this program, exec'd again; or forked with "fork") holds 128 MiB it has
   written; a fresh buffer is prepared (populate: MADV_POPULATE_WRITE; memset; devzero: read()
   from /dev/zero; selfpvr: process_vm_readv of our own memory into it, what pypeek does;
   srcwarm: populate, after copying the source once into another buffer), then the source is
   copied twice into it, 4 MiB per iovec, and both times printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SZ ((size_t)128 << 20)
#define PIECE ((size_t)4 << 20)

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static char *fresh(void)
{
    char *b = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED) exit(1);
    return b;
}

static double copy(pid_t pid, char *dst, char *src)
{
    double t = now_ms();
    for (size_t off = 0; off < SZ; off += PIECE) {
        struct iovec l = {dst + off, PIECE}, r = {src + off, PIECE};
        if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)PIECE) {
            fprintf(stderr, "process_vm_readv failed\n");
            exit(1);
        }
    }
    return now_ms() - t;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "source")) { /* the exec'd source */
        char *s = fresh();
        memset(s, 1, SZ);
        printf("%p\n", (void *)s);
        fflush(stdout);
        pause();
        return 0;
    }
    const char *mode = argc > 1 ? argv[1] : "populate";
    int forked = argc > 2 && !strcmp(argv[2], "fork");
    char *src = NULL;
    int p[2];
    if (pipe(p)) return 1;
    if (forked) {
        src = fresh();
        memset(src, 1, SZ);
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (forked) pause();
        dup2(p[1], 1);
        execl("/proc/self/exe", "first_copy", "source", (char *)0);
        _exit(1);
    }
    if (!forked) {
        char line[64] = "";
        FILE *f = fdopen(p[0], "r");
        if (!f || !fgets(line, sizeof line, f)) return 1;
        src = (char *)(uintptr_t)strtoull(line, NULL, 16);
    }
    char *b = fresh();
    double t0 = now_ms();
    if (!strcmp(mode, "populate") || !strcmp(mode, "srcwarm")) {
        madvise(b, SZ, MADV_POPULATE_WRITE);
    } else if (!strcmp(mode, "memset")) {
        memset(b, 0, SZ);
    } else if (!strcmp(mode, "devzero")) {
        int fd = open("/dev/zero", O_RDONLY);
        for (size_t o = 0; o < SZ; o += PIECE)
            if (read(fd, b + o, PIECE) < 0) return 1;
        close(fd);
    } else if (!strcmp(mode, "selfpvr")) {
        static char z[65536];
        for (size_t o = 0; o < SZ; o += sizeof z) {
            struct iovec l = {b + o, sizeof z}, r = {z, sizeof z};
            process_vm_readv(getpid(), &l, 1, &r, 1, 0);
        }
    }
    double prep = now_ms() - t0;
    if (!strcmp(mode, "srcwarm")) {
        char *a = fresh();
        madvise(a, SZ, MADV_POPULATE_WRITE);
        copy(pid, a, src);
    }
    double c1 = copy(pid, b, src), c2 = copy(pid, b, src);
    printf("%-9s %-6s prepare %7.1f ms  first copy %7.1f ms  second %7.1f ms\n", mode,
           forked ? "fork" : "exec", prep, c1, c2);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}
