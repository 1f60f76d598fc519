/* The object graph in a snapshot's life: taken frozen, analysed resumed, kept for why. */
#include "cpython/graph_snap.h"

#include "cpython/graph.h"
#include "cpython/unreachable.h"

#include <stdio.h>

/* Why gc.unreachable is absent, on the main interpreter's snapshot. */
static void unreachable_absent(struct pk_snapshot *s, const char *reason)
{
    for (size_t i = 0; i < s->ninterps; i++)
        if (s->interps[i].is_main || s->ninterps == 1)
            snprintf(s->interps[i].unreachable.reason, sizeof s->interps[i].unreachable.reason,
                     "%s", reason);
}

int pk_graph_take(struct pk_mem *m, const struct pk_target *t, const struct pk_walk_limits *lim,
                  struct pk_snapshot *s, struct pk_err *e)
{
    pk_graph_free(s->graph);
    s->graph = NULL;
    const struct pk_interp_snap *main = pk_snapshot_main(s);
    if (!main) return 0;
    struct pk_err ge = {0};
    /* The graph has no deadline of its own: --max-pause still bounds the whole freeze. */
    int r = pk_graph_collect(m, t, main->addr, lim, 0, &s->graph, &ge);
    if (r < 0) {
        if (ge.code == PK_E_NO_PROCESS || ge.code == PK_E_INTERRUPTED)
            return pk_fail(e, ge.code, "%s", ge.msg);
        unreachable_absent(s, ge.code == PK_E_PAUSE_EXCEEDED
                                  ? "the object graph was skipped to bound the pause"
                                  : "the object graph could not be read");
        if (ge.code == PK_E_PAUSE_EXCEEDED)
            pk_snapshot_warn(s, "object graph skipped: copying it would have kept the target "
                                "stopped longer than --graph-pause (or --max-pause) allows; "
                                "the census is complete. For untracked objects and retained "
                                "sizes use --graph-pause 0, pypeek snapshot, or pypeek why");
        else
            pk_snapshot_warn(s, "object graph unavailable: %s", ge.msg);
    }
    return 0;
}

/* Both ends of pk_graph_finish: analyse (untracked census, retained sizes) or not. */
static void finish(struct pk_snapshot *s, size_t top, int keep, int analyse)
{
    struct pk_graph *g = s->graph;
    if (!s->ninterps) return;
    if (!g) {
        for (size_t i = 0; i < s->ninterps; i++)
            if (!s->interps[i].unreachable.reason[0])
                snprintf(s->interps[i].unreachable.reason, sizeof s->interps[i].unreachable.reason,
                         "%s",
                         s->interps[i].is_main || s->ninterps == 1
                             ? "the object graph was not read (--no-graph, or a streaming read "
                               "for --prometheus or watch, which copy no graph while frozen)"
                             : "computed for the main interpreter only");
        return;
    }
    struct pk_interp_snap *main = &s->interps[0];
    for (size_t i = 0; i < s->ninterps; i++)
        if (s->interps[i].is_main) main = &s->interps[i];
    struct pk_err e = {0};
    if (analyse && pk_graph_analyse(g, top, main, &e) < 0)
        pk_snapshot_warn(s, "object graph: %s", e.msg);
    struct pk_err ue = {0};
    if (pk_unreachable_compute(g, &main->unreachable, &ue) < 0) {
        pk_snapshot_warn(s, "%s", ue.msg);
        snprintf(main->unreachable.reason, sizeof main->unreachable.reason, "%.120s", ue.msg);
    }
    for (size_t i = 0; i < s->ninterps; i++)
        if (&s->interps[i] != main)
            snprintf(s->interps[i].unreachable.reason, sizeof s->interps[i].unreachable.reason,
                     "computed for the main interpreter only");
    if (g->partial) pk_snapshot_warn(s, "object graph is partial: %s", g->partial_reason);
    if (!keep) {
        pk_graph_free(g);
        s->graph = NULL;
    }
}

void pk_graph_finish(struct pk_snapshot *s, size_t top, int keep)
{
    finish(s, top, keep, 1);
}

void pk_graph_finish_unreachable(struct pk_snapshot *s)
{
    finish(s, 0, 0, 0);
}
