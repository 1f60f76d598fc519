/* Reading the interpreter while the target is frozen: every interpreter of the runtime and its
   object census, into the snapshot. */
#ifndef PK_COLLECT_H
#define PK_COLLECT_H

#include "attach/mem.h"
#include "cpython/gc_list.h"
#include "cpython/snapshot.h"
#include "symbols/target.h"

#define PK_MAX_INTERPRETERS 4096

/* Before the target is stopped, with read-ahead on: reads where pymalloc keeps what, as hints
   for read-ahead during the frozen census (pk_pymalloc_classify). The caller drops the cache
   afterwards (the target was running). */
void pk_collect_hints(struct pk_mem *m, const struct pk_target *t);

/* The snapshot's target section from the resolved target (source: "process" or "core"), and
   the target's warnings. */
void pk_snapshot_describe_target(struct pk_snapshot *s, const struct pk_target *t,
                                 const char *source);

/* Fills s->interps (main interpreter first). The caller frees s. */
int pk_collect_interpreters(struct pk_mem *m, const struct pk_target *t,
                            const struct pk_walk_limits *lim, struct pk_snapshot *s,
                            struct pk_err *e);

#endif
