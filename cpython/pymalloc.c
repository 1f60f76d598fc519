/* pymalloc's arenas and pools, summed the way sys.getallocatedblocks() sums them. */
#include "cpython/pymalloc.h"

#include <stdlib.h>
#include <string.h>

struct arena_state {
    uint64_t arenas;    /* struct arena_object * */
    uint64_t maxarenas; /* uint */
    uint64_t narenas;   /* size_t narenas_currently_allocated */
    int64_t raw_blocks; /* Py_ssize_t raw_allocated_blocks */
};

static int locate(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                  struct arena_state *st)
{
    const struct pk_layout *l = &t->layout;
    uint64_t a_arenas, a_max, a_narenas, a_raw;
    if (PK_HAS(l, interp_obmalloc) && PK_HAS(l, obmalloc_arenas)) {
        /* 3.12 embeds struct _obmalloc_state in the interpreter; 3.13+ points to it. */
        uint64_t state = interp + PK_OFF(l, interp_obmalloc);
        if (PK_F(l, interp_obmalloc).size == 8 && pk_mem_read_u64(m, state, &state) < 0)
            return -PK_E_INCONSISTENT;
        if (!state) return 1;
        a_arenas = state + PK_OFF(l, obmalloc_arenas);
        a_max = state + PK_OFF(l, obmalloc_maxarenas);
        a_narenas = state + PK_OFF(l, obmalloc_narenas);
        a_raw = state + PK_OFF(l, obmalloc_raw_blocks);
    } else if (t->obmalloc_syms.arenas && t->obmalloc_syms.maxarenas &&
               (t->obmalloc_syms.raw_allocated_blocks || t->obmalloc_syms.allocated_blocks)) {
        /* 3.8 has no raw_allocated_blocks: its total is the _Py_AllocatedBlocks counter */
        a_arenas = t->obmalloc_syms.arenas;
        a_max = t->obmalloc_syms.maxarenas;
        a_narenas = t->obmalloc_syms.narenas;
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
    if (a_narenas) pk_mem_read_u64(m, a_narenas, &st->narenas);
    return 0;
}

#define POOL_HDR_MAX 64

/* A scan of pool headers: every pool carved out of an arena, grouped by arena, its header read
   in the background (pk_mem_scatter_begin) while the census walks. */
struct pk_pymalloc_scan {
    struct pk_arena_state {
        uint64_t base; /* first pool */
        size_t first;  /* index of its first pool in pools[] */
    } * arenas;
    size_t narenas, arenas_cap;
    uint64_t *pools;
    size_t npools, pools_cap, max_pools;
    unsigned char *hdr; /* npools headers of hlen bytes */
    size_t hlen;
    int64_t raw_blocks;
    struct pk_mem_bg *bg;
    int available;
};

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*v, nc * size);
    if (!p) return -1;
    *v = p;
    *cap = nc;
    return 0;
}

void pk_pymalloc_scan_free(struct pk_mem *m, struct pk_pymalloc_scan *s)
{
    if (!s) return;
    pk_mem_scatter_end(m, s->bg);
    free(s->arenas);
    free(s->pools);
    free(s->hdr);
    free(s);
}

/* Lists the arenas and their pools (reading the arena table), then starts reading the pool
   headers. */
static int list_pools(struct pk_mem *m, const struct pk_layout *l, const struct arena_state *st,
                      struct pk_pymalloc_scan *s, struct pk_err *e)
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
        uint64_t n = (pool_address - base) / pool;
        if (s->npools + n > s->max_pools) /* more pools than the writable memory holds */
            return pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena table is corrupt");
        if (grow((void **)&s->arenas, &s->arenas_cap, s->narenas + 1, sizeof *s->arenas) < 0 ||
            grow((void **)&s->pools, &s->pools_cap, s->npools + n, sizeof *s->pools) < 0)
            return pk_fail(e, PK_E_INTERNAL, "out of memory");
        s->arenas[s->narenas++] = (struct pk_arena_state){base, s->npools};
        for (uint64_t pa = base; pa < pool_address; pa += pool)
            s->pools[s->npools++] = pa;
    }
    if (!(s->hdr = malloc(s->npools ? s->npools * s->hlen : 1)))
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = pk_mem_scatter_begin(m, s->pools, s->npools, s->hlen, s->hdr, &s->bg);
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    if (r < 0) return pk_fail(e, PK_E_INCONSISTENT, "pymalloc pools are unreadable");
    return 0;
}

int pk_pymalloc_begin(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                      struct pk_pymalloc_scan **out, struct pk_err *e)
{
    const struct pk_layout *l = &t->layout;
    *out = NULL;
    struct pk_pymalloc_scan *s = calloc(1, sizeof *s);
    if (!s) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    *out = s;
    if (!PK_HAS(l, arena_address) || !PK_HAS(l, pool_count) || !PK_HAS(l, pool_szidx)) return 0;
    struct arena_state st;
    int r = locate(m, t, interp, &st);
    if (r == 1) return 0;
    if (r < 0 || st.maxarenas > PK_MAX_ARENAS)
        return pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena table is unreadable");
    s->hlen = (size_t)PK_OFF(l, pool_szidx) + 4;
    if (s->hlen > POOL_HDR_MAX || PK_OFF(l, pool_count) + 4 > s->hlen || !l->pool_size)
        return pk_fail(e, PK_E_INTERNAL, "pymalloc pool header layout too large");
    s->max_pools = pk_maps_writable_bytes(pk_mem_maps(m)) / l->pool_size + 1;
    s->raw_blocks = st.raw_blocks;
    if ((r = list_pools(m, l, &st, s, e)) < 0) return r;
    s->available = 1;
    return 0;
}

/* Waits for the headers. 0, or -PK_E_* with e set. */
static int headers_read(struct pk_mem *m, struct pk_pymalloc_scan *s, struct pk_err *e)
{
    int r = pk_mem_scatter_end(m, s->bg);
    s->bg = NULL;
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    if (r < 0) return pk_fail(e, PK_E_INCONSISTENT, "pymalloc pools are unreadable");
    return 0;
}

void pk_pymalloc_classify(struct pk_mem *m, const struct pk_target *t, uint64_t interp)
{
    const struct pk_layout *l = &t->layout;
    struct pk_err ignored = {0};
    struct pk_pymalloc_scan *s = NULL;
    if (pk_pymalloc_begin(m, t, interp, &s, &ignored) == 0 && s->available &&
        headers_read(m, s, &ignored) == 0) {
        for (size_t a = 0; a < s->narenas; a++) {
            size_t end = a + 1 < s->narenas ? s->arenas[a + 1].first : s->npools;
            pk_mem_note_chunk_run(m, s->arenas[a].base, l->arena_size_bytes);
            for (size_t k = s->arenas[a].first; k < end; k++) {
                uint32_t count, szidx;
                memcpy(&count, s->hdr + k * s->hlen + PK_OFF(l, pool_count), 4);
                memcpy(&szidx, s->hdr + k * s->hlen + PK_OFF(l, pool_szidx), 4);
                pk_mem_note_chunk_class(m, s->pools[k], l->pool_size,
                                        count ? 1ull << (szidx & 63) : 0);
            }
        }
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
    int r = headers_read(m, s, e);
    if (r < 0) return r;
    uint64_t blocks = s->raw_blocks > 0 ? (uint64_t)s->raw_blocks : 0;
    for (size_t k = 0; k < s->npools; k++) {
        uint32_t count, szidx;
        memcpy(&count, s->hdr + k * s->hlen + PK_OFF(l, pool_count), 4);
        memcpy(&szidx, s->hdr + k * s->hlen + PK_OFF(l, pool_szidx), 4);
        if (count > l->pool_size) /* more blocks than bytes in the pool */
            return pk_fail(e, PK_E_INCONSISTENT, "pymalloc pool at 0x%llx is corrupt",
                           (unsigned long long)s->pools[k]);
        blocks += count;
        if (count) {
            p->pools++;
            p->used_bytes += (uint64_t)count * (szidx + 1) * l->pymalloc_alignment;
        }
    }
    p->arenas = s->narenas;
    p->arena_bytes = p->arenas * l->arena_size_bytes;
    p->allocated_blocks = blocks;
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
