/* Thread frames and their locals, read through the layout: the frame chain of every thread
   state (3.9/3.10 PyFrameObject, 3.11+ _PyInterpreterFrame) and a frame's named local slots,
   also used for the frame embedded in a suspended generator or coroutine. */
#ifndef PK_FRAMES_H
#define PK_FRAMES_H

#include <stdint.h>

#include "attach/mem.h"
#include "symbols/target.h"

#define PK_FRAMES_MAX_THREADS 4096
#define PK_FRAMES_MAX_DEPTH 4096  /* frames per thread */
#define PK_FRAMES_MAX_TOTAL 65536 /* frames of all threads together */
#define PK_FRAMES_MAX_LOCALS 65536

enum pk_frame_event {
    PK_FE_THREAD,     /* a thread state: id, native, tstate, ident, native_tid */
    PK_FE_FRAME,      /* a frame of the current thread, innermost first: func (file, line) */
    PK_FE_LOCAL,      /* a bound local of the current frame: name, name_addr, value; or, past the
                         locals of a suspended frame, a value stack slot: name NULL, index */
    PK_FE_THREAD_END, /* (PK_FW_LINES only) the thread's chain ended: truncated, or NULL */
};

/* What pk_frames_walk_ex reports besides threads and frames. */
enum pk_frames_walk_flags {
    PK_FW_LOCALS = 1, /* each frame's bound locals (PK_FE_LOCAL) */
    PK_FW_LINES = 2,  /* each frame's file and line, and PK_FE_THREAD_END */
};

struct pk_frame_visit {
    enum pk_frame_event kind;
    uint64_t thread_id; /* native thread id (3.11+), else the pthread ident (threading.get_ident) */
    int native;         /* 1 when thread_id is the native (kernel) id */
    const char *func;   /* the code's qualname (co_name before 3.11) */
    const char *name;   /* the local's name (NULL for a value stack slot) */
    uint64_t name_addr; /* the name's str object, a stable key for it (0 if unreadable) */
    int64_t index;      /* the slot's index in localsplus */
    uint64_t value;     /* the local's object */
    /* PK_FE_THREAD */
    uint64_t tstate;     /* the PyThreadState */
    uint64_t ident;      /* threading.get_ident() (thread_id) */
    uint64_t native_tid; /* the kernel thread id (3.11+), else 0 */
    /* PK_FE_FRAME with PK_FW_LINES */
    const char *file; /* co_filename */
    int line;         /* the line being executed; -1 when unknown */
    int entry;        /* the outermost frame its eval loop call runs (the merged view) */
    uint64_t code;    /* the code object */
    /* PK_FE_THREAD_END: why the chain was cut short (static text), NULL when complete */
    const char *truncated;
};

/* Receives each event; non-zero stops the walk with that value. */
typedef int (*pk_frame_fn)(const struct pk_frame_visit *v, void *arg);

/* Walks every thread state of the interpreter at interp, innermost frame first, reporting the
   bound locals (cells included) of each frame running Python code. Returns 0, fn's value, or
   -PK_E_NO_PROCESS; unreadable or inconsistent parts are skipped. */
int pk_frames_walk(struct pk_mem *m, const struct pk_target *t, uint64_t interp, pk_frame_fn fn,
                   void *arg);
/* The same with flags (enum pk_frames_walk_flags); pk_frames_walk is PK_FW_LOCALS. */
int pk_frames_walk_ex(struct pk_mem *m, const struct pk_target *t, uint64_t interp, unsigned flags,
                      pk_frame_fn fn, void *arg);

/* The bound locals of one frame, PK_FE_LOCAL events only: a 3.11+ _PyInterpreterFrame at
   iframe, or a 3.9/3.10 PyFrameObject at frame (iframe 0). nslots_live < 0: every local (a
   running frame: its value stack is not kept in memory); else the first nslots_live slots,
   value stack included (a suspended frame: _PyFrame_Traverse's stacktop). Returns 0, fn's
   value or -PK_E_*. */
int pk_frame_locals(struct pk_mem *m, const struct pk_target *t, uint64_t iframe, uint64_t frame,
                    int64_t nslots_live, pk_frame_fn fn, void *arg);

/* The number of live slots of a suspended 3.11+ frame: stacktop (3.11-3.13) or
   stackpointer - localsplus (3.14+); 0 for a cleared frame, -PK_E_* when unreadable. */
int64_t pk_frame_live_slots(struct pk_mem *m, const struct pk_layout *l, uint64_t iframe);

/* A code object's frame slots: locals (cells and free variables included) and value stack
   (co_nlocalsplus, or co_nlocals + cellvars + freevars, and co_stacksize). 0 or -PK_E_*. */
int pk_code_frame_slots(struct pk_mem *m, const struct pk_layout *l, uint64_t code,
                        int64_t *nlocalsplus, int64_t *stacksize);

/* The same for a 3.9/3.10 PyFrameObject (its value stack follows its locals): the locals plus
   f_stacktop - f_valuestack (3.9) or f_stackdepth (3.10); -1 while it runs (only its locals
   are valid), -PK_E_* when unreadable. */
int64_t pk_frame_object_live_slots(struct pk_mem *m, const struct pk_target *t, uint64_t frame);

#endif
