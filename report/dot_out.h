/* `pypeek why --dot`: the merged reference paths as Graphviz DOT, drawn the way objgraph's
   show_backrefs draws them (roots apart, hops on the edges, type and size in the nodes). */
#ifndef PK_DOT_OUT_H
#define PK_DOT_OUT_H

#include <stdio.h>

#include "cpython/why_tree.h"
#include "util/error.h"

/* Writes t as one DOT digraph. Every string from the target is escaped, so the output is
   valid DOT whatever the names; they render as the text pypeek prints in its text output. */
int pk_why_dot(FILE *f, const struct pk_why_tree *t, int pid, struct pk_err *e);
/* Writes s as the inside of a DOT double-quoted string: terminal-escaped (pk_escape), then
   '"' and '\' escaped for DOT and '&' as an entity (Graphviz reads entities in labels). */
void pk_dot_fputs(FILE *f, const char *s, size_t max_bytes);

#endif
