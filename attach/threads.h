/* The target's OS threads for their stacks: name and state read before the freeze (outside
   the pause), registers read during it (PTRACE_GETREGS, about a microsecond a thread). */
#ifndef PK_THREADS_H
#define PK_THREADS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "attach/freeze.h"
#include "util/error.h"

#define PK_THREADS_MAX 65536

struct pk_thread_regs {
    pid_t tid;
    pid_t ns_tid;  /* the tid in the thread's own PID namespace (a container's; /proc's NSpid),
                      what the interpreter records as native_thread_id; tid outside one */
    char name[16]; /* /proc/PID/task/TID/comm (untrusted bytes), "" when unknown */
    char state;    /* the kernel's state letter just before the freeze, '?' when unknown */
    int have_regs; /* regs were read while the thread was stopped */
    int frozen;    /* the freeze stopped it */
    struct user_regs_struct regs;
};

struct pk_threads {
    struct pk_thread_regs *v; /* sorted by tid */
    size_t n;
};

/* Before the freeze: every thread of the target with its name and state. 0 or -PK_E_*. */
int pk_threads_list(int procfd, struct pk_threads *out, struct pk_err *e);
/* During the freeze: the registers of every stopped thread; threads started since the list
   was read are added (no name, state '?'), those that exited since are dropped.
   0 or -PK_E_INTERNAL. */
int pk_threads_capture_regs(struct pk_threads *th, const struct pk_freeze *f);
/* The stack pointers of the threads whose registers were read, for the image copy (the
   stack from each sp up is what an unwinder reads). Returns how many were written. */
size_t pk_threads_stack_pointers(const struct pk_threads *th, uint64_t *sp, size_t cap);
void pk_threads_free(struct pk_threads *th); /* frees and zeroes */

#endif
