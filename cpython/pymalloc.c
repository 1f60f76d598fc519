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

#define POOL_BATCH 1024 /* pool headers read per batched source call */
#define POOL_HDR_MAX 64

/* Pool headers waiting to be read in one batch. */
struct pool_batch {
    uint64_t addr[POOL_BATCH];
    unsigned char hdr[POOL_BATCH * POOL_HDR_MAX];
    size_t n;
};

/* Reads the batched pool headers and adds their blocks. */
static int flush_pools(struct pk_mem *m, const struct pk_layout *l, struct pool_batch *b,
                       size_t hlen, struct pk_pymalloc_snap *p, uint64_t *blocks, struct pk_err *e)
{
    if (!b->n) return 0;
    int r = pk_mem_read_scatter(m, b->addr, b->n, hlen, b->hdr);
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    if (r < 0)
        return pk_fail(e, PK_E_INCONSISTENT, "pymalloc pool near 0x%llx is unreadable",
                       (unsigned long long)b->addr[0]);
    for (size_t k = 0; k < b->n; k++) {
        uint32_t count, szidx;
        memcpy(&count, b->hdr + k * hlen + PK_OFF(l, pool_count), 4);
        memcpy(&szidx, b->hdr + k * hlen + PK_OFF(l, pool_szidx), 4);
        if (count > l->pool_size) /* more blocks than bytes in the pool */
            return pk_fail(e, PK_E_INCONSISTENT, "pymalloc pool at 0x%llx is corrupt",
                           (unsigned long long)b->addr[k]);
        *blocks += count;
        if (count) {
            p->pools++;
            p->used_bytes += (uint64_t)count * (szidx + 1) * l->pymalloc_alignment;
        }
    }
    b->n = 0;
    return 0;
}

int pk_pymalloc_read(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                     struct pk_interp_snap *out, struct pk_err *e)
{
    const struct pk_layout *l = &t->layout;
    struct pk_pymalloc_snap *p = &out->pymalloc;
    memset(p, 0, sizeof *p);
    if (!PK_HAS(l, arena_address) || !PK_HAS(l, pool_count) || !PK_HAS(l, pool_szidx)) return 0;
    struct arena_state st;
    int r = locate(m, t, interp, &st);
    if (r == 1) return 0;
    if (r < 0 || st.maxarenas > PK_MAX_ARENAS)
        return pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena table is unreadable");
    const uint64_t asz = PK_F(l, arena_size).size, pool = l->pool_size;
    const uint64_t pools_per_arena = l->arena_size_bytes / pool;
    const size_t hlen = (size_t)PK_OFF(l, pool_szidx) + 4;
    if (hlen > POOL_HDR_MAX || PK_OFF(l, pool_count) + 4 > hlen || !pool)
        return pk_fail(e, PK_E_INTERNAL, "pymalloc pool header layout too large");
    uint64_t blocks = st.raw_blocks > 0 ? (uint64_t)st.raw_blocks : 0;
    unsigned char *arena_buf = malloc(asz);
    struct pool_batch *batch = malloc(sizeof *batch);
    if (!arena_buf || !batch) {
        free(arena_buf);
        free(batch);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    batch->n = 0;
    r = 0;
    for (uint64_t i = 0; i < st.maxarenas && r == 0; i++) {
        uint64_t ao = st.arenas + i * asz, address, pool_address;
        if (pk_mem_read(m, ao, arena_buf, asz) < 0) {
            r = pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena %llu is unreadable",
                        (unsigned long long)i);
            break;
        }
        memcpy(&address, arena_buf + PK_OFF(l, arena_address), 8);
        if (!address) continue; /* slot not in use */
        memcpy(&pool_address, arena_buf + PK_OFF(l, arena_pool_address), 8);
        p->arenas++;
        uint64_t base = (address + pool - 1) & ~(pool - 1);
        if (pool_address < base || pool_address - base > pools_per_arena * pool) {
            r = pk_fail(e, PK_E_INCONSISTENT, "pymalloc arena %llu has a bad pool pointer",
                        (unsigned long long)i);
            break;
        }
        /* Pool headers of every arena are read in batches: one source call per 1024 pools. */
        for (uint64_t pa = base; pa < pool_address && r == 0; pa += pool) {
            batch->addr[batch->n++] = pa;
            if (batch->n == POOL_BATCH) r = flush_pools(m, l, batch, hlen, p, &blocks, e);
        }
    }
    if (r == 0) r = flush_pools(m, l, batch, hlen, p, &blocks, e);
    free(arena_buf);
    free(batch);
    if (r < 0) return r;
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
