/* pymalloc's arenas and pools, summed the way sys.getallocatedblocks() sums them. */
#include "cpython/pymalloc.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

struct arena_state {
    uint64_t arenas;    /* struct arena_object * */
    uint64_t maxarenas; /* uint */
    int64_t raw_blocks; /* Py_ssize_t raw_allocated_blocks */
};

static int locate(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                  struct arena_state *st)
{
    const struct pk_layout *l = &t->layout;
    uint64_t a_arenas, a_max, a_raw;
    if (PK_HAS(l, interp_obmalloc) && PK_HAS(l, obmalloc_arenas)) {
        /* 3.12 embeds struct _obmalloc_state in the interpreter; 3.13+ points to it. */
        uint64_t state = interp + PK_OFF(l, interp_obmalloc);
        if (PK_F(l, interp_obmalloc).size == 8 && pk_mem_read_u64(m, state, &state) < 0)
            return -PK_E_INCONSISTENT;
        if (!state) return 1;
        a_arenas = state + PK_OFF(l, obmalloc_arenas);
        a_max = state + PK_OFF(l, obmalloc_maxarenas);
        a_raw = state + PK_OFF(l, obmalloc_raw_blocks);
    } else if (t->obmalloc_syms.arenas && t->obmalloc_syms.maxarenas &&
               (t->obmalloc_syms.raw_allocated_blocks || t->obmalloc_syms.allocated_blocks)) {
        /* 3.8 has no raw_allocated_blocks: its total is the _Py_AllocatedBlocks counter */
        a_arenas = t->obmalloc_syms.arenas;
        a_max = t->obmalloc_syms.maxarenas;
        a_raw = t->obmalloc_syms.raw_allocated_blocks;
    } else {
        return 1;
    }
    uint32_t max32;
    memset(st, 0, sizeof *st);
    if (pk_mem_read_u64(m, a_arenas, &st->arenas) < 0 || pk_mem_read(m, a_max, &max32, 4) < 0 ||
        (a_raw && pk_mem_read(m, a_raw, &st->raw_blocks, 8) < 0))
        return -PK_E_INCONSISTENT;
    st->maxarenas = max32;
    return 0;
}

#define POOL_HDR_MAX 64
#define POOL_BATCH 1024         /* pool headers per source call when read in the foreground */
#define BG_POOLS_MAX (1u << 20) /* more pools (16 GiB of arenas) are read in batches instead */

/* The arena table as visited: one call per arena in use with its first pool and pool count. */
typedef int (*arena_fn)(uint64_t base, uint64_t npools, void *arg);

static int walk_arenas(struct pk_mem *m, const struct pk_layout *l, const struct arena_state *st,
                       arena_fn fn, void *arg, struct pk_err *e)
{
    const uint64_t asz = PK_F(l, arena_size).size, pool = l->pool_size;
    const uint64_t pools_per_arena = l->arena_size_bytes / pool;
    unsigned char arena_buf[256];
    if (asz > sizeof arena_buf || !pool || !pools_per_arena)
        return pk_fail(e, PK_E_INTERNAL, "pymalloc arena layout too large");
    for (uint64_t i = 0; i < st->maxarenas; i++) {
        uint64_t ao = st->arenas + i * asz, address, pool_address;
        if (pk_mem_read(m, ao, arena_buf, asz) < 0)
            return pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena %llu is unreadable",
                           (unsigned long long)i);
        memcpy(&address, arena_buf + PK_OFF(l, arena_address), 8);
        if (!address) continue; /* slot not in use */
        memcpy(&pool_address, arena_buf + PK_OFF(l, arena_pool_address), 8);
        uint64_t base = (address + pool - 1) & ~(pool - 1);
        if (pool_address < base || pool_address - base > pools_per_arena * pool)
            return pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena %llu has a bad pool pointer",
                           (unsigned long long)i);
        int r = fn(base, (pool_address - base) / pool, arg);
        if (r < 0)
            return r == -PK_E_INTERNAL
                       ? pk_fail(e, PK_E_INTERNAL, "out of memory")
                       : pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena table is corrupt");
    }
    return 0;
}

/* A scan of pool headers. Up to BG_POOLS_MAX pools, every pool address is listed and the
   headers are copied in the background while the census walks; beyond, the end call walks
   the arena table again and reads the headers in batches (bounded memory). */
struct pk_pymalloc_scan {
    const struct pk_layout *l;
    struct pk_mem *m;
    struct arena_state st;
    size_t hlen;
    uint64_t narenas, npools, max_pools;
    int available, background, notes;
    /* background mode */
    struct arena_pools {
        uint64_t base;  /* its first pool */
        uint64_t first; /* index of that pool in pools[] */
    } * arenas;
    uint64_t *pools;
    size_t arenas_cap, pools_cap;
    unsigned char *hdr;
    struct pk_mem_bg *bg;
    /* the sums */
    uint64_t blocks, pools_used, used_bytes;
    /* batch mode */
    uint64_t batch_addr[POOL_BATCH];
    unsigned char batch_hdr[POOL_BATCH * POOL_HDR_MAX];
    size_t nbatch;
    int err; /* -PK_E_* of a failed batch read */
};

void pk_pymalloc_scan_free(struct pk_mem *m, struct pk_pymalloc_scan *s)
{
    if (!s) return;
    pk_mem_scatter_end(m, s->bg);
    free(s->arenas);
    free(s->pools);
    free(s->hdr);
    free(s);
}

/* Counts an arena's pools and, while there are at most BG_POOLS_MAX, lists them for the
   background read; past that the lists are dropped and the end call reads in batches. */
static int collect_arena(uint64_t base, uint64_t npools, void *arg)
{
    struct pk_pymalloc_scan *s = arg;
    s->narenas++;
    s->npools += npools;
    if (s->npools > s->max_pools) return -PK_E_INCONSISTENT; /* more than memory holds */
    if (!s->background) return 0;
    if (s->npools > BG_POOLS_MAX) {
        s->background = 0;
        return 0;
    }
    if (pk_grow((void **)&s->arenas, &s->arenas_cap, s->narenas, sizeof *s->arenas) < 0 ||
        pk_grow((void **)&s->pools, &s->pools_cap, s->npools, sizeof *s->pools) < 0)
        return -PK_E_INTERNAL;
    s->arenas[s->narenas - 1] = (struct arena_pools){base, s->npools - npools};
    for (uint64_t k = 0; k < npools; k++)
        s->pools[s->npools - npools + k] = base + k * s->l->pool_size;
    return 0;
}

/* Adds n pool headers to the sums (and, for read-ahead hints, notes their classes). */
static int add_pools(struct pk_pymalloc_scan *s, const uint64_t *pools, const unsigned char *hdr,
                     size_t n)
{
    const struct pk_layout *l = s->l;
    for (size_t k = 0; k < n; k++) {
        uint32_t count, szidx;
        memcpy(&count, hdr + k * s->hlen + PK_OFF(l, pool_count), 4);
        memcpy(&szidx, hdr + k * s->hlen + PK_OFF(l, pool_szidx), 4);
        if (s->notes)
            pk_mem_note_chunk_class(s->m, pools[k], l->pool_size, count ? 1ull << (szidx & 63) : 0);
        if (count > l->pool_size) return -(int)k - 1; /* more blocks than bytes: corrupt */
        s->blocks += count;
        if (count) {
            s->pools_used++;
            s->used_bytes += (uint64_t)count * (szidx + 1) * l->pymalloc_alignment;
        }
    }
    return 0;
}

static int flush_batch(struct pk_pymalloc_scan *s)
{
    if (!s->nbatch || s->err) return s->err;
    int r = pk_mem_read_scatter(s->m, s->batch_addr, s->nbatch, s->hlen, s->batch_hdr);
    if (r == 0 && add_pools(s, s->batch_addr, s->batch_hdr, s->nbatch) < 0) r = -PK_E_INCONSISTENT;
    s->nbatch = 0;
    return s->err = r;
}

static int batch_arena(uint64_t base, uint64_t npools, void *arg)
{
    struct pk_pymalloc_scan *s = arg;
    if (s->notes) pk_mem_note_chunk_run(s->m, base, s->l->arena_size_bytes);
    s->narenas++;
    for (uint64_t k = 0; k < npools; k++) {
        s->batch_addr[s->nbatch++] = base + k * s->l->pool_size;
        if (s->nbatch == POOL_BATCH && flush_batch(s) < 0) return 0; /* reported at the end */
    }
    return 0;
}

static int read_failed(int r, struct pk_err *e)
{
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    return pk_fail(e, PK_E_INCONSISTENT, "pymalloc pools are unreadable or corrupt");
}

int pk_pymalloc_begin(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                      struct pk_pymalloc_scan **out, struct pk_err *e)
{
    const struct pk_layout *l = &t->layout;
    struct pk_pymalloc_scan *s = *out = calloc(1, sizeof *s);
    if (!s) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    s->l = l;
    s->m = m;
    if (!pk_layout_has(l, PK_FEAT_PYMALLOC)) return 0; /* not available: reported as such */
    int r = locate(m, t, interp, &s->st);
    if (r == 1) return 0;
    if (r < 0 || s->st.maxarenas > PK_MAX_ARENAS)
        return pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena table is unreadable");
    s->hlen = (size_t)PK_OFF(l, pool_szidx) + 4;
    if (s->hlen > POOL_HDR_MAX || PK_OFF(l, pool_count) + 4 > s->hlen || !l->pool_size)
        return pk_fail(e, PK_E_INTERNAL, "pymalloc pool header layout too large");
    s->max_pools = pk_maps_writable_bytes(pk_mem_maps(m)) / l->pool_size + 1;
    s->background = 1;
    if ((r = walk_arenas(m, l, &s->st, collect_arena, s, e)) < 0) return r;
    s->available = 1;
    if (!s->background) return 0; /* batches at the end */
    size_t np = (size_t)s->npools;
    if (!(s->hdr = malloc((np ? np : 1) * s->hlen)))
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    r = pk_mem_scatter_begin(m, s->pools, np, s->hlen, s->hdr, &s->bg);
    return r < 0 ? read_failed(r, e) : 0;
}

/* Reads (or waits for) every pool header and sums them, noting classes when asked. */
static int finish(struct pk_pymalloc_scan *s, struct pk_err *e)
{
    if (!s->background) {
        s->narenas = 0;
        int r = walk_arenas(s->m, s->l, &s->st, batch_arena, s, e);
        if (r == 0) r = flush_batch(s);
        return r < 0 && !e->code ? read_failed(r, e) : r;
    }
    int r = pk_mem_scatter_end(s->m, s->bg);
    s->bg = NULL;
    if (r < 0) return read_failed(r, e);
    for (size_t a = 0; a < s->narenas; a++) {
        size_t first = (size_t)s->arenas[a].first;
        size_t end = a + 1 < s->narenas ? (size_t)s->arenas[a + 1].first : (size_t)s->npools;
        if (s->notes) pk_mem_note_chunk_run(s->m, s->arenas[a].base, s->l->arena_size_bytes);
        if (end <= first) continue; /* an arena with no pools carved yet: s->pools may be NULL */
        if (add_pools(s, s->pools + first, s->hdr + first * s->hlen, end - first) < 0)
            return read_failed(-PK_E_INCONSISTENT, e);
    }
    return 0;
}

void pk_pymalloc_classify(struct pk_mem *m, const struct pk_target *t, uint64_t interp)
{
    struct pk_err ignored = {0};
    struct pk_pymalloc_scan *s = NULL;
    if (pk_pymalloc_begin(m, t, interp, &s, &ignored) == 0 && s->available) {
        s->notes = 1;
        finish(s, &ignored);
    }
    pk_mem_seal_chunk_classes(m);
    pk_pymalloc_scan_free(m, s);
}

int pk_pymalloc_end(struct pk_mem *m, const struct pk_target *t, struct pk_pymalloc_scan *s,
                    struct pk_interp_snap *out, struct pk_err *e)
{
    const struct pk_layout *l = &t->layout;
    struct pk_pymalloc_snap *p = &out->pymalloc;
    memset(p, 0, sizeof *p);
    if (!s->available) return 0;
    int r = finish(s, e);
    if (r < 0) return r;
    p->arenas = s->narenas;
    p->arena_bytes = p->arenas * l->arena_size_bytes;
    p->pools = s->pools_used;
    p->used_bytes = s->used_bytes;
    p->allocated_blocks = (s->st.raw_blocks > 0 ? (uint64_t)s->st.raw_blocks : 0) + s->blocks;
    int64_t counted;
    if (!t->obmalloc_syms.raw_allocated_blocks && t->obmalloc_syms.allocated_blocks &&
        !PK_HAS(l, interp_obmalloc)) {
        if (pk_mem_read(m, t->obmalloc_syms.allocated_blocks, &counted, 8) < 0 || counted < 0)
            return pk_fail(e, PK_E_INCONSISTENT, "_Py_AllocatedBlocks is unreadable");
        p->allocated_blocks = (uint64_t)counted;
    }
    p->available = 1;
    return 0;
}

int pk_pymalloc_read(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                     struct pk_interp_snap *out, struct pk_err *e)
{
    struct pk_pymalloc_scan *s = NULL;
    int r = pk_pymalloc_begin(m, t, interp, &s, e);
    if (r == 0) r = pk_pymalloc_end(m, t, s, out, e);
    pk_pymalloc_scan_free(m, s);
    return r;
}
