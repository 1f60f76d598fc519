/* One read of a resolved live target: prepare the reader while it runs, freeze, read the
   kernel's facts, then either copy its data and walk the copy once resumed (image) or walk
   it while frozen (streaming, nonblocking); resume; analyse. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attach/freeze.h"
#include "attach/maps.h"
#include "attach/proc.h"
#include "attach/threads.h"
#include "capture/capture_internal.h"
#include "cpython/collect.h"
#include "cpython/fd_table.h"
#include "cpython/graph_snap.h"
#include "cpython/stacks.h"

/* One attempt's state, freed by release(). */
struct attempt {
    const struct pk_capture_opts *o;
    const struct pk_target *t;
    int procfd;
    const volatile sig_atomic_t *cancel;
    uint64_t deadline;         /* --max-pause, monotonic us; 0: none */
    struct pk_image *img;      /* the copy, when it fits the budget */
    struct pk_mem *mem;        /* the reader: the live target, then (image) the copy */
    struct pk_maps maps;       /* read while frozen */
    struct pk_threads threads; /* names and states before the stop, registers frozen */
    struct pk_freeze *freeze;  /* NULL once resumed, or nonblocking */
};

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static void utc_now(char *buf, size_t cap)
{
    struct timespec t;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &t);
    gmtime_r(&t.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%.24s.%06dZ", base, (int)(t.tv_nsec / 1000 % 1000000));
}

/* The target exec'd another program after it was resolved: the interpreter's module is no
   longer mapped (test_attach_errors.py::test_target_execs_while_being_read). */
static int check_not_execd(const struct pk_maps *maps, const struct pk_target *t, struct pk_err *e)
{
    const struct pk_map *rt = pk_maps_find(maps, t->runtime_addr);
    int module_mapped = 0;
    for (size_t i = 0; i < maps->n && !module_mapped; i++)
        module_mapped = strcmp(maps->v[i].path, t->module) == 0;
    if (rt && module_mapped) return 0;
    if (maps->n == 0) /* its memory is gone: killed or exited after the threads were stopped */
        return pk_fail(e, PK_E_NO_PROCESS, "process %d exited while pypeek was reading it",
                       (int)t->pid);
    return pk_fail(e, PK_E_NO_PROCESS,
                   "process %d exec'd another program (or unloaded %s) while pypeek was "
                   "reading it: it is no longer the Python process that was resolved",
                   (int)t->pid, t->module);
}

/* Every thread's stack, from the frozen threads' registers and the copy (or, streaming, the
   stopped target): a thread whose stack is unreadable is marked truncated, never an error.
   Native frames when asked for, or (native_unpaused) when read from the copy: libdwfl reading
   each module's CFI would lengthen the pause. */
static int collect_stacks(const struct attempt *a, int frozen, struct pk_snapshot *s,
                          struct pk_err *e)
{
    const struct pk_capture_opts *o = a->o;
    if (!o->stacks) return 0;
    /* Frames, thread states and code objects are scattered: reading ahead of them (while
       frozen) only lengthens the pause. */
    pk_mem_pause_read_ahead(a->mem, 1);
    int r = pk_stacks_collect(a->mem, a->t, &a->threads, o->locals, s);
    pk_mem_pause_read_ahead(a->mem, 0);
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    if (r < 0) pk_snapshot_warn(s, "thread stacks unavailable: out of memory");
    if (r == 0 && (o->native || (o->native_unpaused && !frozen)) &&
        pk_stacks_add_native(a->mem, &a->threads, a->t->pid, 1, o->debug_dir, s) < 0)
        pk_snapshot_warn(s, "native stacks unavailable: libdwfl could not read the target");
    return 0;
}

/* Before the stop: the reader's cache (or the image) is faulted in, sized by the target's RSS
   (bounded): pypeek's own page faults are no part of the pause. */
static int prepare(struct attempt *a, struct pk_err *e)
{
    a->img = pk_capture_image_reserve(a->o, a->t->pid, a->procfd, a->cancel);
    if (!(a->mem = pk_mem_open_pid(a->t->pid, a->procfd, &a->maps)))
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    struct pk_proc_status before;
    struct pk_err ignored = {0};
    if (!a->img && pk_proc_read_status(a->procfd, &before, &ignored) == 0)
        pk_mem_prepare(a->mem, before.rss_bytes);
    /* Walking the live heap: copy ahead of the walk on the other core, guided by where
       pymalloc keeps what (read now, before stopping the target: only hints). */
    if (!a->img && pk_mem_start_read_ahead(a->mem) == 0 &&
        pk_maps_read(a->procfd, &a->maps, &ignored) == 0) {
        pk_collect_hints(a->mem, a->t);
        pk_mem_invalidate(a->mem);
        pk_maps_free(&a->maps);
    }
    if (a->o->stacks) pk_threads_list(a->procfd, &a->threads, &ignored);
    return 0;
}

/* Freeze (unless nonblocking), then what the kernel says while frozen: the time, the memory
   counters, the maps (arenas mapped since resolving count); the image copied when there is
   one. */
static int stop_and_look(struct attempt *a, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_capture_opts *o = a->o;
    uint64_t t_stop = pk_monotonic_us();
    int r;
    if (!o->nonblocking &&
        (r = pk_freeze_begin(a->t->pid, a->procfd, a->cancel, &a->freeze, e)) < 0)
        return r;
    if (o->log && a->freeze)
        fprintf(o->log, "pypeek: stopped %d threads in %.1f ms\n",
                pk_freeze_thread_count(a->freeze), (pk_monotonic_us() - t_stop) / 1e3);
    if (a->freeze && o->stacks && pk_threads_capture_regs(&a->threads, a->freeze) < 0)
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    utc_now(s->taken_at, sizeof s->taken_at);
    struct pk_proc_status status;
    if ((r = pk_proc_read_status(a->procfd, &status, e)) < 0) return r;
    s->memory.rss_bytes = status.rss_bytes;
    s->memory.hwm_bytes = status.hwm_bytes;
    s->memory.swap_bytes = status.swap_bytes;
    if ((r = pk_maps_read(a->procfd, &a->maps, e)) < 0) return r;
    if ((r = check_not_execd(&a->maps, a->t, e)) < 0) return r;
    s->attach.read = "streaming";
    s->attach.image_bytes = 0;
    if (!a->img) return 0;
    /* Copy the writable memory; the fds (kernel state) are listed before resuming. */
    r = pk_image_copy(a->img, a->t->pid, a->procfd, &a->maps, a->deadline, a->cancel, e);
    if (r <= 0) return r;
    /* it grew past the room reserved: walk it frozen after all */
    if (o->log)
        fprintf(o->log, "pypeek: read: streaming after all: the data grew past the room "
                        "reserved for the image\n");
    pk_image_free(a->img);
    a->img = NULL;
    return 0;
}

static void log_image(const struct attempt *a, const struct pk_snapshot *s)
{
    uint64_t plan_us, copy_us, copy, untouched, left_out;
    pk_image_timing(a->img, &plan_us, &copy_us);
    pk_image_plan_bytes(a->img, &copy, &untouched, &left_out);
    fprintf(a->o->log,
            "pypeek: image: planned in %.1f ms (pagemap, stack pointers), %.1f MiB copied in "
            "%.1f ms (%.1f MiB never touched, %.1f MiB left out); pause %.1f ms\n",
            plan_us / 1e3, mib(copy), copy_us / 1e3, mib(untouched), mib(left_out),
            s->attach.pause_us / 1e3);
}

static void log_streaming(const struct attempt *a, const struct pk_snapshot *s)
{
    struct pk_mem_stats st;
    pk_mem_get_stats(a->mem, &st);
    fprintf(a->o->log,
            "pypeek: streaming: %.1f MiB in %llu reads of the target (%llu chunks read ahead, "
            "%llu of them used; %llu cache hits); pause %.1f ms\n",
            mib(st.source_bytes), (unsigned long long)st.source_calls,
            (unsigned long long)st.ahead_reads, (unsigned long long)st.ahead_used,
            (unsigned long long)st.cache_hits, s->attach.pause_us / 1e3);
}

/* After resume: the census, stacks, the object graph and fd owners, read from the copy. The
   target runs: no pause to bound, --graph-pause included; the graph costs no pause, so it is
   taken for gc.unreachable even when no retainers are asked for. */
static int walk_image(struct attempt *a, const struct pk_image *img, struct pk_fd_list *fds,
                      int have_fds, struct pk_snapshot *s, struct pk_err *e)
{
    struct pk_walk_limits lim = {pk_gc_max_nodes(&a->maps, &a->t->layout), a->cancel, 0};
    int r = pk_collect_interpreters(a->mem, a->t, &lim, s, e);
    if (r == 0) r = collect_stacks(a, 0, s, e);
    if (r == 0 && a->o->graph) {
        pk_capture_progress(a->o, a->t->pid, "reading");
        r = pk_graph_take(a->mem, a->t, &lim, s, e);
    }
    if (r == 0 && pk_image_misses(img) > 0) /* it needed bytes the image left out */
        r = pk_fail(e, PK_E_INCONSISTENT,
                    "the walk read memory the image left out (payload pages, or below a "
                    "thread's stack pointer): read again while stopped");
    if (r == 0 && have_fds)
        pk_fd_table_join(fds, s);
    else if (have_fds)
        pk_fds_free(fds);
    return r;
}

/* Image: list the fds, resume, then walk the copy and analyse. */
static int read_image(struct attempt *a, struct pk_snapshot *s, int *stream_next, struct pk_err *e)
{
    const struct pk_capture_opts *o = a->o;
    struct pk_fd_list fds;
    int have_fds = pk_fd_table_read(a->procfd, &fds, s) == 0;
    s->attach.threads = pk_freeze_thread_count(a->freeze);
    uint64_t t_resume = pk_monotonic_us();
    s->attach.pause_us = pk_freeze_end(a->freeze);
    a->freeze = NULL;
    if (o->log)
        fprintf(o->log, "pypeek: resumed them in %.1f ms\n", (pk_monotonic_us() - t_resume) / 1e3);
    s->attach.read = "image";
    s->attach.image_bytes = pk_image_bytes(a->img);
    if (o->log) log_image(a, s);
    pk_mem_free(a->mem);
    if (!(a->mem = pk_mem_open_image(a->img, a->t->pid, &a->maps))) {
        a->img = NULL; /* the reader owned it, also when it failed */
        if (have_fds) pk_fds_free(&fds);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    struct pk_image *owned = a->img; /* the reader frees it */
    a->img = NULL;
    int r = walk_image(a, owned, &fds, have_fds, s, e);
    if (pk_image_misses(owned) > 0) *stream_next = 1;
    /* What crossed from the target: the copy and the live reads of read-only memory. */
    s->attach.bytes_read = pk_image_bytes(owned);
    s->attach.read_calls = pk_image_calls(owned);
    /* The analysis reads only the graph: the image goes first, so pypeek's peak is the larger
       of image + graph and graph + analysis, not their sum. */
    pk_mem_free(a->mem);
    a->mem = NULL;
    pk_capture_analyse(o, a->t->pid, o->retainers, r, s);
    return r;
}

/* Streaming (or nonblocking): the walk while frozen, bounded by --max-pause; the graph only
   when its retainers are asked for, bounded by --graph-pause; then resume and analyse. r: the
   attempt so far (r < 0: only resume). */
static int read_stopped(struct attempt *a, int r, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_capture_opts *o = a->o;
    if (r == 0) {
        struct pk_walk_limits lim = {pk_gc_max_nodes(&a->maps, &a->t->layout), a->cancel,
                                     o->nonblocking ? 0 : a->deadline};
        r = pk_collect_interpreters(a->mem, a->t, &lim, s, e);
        if (r == 0) r = collect_stacks(a, !o->nonblocking, s, e);
        if (r == 0 && o->graph && o->retainers) {
            struct pk_walk_limits graph_lim = lim;
            if (o->graph_pause_ms && !o->nonblocking) {
                uint64_t gd = pk_monotonic_us() + (uint64_t)o->graph_pause_ms * 1000u;
                if (!graph_lim.deadline_us || gd < graph_lim.deadline_us)
                    graph_lim.deadline_us = gd;
            }
            pk_capture_progress(o, a->t->pid, "reading (target stopped)");
            r = pk_graph_take(a->mem, a->t, &graph_lim, s, e);
        }
        if (r == 0) pk_fd_table_collect(a->procfd, s); /* open fds + owners, still frozen */
    }
    pk_mem_stop_read_ahead(a->mem); /* no read of a running target */
    s->attach.threads = pk_freeze_thread_count(a->freeze);
    s->attach.pause_us = pk_freeze_end(a->freeze);
    a->freeze = NULL;
    if (a->mem) pk_capture_count_reads(a->mem, s);
    if (o->log && a->mem) log_streaming(a, s);
    pk_mem_free(a->mem); /* its cache: the analysis reads only the graph */
    a->mem = NULL;
    pk_capture_analyse(o, a->t->pid, 1, r, s); /* analysed resumed */
    return r;
}

static void release(struct attempt *a)
{
    pk_threads_free(&a->threads);
    pk_image_free(a->img);
    pk_mem_free(a->mem);
    pk_maps_free(&a->maps);
}

int pk_capture_read_once(const struct pk_capture_opts *o, int procfd, const struct pk_target *t,
                         const volatile sig_atomic_t *cancel, struct pk_snapshot *s,
                         int *stream_next, struct pk_err *e)
{
    struct attempt a = {.o = o, .t = t, .procfd = procfd, .cancel = cancel};
    if (o->max_pause_ms) a.deadline = pk_monotonic_us() + (uint64_t)o->max_pause_ms * 1000u;
    int r = prepare(&a, e);
    if (r < 0) {
        release(&a);
        return r;
    }
    r = stop_and_look(&a, s, e);
    if (r == 0 && a.img)
        r = read_image(&a, s, stream_next, e);
    else
        r = read_stopped(&a, r, s, e);
    release(&a);
    if (r == 0) pk_fd_table_finish(procfd, s); /* fd limits, socket endpoints: after resume */
    return r;
}
