/* The entry point (a live process or a core file) and what both paths share once nothing runs
   in the target: the clock, the progress line, the graph's analysis, the read counters. */
#include "capture/capture.h"

#include <string.h>
#include <time.h>

#include "capture/capture_internal.h"
#include "cpython/graph_snap.h"
#include "util/term.h"

void pk_capture_progress(const struct pk_capture_opts *o, pid_t pid, const char *what)
{
    if (!pk_term_progress(o->quiet)) return;
    if (what)
        fprintf(stderr, "\r\033[Kpypeek: %s the object graph of pid %d...", what, (int)pid);
    else
        fputs("\r\033[K", stderr);
}

void pk_capture_analyse(const struct pk_capture_opts *o, pid_t pid, int retainers, int r,
                        struct pk_snapshot *s)
{
    if (r == 0 && s->graph) pk_capture_progress(o, pid, "analysing");
    if (r == 0 && retainers)
        pk_graph_finish(s, o->top, o->keep_graph);
    else if (r == 0)
        pk_graph_finish_unreachable(s);
    pk_capture_progress(o, pid, NULL);
}

void pk_capture_count_reads(struct pk_mem *m, struct pk_snapshot *s)
{
    struct pk_mem_stats st;
    pk_mem_get_stats(m, &st);
    s->attach.bytes_read = st.source_bytes;
    s->attach.read_calls = st.source_calls;
}

int pk_capture(const struct pk_capture_opts *o, const volatile sig_atomic_t *cancel,
               struct pk_snapshot *s, struct pk_err *e)
{
    if (o->core_path) return pk_capture_core(o, cancel, s, e);
    struct pk_capture_live *l;
    memset(s, 0, sizeof *s);
    int r = pk_capture_live_open(o, &l, e);
    if (r == 0) r = pk_capture_live_take(l, cancel, s, e);
    pk_capture_live_close(l);
    return r;
}
