/* A live process: checked and resolved once while it runs (symbols, DWARF layout), then read
   as often as asked, each time again after a short backoff while a collection runs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach/maps.h"
#include "attach/proc.h"
#include "capture/capture_internal.h"
#include "cpython/collect.h"

#define MAX_RETRIES 8 /* re-freezes when the GC was mid-collection or the heap moved */

struct pk_capture_live {
    struct pk_capture_opts opts;
    int procfd;          /* /proc/PID, held open: a reused pid cannot be mistaken for it */
    struct pk_target *t; /* resolved once: symbols and the DWARF layout */
    uint64_t t_open;     /* counted in the first snapshot's wall time */
};

static int check_process(pid_t pid, int procfd, struct pk_err *e)
{
    if (pid == getpid()) return pk_fail(e, PK_E_USAGE, "pypeek cannot inspect its own process");
    struct pk_proc_status st;
    int r = pk_proc_read_status(procfd, &st, e);
    if (r < 0) return r;
    if (st.state == 'Z' || st.state == 'X')
        return pk_fail(e, PK_E_NO_PROCESS,
                       "process %d is a zombie (it exited; its parent has "
                       "not reaped it)",
                       (int)pid);
    if (st.tgid != pid)
        return pk_fail(e, PK_E_USAGE, "%d is a thread of process %d: give the process id", (int)pid,
                       (int)st.tgid);
    if (!st.have_rss) /* no memory of its own: a kernel thread (kthreadd, kworker/...) */
        return pk_fail(e, PK_E_NOT_PYTHON,
                       "process %d is a kernel thread, not a CPython process: it has no user "
                       "memory to read",
                       (int)pid);
    return 0;
}

int pk_capture_live_open(const struct pk_capture_opts *o, struct pk_capture_live **out,
                         struct pk_err *e)
{
    uint64_t t0 = pk_monotonic_us();
    *out = NULL;
    struct pk_capture_live *l = calloc(1, sizeof *l);
    struct pk_target *t = calloc(1, sizeof *t); /* large: keep it off the stack */
    if (!l || !t) {
        free(l);
        free(t);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    l->opts = *o;
    l->t = t;
    l->t_open = t0;
    if ((l->procfd = pk_proc_open(o->pid, e)) < 0) {
        int r = l->procfd;
        pk_capture_live_close(l);
        return r;
    }
    struct pk_maps maps = {0};
    struct pk_target_opts topts = {o->debug_dir, o->layout_record, o->quiet};
    int r = check_process(o->pid, l->procfd, e);
    if (r == 0) r = pk_maps_read(l->procfd, &maps, e);
    if (r == 0) r = pk_target_resolve(o->pid, l->procfd, &maps, &topts, t, e);
    pk_maps_free(&maps);
    if (r < 0) {
        pk_capture_live_close(l);
        return r;
    }
    *out = l;
    return 0;
}

void pk_capture_live_close(struct pk_capture_live *l)
{
    if (!l) return;
    if (l->procfd >= 0) close(l->procfd);
    free(l->t);
    free(l);
}

/* What a failed attempt left in s, before the next one. */
static void forget_attempt(struct pk_snapshot *s)
{
    for (size_t i = 0; i < s->ninterps; i++)
        pk_interp_snap_clear(&s->interps[i]);
    free(s->interps);
    s->interps = NULL;
    s->ninterps = 0;
    pk_threads_snap_free(s);
    pk_fds_snap_free(&s->fds); /* the fd owners the census found (pk_fd_owners_resolve) */
}

int pk_capture_live_take(struct pk_capture_live *l, const volatile sig_atomic_t *cancel,
                         struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_target *t = l->t;
    uint64_t t0 = l->t_open ? l->t_open : pk_monotonic_us();
    l->t_open = 0;
    int r = 0;
    memset(s, 0, sizeof *s);
    pk_snapshot_describe_target(s, t, "process");
    s->attach.mode = l->opts.nonblocking ? "nonblocking" : "frozen";
    /* streaming from the next attempt when the image fell short */
    struct pk_capture_opts once = l->opts;
    for (int attempt = 0;; attempt++) {
        struct pk_err attempt_err = {0};
        int stream_next = 0;
        r = pk_capture_read_once(&once, l->procfd, t, cancel, s, &stream_next, &attempt_err);
        if (stream_next) once.streaming = 1;
        if (r == 0) break;
        int retry =
            attempt_err.code == PK_E_INCONSISTENT && attempt < MAX_RETRIES && !(cancel && *cancel);
        if (!retry) {
            pk_refail(e, attempt_err.code, "%s", attempt_err.msg);
            if (pk_exit_code(attempt_err.code) == pk_exit_code(PK_E_INCONSISTENT))
                pk_snapshot_warn(s, "inconsistent after %d retries: %s", attempt, attempt_err.msg);
            break;
        }
        /* A collection was running, or (nonblocking) the heap moved under us: let the
           target run briefly and read again. */
        forget_attempt(s);
        s->attach.retries++;
        struct timespec ts = {0, 5000000L * (attempt + 1)};
        nanosleep(&ts, NULL);
    }
    s->attach.consistent = r == 0;
    s->attach.wall_us = pk_monotonic_us() - t0;
    return r;
}
