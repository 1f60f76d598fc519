/* The collector's own state per interpreter, mapped to what the gc module reports. */
#include "cpython/gc_state.h"

#include <stdlib.h>

#include "cpython/census.h"

static int read_i32(struct pk_mem *m, uint64_t a, int64_t *out)
{
    int32_t v;
    int r = pk_mem_read(m, a, &v, 4);
    if (r == 0) *out = v;
    return r;
}

static int read_ssize(struct pk_mem *m, uint64_t a, int64_t *out)
{
    return pk_mem_read(m, a, out, 8);
}

/* 3.15: gc.generation_stats points to a struct gc_stats of ring buffers, young and old[2];
   gc.get_stats()[i] is the entry at each buffer's index (it carries the running totals). */
static int ring_stats_entry(struct pk_mem *m, const struct pk_layout *l, uint64_t gc, int gen,
                            uint64_t *entry)
{
    uint64_t stats, items, index_at, nitems;
    uint64_t ssz = PK_F(l, genstats_size).size;
    int r = pk_mem_read_u64(m, gc + PK_OFF(l, gc_generation_stats), &stats);
    if (r < 0) return r;
    if (!stats || !ssz || !PK_HAS(l, gcstats_young_index) || !PK_HAS(l, gcstats_old) ||
        !PK_HAS(l, oldstats_items) || !PK_HAS(l, oldstats_index))
        return -PK_E_INCONSISTENT;
    if (gen == 0) {
        items = stats + PK_OFF(l, gcstats_young_items);
        index_at = stats + PK_OFF(l, gcstats_young_index);
        nitems = PK_F(l, gcstats_young_items).size / ssz;
    } else {
        uint64_t buf =
            stats + PK_OFF(l, gcstats_old) + (uint64_t)(gen - 1) * PK_F(l, oldstats_size).size;
        items = buf + PK_OFF(l, oldstats_items);
        index_at = buf + PK_OFF(l, oldstats_index);
        nitems = PK_F(l, oldstats_items).size / ssz;
    }
    int8_t index;
    if ((r = pk_mem_read(m, index_at, &index, 1)) < 0) return r;
    if (index < 0 || (uint64_t)index >= nitems) return -PK_E_INCONSISTENT;
    *entry = items + (uint64_t)index * ssz;
    return 0;
}

uint64_t pk_gc_state_addr(const struct pk_layout *l, uint64_t runtime_addr, uint64_t interp)
{
    return l->gc_in_runtime ? runtime_addr + PK_OFF(l, runtime_gc) : interp + PK_OFF(l, interp_gc);
}

uint64_t pk_gc_generation_addr(const struct pk_layout *l, uint64_t gc, int i)
{
    uint64_t gsz = PK_F(l, gen_size).size;
    if (l->gc_kind == PK_GC_GENERATIONAL) return gc + PK_OFF(l, gc_generations) + (uint64_t)i * gsz;
    return i == 0 ? gc + PK_OFF(l, gc_young) : gc + PK_OFF(l, gc_old) + (uint64_t)(i - 1) * gsz;
}

void pk_gc_lists(const struct pk_layout *l, uint64_t gc, struct pk_gc_lists *out)
{
    for (int i = 0; i < 3; i++) {
        out->head[i] = pk_gc_generation_addr(l, gc, i) + PK_OFF(l, gen_head);
        out->api_gen[i] = l->gc_kind == PK_GC_GENERATIONAL ? i : i == 0 ? 0 : 2;
    }
    out->permanent = gc + PK_OFF(l, gc_permanent_generation) + PK_OFF(l, gen_head);
}

int pk_gc_state_read(struct pk_mem *m, const struct pk_layout *l, uint64_t gc,
                     struct pk_interp_snap *out, struct pk_err *e)
{
    int64_t v;
    int r = 0;
    if (PK_HAS(l, gc_enabled) && (r = read_i32(m, gc + PK_OFF(l, gc_enabled), &v)) == 0)
        out->gc_enabled = v != 0;
    if (r == 0 && PK_HAS(l, gc_debug) && (r = read_i32(m, gc + PK_OFF(l, gc_debug), &v)) == 0)
        out->gc_debug = v;
    if (r == 0 && (r = read_i32(m, gc + PK_OFF(l, gc_collecting), &v)) == 0)
        out->gc_collecting = v != 0;
    /* The three gc_generation structs behind get_threshold()/get_count(), in API order. */
    uint64_t gens[3];
    if (l->gc_kind == PK_GC_GENERATIONAL) {
        for (int i = 0; i < 3; i++)
            gens[i] = pk_gc_generation_addr(l, gc, i);
    } else {
        /* 3.14.0-3.14.4: get_count() is (young, old[visited], old[visited ^ 1]). */
        int64_t visited = 0;
        if (r == 0) r = read_i32(m, gc + PK_OFF(l, gc_visited_space), &visited);
        visited &= 1;
        gens[0] = pk_gc_generation_addr(l, gc, 0);
        gens[1] = pk_gc_generation_addr(l, gc, 1 + (int)visited);
        gens[2] = pk_gc_generation_addr(l, gc, 1 + (int)(visited ^ 1));
    }
    for (int i = 0; i < 3 && r == 0; i++) {
        if (PK_HAS(l, gen_threshold))
            r = read_i32(m, gens[i] + PK_OFF(l, gen_threshold), &out->generations[i].threshold);
        if (r == 0) r = read_i32(m, gens[i] + PK_OFF(l, gen_count), &out->generations[i].count);
    }
    if (r == 0 && PK_HAS(l, gc_generation_stats) && PK_HAS(l, genstats_collections)) {
        uint64_t ssz = PK_F(l, genstats_size).size;
        for (int i = 0; i < 3 && r == 0; i++) {
            uint64_t st = gc + PK_OFF(l, gc_generation_stats) + (uint64_t)i * ssz;
            if (PK_HAS(l, gcstats_young_items) && (r = ring_stats_entry(m, l, gc, i, &st)) < 0)
                break;
            struct pk_gen_snap *g = &out->generations[i];
            if ((r = read_ssize(m, st + PK_OFF(l, genstats_collections), &g->collections)) == 0 &&
                (r = read_ssize(m, st + PK_OFF(l, genstats_collected), &g->collected)) == 0)
                r = read_ssize(m, st + PK_OFF(l, genstats_uncollectable), &g->uncollectable);
        }
    }
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    if (r < 0) return pk_fail(e, PK_E_INCONSISTENT, "the GC state is unreadable");
    return 0;
}

int pk_gc_garbage_read(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                       uint64_t gc, struct pk_interp_snap *out, struct pk_err *e)
{
    uint64_t list;
    if (!PK_HAS(l, gc_garbage)) return 0;
    if (pk_mem_read_u64(m, gc + PK_OFF(l, gc_garbage), &list) < 0)
        return pk_fail(e, PK_E_INCONSISTENT, "gc.garbage pointer is unreadable");
    if (!list) return 0; /* not created yet: the gc module was never imported */
    int64_t n;
    uint64_t items;
    if (pk_mem_read(m, list + PK_OFF(l, varobject_size), &n, 8) < 0 ||
        pk_mem_read_u64(m, list + PK_OFF(l, list_item), &items) < 0 || n < 0 ||
        n > PK_GARBAGE_MAX_ITEMS)
        return pk_fail(e, PK_E_INCONSISTENT, "gc.garbage is not a readable list");
    out->garbage_count = (uint64_t)n;
    struct pk_tally acc = {.m = m, .l = l, .types = types, .e = e};
    int r = 0;
    for (int64_t i = 0; i < n && r == 0; i++) {
        uint64_t obj, type;
        if (pk_mem_read_u64(m, items + (uint64_t)i * 8, &obj) < 0 || !obj ||
            pk_mem_read_u64(m, obj + PK_OFF(l, object_type), &type) < 0) {
            r = pk_fail(e, PK_E_INCONSISTENT, "gc.garbage[%lld] is unreadable", (long long)i);
            break;
        }
        r = pk_tally_add(&acc, obj, type);
    }
    if (r == 0 && pk_tally_stats(&acc, &out->garbage_types, &out->ngarbage_types) < 0)
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
    pk_tally_free(&acc);
    return r;
}
