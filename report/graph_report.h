/* The object graph's part of the report: untracked census totals, coverage and retainers
   (JSON "graph" and "retainers", and the text section "Retained by module globals"). */
#ifndef PK_GRAPH_REPORT_H
#define PK_GRAPH_REPORT_H

/* Entries the JSON output keeps of the per-root type lists (readers of a live snapshot apply
   the same caps, so it and its saved file give the same answers). */
#define PK_JSON_RETAINER_TYPES 20
#define PK_JSON_SUSPECT_TYPES 10

#include <stdio.h>

#include "cpython/snapshot.h"

struct json_t;
/* {count, bytes} of the untracked objects reachable from tracked ones (objects.untracked). */
struct json_t *pk_graph_untracked_json(const struct pk_interp_snap *is);
/* The "graph" summary (null when the graph was not taken). */
struct json_t *pk_graph_json(const struct pk_interp_snap *is);
/* retainers[] = {root, type, len, retained_bytes, retained_count, kind, types}. */
struct json_t *pk_graph_retainers_json(const struct pk_interp_snap *is);
/* holders[] = the level-0 holders and their subtrees (parent: index into the array). */
struct json_t *pk_graph_holders_json(const struct pk_interp_snap *is);
/* leak_suspects[] = {holder, name, kind, type, share, retained_bytes, types}. */
struct json_t *pk_graph_suspects_json(const struct pk_interp_snap *is);
/* The memory section's first line: the heap split by holder kind. */
void pk_graph_split_text(FILE *f, const struct pk_interp_snap *is);
/* LEAK SUSPECT paragraphs (the top of the text report). */
void pk_graph_suspects_text(FILE *f, const struct pk_interp_snap *is);
void pk_graph_report_text(FILE *f, const struct pk_interp_snap *is, size_t top);

#endif
