/* pypeek: read-only memory inspector for running CPython processes. Entry point. */
#include "cli/options.h"
#include "cli/run.h"

int main(int argc, char **argv)
{
    struct pk_opts o;
    enum pk_cli_action a = pk_cli_parse(argc, argv, &o);
    return a == PK_CLI_RUN ? pk_run(&o) : a == PK_CLI_EXIT_OK ? 0 : 1;
}
