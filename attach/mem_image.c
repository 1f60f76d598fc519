/* The image source of the memory reader: the target's writable memory copied while stopped. */
#include "attach/mem_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_REGIONS 16384                  /* more writable mappings: read the streaming way */
#define BUDGET_BYTES ((uint64_t)768 << 20) /* pypeek's RSS bound for an image */
#define PIECE_BYTES ((uint64_t)4 << 20)    /* bytes per iovec */
#define BATCH 1024                         /* iovecs per process_vm_readv (IOV_MAX) */

struct region {
    uint64_t start, len; /* the mapping */
    uint64_t valid;      /* bytes [start, start+valid) were copied */
    uint64_t off;        /* where they are in buf */
};

struct pk_image {
    unsigned char *buf;
    uint64_t cap;
    struct region *r; /* sorted by start, MAX_REGIONS of room */
    size_t n;
    uint64_t bytes, calls; /* copied, process_vm_readv calls (the live reads included) */
    uint64_t *cuts;        /* page-aligned split points below the threads' stack pointers */
    size_t ncuts;
    pid_t pid;
    const struct pk_maps *maps;
};

static int in_image(const struct pk_map *m)
{
    unsigned want = PK_MAP_R | PK_MAP_W | PK_MAP_P;
    return (m->perms & want) == want && strcmp(m->path, "[vvar]") != 0 &&
           strcmp(m->path, "[vsyscall]") != 0 && strcmp(m->path, "[vvar_vclock]") != 0;
}

uint64_t pk_image_size(const struct pk_maps *maps)
{
    uint64_t total = 0;
    size_t n = 0;
    for (size_t i = 0; i < maps->n; i++) {
        if (!in_image(&maps->v[i])) continue;
        if (++n > MAX_REGIONS) return UINT64_MAX;
        total += maps->v[i].end - maps->v[i].start;
    }
    return total;
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

struct pk_image *pk_image_new(uint64_t cap)
{
    struct pk_image *img = calloc(1, sizeof *img);
    if (!img) return NULL;
    cap = (cap + 4095) & ~(uint64_t)4095;
    img->cap = cap ? cap : 4096;
    img->r = malloc(MAX_REGIONS * sizeof *img->r);
    img->buf =
        mmap(NULL, (size_t)img->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!img->r || img->buf == MAP_FAILED) {
        img->buf = NULL;
        pk_image_free(img);
        return NULL;
    }
    /* Faulted in now: pypeek's page faults are no part of the pause. */
#ifdef MADV_POPULATE_WRITE
    if (madvise(img->buf, (size_t)img->cap, MADV_POPULATE_WRITE) == 0) return img;
#endif
    for (uint64_t off = 0; off < img->cap; off += 4096)
        img->buf[off] = 0;
    return img;
}

void pk_image_free(struct pk_image *img)
{
    if (!img) return;
    if (img->buf) munmap(img->buf, (size_t)img->cap);
    free(img->cuts);
    free(img->r);
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

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void pk_image_set_stack_pointers(struct pk_image *img, const uint64_t *sp, size_t n)
{
    free(img->cuts);
    img->ncuts = 0;
    if (n > PK_IMAGE_MAX_SPS) n = PK_IMAGE_MAX_SPS;
    if (!n || !(img->cuts = malloc(n * sizeof *img->cuts))) return;
    for (size_t i = 0; i < n; i++)
        if (sp[i] >= 4096 + 128) img->cuts[img->ncuts++] = (sp[i] - 128) & ~(uint64_t)4095;
    qsort(img->cuts, img->ncuts, sizeof *img->cuts, cmp_u64);
}

/* Lays out the regions in buf, split at the cuts. 0, or 1 when they do not fit. */
static int plan(struct pk_image *img, const struct pk_maps *maps)
{
    uint64_t off = 0;
    size_t c = 0;
    img->n = 0;
    img->bytes = 0;
    for (size_t i = 0; i < maps->n; i++) {
        const struct pk_map *m = &maps->v[i];
        if (!in_image(m)) continue;
        uint64_t start = m->start;
        while (start < m->end) {
            while (c < img->ncuts && img->cuts[c] <= start)
                c++;
            uint64_t end = c < img->ncuts && img->cuts[c] < m->end ? img->cuts[c] : m->end;
            uint64_t len = end - start;
            if (img->n == MAX_REGIONS || len > img->cap - off) return 1;
            img->r[img->n++] = (struct region){start, len, 0, off};
            off += len;
            start = end;
        }
    }
    return 0;
}

int pk_image_copy(struct pk_image *img, pid_t pid, const struct pk_maps *maps, uint64_t deadline_us,
                  const volatile sig_atomic_t *cancel, struct pk_err *e)
{
    static struct iovec local[BATCH], remote[BATCH];
    size_t owner[BATCH];
    img->pid = pid;
    img->maps = maps;
    if (plan(img, maps)) return 1;
    size_t ri = 0;
    uint64_t pos = 0; /* next byte to copy: region ri, offset pos */
    while (ri < img->n) {
        if (cancel && *cancel)
            return pk_fail(e, PK_E_INTERRUPTED, "interrupted while copying the heap");
        if (deadline_us && now_us() > deadline_us)
            return pk_fail(e, PK_E_PAUSE_EXCEEDED,
                           "gave up: copying the heap would exceed --max-pause; the target was "
                           "resumed");
        size_t k = 0, rj = ri;
        uint64_t p = pos;
        while (k < BATCH && rj < img->n) {
            struct region *r = &img->r[rj];
            uint64_t piece = r->len - p < PIECE_BYTES ? r->len - p : PIECE_BYTES;
            local[k].iov_base = img->buf + r->off + p;
            local[k].iov_len = (size_t)piece;
            remote[k].iov_base = (void *)(uintptr_t)(r->start + p);
            remote[k].iov_len = (size_t)piece;
            owner[k++] = rj;
            p += piece;
            if (p == r->len) rj++, p = 0;
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
            struct region *r = &img->r[owner[i]];
            uint64_t at = (uint64_t)(uintptr_t)remote[i].iov_base - r->start;
            uint64_t take = left < remote[i].iov_len ? left : remote[i].iov_len;
            r->valid = at + take;
            left -= take;
            img->bytes += take;
            if (take < remote[i].iov_len) { /* partly unmapped: the rest of it is unreadable */
                short_read = 1;
                ri = owner[i] + 1;
                pos = 0;
            }
        }
        if (!short_read) ri = rj, pos = p;
    }
    return 0;
}

/* The image region holding addr, or NULL. */
static const struct region *find(const struct pk_image *img, uint64_t addr)
{
    size_t lo = 0, hi = img->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->r[mid].start + img->r[mid].len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < img->n && img->r[lo].start <= addr ? &img->r[lo] : NULL;
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
        const struct region *r = find(img, a);
        size_t n;
        if (r) {
            if (a >= r->start + r->valid) break;
            n = (size_t)(r->start + r->valid - a < len - done ? r->start + r->valid - a
                                                              : len - done);
            memcpy((char *)buf + done, img->buf + r->off + (a - r->start), n);
        } else {
            long got = read_live(img, a, (char *)buf + done, len - done);
            if (got < 0) return got;
            if (got == 0) break;
            n = (size_t)got;
        }
        done += n;
        if (r && a + n < r->start + r->len && done < len) break; /* stopped at a short region */
    }
    return (long)done;
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
    return m;
}
