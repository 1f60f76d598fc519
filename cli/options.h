/* Command-line options: parsed without side effects beyond --help/--version output. */
#ifndef PK_OPTIONS_H
#define PK_OPTIONS_H

#include <stddef.h>
#include <sys/types.h>

enum pk_cli_action { PK_CLI_RUN, PK_CLI_EXIT_OK, PK_CLI_EXIT_USAGE };

struct pk_opts {
    pid_t pid;
    int json;
    size_t top;          /* 0: default (text 20, JSON all) */
    int nonblocking;
    int allow_inconsistent; /* report (exit 0) even when reads never settled */
    unsigned max_pause_ms;  /* 0: no limit */
    const char *debug_dir;
    int quiet, verbose;
};

enum pk_cli_action pk_cli_parse(int argc, char **argv, struct pk_opts *o);

#endif
