/* Leak suspects from a series of snapshots (pypeek watch, and the HTML report's growth). The
   statistic, per type, per level-0 holder of the heap (holders[] with no parent), per unreachable
   type (gc.unreachable: cycles awaiting collection), per fd kind, per fd target and per garbage
   type: a series is a suspect when at least 3 samples were taken, its count (for a holder of the
     heap, the objects it retains) rose from one sample
     to the next in at least min_grow_percent (80) % of the intervals, and its net growth
     (last - first) is at least min_growth (objects, default 20) or min_fd_growth (fds, 1);
     a garbage type is a suspect as soon as its count in gc.garbage grew at all, since
     nothing in gc.garbage is ever freed by the interpreter.
   Growth per minute is the least-squares slope of the count over the sample times. A name
   absent from a sample counts 0 there (samples list every type). */
#ifndef PK_GROWTH_H
#define PK_GROWTH_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "cpython/snapshot.h"
#include "util/error.h"

#define PK_WATCH_SCHEMA "pypeek.watch/1"
#define PK_GROWTH_MAX_SERIES (1u << 20)

struct pk_growth_rules {
    unsigned min_grow_percent; /* 80 */
    uint64_t min_growth;       /* objects; 20 */
    uint64_t min_fd_growth;    /* fds; 1 */
};

struct pk_growth; /* the samples seen so far, as running sums per series */

/* NULL on out-of-memory. Free with pk_growth_free (NULL is a no-op). */
struct pk_growth *pk_growth_new(const struct pk_growth_rules *rules);
void pk_growth_free(struct pk_growth *g);
/* Adds a sample taken t seconds after some fixed origin (monotonic). The snapshot is not kept. */
int pk_growth_add(struct pk_growth *g, const struct pk_snapshot *s, double t, struct pk_err *e);
size_t pk_growth_samples(const struct pk_growth *g);
/* Suspects found so far (cheap enough to call after every sample). */
size_t pk_growth_suspect_count(const struct pk_growth *g);
/* The summary document (schema pypeek.watch/1): target, samples, totals, rule, suspects
   sorted by growth per minute, and a timeline of per-sample totals. top > 0 keeps the first
   top suspects. New reference. */
json_t *pk_growth_summary(const struct pk_growth *g, size_t top);
/* The summary for people. */
int pk_growth_print_text(FILE *f, const json_t *summary, size_t top, struct pk_err *e);

#endif
