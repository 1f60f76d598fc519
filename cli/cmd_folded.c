/* pypeek --format folded PID|FILE: retained bytes as folded stacks, from a live target or a
   saved snapshot (both as struct pk_snapshot, so they print the same lines). */
#include "cli/commands.h"
#include "cli/run.h"
#include "cli/signals.h"
#include "report/folded_out.h"
#include "report/report.h"
#include "report/snapshot_file.h"

int pk_cmd_folded(const struct pk_opts *o)
{
    const volatile sig_atomic_t *cancel = NULL;
    struct pk_err e = {0};
    struct pk_snapshot s;
    int r;
    if (o->snapshot_path) {
        r = pk_snapshot_read_file(o->snapshot_path, &s, &e);
    } else {
        cancel = pk_signals_install();
        r = pk_take_snapshot(o, cancel, &s, &e);
    }
    if (r == 0) {
        r = pk_folded_write(stdout, &s, &e);
        if (r < 0 && !o->snapshot_path && e.code == PK_E_BAD_FILE)
            r = pk_refail(&e, PK_E_INCONSISTENT, "the object graph could not be read");
        if (r == 0) r = pk_cli_flush_stdout(&e);
    }
    pk_snapshot_free(&s);
    return pk_cli_finish(r, &e, cancel);
}
