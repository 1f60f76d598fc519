/* The report command: resolve the target, freeze, collect, resume, print. */
#ifndef PK_RUN_H
#define PK_RUN_H

#include <signal.h>

#include "cli/options.h"
#include "cpython/snapshot.h"
#include "util/error.h"

/* Takes a snapshot of o->pid. Slow work (symbols, DWARF) happens before the target is stopped.
   The caller frees s with pk_snapshot_free. */
int pk_take_snapshot(const struct pk_opts *o, const volatile sig_atomic_t *cancel,
                     struct pk_snapshot *s, struct pk_err *e);
/* A live target resolved once (symbols, DWARF layout), to snapshot many times (watch). */
struct pk_live;
/* Opens /proc/PID and resolves the target while it runs. The caller closes *out. */
int pk_live_open(const struct pk_opts *o, struct pk_live **out, struct pk_err *e);
/* One snapshot: freeze (unless nonblocking), collect, resume; read again while a collection
   runs. The caller frees s with pk_snapshot_free, also on failure. */
int pk_live_snapshot(struct pk_live *l, const volatile sig_atomic_t *cancel, struct pk_snapshot *s,
                     struct pk_err *e);
void pk_live_close(struct pk_live *l); /* NULL is a no-op */

/* Runs the command line's action and returns the process exit code. */
int pk_run(const struct pk_opts *o);

#endif
