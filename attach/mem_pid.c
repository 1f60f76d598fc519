/* The live-process source of the memory reader: process_vm_readv, else /proc/PID/mem. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attach/mem.h"

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

struct pk_mem *pk_mem_open_pid(pid_t pid, int procfd, const struct pk_maps *maps)
{
    struct pid_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->pid = pid;
    s->procfd = procfd;
    s->memfd = -1;
    struct pk_mem *m = pk_mem_new(pid_source_read, s, pid_source_free, maps, LIVE_CACHE_BYTES);
    if (!m)
        free(s);
    else {
        pk_mem_set_vsource(m, pid_source_readv);
        pk_mem_set_fetch(m, pid_source_fetch);
    }
    return m;
}
