/* Thread stacks as output: the snapshot's threads[] in JSON, the `pypeek stacks` text (like
   py-spy dump) and the report's short Threads section. */
#ifndef PK_STACKS_REPORT_H
#define PK_STACKS_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "cpython/snapshot.h"

/* threads[] of the snapshot (a new reference; an empty array when not read). */
json_t *pk_threads_to_json(const struct pk_snapshot *s);

/* Per thread a header (tid, name, state, GIL holder, GC) and its frames, innermost first;
   native: the native frames too. */
void pk_stacks_text(FILE *f, const struct pk_snapshot *s, int native);

/* The report's section: one line per thread, its innermost Python frame, the GIL holder
   marked. Nothing when the stacks were not read. */
void pk_threads_section(FILE *f, const struct pk_snapshot *s);

#endif
