/* Reading the interpreter while the target is frozen: every interpreter of the runtime and its
   object census, into the snapshot. */
#ifndef PK_COLLECT_H
#define PK_COLLECT_H

#include "attach/mem.h"
#include "cpython/gc_list.h"
#include "cpython/snapshot.h"
#include "symbols/target.h"

#define PK_MAX_INTERPRETERS 4096

/* Fills s->interps (main interpreter first). The caller frees s. */
int pk_collect_interpreters(struct pk_mem *m, const struct pk_target *t,
                            const struct pk_walk_limits *lim, struct pk_snapshot *s,
                            struct pk_err *e);

#endif
