/* The collector's own state per interpreter, mapped to what the gc module reports:
   isenabled, get_debug, get_threshold, get_count, get_stats, gc.garbage and its types. */
#ifndef PK_GC_STATE_H
#define PK_GC_STATE_H

#include "attach/mem.h"
#include "cpython/snapshot.h"
#include "cpython/types.h"
#include "symbols/layout.h"

#define PK_GARBAGE_MAX_ITEMS (1u << 26)

/* The GC state (struct _gc_runtime_state) of the interpreter at interp: inside it, or 3.8's
   one in _PyRuntime at runtime_addr, which every interpreter shares (interp is then unused). */
uint64_t pk_gc_state_addr(const struct pk_layout *l, uint64_t runtime_addr, uint64_t interp);

/* The i-th gc_generation struct (0..2) of the GC state at gc, in memory order: generations[i],
   or 3.14.0-3.14.4's young, old[0], old[1]. */
uint64_t pk_gc_generation_addr(const struct pk_layout *l, uint64_t gc, int i);

/* The lists every tracked object is on: one per generation struct, in memory order, each with
   the generation gc.get_objects() reports it under; then the permanent generation. */
struct pk_gc_lists {
    uint64_t head[3];
    int api_gen[3]; /* 3.14.0-3.14.4: young is 0, both old spaces are 2 (1 is always empty) */
    uint64_t permanent;
};
void pk_gc_lists(const struct pk_layout *l, uint64_t gc, struct pk_gc_lists *out);

/* Reads enabled, debug, collecting, thresholds, counts and stats of the GC state at gc. */
int pk_gc_state_read(struct pk_mem *m, const struct pk_layout *l, uint64_t gc,
                     struct pk_interp_snap *out, struct pk_err *e);
/* len(gc.garbage) of the GC state at gc and the type census of its items. */
int pk_gc_garbage_read(struct pk_mem *m, const struct pk_layout *l, struct pk_types *types,
                       uint64_t gc, struct pk_interp_snap *out, struct pk_err *e);

#endif
