/* Taking a snapshot: the sequence from a target to a struct pk_snapshot (resolve, freeze, copy
   or stream, collect, resume, analyse), for a live PID or a core file. cli/ only renders it. */
#ifndef PK_CAPTURE_H
#define PK_CAPTURE_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "cpython/snapshot.h"
#include "util/error.h"

struct pk_capture_opts {
    /* The source: the core file core_path when set, else the running process pid. */
    pid_t pid;
    const char *core_path; /* the core file */
    const char *exe;       /* --exe: the core's executable, when its mapped path is wrong */
    const char *sysroot;   /* --sysroot: the root the core's process saw, or NULL */
    /* Resolving the interpreter (symbols/) */
    const char *debug_dir;     /* --debug-dir */
    const char *layout_record; /* --layout-record */
    int quiet;                 /* no resolver warnings, no progress line on a terminal */
    FILE *log;                 /* -v: how each read went (image or streaming, the pause) */
    int verbose; /* -v: say on stderr which mapped files were found by build-id (cores) */
    /* A live process only */
    int nonblocking;         /* read it running: no freeze, validate as it goes */
    int streaming;           /* walk the heap frozen, never copy it */
    unsigned max_pause_ms;   /* 0: no limit */
    unsigned graph_pause_ms; /* what walking the graph frozen may add to the pause; 0: none */
    /* What to read */
    int graph;           /* the object graph (untracked census, retained sizes, unreachable) */
    int retainers;       /* its retainers too (dominator tree); without, a live target's graph
                            is read only from a copy (no pause), for gc.unreachable */
    int keep_graph;      /* keep s->graph for `why` */
    size_t top;          /* retainers listed */
    int stacks;          /* every thread's Python stack (threads[]) */
    int native;          /* and its native frames (libdwfl) */
    int native_unpaused; /* native frames when they cost no pause (a copy, a core) */
    int locals;          /* and each frame's locals */
};

/* One snapshot of o's source: a live process (slow work, symbols and DWARF, happens before it
   is stopped) or a core file. The caller frees s with pk_snapshot_free, also on failure. */
int pk_capture(const struct pk_capture_opts *o, const volatile sig_atomic_t *cancel,
               struct pk_snapshot *s, struct pk_err *e);

/* A live target resolved once (symbols, DWARF layout), to snapshot many times (watch). */
struct pk_capture_live;
/* Opens /proc/PID and resolves the target while it runs. The caller closes *out. */
int pk_capture_live_open(const struct pk_capture_opts *o, struct pk_capture_live **out,
                         struct pk_err *e);
/* One snapshot: freeze (unless nonblocking), collect, resume, analyse; read again while a
   collection runs. The caller frees s with pk_snapshot_free, also on failure. */
int pk_capture_live_take(struct pk_capture_live *l, const volatile sig_atomic_t *cancel,
                         struct pk_snapshot *s, struct pk_err *e);
void pk_capture_live_close(struct pk_capture_live *l); /* NULL is a no-op */

/* Reads the process as it was when dumped. Errors: PK_E_BAD_FILE (the core), PK_E_NOT_PYTHON,
   PK_E_NO_LAYOUT, PK_E_INTERRUPTED. The caller frees s with pk_snapshot_free. */
int pk_capture_core(const struct pk_capture_opts *o, const volatile sig_atomic_t *cancel,
                    struct pk_snapshot *s, struct pk_err *e);

#endif
