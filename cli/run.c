/* The report command: resolve the target, freeze, collect, resume, print. */
#include "cli/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach/freeze.h"
#include "attach/maps.h"
#include "attach/mem.h"
#include "attach/mem_image.h"
#include "attach/proc.h"
#include "attach/threads.h"
#include "capture/capture.h"
#include "cli/commands.h"
#include "cli/signals.h"
#include "cpython/collect.h"
#include "cpython/fd_table.h"
#include "cpython/heap.h"
#include "cpython/stacks.h"
#include "report/prom.h"
#include "report/report.h"
#include "symbols/target.h"
#include "util/term.h"

#define MAX_RETRIES 8 /* re-freezes when the GC was mid-collection or the heap moved */

/* A progress line for the object graph's long steps (seconds on a 10M-object heap): on a
   terminal only (util/term.h), overwritten by the next and cleared at the end. */
static void graph_progress(const struct pk_opts *o, const char *what)
{
    if (!pk_term_progress(o->quiet)) return;
    if (what)
        fprintf(stderr, "\r\033[Kpypeek: %s the object graph of pid %d...", what, (int)o->pid);
    else
        fputs("\r\033[K", stderr);
}

static uint64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
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

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* Resident data beyond which payload pages (attach/payload.h) are looked for, before the
   stop, so that the copy leaves them out. */
#define PAYLOAD_SCAN_FROM ((uint64_t)64 << 20)

/* Before freezing: room for a copy of the pages of the target's writable memory that hold
   data (less payload when there is much of it), when they fit the budget (the maps and
   pagemap are read again frozen), else NULL: the heap is walked while frozen. -v says which
   and why. */
static struct pk_image *image_reserve(const struct pk_opts *o, pid_t pid, int procfd,
                                      const volatile sig_atomic_t *cancel)
{
    if (o->nonblocking || o->streaming) return NULL;
    struct pk_maps maps = {0};
    struct pk_err ignored = {0};
    if (pk_maps_read(procfd, &maps, &ignored) < 0) return NULL;
    struct pk_image_estimate est;
    struct pk_payload payload = {0};
    int fragmented = pk_image_estimate(procfd, &maps, NULL, &est) < 0;
    uint64_t data = est.copy_bytes;
    if (!fragmented && est.copy_bytes > PAYLOAD_SCAN_FROM &&
        pk_payload_scan(pid, procfd, &maps, cancel, &payload) == 0)
        fragmented = pk_image_estimate(procfd, &maps, &payload, &est) < 0;
    pk_maps_free(&maps);
    uint64_t budget = pk_image_budget();
    if (fragmented || est.copy_bytes > budget) {
        if (o->verbose)
            fprintf(
                stderr,
                "pypeek: read: streaming (walked while stopped): %s %.1f MiB to copy (%.1f "
                "MiB of data less %.1f MiB of payload) in %.1f MiB of writable mappings, "
                "image budget %.1f MiB\n",
                fragmented ? "too many fragments;" : "more than the budget:", mib(est.copy_bytes),
                mib(data), mib(est.payload_bytes), mib(est.writable_bytes), mib(budget));
        pk_payload_free(&payload);
        return NULL;
    }
    if (o->verbose)
        fprintf(stderr,
                "pypeek: read: image (copied while stopped, walked after): %.1f MiB to copy "
                "(%.1f MiB of data less %.1f MiB of payload) in %.1f MiB of writable mappings "
                "(%.1f MiB never touched%s), budget %.1f MiB\n",
                mib(est.copy_bytes), mib(data), mib(est.payload_bytes), mib(est.writable_bytes),
                mib(est.untouched_bytes), est.pagemap ? "" : "; pagemap unreadable: all counted",
                mib(budget));
    uint64_t cap = est.copy_bytes + est.copy_bytes / 8 + ((uint64_t)16 << 20); /* growth */
    struct pk_image *img = pk_image_new(cap < budget ? cap : budget);
    if (img) pk_image_leave_out(img, &payload);
    pk_payload_free(&payload);
    return img;
}

/* Every thread's stack, from the frozen threads' registers and the copy (or, streaming, the
   stopped target): a thread whose stack is unreadable is marked truncated, never an error.
   Native frames for stacks --native and snapshots; while frozen (streaming) only when asked
   for (libdwfl reading each module's CFI would lengthen the pause). */
static int collect_stacks(const struct pk_opts *o, struct pk_mem *mem, const struct pk_target *t,
                          const struct pk_threads *threads, int frozen, struct pk_snapshot *s,
                          struct pk_err *e)
{
    if (o->no_stacks) return 0;
    int r = pk_stacks_collect(mem, t, threads, o->locals, s);
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    if (r < 0) pk_snapshot_warn(s, "thread stacks unavailable: out of memory");
    /* native frames: stacks --native and snapshots (libdwfl loads each module's CFI) */
    if (r == 0 && (o->native || (o->cmd == PK_CMD_SNAPSHOT && !frozen)) &&
        pk_stacks_add_native(mem, threads, t->pid, 1, o->debug_dir, s) < 0)
        pk_snapshot_warn(s, "native stacks unavailable: libdwfl could not read the target");
    return 0;
}

/* After resume: the census, the object graph and fd owners, read from the image. */
static int collect_image(const struct pk_opts *o, const struct pk_target *t,
                         const volatile sig_atomic_t *cancel, struct pk_mem *mem,
                         const struct pk_image *img, const struct pk_maps *maps,
                         const struct pk_threads *threads, struct pk_fd_list *fds, int have_fds,
                         struct pk_snapshot *s, struct pk_err *e)
{
    /* The target runs: no pause to bound, --graph-pause included. */
    struct pk_walk_limits lim = {pk_gc_max_nodes(maps, &t->layout), cancel, 0};
    int r = pk_collect_interpreters(mem, t, &lim, s, e);
    if (r == 0) r = collect_stacks(o, mem, t, threads, 0, s, e);
    /* From the image the graph costs no pause: --prometheus and watch take it too, for the
       unreachable cycles (gc.unreachable) and watch --holders. */
    if (r == 0 && !o->no_graph) {
        graph_progress(o, "reading");
        r = pk_heap_take(mem, t, &lim, s, e);
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

/* One frozen (or nonblocking) read of the whole interpreter. */
static int collect_once(const struct pk_opts *o, int procfd, const struct pk_target *t,
                        const volatile sig_atomic_t *cancel, struct pk_snapshot *s,
                        int *stream_next, struct pk_err *e)
{
    struct pk_freeze *fz = NULL;
    struct pk_maps maps = {0};
    struct pk_mem *mem = NULL;
    int r = 0;
    uint64_t deadline = o->max_pause_ms ? mono_us() + (uint64_t)o->max_pause_ms * 1000u : 0;
    /* The reader's cache (or the image) is faulted in before the target stops (sized by its
       RSS, bounded): pypeek's own page faults are no part of the pause. The maps are read into
       it frozen. */
    struct pk_image *img = image_reserve(o, t->pid, procfd, cancel);
    if (!(mem = pk_mem_open_pid(t->pid, procfd, &maps))) {
        pk_image_free(img);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    struct pk_proc_status before;
    struct pk_err ignored = {0};
    if (!img && pk_proc_read_status(procfd, &before, &ignored) == 0)
        pk_mem_prepare(mem, before.rss_bytes);
    /* Walking the live heap: copy ahead of the walk on the other core, guided by where
       pymalloc keeps what (read now, before stopping the target: only hints). */
    if (!img && pk_mem_start_read_ahead(mem) == 0 && pk_maps_read(procfd, &maps, &ignored) == 0) {
        pk_collect_hints(mem, t);
        pk_mem_invalidate(mem);
        pk_maps_free(&maps);
    }
    struct pk_threads threads = {0}; /* names and states now, registers frozen */
    if (!o->no_stacks) pk_threads_list(procfd, &threads, &ignored);
    uint64_t t_stop = mono_us();
    if (!o->nonblocking && (r = pk_freeze_begin(t->pid, procfd, cancel, &fz, e)) < 0) goto out;
    if (o->verbose && fz)
        fprintf(stderr, "pypeek: stopped %d threads in %.1f ms\n", pk_freeze_thread_count(fz),
                (mono_us() - t_stop) / 1e3);
    if (fz && !o->no_stacks && pk_threads_capture_regs(&threads, fz) < 0) {
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
        goto out;
    }
    utc_now(s->taken_at, sizeof s->taken_at);
    struct pk_proc_status status;
    if ((r = pk_proc_read_status(procfd, &status, e)) < 0) goto out;
    s->memory.rss_bytes = status.rss_bytes;
    s->memory.hwm_bytes = status.hwm_bytes;
    s->memory.swap_bytes = status.swap_bytes;
    /* The maps are read while frozen: arenas mapped since resolving the target count. */
    if ((r = pk_maps_read(procfd, &maps, e)) < 0) goto out;
    if ((r = check_not_execd(&maps, t, e)) < 0) goto out;
    s->attach.read = "streaming";
    s->attach.image_bytes = 0;
    if (img) {
        /* Copy the writable memory, list the fds (kernel state), resume, then read. */
        r = pk_image_copy(img, t->pid, procfd, &maps, deadline, cancel, e);
        if (r < 0) goto out;
        if (r > 0) { /* it grew past the room reserved: walk it frozen after all */
            if (o->verbose)
                fprintf(stderr, "pypeek: read: streaming after all: the data grew past the "
                                "room reserved for the image\n");
            pk_image_free(img);
            img = NULL;
            r = 0;
        }
    }
    if (img) {
        struct pk_fd_list fds;
        int have_fds = pk_fd_table_read(procfd, &fds, s) == 0;
        s->attach.threads = pk_freeze_thread_count(fz);
        uint64_t t_resume = mono_us();
        s->attach.pause_us = pk_freeze_end(fz);
        fz = NULL;
        if (o->verbose)
            fprintf(stderr, "pypeek: resumed them in %.1f ms\n", (mono_us() - t_resume) / 1e3);
        s->attach.read = "image";
        s->attach.image_bytes = pk_image_bytes(img);
        if (o->verbose) {
            uint64_t plan_us, copy_us, copy, untouched, left_out;
            pk_image_timing(img, &plan_us, &copy_us);
            pk_image_plan_bytes(img, &copy, &untouched, &left_out);
            fprintf(stderr,
                    "pypeek: image: planned in %.1f ms (pagemap, stack pointers), %.1f MiB "
                    "copied in %.1f ms (%.1f MiB never touched, %.1f MiB left out); pause "
                    "%.1f ms\n",
                    plan_us / 1e3, mib(copy), copy_us / 1e3, mib(untouched), mib(left_out),
                    s->attach.pause_us / 1e3);
        }
        pk_mem_free(mem);
        struct pk_image *owned = img;
        img = NULL;
        if (!(mem = pk_mem_open_image(owned, t->pid, &maps))) {
            if (have_fds) pk_fds_free(&fds);
            r = pk_fail(e, PK_E_INTERNAL, "out of memory");
            goto resumed;
        }
        r = collect_image(o, t, cancel, mem, owned, &maps, &threads, &fds, have_fds, s, e);
        if (pk_image_misses(owned) > 0) *stream_next = 1;
        if (r == 0 && s->graph) graph_progress(o, "analysing");
        /* Prometheus and watch show no retainers: no dominator tree (but watch --holders) */
        if (r == 0 && (o->prometheus || (o->cmd == PK_CMD_WATCH && !o->watch_holders)))
            pk_heap_finish_unreachable(s);
        else if (r == 0)
            pk_heap_finish(s, o->top, o->cmd == PK_CMD_WHY);
        graph_progress(o, NULL);
        /* What crossed from the target: the copy and the live reads of read-only memory. */
        s->attach.bytes_read = pk_image_bytes(owned);
        s->attach.read_calls = pk_image_calls(owned);
        goto resumed;
    }
    struct pk_walk_limits lim = {pk_gc_max_nodes(&maps, &t->layout), cancel,
                                 o->nonblocking ? 0 : deadline};
    r = pk_collect_interpreters(mem, t, &lim, s, e);
    if (r == 0) r = collect_stacks(o, mem, t, &threads, !o->nonblocking, s, e);
    /* The object graph (untracked objects, retained sizes, why): copied while frozen. */
    int graph = !o->no_graph && !o->prometheus && (o->cmd != PK_CMD_WATCH || o->watch_holders);
    if (r == 0 && graph) {
        /* The report bounds what the graph adds to the pause (--graph-pause); snapshot and
           why need the graph whatever it costs (--max-pause still bounds them). */
        struct pk_walk_limits glim = lim;
        if (o->cmd == PK_CMD_REPORT && !o->folded && o->graph_pause_ms && !o->nonblocking) {
            uint64_t gd = mono_us() + (uint64_t)o->graph_pause_ms * 1000u;
            if (!glim.deadline_us || gd < glim.deadline_us) glim.deadline_us = gd;
        }
        graph_progress(o, "reading (target stopped)");
        r = pk_heap_take(mem, t, &glim, s, e);
    }
    if (r == 0) pk_fd_table_collect(procfd, s); /* open fds + owners, still frozen */
out:
    pk_mem_stop_read_ahead(mem); /* no read of a running target */
    s->attach.threads = pk_freeze_thread_count(fz);
    s->attach.pause_us = pk_freeze_end(fz);
    if (r == 0 && s->graph) graph_progress(o, "analysing");
    if (r == 0) pk_heap_finish(s, o->top, o->cmd == PK_CMD_WHY); /* analysed resumed */
    graph_progress(o, NULL);
    if (mem) {
        struct pk_mem_stats st;
        pk_mem_get_stats(mem, &st);
        s->attach.bytes_read = st.source_bytes;
        s->attach.read_calls = st.source_calls;
    }
resumed:
    pk_threads_free(&threads);
    pk_image_free(img);
    pk_mem_free(mem);
    pk_maps_free(&maps);
    if (r == 0) pk_fd_table_finish(procfd, s); /* fd limits, socket endpoints: after resume */
    return r;
}

struct pk_live {
    struct pk_opts opts;
    int procfd;          /* /proc/PID, held open: a reused pid cannot be mistaken for it */
    struct pk_target *t; /* resolved once: symbols and the DWARF layout */
    uint64_t t_open;     /* counted in the first snapshot's wall time */
};

int pk_live_open(const struct pk_opts *o, struct pk_live **out, struct pk_err *e)
{
    uint64_t t0 = mono_us();
    *out = NULL;
    struct pk_live *l = calloc(1, sizeof *l);
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
        pk_live_close(l);
        return r;
    }
    struct pk_maps maps = {0};
    struct pk_target_opts topts = {o->debug_dir, o->layout_record, o->quiet};
    int r = check_process(o->pid, l->procfd, e);
    if (r == 0) r = pk_maps_read(l->procfd, &maps, e);
    if (r == 0) r = pk_target_resolve(o->pid, l->procfd, &maps, &topts, t, e);
    pk_maps_free(&maps);
    if (r < 0) {
        pk_live_close(l);
        return r;
    }
    *out = l;
    return 0;
}

void pk_live_close(struct pk_live *l)
{
    if (!l) return;
    if (l->procfd >= 0) close(l->procfd);
    free(l->t);
    free(l);
}

int pk_live_snapshot(struct pk_live *l, const volatile sig_atomic_t *cancel, struct pk_snapshot *s,
                     struct pk_err *e)
{
    const struct pk_opts *o = &l->opts;
    const struct pk_target *t = l->t;
    uint64_t t0 = l->t_open ? l->t_open : mono_us();
    l->t_open = 0;
    int r = 0;
    memset(s, 0, sizeof *s);
    pk_snapshot_describe_target(s, t, "process");
    s->attach.mode = o->nonblocking ? "nonblocking" : "frozen";
    struct pk_opts once = *o; /* streaming from the next attempt when the image fell short */
    for (int attempt = 0;; attempt++) {
        struct pk_err attempt_err = {0};
        int stream_next = 0;
        r = collect_once(&once, l->procfd, t, cancel, s, &stream_next, &attempt_err);
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
        for (size_t i = 0; i < s->ninterps; i++)
            pk_interp_snap_clear(&s->interps[i]);
        free(s->interps);
        s->interps = NULL;
        s->ninterps = 0;
        pk_threads_snap_free(s);
        pk_fds_snap_free(&s->fds); /* the fd owners the census found (pk_fd_owners_resolve) */
        s->attach.retries++;
        struct timespec ts = {0, 5000000L * (attempt + 1)};
        nanosleep(&ts, NULL);
    }
    s->attach.consistent = r == 0;
    s->attach.wall_us = mono_us() - t0;
    return r;
}

int pk_take_snapshot(const struct pk_opts *o, const volatile sig_atomic_t *cancel,
                     struct pk_snapshot *s, struct pk_err *e)
{
    if (o->core_path) {
        struct pk_capture_core_opts co = {
            .core_path = o->core_path,
            .exe = o->exe_path,
            .sysroot = o->sysroot,
            .debug_dir = o->debug_dir,
            .layout_record = o->layout_record,
            .quiet = o->quiet,
            .graph = !o->no_graph,
            .stacks = !o->no_stacks,
            .native = o->native || o->cmd == PK_CMD_SNAPSHOT,
            .locals = o->locals,
            .keep_graph = o->cmd == PK_CMD_WHY,
            .top = o->top,
        };
        return pk_capture_core(&co, cancel, s, e);
    }
    struct pk_live *l;
    memset(s, 0, sizeof *s);
    int r = pk_live_open(o, &l, e);
    if (r == 0) r = pk_live_snapshot(l, cancel, s, e);
    pk_live_close(l);
    return r;
}

/* --prometheus: every type included so the rest can be summed as type="(other)". */
static int report_prometheus(const struct pk_snapshot *s, size_t top, struct pk_err *e)
{
    return pk_report_prometheus(stdout, s, top, e);
}

int pk_run(const struct pk_opts *o)
{
    switch (o->cmd) {
    case PK_CMD_SNAPSHOT:
        return pk_cmd_snapshot(o);
    case PK_CMD_DIFF:
        return pk_cmd_diff(o);
    case PK_CMD_WATCH:
        return pk_cmd_watch(o);
    case PK_CMD_WHY:
        return pk_cmd_why(o);
    case PK_CMD_LAYOUT:
        return pk_cmd_layout(o);
    case PK_CMD_PS:
        return pk_cmd_ps(o);
    case PK_CMD_HTML:
        return pk_cmd_html(o);
    case PK_CMD_STACKS:
        return pk_cmd_stacks(o);
    case PK_CMD_REPORT:
        if (o->folded) return pk_cmd_folded(o);
        break;
    }
    const volatile sig_atomic_t *cancel = pk_signals_install();
    struct pk_snapshot s;
    struct pk_err e = {0};
    int r = pk_take_snapshot(o, cancel, &s, &e);
    /* A heap that never settled is still reported, marked "consistent": false; the exit
       code says so unless --allow-inconsistent. */
    int inconsistent = r < 0 && pk_exit_code(e.code) == pk_exit_code(PK_E_INCONSISTENT) &&
                       s.target.pid != 0 && !(cancel && *cancel);
    if (r == 0 || inconsistent) {
        struct pk_err inc = e;
        pk_err_clear(&e);
        struct pk_report_opts ro = {o->top};
        r = o->prometheus ? report_prometheus(&s, o->top, &e)
            : o->json     ? pk_report_json(stdout, &s, &ro, &e)
                          : pk_report_text(stdout, &s, &ro, &e);
        if (fflush(stdout) != 0 || ferror(stdout))
            r = pk_fail(&e, PK_E_INTERNAL, "writing to standard output failed");
        else if (inconsistent && !o->allow_inconsistent)
            r = -inc.code, e = inc;
    }
    pk_snapshot_free(&s);
    if (cancel && *cancel) {
        fprintf(stderr, "pypeek: interrupted; the target was resumed\n");
        pk_signals_reraise();
        return pk_exit_code(PK_E_INTERRUPTED);
    }
    if (r < 0) {
        fprintf(stderr, "pypeek: %s\n", e.msg);
        return pk_exit_code(e.code);
    }
    return 0;
}
