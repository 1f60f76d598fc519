/* pypeek stacks PID: freeze, read every thread's registers, copy, resume, print the stacks
   (pypeek stacks --core CORE: the registers the core's notes hold). */
#include <jansson.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "cli/signals.h"
#include "report/json_util.h"
#include "report/stacks_report.h"
#include "util/text.h"

static int print_json(const struct pk_snapshot *s, struct pk_err *e)
{
    json_t *doc =
        json_pack("{s:i, s:o, s:o}", "pid", (int)s->target.pid, "python_version",
                  pk_json_str(s->target.python_version), "threads", pk_threads_to_json(s));
    if (!doc) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (r < 0 || fputc('\n', stdout) == EOF) return pk_fail(e, PK_E_INTERNAL, "writing failed");
    return 0;
}

int pk_cmd_stacks(const struct pk_opts *o)
{
    const volatile sig_atomic_t *cancel = pk_signals_install();
    struct pk_opts so = *o;
    so.no_graph = 1; /* the stacks need no object graph */
    struct pk_snapshot s;
    struct pk_err e = {0};
    int r = pk_take_snapshot(&so, cancel, &s, &e);
    if (r == 0 && !s.threads_available)
        r = pk_fail(&e, PK_E_INCONSISTENT, "the thread stacks could not be read");
    if (r == 0) {
        if (o->json) {
            r = print_json(&s, &e);
        } else {
            char ver[64];
            pk_escape(s.target.python_version, ver, sizeof ver);
            if (pk_snapshot_from_core(&s))
                printf("pypeek stacks: core of pid %d, CPython %s\n\n", (int)s.target.pid, ver);
            else
                printf("pypeek stacks: pid %d, CPython %s, paused %llu us\n\n", (int)s.target.pid,
                       ver, (unsigned long long)s.attach.pause_us);
            pk_stacks_text(stdout, &s, o->native);
        }
        if (r == 0) r = pk_cli_flush_stdout(&e);
    }
    pk_snapshot_free(&s);
    return pk_cli_finish(r, &e, cancel);
}
