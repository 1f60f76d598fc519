/* The object graph in a snapshot's life: copied while the target is frozen, analysed into the
   snapshot's heap section once it is resumed, kept for `pypeek why`. */
#ifndef PK_GRAPH_SNAP_H
#define PK_GRAPH_SNAP_H

#include "attach/mem.h"
#include "cpython/gc_list.h"
#include "cpython/snapshot.h"
#include "symbols/target.h"

/* Frozen: reads the main interpreter's object graph into s->graph. A graph that cannot be
   read is a warning, not a failure; only -PK_E_NO_PROCESS and -PK_E_INTERRUPTED return. */
int pk_graph_take(struct pk_mem *m, const struct pk_target *t, const struct pk_walk_limits *lim,
                  struct pk_snapshot *s, struct pk_err *e);
/* Resumed: the untracked census, coverage and retained sizes into the main interpreter's
   snapshot (top: globals listed). Frees s->graph unless keep. */
void pk_graph_finish(struct pk_snapshot *s, size_t top, int keep);
/* Resumed, for outputs that show no retainers (Prometheus, watch): only the unreachable cycles
   (gc.unreachable), then frees s->graph. */
void pk_graph_finish_unreachable(struct pk_snapshot *s);

#endif
