/* A snapshot from a core file: the core's maps and memory, the interpreter resolved from its
   mapped files, then the same census, GC state and object graph as for a live target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attach/core.h"
#include "capture/capture_internal.h"
#include "cpython/collect.h"
#include "cpython/graph_snap.h"
#include "cpython/stacks.h"
#include "symbols/module_by_id.h"
#include "symbols/target.h"

/* The core's threads as the stack walker wants them: registers from NT_PRSTATUS, sorted by
   tid; a core has no thread names or states. */
static int core_threads(const struct pk_core *core, struct pk_threads *out)
{
    size_t n = pk_core_nthreads(core);
    out->v = calloc(n ? n : 1, sizeof *out->v);
    out->n = 0;
    if (!out->v) return -PK_E_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        const struct pk_core_thread *ct = pk_core_thread(core, i);
        struct pk_thread_regs *tr = &out->v[out->n++];
        tr->tid = ct->tid;
        tr->ns_tid = ct->tid;
        tr->state = '?';
        tr->have_regs = 1;
        _Static_assert(sizeof tr->regs == sizeof ct->regs, "x86-64 user_regs_struct");
        memcpy(&tr->regs, ct->regs, sizeof tr->regs);
    }
    for (size_t i = 1; i < out->n; i++) /* insertion sort: cores hold few threads */
        for (size_t k = i; k > 0 && out->v[k - 1].tid > out->v[k].tid; k--) {
            struct pk_thread_regs tmp = out->v[k];
            out->v[k] = out->v[k - 1];
            out->v[k - 1] = tmp;
        }
    return 0;
}

/* A dumper that could not read a thread's stack may have written zeros for it (gdb 13's gcore
   and stacks that glibc 2.41+ guards with MADV_GUARD_INSTALL): nothing live is all zeros at a
   stack pointer (return addresses, saved registers), so such a stack is named, and its frames
   marked as possibly cut short. */
static void check_zero_stacks(const struct pk_threads *th, struct pk_mem *mem,
                              struct pk_snapshot *s)
{
    for (size_t i = 0; i < th->n; i++) {
        unsigned char at_sp[256];
        int zeros = pk_mem_read(mem, th->v[i].regs.rsp, at_sp, sizeof at_sp) == 0;
        for (size_t k = 0; k < sizeof at_sp && zeros; k++)
            zeros = at_sp[k] == 0;
        if (!zeros) continue;
        pk_snapshot_warn(s,
                         "the core holds only zeros at thread %d's stack pointer: whatever wrote "
                         "it could not read that stack (gdb's gcore and guard pages of glibc "
                         "2.41+); its frames may be cut short (a kernel core has them)",
                         (int)th->v[i].tid);
        for (size_t k = 0; k < s->nthreads; k++)
            if (s->threads[k].tid == th->v[i].tid && !s->threads[k].truncated)
                s->threads[k].truncated =
                    strdup("the core holds zeros for this thread's stack: frames may be missing");
    }
}

/* threads[] from the core's registers: Python frames, and native ones when asked. */
static void capture_stacks(const struct pk_capture_opts *o, const struct pk_core *core,
                           struct pk_mem *mem, const struct pk_target *t, struct pk_snapshot *s)
{
    struct pk_threads th = {0};
    if (core_threads(core, &th) < 0 || pk_stacks_collect(mem, t, &th, o->locals, s) < 0) {
        pk_snapshot_warn(s, "thread stacks unavailable: out of memory");
        pk_threads_free(&th);
        return;
    }
    check_zero_stacks(&th, mem, s);
    if ((o->native || o->native_unpaused) &&
        pk_stacks_add_native(mem, &th, t->pid, 0, o->debug_dir, s) < 0)
        pk_snapshot_warn(s, "native stacks unavailable: libdwfl could not read the core");
    pk_threads_free(&th);
}

static int find_module(void *ctx, const char *mapped, const unsigned char *id, size_t len,
                       char *out, size_t cap, char *how, size_t howcap)
{
    (void)mapped;
    return pk_module_by_build_id(ctx, id, len, out, cap, how, howcap);
}

/* The interpreter's file (the executable, or a mapped file named like python or libpython) when
   it is not here as the process had it; NULL when every such file is. Without it pypeek cannot
   tell whether the process ran CPython: exit 4, as for a core that is not of CPython, but
   naming the file to provide. */
static const char *missing_interpreter(const struct pk_core *core, const char **build_id)
{
    const char *exe = pk_core_exe(core);
    for (size_t i = 0; i < pk_core_nmissing(core); i++) {
        const char *path = pk_core_missing(core, i, build_id);
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!strcmp(path, exe) || strstr(base, "python")) return path;
    }
    return NULL;
}

int pk_capture_core(const struct pk_capture_opts *o, const volatile sig_atomic_t *cancel,
                    struct pk_snapshot *s, struct pk_err *e)
{
    uint64_t t0 = pk_monotonic_us();
    memset(s, 0, sizeof *s);
    struct pk_core *core = NULL;
    struct pk_maps maps = {0};
    struct pk_mem *mem = NULL;
    struct pk_target *t = calloc(1, sizeof *t); /* large: keep it off the stack */
    if (!t) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    struct pk_module_finder mf = {o->sysroot, o->debug_dir, o->quiet, 0, ""};
    struct pk_core_finder finder = {find_module, &mf};
    int r = pk_core_open(o->core_path, o->sysroot, o->exe, &finder, &core, e);
    for (size_t i = 0; r == 0 && o->verbose && i < pk_core_nfound(core); i++)
        fprintf(stderr, "pypeek: %s\n", pk_core_found(core, i));
    if (r == 0) r = pk_core_maps(core, &maps, e);
    if (r == 0 && !(mem = pk_mem_open_core(core, &maps)))
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
    if (r < 0) goto out;
    /* The maps name the files where they are here (sysroot, --exe): no root to prefix. */
    const char *exe = pk_core_exe(core);
    struct pk_target_where w = {pk_core_pid(core), 0, "", exe, mem};
    struct pk_target_opts topts = {o->debug_dir, o->layout_record, o->quiet};
    if ((r = pk_target_resolve_at(&w, &maps, &topts, t, e)) < 0) {
        const char *id, *missing = missing_interpreter(core, &id);
        if (e->code == PK_E_NOT_PYTHON && missing)
            pk_refail(e, PK_E_NOT_PYTHON,
                      "the core %s needs the file %.1000s the process mapped (build-id %s), and "
                      "it is not on this machine as that build, nor under a build-id directory%s"
                      "%.500s%s: give it with --exe PATH, the process's root with --sysroot DIR, "
                      "or a debuginfod server that has it in DEBUGINFOD_URLS",
                      o->core_path, missing, id, mf.why[0] ? "; " : "", mf.why,
                      mf.why[0] || getenv("DEBUGINFOD_URLS") ? ""
                                                             : ", and DEBUGINFOD_URLS is unset");
        else if (e->code == PK_E_NOT_PYTHON)
            pk_refail(
                e, PK_E_NOT_PYTHON,
                "the core %s is not of a CPython process: none of its mapped files "
                "that pypeek can open defines _PyRuntime (its executable: %.1000s%s%.500s). If "
                "the process ran in a container, give its root with --sysroot DIR",
                o->core_path, exe[0] ? exe : "not named by the core",
                pk_core_nwarnings(core) ? "; " : "",
                pk_core_nwarnings(core) ? pk_core_warning(core, 0) : "");
        goto out;
    }
    uint64_t probe;
    if (pk_mem_read_u64(mem, t->runtime_addr, &probe) < 0) {
        r = pk_fail(e, PK_E_BAD_FILE,
                    "%s does not hold the interpreter's state (_PyRuntime at 0x%llx in %s): a "
                    "core written with a coredump_filter that leaves data out, or truncated",
                    o->core_path, (unsigned long long)t->runtime_addr, t->module);
        goto out;
    }
    pk_snapshot_describe_target(s, t, "core");
    snprintf(s->core.path, sizeof s->core.path, "%s", o->core_path);
    s->core.size = pk_core_file_size(core);
    s->core.signal = pk_core_signal(core);
    /* The moment it shows is the dump's: the core file's modification time. */
    time_t dumped = (time_t)pk_core_mtime(core);
    struct tm tm;
    if (gmtime_r(&dumped, &tm))
        strftime(s->taken_at, sizeof s->taken_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    s->attach.mode = "core";
    s->attach.threads = (int)pk_core_nthreads(core);
    for (size_t i = 0; i < pk_core_nwarnings(core); i++)
        pk_snapshot_warn(s, "%s", pk_core_warning(core, i));
    /* Nothing runs: no pause to bound, no retry (a collection caught mid-way stays so). */
    struct pk_walk_limits lim = {pk_gc_max_nodes(&maps, &t->layout), cancel, 0};
    r = pk_collect_interpreters(mem, t, &lim, s, e);
    if (r == 0 && o->stacks) capture_stacks(o, core, mem, t, s);
    if (r == 0 && o->graph) r = pk_graph_take(mem, t, &lim, s, e);
    pk_capture_count_reads(mem, s);
    pk_mem_free(mem); /* its cache: the analysis reads only the graph */
    mem = NULL;
    pk_capture_analyse(o, t->pid, 1, r, s); /* the retainers too: a core costs no pause */
    s->attach.consistent = r == 0;
    s->attach.wall_us = pk_monotonic_us() - t0;
out:
    /* Memory the interpreter's state needs and the core does not hold: the file's fault. */
    if (r < 0 && e->code == PK_E_UNMAPPED) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        pk_refail(e, PK_E_BAD_FILE,
                  "%s does not hold the interpreter's memory pypeek needs (a core written with a "
                  "coredump_filter that leaves anonymous memory out?): %s",
                  o->core_path, why);
    }
    /* What a cut-off core cannot answer is the file's fault, not the process's. */
    if (r < 0 && core && pk_core_truncated(core) && e->code != PK_E_INTERRUPTED &&
        e->code != PK_E_INTERNAL && e->code != PK_E_NO_LAYOUT) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        pk_refail(e, PK_E_BAD_FILE, "%s is truncated (%zu memory segments extend past its end): %s",
                  o->core_path, pk_core_truncated(core), why);
    }
    pk_mem_free(mem);
    pk_maps_free(&maps);
    pk_core_close(core);
    free(t);
    return r;
}
