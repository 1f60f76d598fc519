/* Stopping every thread of a target with PTRACE_SEIZE + PTRACE_INTERRUPT, and letting it go.
   Stop all or none; detach on every path. The kernel detaches if pypeek is killed. */
#ifndef PK_FREEZE_H
#define PK_FREEZE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct pk_freeze;

/* Seizes and stops every thread of pid, including threads created while attaching.
   cancel (may be NULL) is polled between threads; when it becomes non-zero the threads
   stopped so far are released and -PK_E_INTERRUPTED returned. On success the caller owns
   *out and must call pk_freeze_end(). */
int pk_freeze_begin(pid_t pid, int procfd, const volatile sig_atomic_t *cancel,
                    struct pk_freeze **out, struct pk_err *e);
/* Resumes and detaches every thread, re-delivering any signal that arrived while stopped.
   Returns the pause (first stop to last resume) in microseconds. NULL is a no-op. */
uint64_t pk_freeze_end(struct pk_freeze *f);
int pk_freeze_thread_count(const struct pk_freeze *f);
/* The id of stopped thread i (0 <= i < count), or 0 when its stop was never reported. */
pid_t pk_freeze_tid(const struct pk_freeze *f, int i);

#endif
