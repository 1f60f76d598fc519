/* Name-keyed tallies of a snapshot's lists, for the comparers (diff, watch, html) and the
   Prometheus output: types, unreachable types, fd kinds and fd targets, summed by name so
   duplicates and names new in a later snapshot are handled. Names are made valid UTF-8 (as
   the JSON output makes them), so a live snapshot and its saved file tally alike. */
#ifndef PK_BYNAME_H
#define PK_BYNAME_H

#include <jansson.h>
#include <stdint.h>

#include "cpython/snapshot.h"

#define PK_JSON_INT_MAX ((json_int_t)INT64_MAX) /* json_int_t is 64-bit (long long) */
#define PK_BYNAME_KEY_MAX (8192 + 64) /* bytes of a tally key built from a kind and a target */

/* A tally is a JSON object {name: [count, bytes]}; sums saturate at INT64_MAX. NULL on
   out-of-memory. */
json_t *pk_byname_types(const struct pk_type_stat *v, size_t n);
json_t *pk_byname_unreachable(const struct pk_unreachable_snap *u);
/* fds by kind (items order of first appearance), bytes 0. */
json_t *pk_byname_fd_kinds(const struct pk_fds_snap *f);
/* fds by "KIND TARGET" (the kind alone when an item has no target), bytes 0; a socket's
   target is its remote endpoint, else its local one. */
json_t *pk_byname_fd_targets(const struct pk_fds_snap *f);
/* Adds count and bytes (clamped to INT64_MAX) to name's entry. */
void pk_byname_add(json_t *tally, const char *name, uint64_t count, uint64_t bytes);
/* Count and bytes of name in a tally (0 when absent). */
void pk_byname_get(const json_t *tally, const char *name, json_int_t *count, json_int_t *bytes);

/* A count clamped to JSON's integer range, as the JSON output writes it. */
json_int_t pk_jint(uint64_t v);
/* v rounded to 1/scale (for printing: 1000 keeps milliseconds); no libm needed. */
double pk_round_scaled(double v, double scale);
/* taken_at as seconds since the epoch; -1 when not RFC 3339 UTC. */
double pk_snapshot_time(const struct pk_snapshot *s);

#endif
