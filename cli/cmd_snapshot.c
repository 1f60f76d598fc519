/* pypeek snapshot PID -o FILE: the full JSON snapshot (every type), written atomically. */
#include <jansson.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "cli/signals.h"
#include "report/report.h"
#include "util/atomic_file.h"

static int write_doc(const char *path, const json_t *doc, struct pk_err *e)
{
    struct pk_atomic_file a;
    int r = pk_atomic_begin(path, &a, e);
    if (r < 0) return r;
    if (json_dumpf(doc, a.f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', a.f) == EOF) {
        pk_atomic_abort(&a);
        return pk_fail(e, PK_E_INTERNAL, "writing %s failed", path);
    }
    return pk_atomic_commit(&a, e);
}

int pk_cmd_snapshot(const struct pk_opts *o)
{
    const volatile sig_atomic_t *cancel = pk_signals_install();
    struct pk_snapshot s;
    struct pk_err e = {0};
    int r = pk_take_snapshot(o, cancel, &s, &e);
    /* Like the report: a heap that never settled is saved marked "consistent": false only
       with --allow-inconsistent. */
    int keep = r < 0 && o->allow_inconsistent && s.target.pid != 0 && !(cancel && *cancel) &&
               pk_exit_code(e.code) == pk_exit_code(PK_E_INCONSISTENT);
    if (r == 0 || keep) {
        pk_err_clear(&e);
        struct pk_report_opts all = {0};
        json_t *doc = pk_snapshot_to_json(&s, &all);
        r = doc ? write_doc(o->output, doc, &e) : pk_fail(&e, PK_E_INTERNAL, "out of memory");
        json_decref(doc);
        if (r == 0 && o->verbose)
            fprintf(stderr, "pypeek: snapshot of pid %d written to %s\n", (int)o->pid, o->output);
    }
    pk_snapshot_free(&s);
    return pk_cli_finish(r, &e, cancel);
}
