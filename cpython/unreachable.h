/* What the next full collection would free: the collector's own cycle detection run on the
   copied object graph after the target resumed (read-only; nothing runs in the target). */
#ifndef PK_UNREACHABLE_H
#define PK_UNREACHABLE_H

#include <stddef.h>

#include "cpython/graph.h"
#include "cpython/snapshot.h"
#include "util/error.h"

/* Fills *u from g: gc_refs = reference count minus the references from the other tracked
   objects of the three generations (not the permanent one), then everything reachable from
   a positive gc_refs is alive and the rest unreachable. Objects pypeek cannot fully read,
   immortal objects and impossible reference counts count as referenced from outside, so the
   answer may be short of the collector's but never names a live object. Returns 0, or
   -PK_E_INTERNAL (out of memory) with *u cleared. */
int pk_unreachable_compute(const struct pk_graph *g, struct pk_unreachable_snap *u,
                           struct pk_err *e);

#endif
