/* pypeek html SNAPSHOT... -o FILE: saved snapshots (hostile input, read through
   report/snapshot_file.h) drawn as one self-contained HTML page, the last one its subject. */
#include <stdlib.h>

#include "cli/commands.h"
#include "report/html_out.h"
#include "report/snapshot_file.h"

int pk_cmd_html(const struct pk_opts *o)
{
    struct pk_err e = {0};
    size_t n = o->nhtml_inputs, got = 0;
    struct pk_snapshot *snaps = calloc(n ? n : 1, sizeof *snaps);
    const struct pk_snapshot **order = calloc(n ? n : 1, sizeof *order);
    int r = snaps && order ? 0 : pk_fail(&e, PK_E_INTERNAL, "out of memory");
    for (; r == 0 && got < n; got++) {
        r = pk_snapshot_read_file(o->html_inputs[got], &snaps[got], &e);
        order[got] = &snaps[got];
    }
    if (r == 0) r = pk_html_write_file(o->output, order, n, o->min_growth, &e);
    if (r == 0 && o->verbose) fprintf(stderr, "pypeek: HTML report written to %s\n", o->output);
    for (size_t i = 0; snaps && i < got; i++)
        pk_snapshot_free(&snaps[i]);
    free(snaps);
    free(order);
    return pk_cli_finish(r, &e, NULL);
}
