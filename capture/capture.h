/* Taking a snapshot: the sequence from a target to a struct pk_snapshot, for the report and
   every command built on it. Today: a core file (a live PID still goes through cli/run.c). */
#ifndef PK_CAPTURE_H
#define PK_CAPTURE_H

#include <signal.h>
#include <stddef.h>

#include "cpython/snapshot.h"
#include "util/error.h"

struct pk_capture_core_opts {
    const char *core_path;     /* the core file */
    const char *exe;           /* --exe: the executable, when the core's mapped path is wrong */
    const char *sysroot;       /* --sysroot: the root the process saw (a container's), or NULL */
    const char *debug_dir;     /* --debug-dir */
    const char *layout_record; /* --layout-record */
    int quiet;
    int verbose;    /* -v: say on stderr which mapped files were found by build-id */
    int graph;      /* read the object graph (retained sizes, untracked census) */
    int stacks;     /* every thread's Python stack (threads[]) */
    int native;     /* and its native frames (libdwfl, from the core's registers) */
    int locals;     /* and each frame's locals */
    int keep_graph; /* keep s->graph for `why` */
    size_t top;     /* retainers listed */
};

/* Reads the process as it was when dumped. Errors: PK_E_BAD_FILE (the core), PK_E_NOT_PYTHON,
   PK_E_NO_LAYOUT, PK_E_INTERRUPTED. The caller frees s with pk_snapshot_free. */
int pk_capture_core(const struct pk_capture_core_opts *o, const volatile sig_atomic_t *cancel,
                    struct pk_snapshot *s, struct pk_err *e);

#endif
