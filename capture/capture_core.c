/* A snapshot from a core file: the core's maps and memory, the interpreter resolved from its
   mapped files, then the same census, GC state and object graph as for a live target. */
#include "capture/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attach/core.h"
#include "cpython/collect.h"
#include "cpython/heap.h"
#include "symbols/target.h"

static uint64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void describe_target(const struct pk_target *t, struct pk_snapshot *s)
{
    s->target.pid = t->pid;
    s->target.source = "core";
    snprintf(s->target.exe, sizeof s->target.exe, "%s", t->exe);
    snprintf(s->target.module, sizeof s->target.module, "%s", t->module);
    snprintf(s->target.python_version, sizeof s->target.python_version, "%s", t->py_version);
    snprintf(s->target.build_id, sizeof s->target.build_id, "%s", t->build_id);
    snprintf(s->target.layout_source, sizeof s->target.layout_source, "%s", t->layout_source);
    for (int i = 0; i < t->nwarnings; i++)
        pk_snapshot_warn(s, "%s", t->warnings[i]);
}

int pk_capture_core(const struct pk_capture_core_opts *o, const volatile sig_atomic_t *cancel,
                    struct pk_snapshot *s, struct pk_err *e)
{
    uint64_t t0 = mono_us();
    memset(s, 0, sizeof *s);
    struct pk_core *core = NULL;
    struct pk_maps maps = {0};
    struct pk_mem *mem = NULL;
    struct pk_target *t = calloc(1, sizeof *t); /* large: keep it off the stack */
    if (!t) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = pk_core_open(o->core_path, o->sysroot, o->exe, &core, e);
    if (r == 0) r = pk_core_maps(core, &maps, e);
    if (r == 0 && !(mem = pk_mem_open_core(core, &maps)))
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
    if (r < 0) goto out;
    /* The maps name the files where they are here (sysroot, --exe): no root to prefix. */
    const char *exe = pk_core_exe(core);
    struct pk_target_where w = {pk_core_pid(core), 0, "", exe, mem};
    struct pk_target_opts topts = {o->debug_dir, o->layout_record, o->quiet};
    if ((r = pk_target_resolve_at(&w, &maps, &topts, t, e)) < 0) {
        if (e->code == PK_E_NOT_PYTHON)
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
    describe_target(t, s);
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
    if (r == 0 && o->graph) r = pk_heap_take(mem, t, &lim, s, e);
    if (r == 0) pk_heap_finish(s, o->top, o->keep_graph);
    s->attach.consistent = r == 0;
    struct pk_mem_stats st;
    pk_mem_get_stats(mem, &st);
    s->attach.bytes_read = st.source_bytes;
    s->attach.read_calls = st.source_calls;
    s->attach.wall_us = mono_us() - t0;
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
