/* The memory reader: a bounded direct-mapped chunk cache over a source of target memory. */
#include "attach/mem.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SHIFT 14 /* 16 KiB: one pymalloc pool (3.10+) per chunk */
#define CHUNK_SIZE ((uint64_t)1 << CHUNK_SHIFT)
#define DEFAULT_CACHE_BYTES ((size_t)64 << 20)

struct chunk {
    uint64_t base;   /* chunk-aligned address; UINT64_MAX when empty */
    uint32_t lo, hi; /* valid bytes are [base+lo, base+hi) */
    unsigned char *data;
};

struct pk_mem {
    pk_mem_source_fn fn;
    void *ctx;
    pk_mem_ctx_free_fn ctx_free;
    const struct pk_maps *maps;
    struct chunk *slots;
    size_t nslots;
    struct pk_mem_stats stats;
};

struct pk_mem *pk_mem_new(pk_mem_source_fn fn, void *ctx, pk_mem_ctx_free_fn ctx_free,
                          const struct pk_maps *maps, size_t cache_bytes)
{
    struct pk_mem *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->fn = fn;
    m->ctx = ctx;
    m->ctx_free = ctx_free;
    m->maps = maps;
    if (!cache_bytes) cache_bytes = DEFAULT_CACHE_BYTES;
    m->nslots = cache_bytes / CHUNK_SIZE;
    if (m->nslots < 4) m->nslots = 4;
    m->slots = calloc(m->nslots, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < m->nslots; i++) m->slots[i].base = UINT64_MAX;
    return m;
}

void pk_mem_free(struct pk_mem *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nslots; i++) free(m->slots[i].data);
    free(m->slots);
    if (m->ctx_free) m->ctx_free(m->ctx);
    free(m);
}

void pk_mem_invalidate(struct pk_mem *m)
{
    for (size_t i = 0; i < m->nslots; i++) m->slots[i].base = UINT64_MAX;
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

static size_t slot_index(const struct pk_mem *m, uint64_t base)
{
    uint64_t k = base >> CHUNK_SHIFT;
    k ^= k >> 17;
    k *= 0x9E3779B97F4A7C15ull;
    return (size_t)(k >> 20) % m->nslots;
}

/* Returns the chunk holding addr with addr valid in it, or NULL with *rc set. */
static struct chunk *get_chunk(struct pk_mem *m, uint64_t addr, int *rc)
{
    uint64_t base = addr & ~(CHUNK_SIZE - 1);
    struct chunk *c = &m->slots[slot_index(m, base)];
    if (c->base == base && addr >= base + c->lo && addr < base + c->hi) {
        m->stats.cache_hits++;
        return c;
    }
    const struct pk_map *r = readable_region(m, addr);
    if (!r) {
        *rc = -PK_E_UNMAPPED;
        return NULL;
    }
    if (!c->data && !(c->data = malloc(CHUNK_SIZE))) {
        *rc = -PK_E_INTERNAL;
        return NULL;
    }
    uint64_t lo = base > r->start ? base : r->start;
    uint64_t hi = base + CHUNK_SIZE < r->end ? base + CHUNK_SIZE : r->end;
    c->base = UINT64_MAX;
    m->stats.source_calls++;
    long got = m->fn(m->ctx, lo, c->data + (lo - base), (size_t)(hi - lo));
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
    return c;
}

long pk_mem_read_upto(struct pk_mem *m, uint64_t addr, void *buf, size_t len)
{
    unsigned char *out = buf;
    size_t done = 0;
    m->stats.reads++;
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
        memcpy(out + done, c->data + off, n);
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
    /* Large arrays bypass the cache: one source call, must be complete. */
    if (len > 4 * CHUNK_SIZE) return pk_mem_read_uncached(m, addr, buf, len);
    long got = pk_mem_read_upto(m, addr, buf, len);
    if (got < 0) return (int)got;
    return (size_t)got == len ? 0 : -PK_E_UNMAPPED;
}

int pk_mem_read_u64(struct pk_mem *m, uint64_t addr, uint64_t *out)
{
    return pk_mem_read(m, addr, out, sizeof *out);
}
