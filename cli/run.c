/* The report command: take a snapshot (capture/), print it as text, JSON or Prometheus. */
#include "cli/run.h"

#include <stdio.h>

#include "cli/commands.h"
#include "cli/signals.h"
#include "report/prom.h"
#include "report/report.h"

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
