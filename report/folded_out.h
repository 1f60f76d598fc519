/* `--format folded`: what the roots retain as folded stacks ("root;container;type bytes"),
   the input of flamegraph.pl, speedscope and inferno. */
#ifndef PK_FOLDED_OUT_H
#define PK_FOLDED_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "util/error.h"

/* Writes one line per (module global or thread frame local, type it retains) of a snapshot
   document (live, or a saved file: hostile input, malformed entries are skipped): the root's
   name, the type of the object it names, the retained type, and the bytes. The lines of a
   root sum to its retained_bytes: types past the document's per-root list are one
   "(other types)" line. Fails with -PK_E_BAD_FILE when the document has no object graph. */
int pk_folded_write(FILE *f, const json_t *doc, struct pk_err *e);
/* One frame of a folded stack: terminal-escaped, and ';' (the separator) as \x3b. */
void pk_folded_frame(FILE *f, const char *s);

#endif
