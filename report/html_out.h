/* `pypeek html` and `watch --html`: one self-contained HTML file (stylesheet, script and data
   inline; nothing loaded over the network) drawn from snapshots. pypeek aggregates,
   the page only draws: at most PK_HTML_MAX_ROOTS roots, PK_HTML_MAX_TYPES types... */
#ifndef PK_HTML_OUT_H
#define PK_HTML_OUT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "cpython/snapshot.h"
#include "util/error.h"

#define PK_HTML_MAX_ROOTS 200    /* roots in the retained-memory chart; the rest are one */
#define PK_HTML_MAX_TYPES 20000  /* rows of the type table */
#define PK_HTML_MAX_ITEMS 2000   /* fds, garbage and unreachable types, threads */
#define PK_HTML_MAX_SERIES 24    /* growth charts: the suspects first, then the largest growth */
#define PK_HTML_MAX_SAMPLES 4096 /* snapshots drawn in the growth charts */

/* The data the page draws, from n snapshots (oldest first; the last one is the report's
   subject). min_growth: as watch --min-growth. New reference, NULL on out of memory. */
json_t *pk_html_model(const struct pk_snapshot *const *snaps, size_t n, uint64_t min_growth);
/* Writes the page for n snapshots. */
int pk_html_write(FILE *f, const struct pk_snapshot *const *snaps, size_t n, uint64_t min_growth,
                  struct pk_err *e);

/* The same into path, atomically (util/atomic_file.h). */
int pk_html_write_file(const char *path, const struct pk_snapshot *const *snaps, size_t n,
                       uint64_t min_growth, struct pk_err *e);

#endif
