/* The object census of one interpreter: walk its GC generations and permanent generation,
   count and size objects per type (sys.getsizeof rules), read while the target is frozen. */
#ifndef PK_CENSUS_H
#define PK_CENSUS_H

#include "attach/mem.h"
#include "cpython/gc_list.h"
#include "cpython/snapshot.h"
#include "cpython/types.h"
#include "symbols/layout.h"

/* Fills out (generations, permanent_objects, totals, types) for the interpreter at interp.
   -PK_E_INCONSISTENT with "collecting" in the message when a collection is running. */
int pk_census_collect(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                      uint64_t interp, const struct pk_walk_limits *lim,
                      struct pk_interp_snap *out, struct pk_err *e);

/* sys.getsizeof(obj) for an object of the given type. */
int pk_object_sizeof(struct pk_mem *m, const struct pk_layout *l, const struct pk_type_info *ti,
                     uint64_t obj, uint64_t *size);

#endif
