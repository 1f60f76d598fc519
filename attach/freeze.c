/* Stopping every thread of a target with PTRACE_SEIZE + PTRACE_INTERRUPT, and letting it go. */
#include "attach/freeze.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "attach/eperm.h"
#include "attach/proc.h"

#define MAX_ATTACH_ROUNDS 16 /* rounds of re-listing /proc/PID/task for new threads */

struct stopped_thread {
    pid_t tid;
    int pending_sig; /* signal that arrived while stopping, re-injected at detach */
    int stopped;     /* 0: seized, but cancel came before its stop was reported */
};

struct pk_freeze {
    pid_t pid;
    struct stopped_thread *t;
    size_t n, cap;
    struct timespec t0;
};

static uint64_t now_us_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
    return us > 0 ? (uint64_t)us : 0;
}

static int have_thread(const struct pk_freeze *f, pid_t tid)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->t[i].tid == tid) return 1;
    return 0;
}

/* Seize, interrupt and wait for one thread. Returns 1 stopped, 0 gone, or -PK_E_*. *seized is
   set once the thread is attached, also when cancel ends the wait before it stopped. */
static int stop_thread(pid_t tid, int procfd, const volatile sig_atomic_t *cancel, int *pending_sig,
                       int *seized, struct pk_err *e)
{
    *pending_sig = 0;
    *seized = 0;
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
        if (errno == ESRCH) return 0;
        if (errno == EPERM) {
            int r = pk_fail(e, PK_E_PERMISSION, "attach: ptrace(PTRACE_SEIZE, %d): %s", (int)tid,
                            strerror(errno));
            if (e && e->code == PK_E_PERMISSION) pk_eperm_annotate(procfd, 0, e);
            return r;
        }
        return pk_fail(e, PK_E_NO_PROCESS, "attach: ptrace(PTRACE_SEIZE, %d): %s", (int)tid,
                       strerror(errno));
    }
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
        if (errno == ESRCH) return 0;
        ptrace(PTRACE_DETACH, tid, 0, 0);
        return pk_fail(e, PK_E_NO_PROCESS, "attach: ptrace(PTRACE_INTERRUPT, %d): %s", (int)tid,
                       strerror(errno));
    }
    *seized = 1;
    for (;;) {
        int st;
        pid_t r = waitpid(tid, &st, __WALL);
        if (r < 0) {
            /* A thread in uninterruptible sleep (D) reports its stop only when it wakes:
               a signal to pypeek (no SA_RESTART) ends the wait here. Such a thread cannot be
               detached before it stops; the kernel detaches it when pypeek exits. */
            if (errno == EINTR) {
                if (cancel && *cancel)
                    return pk_fail(e, PK_E_INTERRUPTED, "interrupted while stopping thread %d",
                                   (int)tid);
                continue;
            }
            if (errno == ECHILD) return 0;
            return pk_fail(e, PK_E_NO_PROCESS, "attach: waitpid(%d): %s", (int)tid,
                           strerror(errno));
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) return 0;
        if (!WIFSTOPPED(st)) continue;
        int sig = WSTOPSIG(st);
        int event = (unsigned)st >> 16;
        /* PTRACE_EVENT_STOP: our interrupt, or a group stop (the target was SIGSTOPped, before
           or during the attach). Detaching from a group-stopped thread leaves it stopped: the
           kernel re-arms the group stop (__ptrace_unlink), so a stopped target stays stopped.
           See test_signals.py::test_stopped_target_is_left_stopped. */
        if (event == PTRACE_EVENT_STOP) return 1;
        if (sig != SIGTRAP) *pending_sig = sig; /* signal-delivery stop: keep the signal */
        return 1;
    }
}

static void release_all(struct pk_freeze *f)
{
    /* A thread whose stop never came (stopped == 0) refuses PTRACE_DETACH with ESRCH; it is
       released by the kernel when pypeek exits, which follows at once. */
    for (size_t i = f->n; i-- > 0;)
        ptrace(PTRACE_DETACH, f->t[i].tid, 0, f->t[i].pending_sig);
    f->n = 0;
}

int pk_freeze_begin(pid_t pid, int procfd, const volatile sig_atomic_t *cancel,
                    struct pk_freeze **out, struct pk_err *e)
{
    *out = NULL;
    struct pk_freeze *f = calloc(1, sizeof *f);
    if (!f) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    f->pid = pid;
    clock_gettime(CLOCK_MONOTONIC, &f->t0);
    int rc = 0;
    for (int round = 0; round < MAX_ATTACH_ROUNDS; round++) {
        pid_t *tids;
        size_t ntids, added = 0;
        rc = pk_proc_list_tasks(procfd, &tids, &ntids, e);
        if (rc < 0) goto fail;
        for (size_t i = 0; i < ntids && rc == 0; i++) {
            if (cancel && *cancel) {
                rc = pk_fail(e, PK_E_INTERRUPTED, "interrupted while stopping threads");
                break;
            }
            if (have_thread(f, tids[i])) continue;
            if (f->n == f->cap) {
                size_t ncap = f->cap ? f->cap * 2 : 16;
                struct stopped_thread *nt = realloc(f->t, ncap * sizeof *nt);
                if (!nt) {
                    rc = pk_fail(e, PK_E_INTERNAL, "out of memory");
                    break;
                }
                f->t = nt;
                f->cap = ncap;
            }
            int sig, seized;
            int r = stop_thread(tids[i], procfd, cancel, &sig, &seized, e);
            if (r < 0) rc = r;
            if (r == 1 || (r < 0 && seized)) {
                f->t[f->n].tid = tids[i];
                f->t[f->n].pending_sig = sig;
                f->t[f->n].stopped = r == 1;
                f->n++;
                added++;
            }
        }
        free(tids);
        if (rc < 0) goto fail;
        if (added == 0) {
            if (f->n == 0) {
                rc = pk_fail(e, PK_E_NO_PROCESS, "process %d exited while attaching", (int)pid);
                goto fail;
            }
            *out = f;
            return 0;
        }
    }
    rc = pk_fail(e, PK_E_INCONSISTENT, "threads kept appearing while attaching to %d", (int)pid);
fail:
    release_all(f);
    free(f->t);
    free(f);
    return rc;
}

uint64_t pk_freeze_end(struct pk_freeze *f)
{
    if (!f) return 0;
    release_all(f);
    uint64_t us = now_us_since(&f->t0);
    free(f->t);
    free(f);
    return us;
}

int pk_freeze_thread_count(const struct pk_freeze *f)
{
    return f ? (int)f->n : 0;
}

pid_t pk_freeze_tid(const struct pk_freeze *f, int i)
{
    if (!f || i < 0 || (size_t)i >= f->n || !f->t[i].stopped) return 0;
    return f->t[i].tid;
}
