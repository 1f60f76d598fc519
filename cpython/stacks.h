/* Every thread's Python stack (function, file, line, innermost first), read with the frame
   walker of cpython/frames.c, matched to the target's OS threads, with the GIL holder. */
#ifndef PK_STACKS_H
#define PK_STACKS_H

#include "attach/mem.h"
#include "attach/threads.h"
#include "cpython/snapshot.h"
#include "symbols/target.h"

/* --locals: at most this many locals per thread, and this many bytes of their reprs. */
#define PK_STACKS_LOCALS_PER_THREAD 256
#define PK_STACKS_LOCALS_BYTES (16 << 10)

/* Fills s->threads: one entry per OS thread in os (main thread first, then by tid), with the
   Python frames of its thread state; then the thread states no OS thread was found for.
   Needs s->interps (pk_collect_interpreters). A corrupt chain gives a partial stack and a
   truncated reason. locals: each frame's bound locals too, as bounded reprs, within the
   budget per thread. Returns 0, or -PK_E_INTERNAL / -PK_E_NO_PROCESS. */
int pk_stacks_collect(struct pk_mem *m, const struct pk_target *t, const struct pk_threads *os,
                      int locals, struct pk_snapshot *s);

/* Adds each OS thread's native frames (symbols/unwind.h) to s->threads, from the registers
   in os and stack memory read through m (live: a running process, else a core's). A thread that
   cannot be unwound gets a partial stack and native_truncated. 0, or -PK_E_INTERNAL when the
   unwinder could not start. */
int pk_stacks_add_native(struct pk_mem *m, const struct pk_threads *os, pid_t pid, int live,
                         const char *debug_dir, struct pk_snapshot *s);

/* One entry of a thread's merged view: a Python frame (index into frames) in place of the
   eval loop's native frame that runs it, or a native frame (index into native). */
struct pk_merged {
    int python;
    size_t index;
};

/* The merged view of t, innermost first, as py-spy --native shows it: each native
   _PyEval_EvalFrameDefault replaced by the Python frames its call runs (up to the frame
   marked entry). Python frames left over (an unwinding cut short) follow at the end. out has
   room for t->nframes + t->nnative entries; returns how many were written. */
size_t pk_stacks_merge(const struct pk_thread_snap *t, struct pk_merged *out);

#endif
