/* `--format folded`: what the roots retain as folded stacks ("root;container;type bytes"),
   the input of flamegraph.pl, speedscope and inferno. */
#ifndef PK_FOLDED_OUT_H
#define PK_FOLDED_OUT_H

#include <stdio.h>

#include "cpython/snapshot.h"
#include "util/error.h"

/* Writes one line per (module global or thread frame local, type it retains) of a snapshot
   (live, or read from a file): the root's name, the type of the object it names, the
   retained type, and the bytes. The lines of a root sum to its retained_bytes: types past
   the per-root list the JSON output keeps are one "(other types)" line. Fails with
   -PK_E_BAD_FILE when the snapshot has no object graph. */
int pk_folded_write(FILE *f, const struct pk_snapshot *s, struct pk_err *e);
/* One frame of a folded stack: terminal-escaped, and ';' (the separator) as \x3b. */
void pk_folded_frame(FILE *f, const char *s);

#endif
