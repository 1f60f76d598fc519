/* pypeek: read-only memory inspector for running CPython processes. Entry point. */
#include <malloc.h>

#include "cli/options.h"
#include "cli/run.h"

int main(int argc, char **argv)
{
    /* Large arrays (the image, the graph's node and edge arrays) always get their own
       mappings: growing one is an mremap that touches no page beyond what is written, and
       freeing one returns it at once. glibc's default raises this threshold as blocks are
       freed, after which doubling an array copies it in the heap, old and new both resident. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    struct pk_opts o;
    enum pk_cli_action a = pk_cli_parse(argc, argv, &o);
    return a == PK_CLI_RUN ? pk_run(&o) : a == PK_CLI_EXIT_OK ? 0 : 1;
}
