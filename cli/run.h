/* The report command and what every command asks of capture/: the options it takes and one
   snapshot taken with them. */
#ifndef PK_RUN_H
#define PK_RUN_H

#include <signal.h>

#include "capture/capture.h"
#include "cli/options.h"
#include "cpython/snapshot.h"
#include "util/error.h"

/* What the command line asks of a capture: the source, the limits, what to read. */
void pk_cli_capture_opts(const struct pk_opts *o, struct pk_capture_opts *co);
/* One snapshot of o's PID or core file (pk_capture). The caller frees s with
   pk_snapshot_free, also on failure. */
int pk_take_snapshot(const struct pk_opts *o, const volatile sig_atomic_t *cancel,
                     struct pk_snapshot *s, struct pk_err *e);

/* Runs the command line's action and returns the process exit code. */
int pk_run(const struct pk_opts *o);

#endif
