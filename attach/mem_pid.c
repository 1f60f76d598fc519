/* The live-process source of the memory reader: process_vm_readv, else /proc/PID/mem. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attach/mem.h"
#include "attach/proc.h"

/* A walk of a live heap runs forward through pools in a few streams at once: a few MiB hold
   what it comes back to, and stay in the CPU's cache. A cache sized for the heap's working set
   was slower (copies into cold memory) and can never hold a large heap anyway. */
#define LIVE_CACHE_BYTES ((size_t)4 << 20)

struct pid_source {
    pid_t pid;
    int procfd;
    int memfd; /* /proc/PID/mem, opened on first need; -1 before */
    int use_procmem;
};

static long read_procmem(struct pid_source *s, uint64_t addr, void *buf, size_t len)
{
    if (s->memfd < 0) {
        s->memfd = openat(s->procfd, "mem", O_RDONLY | O_CLOEXEC);
        if (s->memfd < 0) return errno == ENOENT || errno == ESRCH ? -PK_E_NO_PROCESS : 0;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(s->memfd, (char *)buf + done, len - done, (off_t)(addr + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == ESRCH) return -PK_E_NO_PROCESS;
        if (r <= 0) break;
        done += (size_t)r;
    }
    return (long)done;
}

static long pid_source_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct pid_source *s = ctx;
    if (s->use_procmem) return read_procmem(s, addr, buf, len);
    struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
    for (;;) {
        ssize_t r = process_vm_readv(s->pid, &local, 1, &remote, 1, 0);
        if (r >= 0) return (long)r;
        switch (errno) {
        case EINTR:
            continue;
        case EFAULT:
        case EIO:
            return 0;
        case ESRCH:
            return -PK_E_NO_PROCESS;
        case ENOSYS:
        case EPERM:
            /* Kernels without CMA, or seccomp policies that deny it: /proc/PID/mem works
               for a tracer that may ptrace the target. */
            s->use_procmem = 1;
            return read_procmem(s, addr, buf, len);
        default:
            return 0;
        }
    }
}

static long pid_source_readv(void *ctx, const struct iovec *local, const struct iovec *remote,
                             size_t n)
{
    struct pid_source *s = ctx;
    if (!s->use_procmem) {
        for (;;) {
            ssize_t r = process_vm_readv(s->pid, local, n, remote, n, 0);
            if (r >= 0) return (long)r;
            if (errno == EINTR) continue;
            if (errno == ESRCH) return -PK_E_NO_PROCESS;
            if (errno != ENOSYS && errno != EPERM) return 0;
            break; /* fall back to one span at a time */
        }
    }
    return pk_mem_readv_spans(pid_source_read, ctx, local, remote, n);
}

/* Read-ahead's copy, run on the fetcher thread: process_vm_readv only, touching nothing the
   reader's thread writes (pid is set once). Any failure is 0: the reader retries the chunk
   itself through pid_source_read, which tells the errors apart and falls back. */
static long pid_source_fetch(void *ctx, const struct iovec *local, const struct iovec *remote,
                             size_t n)
{
    const struct pid_source *s = ctx;
    for (;;) {
        ssize_t r = process_vm_readv(s->pid, local, n, remote, n, 0);
        if (r >= 0 || errno != EINTR) return r > 0 ? (long)r : 0;
    }
}

static void pid_source_free(void *ctx)
{
    struct pid_source *s = ctx;
    if (s->memfd >= 0) close(s->memfd);
    free(s);
}

/* A "Name:   N kB" field of text, in kB, or -1. */
static long long kb_field(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    long long v;
    return p && sscanf(p + strlen(name), " %lld kB", &v) == 1 ? v : -1;
}

/* True when some of the target's anonymous pages are also mapped by another process (a
   pre-fork worker and its master): its proportional anonymous size is below its anonymous
   RSS. process_vm_readv pins what it reads, and pinning such a page read-only makes the
   kernel give the target a private copy of it (Linux 5.19+): read through /proc/PID/mem,
   which does not pin. */
static int shares_anonymous_pages(int procfd)
{
    struct pk_err ignored = {0};
    char *rollup = NULL, *status = NULL;
    int shared = 0;
    if (pk_proc_read_file(procfd, "smaps_rollup", 16384, &rollup, NULL, &ignored) == 0 &&
        pk_proc_read_file(procfd, "status", 16384, &status, NULL, &ignored) == 0) {
        long long pss = kb_field(rollup, "\nPss_Anon:"), rss = kb_field(status, "\nRssAnon:");
        shared = pss >= 0 && rss >= 0 && pss + 1024 < rss; /* more than 1 MiB of it shared */
    }
    free(rollup);
    free(status);
    return shared;
}

struct pk_mem *pk_mem_open_pid(pid_t pid, int procfd, const struct pk_maps *maps)
{
    struct pid_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->pid = pid;
    s->procfd = procfd;
    s->memfd = -1;
    s->use_procmem = shares_anonymous_pages(procfd);
    struct pk_mem *m = pk_mem_new(pid_source_read, s, pid_source_free, maps, LIVE_CACHE_BYTES);
    if (!m)
        free(s);
    else {
        pk_mem_set_vsource(m, pid_source_readv);
        if (!s->use_procmem) pk_mem_set_fetch(m, pid_source_fetch); /* it would pin */
    }
    return m;
}
