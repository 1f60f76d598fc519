/* pypeek why PID TYPE: freeze, copy the object graph, resume, then find the chains. */
#include "cli/commands.h"
#include "cli/run.h"
#include "cli/signals.h"
#include "cpython/graph.h"
#include "cpython/why.h"
#include "cpython/why_tree.h"
#include "report/dot_out.h"
#include "report/why_out.h"

int pk_cmd_why(const struct pk_opts *o)
{
    const volatile sig_atomic_t *cancel = pk_signals_install();
    struct pk_snapshot s;
    struct pk_err e = {0};
    int r = pk_take_snapshot(o, cancel, &s, &e);
    if (r == 0 && !s.graph)
        r = pk_fail(&e, PK_E_INCONSISTENT, "the object graph could not be read%s%s",
                    s.nwarnings ? ": " : "", s.nwarnings ? s.warnings[s.nwarnings - 1] : "");
    if (r == 0 && o->dot) {
        struct pk_why_tree t;
        r = pk_why_tree_compute(s.graph, o->why_type, &t, &e);
        if (r == 0) {
            if (s.graph->partial && !o->quiet)
                fprintf(stderr, "pypeek: warning: %s\n", s.graph->partial_reason);
            r = pk_why_dot(stdout, &t, (int)s.target.pid, &e);
            if (r == 0) r = pk_cli_flush_stdout(&e);
        }
        pk_why_tree_free(&t);
    } else if (r == 0) {
        struct pk_why w;
        r = pk_why_compute(s.graph, o->why_type, o->limit, &w, &e);
        if (r == 0) {
            if (s.graph->partial && !o->quiet)
                fprintf(stderr, "pypeek: warning: %s\n", s.graph->partial_reason);
            r = o->json ? pk_why_json(stdout, &w, (int)s.target.pid, &e)
                        : pk_why_text(stdout, &w, (int)s.target.pid, &e);
            if (r == 0) r = pk_cli_flush_stdout(&e);
        }
        pk_why_free(&w);
    }
    pk_snapshot_free(&s);
    return pk_cli_finish(r, &e, cancel);
}
