/* Comparing two snapshots: per-type count and bytes deltas sorted by growth, and the
   GC, garbage, memory and fd deltas of whichever of those sections both documents have. */
#ifndef PK_DIFF_H
#define PK_DIFF_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "cpython/snapshot.h"
#include "util/error.h"

#define PK_DIFF_SCHEMA "pypeek.diff/1"

/* The diff document (schema pypeek.diff/1) of two snapshots (live, or read from files);
   top > 0 keeps the first top entries of each list. New reference; NULL on out-of-memory. */
json_t *pk_diff_snapshots(const struct pk_snapshot *old_snap, const struct pk_snapshot *new_snap,
                          size_t top);
/* The diff for people: the types that grew and shrank most (top of each, 0 = 20), then the
   changed GC, garbage, memory and fd numbers. */
int pk_diff_print_text(FILE *f, const json_t *diff, size_t top, struct pk_err *e);

#endif
