/* The image source of the memory reader: the target's writable memory copied while stopped.
   Only pages that hold data are copied (attach/pagemap.h): a page never touched is known to
   read as zeros and is neither copied nor faulted in; the part of a thread's stack below its
   stack pointer holds nothing live and is left out. */
#include "attach/mem_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attach/pagemap.h"
#include "attach/payload.h"
#include "util/clock.h"
#include "util/grow.h"

#define MAX_SPANS ((size_t)1 << 20)        /* more fragments: read the streaming way */
#define BUDGET_BYTES ((uint64_t)192 << 20) /* pypeek's RSS bound for an image */
#define PIECE_BYTES ((uint64_t)4 << 20)    /* bytes per iovec */
#define BATCH 1024                         /* iovecs per process_vm_readv (IOV_MAX) */
#define MAX_THREADS 4096                   /* stack pointers looked at */
#define RED_ZONE 4096                      /* kept below a stack pointer (x86-64: 128 bytes) */

enum span_kind {
    SPAN_COPY,  /* holds data: copied (process_vm_readv) */
    SPAN_PREAD, /* holds data shared with another process: copied through /proc/PID/mem */
    SPAN_ZERO,  /* never touched (anonymous, not resident): reads as zeros */
    SPAN_SKIP,  /* below a thread's stack pointer, or payload: not copied, a read there is a
                   miss */
};

struct span {
    uint64_t start, len; /* [start, start+len) */
    uint64_t valid;      /* SPAN_COPY: bytes [start, start+valid) were copied */
    uint64_t off;        /* SPAN_COPY: where they are in buf */
    int kind;
};

struct plan {
    struct span *s; /* sorted by start */
    size_t n, cap;
    uint64_t copy_bytes, zero_bytes, skip_bytes, payload_bytes;
    int pagemap_ok;
    const struct pk_payload *payload; /* resident pages left out (may be NULL) */
};

struct pk_image {
    unsigned char *buf;
    uint64_t cap;
    struct plan p;
    uint64_t bytes, calls; /* copied, process_vm_readv calls (the live reads included) */
    uint64_t misses;       /* reads that wanted bytes that were not copied */
    struct pk_payload payload;
    uint64_t plan_us, copy_us; /* the last copy's two steps */
    pid_t pid;
    const struct pk_maps *maps;
    size_t hint; /* the span of the last view: reads come in runs through one span */
};

static int in_image(const struct pk_map *m)
{
    unsigned want = PK_MAP_R | PK_MAP_W | PK_MAP_P;
    return (m->perms & want) == want && strcmp(m->path, "[vvar]") != 0 &&
           strcmp(m->path, "[vsyscall]") != 0 && strcmp(m->path, "[vvar_vclock]") != 0;
}

/* Private anonymous memory: a page never touched reads as zeros ([heap], [stack], [anon:x]). */
static int anonymous(const struct pk_map *m)
{
    return m->inode == 0 && (m->path[0] == '\0' || m->path[0] == '[');
}

static int add_span(struct plan *p, uint64_t start, uint64_t end, int kind)
{
    if (end <= start) return 0;
    struct span *last = p->n ? &p->s[p->n - 1] : NULL;
    if (last && last->kind == kind && last->start + last->len == start) {
        last->len += end - start;
    } else {
        if (p->n == MAX_SPANS || pk_grow((void **)&p->s, &p->cap, p->n + 1, sizeof *p->s))
            return -1;
        p->s[p->n++] = (struct span){start, end - start, 0, 0, kind};
    }
    int copied = kind == SPAN_COPY || kind == SPAN_PREAD; /* takes room in the buffer */
    uint64_t *total = copied ? &p->copy_bytes : kind == SPAN_ZERO ? &p->zero_bytes : &p->skip_bytes;
    *total += end - start;
    return 0;
}

static int on_run(void *ctx, uint64_t start, uint64_t end, int state)
{
    int kind = state == PK_PAGE_EXCLUSIVE ? SPAN_COPY
               : state == PK_PAGE_SHARED  ? SPAN_PREAD
                                          : SPAN_ZERO;
    return add_span(ctx, start, end, kind) < 0;
}

/* A private file mapping: a page not present holds the file's bytes, not zeros. */
static int on_file_run(void *ctx, uint64_t start, uint64_t end, int state)
{
    return add_span(ctx, start, end, state == PK_PAGE_SHARED ? SPAN_PREAD : SPAN_COPY) < 0;
}

/* [start, end) of an anonymous mapping: the payload runs in it left out (pagemap is not read
   for them), the rest resident or not. 0, or -1 when pagemap failed or a span could not be
   added. */
static int plan_anonymous(struct plan *p, int pagemap_fd, uint64_t start, uint64_t end)
{
    const struct pk_payload *pl = p->payload;
    const struct pk_range *r = pk_payload_next(pl, start);
    for (; r && r < pl->v + pl->n && r->start < end; r++) {
        uint64_t from = r->start > start ? r->start : start, to = r->end < end ? r->end : end;
        if (from > start && pk_pagemap_runs(pagemap_fd, start, from, on_run, p) < 0) return -1;
        if (add_span(p, from, to, SPAN_SKIP) < 0) return -1;
        p->payload_bytes += to - from;
        start = to;
    }
    if (start < end && pk_pagemap_runs(pagemap_fd, start, end, on_run, p) < 0) return -1;
    return p->n && p->s[p->n - 1].start + p->s[p->n - 1].len == end ? 0 : -1;
}

/* Where the live part of mapping i starts: above the lowest stack pointer in it (less a red
   zone) when it is a thread's stack ([stack], or a mapping right above a guard page), else at
   its start. */
static uint64_t live_from(const struct pk_maps *maps, size_t i, const uint64_t *sps, size_t nsps)
{
    const struct pk_map *m = &maps->v[i];
    const struct pk_map *below = i > 0 ? &maps->v[i - 1] : NULL;
    int guarded =
        below && below->end == m->start && !(below->perms & (PK_MAP_R | PK_MAP_W | PK_MAP_X));
    if (strcmp(m->path, "[stack]") != 0 && !guarded) return m->start;
    uint64_t low = m->end;
    for (size_t k = 0; k < nsps; k++)
        if (sps[k] >= m->start && sps[k] < low) low = sps[k];
    if (low == m->end || low - m->start <= RED_ZONE) return m->start;
    uint64_t cut = (low - RED_ZONE) & ~(pk_page_size() - 1);
    return cut > m->start ? cut : m->start;
}

/* Spans for every region the image holds. 0, or -1 when there are too many (or no memory). */
static int make_plan(struct plan *p, int pagemap_fd, const struct pk_maps *maps,
                     const uint64_t *sps, size_t nsps)
{
    p->n = 0;
    p->copy_bytes = p->zero_bytes = p->skip_bytes = p->payload_bytes = 0;
    p->pagemap_ok = pagemap_fd >= 0;
    uint64_t anon_data = 0; /* resident bytes pagemap found in anonymous mappings */
    for (size_t i = 0; i < maps->n; i++) {
        const struct pk_map *m = &maps->v[i];
        if (!in_image(m)) continue;
        if (pagemap_fd < 0) {
            if (add_span(p, m->start, m->end, SPAN_COPY) < 0) return -1;
            continue;
        }
        struct plan before = *p;
        uint64_t last_len = p->n ? p->s[p->n - 1].len : 0; /* a span may grow into m */
        uint64_t data_before = p->copy_bytes;
        if (!anonymous(m)) { /* copied whole; what it shares since fork, without a pin */
            if (pk_pagemap_runs(pagemap_fd, m->start, m->end, on_file_run, p) == 0 && p->n &&
                p->s[p->n - 1].start + p->s[p->n - 1].len == m->end)
                continue;
        } else {
            uint64_t from = live_from(maps, i, sps, nsps);
            if (add_span(p, m->start, from, SPAN_SKIP) < 0) return -1;
            if (plan_anonymous(p, pagemap_fd, from, m->end) == 0) {
                anon_data += p->copy_bytes - data_before;
                continue;
            }
        }
        /* pagemap failed part way (or a span could not be added): copy all of it */
        before.s = p->s, before.cap = p->cap;
        *p = before;
        if (p->n) p->s[p->n - 1].len = last_len;
        p->pagemap_ok = 0;
        if (add_span(p, m->start, m->end, SPAN_COPY) < 0) return -1;
    }
    /* A CPython process always has resident anonymous data (its heap): pagemap saying none
       is a pagemap that hides its bits (a sandbox): trust none of it, copy everything. */
    if (pagemap_fd >= 0 && anon_data == 0 && p->zero_bytes > 0)
        return make_plan(p, -1, maps, sps, nsps);
    return 0;
}

int pk_image_estimate(int procfd, const struct pk_maps *maps, const struct pk_payload *payload,
                      struct pk_image_estimate *est)
{
    memset(est, 0, sizeof *est);
    struct plan p = {0};
    p.payload = payload;
    int fd = pk_pagemap_open(procfd);
    int r = make_plan(&p, fd, maps, NULL, 0);
    if (fd >= 0) close(fd);
    est->copy_bytes = p.copy_bytes;
    est->untouched_bytes = p.zero_bytes;
    est->payload_bytes = p.payload_bytes;
    est->pagemap = p.pagemap_ok;
    for (size_t i = 0; i < maps->n; i++)
        if (in_image(&maps->v[i])) est->writable_bytes += maps->v[i].end - maps->v[i].start;
    free(p.s);
    return r;
}

uint64_t pk_image_budget(void)
{
    uint64_t budget = BUDGET_BYTES, avail_kb = 0;
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f) return budget / 3; /* unknown: a smaller image */
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "MemAvailable: %llu kB", (unsigned long long *)&avail_kb) == 1;
    fclose(f);
    if (!found) return budget / 3;
    uint64_t half = avail_kb / 2 * 1024;
    return half < budget ? half : budget;
}

/* A kernel-side write into every page of buf: process_vm_readv from pypeek's own memory.
   Measured on a 2-core KVM guest (docs/performance.md): after MADV_POPULATE_WRITE or a memset,
   the first process_vm_readv into a fresh buffer still ran several times slower than the next
   one into the same pages; the copy made while the target is stopped is then the second. */
static void warm(unsigned char *buf, uint64_t cap)
{
    static const unsigned char zeros[65536];
    struct iovec local[64], remote[64];
    pid_t self = getpid();
    for (uint64_t off = 0; off < cap;) {
        size_t k = 0;
        for (; k < 64 && off < cap; k++) {
            size_t len = cap - off < sizeof zeros ? (size_t)(cap - off) : sizeof zeros;
            local[k] = (struct iovec){buf + off, len};
            remote[k] = (struct iovec){(void *)zeros, len};
            off += len;
        }
        if (process_vm_readv(self, local, k, remote, k, 0) < 0 && errno != EINTR) return;
    }
}

struct pk_image *pk_image_new(uint64_t cap)
{
    struct pk_image *img = calloc(1, sizeof *img);
    if (!img) return NULL;
    cap = (cap + 4095) & ~(uint64_t)4095;
    img->cap = cap ? cap : 4096;
    img->buf =
        mmap(NULL, (size_t)img->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (img->buf == MAP_FAILED) {
        img->buf = NULL;
        pk_image_free(img);
        return NULL;
    }
    /* Faulted in and warmed now: pypeek's page faults are no part of the pause. */
#ifdef MADV_POPULATE_WRITE
    if (madvise(img->buf, (size_t)img->cap, MADV_POPULATE_WRITE) != 0)
#endif
        for (uint64_t off = 0; off < img->cap; off += 4096)
            img->buf[off] = 0;
    warm(img->buf, img->cap);
    return img;
}

void pk_image_free(struct pk_image *img)
{
    if (!img) return;
    if (img->buf) munmap(img->buf, (size_t)img->cap);
    free(img->p.s);
    pk_payload_free(&img->payload);
    free(img);
}

uint64_t pk_image_bytes(const struct pk_image *img)
{
    return img ? img->bytes : 0;
}

uint64_t pk_image_calls(const struct pk_image *img)
{
    return img ? img->calls : 0;
}

void pk_image_timing(const struct pk_image *img, uint64_t *plan_us, uint64_t *copy_us)
{
    *plan_us = img->plan_us;
    *copy_us = img->copy_us;
}

void pk_image_leave_out(struct pk_image *img, struct pk_payload *payload)
{
    pk_payload_free(&img->payload);
    img->payload = *payload;
    memset(payload, 0, sizeof *payload);
}

uint64_t pk_image_misses(const struct pk_image *img)
{
    return img ? img->misses : 0;
}

void pk_image_plan_bytes(const struct pk_image *img, uint64_t *copy, uint64_t *untouched,
                         uint64_t *left_out)
{
    *copy = img->p.copy_bytes;
    *untouched = img->p.zero_bytes;
    *left_out = img->p.skip_bytes;
}

static size_t next_copy(const struct plan *p, size_t i)
{
    while (i < p->n && p->s[i].kind != SPAN_COPY)
        i++;
    return i;
}

/* The spans shared with another process, through /proc/PID/mem (no page pinned, so none is
   unshared). 0, 1 (mem unreadable: read the streaming way), or -PK_E_*. */
static int copy_shared(struct pk_image *img, int procfd, struct pk_err *e)
{
    struct plan *p = &img->p;
    int fd = -1;
    for (size_t i = 0; i < p->n; i++) {
        struct span *s = &p->s[i];
        if (s->kind != SPAN_PREAD) continue;
        if (fd < 0 && (fd = openat(procfd, "mem", O_RDONLY | O_CLOEXEC)) < 0) return 1;
        while (s->valid < s->len) {
            uint64_t want = s->len - s->valid < PIECE_BYTES ? s->len - s->valid : PIECE_BYTES;
            ssize_t got =
                pread(fd, img->buf + s->off + s->valid, (size_t)want, (off_t)(s->start + s->valid));
            img->calls++;
            if (got < 0 && errno == EINTR) continue;
            if (got < 0 && errno == ESRCH) {
                close(fd);
                return pk_fail(e, PK_E_NO_PROCESS, "process %d exited while pypeek was reading it",
                               (int)img->pid);
            }
            if (got <= 0) break; /* unreadable from here: the rest of it is too */
            s->valid += (uint64_t)got;
            img->bytes += (uint64_t)got;
        }
    }
    if (fd >= 0) close(fd);
    return 0;
}

int pk_image_copy(struct pk_image *img, pid_t pid, int procfd, const struct pk_maps *maps,
                  uint64_t deadline_us, const volatile sig_atomic_t *cancel, struct pk_err *e)
{
    static struct iovec local[BATCH], remote[BATCH];
    size_t owner[BATCH];
    img->pid = pid;
    img->maps = maps;
    img->bytes = 0;
    uint64_t t0 = pk_monotonic_us();
    /* Planned now, frozen: which pages hold data, where each thread's stack ends. */
    uint64_t sps[MAX_THREADS];
    int nsps = pk_thread_stack_pointers(procfd, sps, MAX_THREADS);
    int fd = pk_pagemap_open(procfd);
    img->p.payload = &img->payload;
    int planned = make_plan(&img->p, fd, maps, sps, nsps > 0 ? (size_t)nsps : 0);
    if (fd >= 0) close(fd);
    img->plan_us = pk_monotonic_us() - t0;
    if (planned < 0 || img->p.copy_bytes > img->cap) return 1;
    struct plan *p = &img->p;
    uint64_t off = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->s[i].kind == SPAN_COPY || p->s[i].kind == SPAN_PREAD)
            p->s[i].off = off, off += p->s[i].len;
    int r = copy_shared(img, procfd, e);
    if (r != 0) return r;
    size_t ri = next_copy(p, 0);
    uint64_t pos = 0; /* next byte to copy: span ri, offset pos */
    while (ri < p->n) {
        if (cancel && *cancel)
            return pk_fail(e, PK_E_INTERRUPTED, "interrupted while copying the heap");
        if (deadline_us && pk_monotonic_us() > deadline_us)
            return pk_fail(e, PK_E_PAUSE_EXCEEDED,
                           "gave up: copying the heap would exceed --max-pause; the target was "
                           "resumed");
        size_t k = 0, rj = ri;
        uint64_t q = pos;
        while (k < BATCH && rj < p->n) {
            struct span *s = &p->s[rj];
            uint64_t piece = s->len - q < PIECE_BYTES ? s->len - q : PIECE_BYTES;
            local[k].iov_base = img->buf + s->off + q;
            local[k].iov_len = (size_t)piece;
            remote[k].iov_base = (void *)(uintptr_t)(s->start + q);
            remote[k].iov_len = (size_t)piece;
            owner[k++] = rj;
            q += piece;
            if (q == s->len) rj = next_copy(p, rj + 1), q = 0;
        }
        ssize_t got = process_vm_readv(pid, local, (unsigned long)k, remote, (unsigned long)k, 0);
        img->calls++;
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == ESRCH)
                return pk_fail(e, PK_E_NO_PROCESS, "process %d exited while pypeek was reading it",
                               (int)pid);
            if (errno == ENOSYS || errno == EPERM) return 1; /* no vector reads: streaming */
            got = 0;                                         /* EFAULT: the first span */
        }
        uint64_t left = (uint64_t)got;
        int short_read = 0;
        for (size_t i = 0; i < k && !short_read; i++) {
            struct span *s = &p->s[owner[i]];
            uint64_t at = (uint64_t)(uintptr_t)remote[i].iov_base - s->start;
            uint64_t take = left < remote[i].iov_len ? left : remote[i].iov_len;
            s->valid = at + take;
            left -= take;
            img->bytes += take;
            if (take < remote[i].iov_len) { /* partly unmapped: the rest of it is unreadable */
                short_read = 1;
                ri = next_copy(p, owner[i] + 1);
                pos = 0;
            }
        }
        if (!short_read) ri = rj, pos = q;
    }
    img->copy_us = pk_monotonic_us() - t0 - img->plan_us;
    return 0;
}

/* The span holding addr, or NULL. */
static const struct span *find(const struct pk_image *img, uint64_t addr)
{
    size_t lo = 0, hi = img->p.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->p.s[mid].start + img->p.s[mid].len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < img->p.n && img->p.s[lo].start <= addr ? &img->p.s[lo] : NULL;
}

/* Memory the target cannot write: read live, it is what it was when frozen. */
static long read_live(struct pk_image *img, uint64_t addr, void *buf, size_t len)
{
    const struct pk_map *m = pk_maps_find(img->maps, addr);
    if (!m || !(m->perms & PK_MAP_R) || (m->perms & PK_MAP_W) || !(m->perms & PK_MAP_P)) return 0;
    if (len > m->end - addr) len = (size_t)(m->end - addr);
    struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
    for (;;) {
        ssize_t got = process_vm_readv(img->pid, &l, 1, &r, 1, 0);
        img->calls++;
        if (got >= 0) {
            img->bytes += (uint64_t)got;
            return (long)got;
        }
        if (errno == EINTR) continue;
        return errno == ESRCH ? -PK_E_NO_PROCESS : 0;
    }
}

static long image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct pk_image *img = ctx;
    size_t done = 0;
    while (done < len) {
        uint64_t a = addr + done;
        if (a < addr) break;
        const struct span *s = find(img, a);
        size_t n;
        if (s && s->kind == SPAN_SKIP) { /* not copied: whoever needs it must read frozen */
            img->misses++;
            break;
        }
        if (s) {
            int copied = s->kind == SPAN_COPY || s->kind == SPAN_PREAD;
            uint64_t end = s->start + (copied ? s->valid : s->len);
            if (a >= end) break;
            n = (size_t)(end - a < len - done ? end - a : len - done);
            if (copied)
                memcpy((char *)buf + done, img->buf + s->off + (a - s->start), n);
            else
                memset((char *)buf + done, 0, n);
        } else {
            long got = read_live(img, a, (char *)buf + done, len - done);
            if (got < 0) return got;
            if (got == 0) break;
            n = (size_t)got;
        }
        done += n;
        if (s && a + n < s->start + s->len && done < len) break; /* stopped at a short span */
    }
    return (long)done;
}

/* The copied bytes [addr, addr+len) in place, when one span holds them all. */
static const void *image_view(void *ctx, uint64_t addr, size_t len)
{
    struct pk_image *img = ctx;
    const struct span *s = img->hint < img->p.n ? &img->p.s[img->hint] : NULL;
    if (!s || addr < s->start || addr - s->start >= s->len) {
        if (!(s = find(img, addr))) return NULL;
        img->hint = (size_t)(s - img->p.s);
    }
    if (s->kind != SPAN_COPY && s->kind != SPAN_PREAD) return NULL;
    uint64_t rel = addr - s->start;
    if (rel >= s->valid || len > s->valid - rel) return NULL;
    return img->buf + s->off + rel;
}

static long image_readv(void *ctx, const struct iovec *local, const struct iovec *remote, size_t n)
{
    return pk_mem_readv_spans(image_read, ctx, local, remote, n);
}

static void image_free(void *ctx)
{
    pk_image_free(ctx);
}

struct pk_mem *pk_mem_open_image(struct pk_image *img, pid_t pid, const struct pk_maps *maps)
{
    img->pid = pid;
    img->maps = maps;
    /* The smallest cache, bypassed: a read is one memcpy out of the image. */
    struct pk_mem *m = pk_mem_new(image_read, img, image_free, maps, 1);
    if (!m) {
        pk_image_free(img);
        return NULL;
    }
    pk_mem_set_vsource(m, image_readv);
    pk_mem_set_direct(m);
    img->hint = SIZE_MAX;
    pk_mem_set_view(m, image_view);
    return m;
}
