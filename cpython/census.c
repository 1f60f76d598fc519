/* The object census of one interpreter: GC generations walked, objects counted and sized. */
#include "cpython/census.h"

#include <stdlib.h>
#include <string.h>

#include "cpython/fd_owners.h"
#include "cpython/gc_state.h"

static int grow(struct pk_tally *a, size_t need)
{
    if (need <= a->cap) return 0;
    size_t nc = a->cap ? a->cap : 256;
    while (nc < need)
        nc *= 2;
    uint64_t *c = realloc(a->count, nc * sizeof *c);
    if (!c) return -1;
    a->count = c;
    uint64_t *b = realloc(a->bytes, nc * sizeof *b);
    if (!b) return -1;
    a->bytes = b;
    uint64_t *f = realloc(a->frozen, nc * sizeof *f);
    if (!f) return -1;
    a->frozen = f;
    memset(a->count + a->cap, 0, (nc - a->cap) * sizeof *c);
    memset(a->bytes + a->cap, 0, (nc - a->cap) * sizeof *b);
    memset(a->frozen + a->cap, 0, (nc - a->cap) * sizeof *f);
    a->cap = nc;
    return 0;
}

/* Adds one object of a known type. */
static int tally_add_typed(struct pk_tally *a, uint64_t obj, const struct pk_type_info *ti)
{
    if (ti->index >= a->cap && grow(a, ti->index + 1) < 0)
        return pk_fail(a->e, PK_E_INTERNAL, "out of memory");
    uint64_t size = 0;
    int rc = pk_object_sizeof(a->m, a->l, ti, obj, &size);
    if (rc == -PK_E_NO_PROCESS) return pk_fail(a->e, PK_E_NO_PROCESS, "the target exited");
    if (rc < 0)
        return pk_fail(a->e, PK_E_INCONSISTENT, "%s object at 0x%llx is unreadable", ti->name,
                       (unsigned long long)obj);
    a->count[ti->index]++;
    a->bytes[ti->index] += size;
    a->total_bytes += size;
    a->total_count++;
    if (a->freezing) {
        a->frozen[ti->index]++;
        a->frozen_bytes += size;
        a->total_frozen++;
    }
    return 0;
}

static int tally_type(struct pk_tally *a, uint64_t obj, uint64_t type,
                      const struct pk_type_info **ti)
{
    int rc = 0;
    if ((*ti = pk_types_get(a->types, type, &rc))) return 0;
    if (rc == -PK_E_INTERNAL) return pk_fail(a->e, PK_E_INTERNAL, "out of memory");
    return pk_fail(a->e, PK_E_INCONSISTENT, "object at 0x%llx has a bad type 0x%llx",
                   (unsigned long long)obj, (unsigned long long)type);
}

int pk_tally_add(struct pk_tally *a, uint64_t obj, uint64_t type)
{
    const struct pk_type_info *ti;
    int r = tally_type(a, obj, type, &ti);
    return r < 0 ? r : tally_add_typed(a, obj, ti);
}

/* The census visitor's state: the tally, plus the fd-owner hook (cpython/fd_owners.h) that
   notes file and socket objects during this same walk. owners may be NULL. */
struct census_walk {
    struct pk_tally *tally;
    struct pk_fd_owners *owners;
};

static int count_object(uint64_t obj, uint64_t type, void *arg)
{
    struct census_walk *w = arg;
    const struct pk_type_info *ti;
    int r = tally_type(w->tally, obj, type, &ti);
    if (r == 0) r = tally_add_typed(w->tally, obj, ti);
    if (r == 0 && w->owners && ti->fd_role) pk_fd_owners_note(w->owners, obj, ti);
    return r;
}

void pk_tally_free(struct pk_tally *a)
{
    free(a->count);
    free(a->bytes);
    free(a->frozen);
    a->count = a->bytes = a->frozen = NULL;
    a->cap = 0;
}

static int cmp_type_stat(const void *x, const void *y)
{
    const struct pk_type_stat *a = x, *b = y;
    if (a->count != b->count) return a->count < b->count ? 1 : -1;
    if (a->bytes != b->bytes) return a->bytes < b->bytes ? 1 : -1;
    return strcmp(a->name, b->name);
}

int pk_tally_stats(const struct pk_tally *a, struct pk_type_stat **out, size_t *n)
{
    size_t nt = 0;
    for (size_t i = 0; i < a->cap; i++)
        nt += a->count[i] != 0;
    *n = 0;
    *out = calloc(nt ? nt : 1, sizeof **out);
    if (!*out) return -PK_E_INTERNAL;
    for (size_t i = 0; i < a->cap; i++) {
        if (!a->count[i]) continue;
        const struct pk_type_info *ti = pk_types_at(a->types, i);
        struct pk_type_stat *ts = &(*out)[*n];
        if (!(ts->name = strdup(ti->name))) return -PK_E_INTERNAL;
        ts->count = a->count[i];
        ts->bytes = a->bytes[i];
        ts->frozen = a->frozen[i];
        ts->size_exact = ti->size_exact;
        (*n)++;
    }
    qsort(*out, *n, sizeof **out, cmp_type_stat);
    return 0;
}

int pk_census_collect(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                      uint64_t gc, const struct pk_walk_limits *lim, struct pk_interp_snap *out,
                      struct pk_err *e)
{
    return pk_census_collect_owners(m, l, types, gc, lim, NULL, out, e);
}

int pk_census_collect_owners(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                             uint64_t gc, const struct pk_walk_limits *lim,
                             struct pk_fd_owners *owners, struct pk_interp_snap *out,
                             struct pk_err *e)
{
    int32_t collecting;
    int r = pk_mem_read(m, gc + PK_OFF(l, gc_collecting), &collecting, 4);
    if (r < 0)
        return pk_fail(e, r == -PK_E_NO_PROCESS ? PK_E_NO_PROCESS : PK_E_INCONSISTENT,
                       "cannot read the GC state at 0x%llx", (unsigned long long)gc);
    if (collecting)
        return pk_fail(e, PK_E_INCONSISTENT, "a garbage collection is in progress (collecting)");

    struct pk_tally acc = {.m = m, .l = l, .types = types, .e = e};
    struct census_walk walk = {&acc, owners};
    struct pk_gc_lists lists;
    pk_gc_lists(l, gc, &lists);
    for (int g = 0; g < 3; g++)
        out->generations[g].objects = 0;
    for (int k = 0; k < 3; k++) {
        uint64_t n;
        r = pk_gc_list_walk(m, l, lists.head[k], lim, count_object, &walk, &n, e);
        if (r < 0) goto fail;
        out->generations[lists.api_gen[k]].objects += n;
    }
    /* gc.freeze()d objects are as much the heap as the rest (a pre-fork server keeps most of
       its objects there): counted, and noted as frozen */
    acc.freezing = 1;
    r = pk_gc_list_walk(m, l, lists.permanent, lim, count_object, &walk, &out->permanent_objects,
                        e);
    if (r < 0) goto fail;

    out->total_objects = acc.total_count;
    out->total_bytes = acc.total_bytes;
    out->frozen_objects = acc.total_frozen;
    out->frozen_bytes = acc.frozen_bytes;
    r = pk_tally_stats(&acc, &out->types, &out->ntypes);
    if (r < 0) {
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
        goto fail;
    }
    pk_tally_free(&acc);
    return 0;
fail:
    pk_tally_free(&acc);
    return r;
}
