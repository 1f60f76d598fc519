/* How every command ends: stdout checked, errors printed once, signals re-raised. */
#include "cli/commands.h"

#include <stdio.h>

#include "cli/signals.h"

int pk_cli_flush_stdout(struct pk_err *e)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return pk_fail(e, PK_E_INTERNAL, "writing to standard output failed");
    return 0;
}

int pk_cli_finish(int r, const struct pk_err *e, const volatile sig_atomic_t *cancel)
{
    if (cancel && *cancel) {
        fprintf(stderr, "pypeek: interrupted; the target was resumed\n");
        pk_signals_reraise();
        return pk_exit_code(PK_E_INTERRUPTED);
    }
    if (r < 0) {
        fprintf(stderr, "pypeek: %s\n", e->msg);
        return pk_exit_code(e->code);
    }
    return 0;
}
