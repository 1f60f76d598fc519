/* Reading snapshot documents (pypeek.snapshot/1, live or loaded from a file and checked):
   the tallies diff and watch compare, keyed by name so duplicates and new keys are handled. */
#ifndef PK_SNAPDOC_H
#define PK_SNAPDOC_H

#include <jansson.h>
#include <stdint.h>

#define PK_JSON_INT_MAX ((json_int_t)INT64_MAX) /* json_int_t is 64-bit (long long) */
#define PK_DOC_KEY_MAX (8192 + 64) /* bytes of a tally key built from a kind and a target */

/* The integer at a dotted path ("objects.total", "memory.rss_bytes"); def when absent or not
   an integer. */
json_int_t pk_doc_int(const json_t *doc, const char *path, json_int_t def);
/* The string at a dotted path, or def. */
const char *pk_doc_str(const json_t *doc, const char *path, const char *def);
/* v rounded to 1/scale (for printing: 1000 keeps milliseconds); no libm needed. */
double pk_round_scaled(double v, double scale);
/* taken_at as seconds since the epoch; -1 when missing or not RFC 3339 UTC. */
double pk_doc_time(const json_t *doc);

/* A tally is a JSON object {name: [count, bytes]}; sums saturate at INT64_MAX. */
/* Of a [{type, count, bytes}] list (objects.types, garbage.types); NULL list = empty tally. */
json_t *pk_doc_tally_types(const json_t *list);
/* Of fds: by kind (fds.by_kind, else counted from fds.items), bytes 0. */
json_t *pk_doc_tally_fd_kinds(const json_t *fds);
/* Of fds.items, by "KIND TARGET" (the kind alone when an item has no target), bytes 0; a
   socket's target is its remote endpoint, else its local one. */
json_t *pk_doc_tally_fd_targets(const json_t *fds);
/* Count and bytes of name in a tally (0 when absent). */
void pk_doc_tally_get(const json_t *tally, const char *name, json_int_t *count, json_int_t *bytes);

#endif
