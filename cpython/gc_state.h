/* The collector's own state per interpreter, mapped to what the gc module reports:
   isenabled, get_debug, get_threshold, get_count, get_stats, gc.garbage and its types. */
#ifndef PK_GC_STATE_H
#define PK_GC_STATE_H

#include "attach/mem.h"
#include "cpython/snapshot.h"
#include "cpython/types.h"
#include "symbols/layout.h"

#define PK_GARBAGE_MAX_ITEMS (1u << 26)

/* Reads enabled, debug, collecting, thresholds, counts and stats into out. */
int pk_gc_state_read(struct pk_mem *m, const struct pk_layout *l, uint64_t interp,
                     struct pk_interp_snap *out, struct pk_err *e);
/* len(gc.garbage) and the type census of its items. */
int pk_gc_garbage_read(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                       uint64_t interp, struct pk_interp_snap *out, struct pk_err *e);

#endif
