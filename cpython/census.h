/* The object census of one interpreter: walk its GC generations and permanent generation,
   count and size objects per type (sys.getsizeof rules), read while the target is frozen. */
#ifndef PK_CENSUS_H
#define PK_CENSUS_H

#include "attach/mem.h"
#include "cpython/gc_list.h"
#include "cpython/snapshot.h"
#include "cpython/types.h"
#include "symbols/layout.h"

/* Counts and sys.getsizeof bytes per type, for any set of objects (a heap, gc.garbage). */
struct pk_tally {
    struct pk_mem *m;
    const struct pk_layout *l;
    struct pk_types *types;
    uint64_t *count, *bytes; /* indexed by pk_type_info.index */
    uint64_t *frozen;        /* of count: objects added while `freezing` (gc.freeze()) */
    size_t cap;
    uint64_t total_count, total_bytes;
    uint64_t total_frozen, frozen_bytes;
    int freezing; /* objects added now are in the permanent generation */
    struct pk_err *e;
};
/* Adds one object; -PK_E_INCONSISTENT when its type is not a type or it is unreadable. */
int pk_tally_add(struct pk_tally *a, uint64_t obj, uint64_t type);
/* The tally as type stats sorted by count (malloc'd; names strdup'd). */
int pk_tally_stats(const struct pk_tally *a, struct pk_type_stat **out, size_t *n);
void pk_tally_free(struct pk_tally *a);

/* Fills out (generations, permanent_objects, totals, types) from the GC state at gc
   (cpython/gc_state.h: pk_gc_state_addr).
   Totals and types count the permanent generation (gc.freeze()) too, with `frozen` beside.
   -PK_E_INCONSISTENT with "collecting" in the message when a collection is running. */
int pk_census_collect(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                      uint64_t gc, const struct pk_walk_limits *lim, struct pk_interp_snap *out,
                      struct pk_err *e);
/* The same, also noting every object that may hold an fd into owners (cpython/fd_owners.h). */
struct pk_fd_owners;
int pk_census_collect_owners(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                             uint64_t gc, const struct pk_walk_limits *lim,
                             struct pk_fd_owners *owners, struct pk_interp_snap *out,
                             struct pk_err *e);

/* The sizeof rule of str, int and bytearray (cpython/atomsize.c), without the GC header. */
int pk_atom_sizeof(struct pk_mem *m, const struct pk_layout *l, int size_kind, uint64_t obj,
                   uint64_t basicsize, uint64_t *size);

/* sys.getsizeof(obj) for an object of the given type. */
int pk_object_sizeof(struct pk_mem *m, const struct pk_layout *l, const struct pk_type_info *ti,
                     uint64_t obj, uint64_t *size);

#endif
