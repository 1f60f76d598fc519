/* pypeek diff OLD NEW: two saved snapshot files (hostile input: read through
   report/snapshot_file.h, into the same struct a live snapshot fills) compared type by type. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "report/diff.h"
#include "report/snapshot_file.h"
#include "util/text.h"

static void name_side(json_t *diff, const char *side, const char *path)
{
    size_t cap = strlen(path) * 3 + 1;
    char *clean = malloc(cap);
    if (!clean) return;
    pk_utf8_sanitize(path, clean, cap);
    json_object_set_new(json_object_get(diff, side), "file", json_string(clean));
    free(clean);
}

int pk_cmd_diff(const struct pk_opts *o)
{
    struct pk_err e = {0};
    struct pk_snapshot old_snap, new_snap;
    json_t *diff = NULL;
    memset(&new_snap, 0, sizeof new_snap);
    int r = pk_snapshot_read_file(o->old_path, &old_snap, &e);
    if (r == 0) r = pk_snapshot_read_file(o->new_path, &new_snap, &e);
    if (r == 0 && !(diff = pk_diff_snapshots(&old_snap, &new_snap, o->json ? o->top : 0)))
        r = pk_fail(&e, PK_E_INTERNAL, "out of memory");
    if (r == 0) {
        name_side(diff, "old", o->old_path);
        name_side(diff, "new", o->new_path);
        if (o->json) {
            if (json_dumpf(diff, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
                fputc('\n', stdout) == EOF)
                r = pk_fail(&e, PK_E_INTERNAL, "writing JSON failed");
        } else {
            r = pk_diff_print_text(stdout, diff, o->top, &e);
        }
        if (r == 0) r = pk_cli_flush_stdout(&e);
    }
    json_decref(diff);
    pk_snapshot_free(&old_snap);
    pk_snapshot_free(&new_snap);
    return pk_cli_finish(r, &e, NULL);
}
