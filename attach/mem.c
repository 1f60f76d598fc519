/* The memory reader: a bounded set-associative chunk cache over a source of target memory. */
#include "attach/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define CHUNK_SHIFT 14 /* 16 KiB: one pymalloc pool (3.10+) per chunk */
#define CHUNK_SIZE ((uint64_t)1 << CHUNK_SHIFT)
#define WAYS 8 /* chunks per set: heaps walked in a few interleaved sweeps rarely collide */
#define DEFAULT_CACHE_BYTES ((size_t)64 << 20)
#define MAX_CACHE_BYTES ((size_t)160 << 20) /* keeps pypeek's RSS bounded on any heap */
#define SCATTER_BATCH 1024                  /* iovecs per vector source call (IOV_MAX) */
#define NO_FRAME UINT32_MAX

struct chunk {
    uint64_t base;   /* chunk-aligned address; UINT64_MAX when empty */
    uint64_t stamp;  /* last use, for LRU within the set */
    uint32_t lo, hi; /* valid bytes are [base+lo, base+hi) */
    uint32_t frame;  /* index of the chunk's 16 KiB in buf, NO_FRAME before first use */
};

struct pk_mem {
    pk_mem_source_fn fn;
    pk_mem_vsource_fn vfn;
    void *ctx;
    pk_mem_ctx_free_fn ctx_free;
    const struct pk_maps *maps;
    struct chunk *slots;
    size_t nslots, nsets;
    unsigned char *buf; /* nslots frames, handed out in first-use order */
    size_t buf_bytes;
    uint32_t frames_used;
    int direct; /* no cache: reads go to the source */
    uint64_t clock;
    struct chunk *last, *prev; /* chunks of the two previous reads: most reads hit one */
    struct pk_mem_stats stats;
};

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
    munmap(m->buf, m->buf_bytes);
    free(m->slots);
    if (m->ctx_free) m->ctx_free(m->ctx);
    free(m);
}

void pk_mem_invalidate(struct pk_mem *m)
{
    for (size_t i = 0; i < m->nslots; i++)
        m->slots[i].base = UINT64_MAX;
    m->last = m->prev = NULL;
}

void pk_mem_get_stats(const struct pk_mem *m, struct pk_mem_stats *st)
{
    *st = m->stats;
}

static const struct pk_map *readable_region(const struct pk_mem *m, uint64_t addr)
{
    const struct pk_map *r = pk_maps_find(m->maps, addr);
    return r && (r->perms & PK_MAP_R) ? r : NULL;
}

int pk_mem_is_mapped(const struct pk_mem *m, uint64_t addr, size_t len)
{
    uint64_t end = addr + len;
    if (end < addr) return 0;
    while (addr < end) {
        const struct pk_map *r = readable_region(m, addr);
        if (!r) return 0;
        addr = r->end;
    }
    return 1;
}

static struct chunk *set_of(const struct pk_mem *m, uint64_t base)
{
    uint64_t k = base >> CHUNK_SHIFT;
    k ^= k >> 17;
    k *= 0x9E3779B97F4A7C15ull;
    return &m->slots[(size_t)(k >> 20) % m->nsets * WAYS];
}

static unsigned char *frame_data(const struct pk_mem *m, const struct chunk *c)
{
    return m->buf + (size_t)c->frame * CHUNK_SIZE;
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
    for (int w = 0; w < WAYS; w++)
        if (c[w].base == base && addr >= base + c[w].lo && addr < base + c[w].hi) {
            c[w].stamp = ++m->clock;
            m->prev = m->last;
            return m->last = &c[w];
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
    c = &set[0];
    for (int w = 0; w < WAYS; w++) {
        if (set[w].base == base || set[w].base == UINT64_MAX) {
            c = &set[w];
            break;
        }
        if (set[w].stamp < c->stamp) c = &set[w];
    }
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
    return m->last = c;
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
    /* Fast path: the whole range in the chunk of the previous read. */
    struct chunk *c = m->last;
    if (c && addr >= c->base + c->lo && addr + len <= c->base + c->hi) {
        m->stats.reads++;
        m->stats.cache_hits++;
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
    m->stats.source_calls++;
    long got = m->vfn(m->ctx, local, remote, n);
    if (got < 0) return (int)got;
    m->stats.source_bytes += (uint64_t)got;
    return (uint64_t)got == (uint64_t)n * len ? 0 : -PK_E_UNMAPPED;
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
