/* The unreachable cycles' part of the report: JSON gc.unreachable and the text lines
   "Unreachable cycles awaiting collection" (cpython/unreachable.h computes them). */
#ifndef PK_UNREACHABLE_REPORT_H
#define PK_UNREACHABLE_REPORT_H

#include <stdio.h>

#include "cpython/snapshot.h"

struct json_t;
/* gc.unreachable: {available, objects, bytes, retained_bytes, finalizers, complete, types[]
   (top), untraversed_types[], examples[]}, or {available: false, reason}. */
struct json_t *pk_unreachable_json(const struct pk_interp_snap *is, size_t top);
/* One example cycle as text: "a.x -> b['k'] -> (back to the first)" into buf. */
void pk_unreachable_chain(const struct pk_unreachable_example *ex, char *buf, size_t cap);
/* The text lines, under the GC section (nothing when not computed). */
void pk_unreachable_text(FILE *f, const struct pk_interp_snap *is, size_t top);

#endif
