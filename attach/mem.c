/* The memory reader: a bounded set-associative chunk cache over a source of target memory
   (read-ahead on a second thread lives in attach/mem_ahead.c). */
#include "attach/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "attach/mem_internal.h"

long pk_mem_readv_spans(pk_mem_source_fn fn, void *ctx, const struct iovec *local,
                        const struct iovec *remote, size_t n)
{
    long done = 0;
    for (size_t i = 0; i < n; i++) {
        long got =
            fn(ctx, (uint64_t)(uintptr_t)remote[i].iov_base, local[i].iov_base, remote[i].iov_len);
        if (got < 0) return got;
        done += got;
        if ((size_t)got < remote[i].iov_len) break;
    }
    return done;
}

static size_t clamp_cache(size_t bytes)
{
    if (!bytes) bytes = DEFAULT_CACHE_BYTES;
    if (bytes > MAX_CACHE_BYTES) bytes = MAX_CACHE_BYTES;
    size_t sets = bytes / (CHUNK_SIZE * WAYS);
    return (sets ? sets : 1) * WAYS;
}

struct pk_mem *pk_mem_new(pk_mem_source_fn fn, void *ctx, pk_mem_ctx_free_fn ctx_free,
                          const struct pk_maps *maps, size_t cache_bytes)
{
    struct pk_mem *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->fn = fn;
    m->ctx = ctx;
    m->ctx_free = ctx_free;
    m->maps = maps;
    m->nslots = clamp_cache(cache_bytes);
    m->nsets = m->nslots / WAYS;
    m->slots = calloc(m->nslots, sizeof *m->slots);
    /* Reserved, not touched: pages are faulted in as frames are first used, or all at once by
       pk_mem_prepare before the target is stopped. */
    m->buf_bytes = m->nslots * CHUNK_SIZE;
    m->buf = mmap(NULL, m->buf_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!m->slots || m->buf == MAP_FAILED) {
        if (m->buf != MAP_FAILED) munmap(m->buf, m->buf_bytes);
        free(m->slots);
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < m->nslots; i++) {
        m->slots[i].base = UINT64_MAX;
        m->slots[i].frame = NO_FRAME;
    }
    pk_chunk_classes_init(&m->classes, CHUNK_SHIFT);
    return m;
}

void pk_mem_set_vsource(struct pk_mem *m, pk_mem_vsource_fn vfn)
{
    m->vfn = vfn;
}

void pk_mem_set_direct(struct pk_mem *m)
{
    m->direct = 1;
}

void pk_mem_set_view(struct pk_mem *m, pk_mem_view_fn view)
{
    m->view = view;
}

void pk_mem_prepare(struct pk_mem *m, uint64_t expect_bytes)
{
    uint64_t want = expect_bytes + expect_bytes / 8;
    size_t bytes = want < m->buf_bytes ? (size_t)want : m->buf_bytes;
    bytes = (bytes + CHUNK_SIZE - 1) & ~(size_t)(CHUNK_SIZE - 1);
    if (!bytes) return;
#ifdef MADV_POPULATE_WRITE
    if (madvise(m->buf, bytes, MADV_POPULATE_WRITE) == 0) return;
#endif
    for (size_t off = 0; off < bytes; off += 4096)
        m->buf[off] = 0; /* older kernels */
}

void pk_mem_free(struct pk_mem *m)
{
    if (!m) return;
    pk_mem_stop_read_ahead(m);
    pk_chunk_classes_free(&m->classes);
    munmap(m->buf, m->buf_bytes);
    free(m->slots);
    if (m->ctx_free) m->ctx_free(m->ctx);
    free(m);
}

void pk_mem_invalidate(struct pk_mem *m)
{
    pk_mem_settle(m);
    for (size_t i = 0; i < m->nslots; i++) {
        m->slots[i].base = UINT64_MAX;
        m->slots[i].ahead = 0;
    }
    m->last = m->prev = NULL;
}

void pk_mem_get_stats(const struct pk_mem *m, struct pk_mem_stats *st)
{
    *st = m->stats;
}

const struct pk_maps *pk_mem_maps(const struct pk_mem *m)
{
    return m->maps;
}

int pk_mem_is_mapped(const struct pk_mem *m, uint64_t addr, size_t len)
{
    uint64_t end = addr + len;
    if (end < addr) return 0;
    if (m->view && len && m->view(m->ctx, addr, len)) return 1;
    while (addr < end) {
        const struct pk_map *r = readable_region(m, addr);
        if (!r) return 0;
        addr = r->end;
    }
    return 1;
}

/* The cached chunk holding addr, or NULL. */
static struct chunk *lookup(struct pk_mem *m, uint64_t addr)
{
    uint64_t base = addr & ~(CHUNK_SIZE - 1);
    struct chunk *c = m->last;
    if (c && c->base == base && addr >= base + c->lo && addr < base + c->hi) return c;
    c = m->prev;
    if (c && c->base == base && addr >= base + c->lo && addr < base + c->hi) {
        m->prev = m->last;
        return m->last = c;
    }
    c = set_of(m, base);
    for (int w = 0; w < WAYS; w++) {
        if (c[w].base != base) continue;
        if (c[w].pending) pk_mem_take_in(m, &c[w]);
        if (c[w].base == base && addr >= base + c[w].lo && addr < base + c[w].hi) {
            c[w].stamp = ++m->clock;
            m->prev = m->last;
            m->last = &c[w];
            if (c[w].ahead) pk_mem_ahead_hit(m, &c[w]);
            return &c[w];
        }
    }
    return NULL;
}

/* Returns the chunk holding addr with addr valid in it, or NULL with *rc set. */
static struct chunk *get_chunk(struct pk_mem *m, uint64_t addr, int *rc)
{
    struct chunk *c = lookup(m, addr);
    if (c) {
        m->stats.cache_hits++;
        return c;
    }
    uint64_t base = addr & ~(CHUNK_SIZE - 1);
    const struct pk_map *r = readable_region(m, addr);
    if (!r) {
        *rc = -PK_E_UNMAPPED;
        return NULL;
    }
    /* Victim: an empty way, else the least recently used. A way already holding this base
       (valid range not covering addr) is reused so a base is never cached twice. */
    struct chunk *set = set_of(m, base);
    c = NULL;
    for (int w = 0; w < WAYS; w++) {
        if (set[w].base == base || set[w].base == UINT64_MAX) {
            c = &set[w];
            break;
        }
        if (!set[w].pending && (!c || set[w].stamp < c->stamp)) c = &set[w];
    }
    if (!c) { /* every way in flight: take the oldest in and reuse it */
        c = &set[0];
        for (int w = 1; w < WAYS; w++)
            if (set[w].stamp < c->stamp) c = &set[w];
        pk_mem_take_in(m, c);
    }
    c->ahead = 0;
    if (c->frame == NO_FRAME) c->frame = m->frames_used++;
    uint64_t lo = base > r->start ? base : r->start;
    uint64_t hi = base + CHUNK_SIZE < r->end ? base + CHUNK_SIZE : r->end;
    c->base = UINT64_MAX;
    if (m->last == c) m->last = NULL;
    if (m->prev == c) m->prev = NULL;
    m->stats.source_calls++;
    long got = m->fn(m->ctx, lo, frame_data(m, c) + (lo - base), (size_t)(hi - lo));
    if (got < 0) {
        *rc = (int)got;
        return NULL;
    }
    m->stats.source_bytes += (uint64_t)got;
    if (got == 0 || addr >= lo + (uint64_t)got) {
        *rc = -PK_E_UNMAPPED;
        return NULL;
    }
    c->base = base;
    c->lo = (uint32_t)(lo - base);
    c->hi = (uint32_t)(lo - base + (uint64_t)got);
    c->stamp = ++m->clock;
    m->prev = m->last;
    m->last = c;
    pk_mem_ahead_miss(m, base);
    return c;
}

long pk_mem_read_upto(struct pk_mem *m, uint64_t addr, void *buf, size_t len)
{
    unsigned char *out = buf;
    size_t done = 0;
    m->stats.reads++;
    if (m->direct) {
        if (len == 0 || !readable_region(m, addr)) return 0;
        m->stats.source_calls++;
        long got = m->fn(m->ctx, addr, buf, len);
        if (got > 0) m->stats.source_bytes += (uint64_t)got;
        return got;
    }
    while (done < len) {
        uint64_t a = addr + done;
        if (a < addr) break; /* wrapped around the address space */
        int rc = 0;
        struct chunk *c = get_chunk(m, a, &rc);
        if (!c) {
            if (rc == -PK_E_UNMAPPED) break;
            return rc;
        }
        size_t off = (size_t)(a - c->base);
        size_t n = c->hi - off;
        if (n > len - done) n = len - done;
        memcpy(out + done, frame_data(m, c) + off, n);
        done += n;
    }
    return (long)done;
}

int pk_mem_read_uncached(struct pk_mem *m, uint64_t addr, void *buf, size_t len)
{
    if (len == 0) return 0;
    if (addr + len < addr || !pk_mem_is_mapped(m, addr, len)) return -PK_E_UNMAPPED;
    m->stats.reads++;
    m->stats.source_calls++;
    long got = m->fn(m->ctx, addr, buf, len);
    if (got < 0) return (int)got;
    m->stats.source_bytes += (uint64_t)got;
    return (size_t)got == len ? 0 : -PK_E_UNMAPPED;
}

int pk_mem_read(struct pk_mem *m, uint64_t addr, void *buf, size_t len)
{
    if (len == 0) return 0;
    if (addr + len < addr) return -PK_E_UNMAPPED;
    if (m->view) { /* the bytes are in pypeek's memory already */
        const void *p = m->view(m->ctx, addr, len);
        if (p) {
            m->stats.reads++;
            memcpy(buf, p, len);
            return 0;
        }
    }
    /* Fast path: the whole range in the chunk of one of the two previous reads (a walk reads
       an object, then what it points to, in turn). */
    struct chunk *c = m->last;
    if (c && addr >= c->base + c->lo && addr + len <= c->base + c->hi) {
        m->stats.reads++;
        m->stats.cache_hits++;
        memcpy(buf, frame_data(m, c) + (addr - c->base), len);
        return 0;
    }
    c = m->prev;
    if (c && addr >= c->base + c->lo && addr + len <= c->base + c->hi) {
        m->stats.reads++;
        m->stats.cache_hits++;
        m->prev = m->last;
        m->last = c;
        memcpy(buf, frame_data(m, c) + (addr - c->base), len);
        return 0;
    }
    /* Large arrays bypass the cache: one source call, must be complete. */
    if (len > 4 * CHUNK_SIZE || m->direct) return pk_mem_read_uncached(m, addr, buf, len);
    long got = pk_mem_read_upto(m, addr, buf, len);
    if (got < 0) return (int)got;
    return (size_t)got == len ? 0 : -PK_E_UNMAPPED;
}

int pk_mem_read_u64(struct pk_mem *m, uint64_t addr, uint64_t *out)
{
    return pk_mem_read(m, addr, out, sizeof *out);
}

/* Reads the spans [from, from+n) of a scatter read that missed the cache, through the vector
   source in batches. Returns 0 or a negative error. */
static int scatter_batch(struct pk_mem *m, const uint64_t *addrs, const size_t *idx, size_t n,
                         size_t len, unsigned char *out)
{
    struct iovec local[SCATTER_BATCH], remote[SCATTER_BATCH];
    for (size_t k = 0; k < n; k++) {
        local[k].iov_base = out + idx[k] * len;
        local[k].iov_len = len;
        remote[k].iov_base = (void *)(uintptr_t)addrs[idx[k]];
        remote[k].iov_len = len;
    }
    /* With read-ahead's thread at hand, it copies the first half while this thread copies the
       rest: pinning the target's pages, not copying, is what such a batch costs. */
    size_t half = m->fetcher && n >= 64 ? n / 2 : 0;
    struct pk_fetch_job *j = &m->scatter_job;
    if (half) {
        j->liov = local;
        j->riov = remote;
        j->niov = half;
        if (pk_fetch_submit(m->fetcher, j) < 0)
            half = 0;
        else
            pk_fetch_kick(m->fetcher);
    }
    m->stats.source_calls++;
    long got = m->vfn(m->ctx, local + half, remote + half, n - half);
    if (half) {
        pk_fetch_wait(m->fetcher, j);
        m->stats.source_calls++;
        if (j->got > 0) m->stats.source_bytes += (uint64_t)j->got;
        /* A short copy is retried here, where errors are told apart. */
        if (got >= 0 && (uint64_t)j->got != (uint64_t)half * len) {
            long again = m->vfn(m->ctx, local, remote, half);
            if (again < 0) return (int)again;
            if ((uint64_t)again != (uint64_t)half * len) return -PK_E_UNMAPPED;
        }
    }
    if (got < 0) return (int)got;
    m->stats.source_bytes += (uint64_t)got;
    return (uint64_t)got == (uint64_t)(n - half) * len ? 0 : -PK_E_UNMAPPED;
}

int pk_mem_read_scatter(struct pk_mem *m, const uint64_t *addrs, size_t n, size_t len, void *out)
{
    unsigned char *o = out;
    size_t idx[SCATTER_BATCH], nb = 0;
    if (len == 0 || len > CHUNK_SIZE) return len == 0 ? 0 : -PK_E_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = addrs[i];
        if (a + len < a || !pk_mem_is_mapped(m, a, len)) return -PK_E_UNMAPPED;
        struct chunk *c = lookup(m, a);
        if (c && a + len <= c->base + c->hi) { /* cached: no syscall */
            m->stats.reads++;
            m->stats.cache_hits++;
            memcpy(o + i * len, frame_data(m, c) + (a - c->base), len);
            continue;
        }
        if (!m->vfn) {
            int r = pk_mem_read_uncached(m, a, o + i * len, len);
            if (r < 0) return r;
            continue;
        }
        m->stats.reads++;
        idx[nb++] = i;
        if (nb == SCATTER_BATCH) {
            int r = scatter_batch(m, addrs, idx, nb, len, o);
            if (r < 0) return r;
            nb = 0;
        }
    }
    return nb ? scatter_batch(m, addrs, idx, nb, len, o) : 0;
}
