/* From the command line to capture/: which source, what limits, what each command reads
   (the report bounds the graph's pause; Prometheus and watch show no retainers). */
#include <stdio.h>

#include "cli/run.h"

void pk_cli_capture_opts(const struct pk_opts *o, struct pk_capture_opts *co)
{
    *co = (struct pk_capture_opts){
        .pid = o->pid,
        .core_path = o->core_path,
        .exe = o->exe_path,
        .sysroot = o->sysroot,
        .debug_dir = o->debug_dir,
        .layout_record = o->layout_record,
        .quiet = o->quiet,
        .log = o->verbose ? stderr : NULL,
        .verbose = o->verbose,
        .nonblocking = o->nonblocking,
        .streaming = o->streaming,
        .max_pause_ms = o->max_pause_ms,
        /* snapshot and why need the graph whatever it costs (--max-pause still bounds them) */
        .graph_pause_ms = o->cmd == PK_CMD_REPORT && !o->folded ? o->graph_pause_ms : 0,
        .graph = !o->no_graph,
        /* Prometheus and watch show no retainers: no dominator tree (but watch --holders) */
        .retainers = !o->prometheus && (o->cmd != PK_CMD_WATCH || o->watch_holders),
        .keep_graph = o->cmd == PK_CMD_WHY,
        .top = o->top,
        .stacks = !o->no_stacks,
        .native = o->native,
        .native_unpaused = o->cmd == PK_CMD_SNAPSHOT, /* snapshots hold native frames */
        .locals = o->locals,
    };
}

int pk_take_snapshot(const struct pk_opts *o, const volatile sig_atomic_t *cancel,
                     struct pk_snapshot *s, struct pk_err *e)
{
    struct pk_capture_opts co;
    pk_cli_capture_opts(o, &co);
    return pk_capture(&co, cancel, s, e);
}
