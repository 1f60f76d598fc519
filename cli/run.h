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
/* Runs the command line's action and returns the process exit code. */
int pk_run(const struct pk_opts *o);

#endif
