/* The subcommands besides the report: snapshot, diff and watch, and how every command ends. */
#ifndef PK_COMMANDS_H
#define PK_COMMANDS_H

#include <signal.h>

#include "cli/options.h"
#include "util/error.h"

int pk_cmd_snapshot(const struct pk_opts *o); /* pypeek snapshot PID -o FILE */
int pk_cmd_diff(const struct pk_opts *o);     /* pypeek diff OLD NEW */
int pk_cmd_watch(const struct pk_opts *o);    /* pypeek watch PID */
int pk_cmd_why(const struct pk_opts *o);      /* pypeek why PID TYPE */
int pk_cmd_layout(const struct pk_opts *o);   /* pypeek layout dump PATH */
int pk_cmd_folded(const struct pk_opts *o);   /* pypeek --format folded PID|FILE */
int pk_cmd_ps(const struct pk_opts *o);       /* pypeek ps */
int pk_cmd_html(const struct pk_opts *o);     /* pypeek html SNAPSHOT... -o FILE */
int pk_cmd_stacks(const struct pk_opts *o);   /* pypeek stacks PID */

/* Fails unless everything written to stdout reached it (pypeek ... > /dev/full fails). */
int pk_cli_flush_stdout(struct pk_err *e);
/* The exit code of a command: after a signal, says so and re-raises it (the target was
   resumed already); else prints e's message when r < 0. */
int pk_cli_finish(int r, const struct pk_err *e, const volatile sig_atomic_t *cancel);

#endif
