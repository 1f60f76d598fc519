/* Walking one GC list (a generation) from its head, validating every link: the walk ends only
   by coming back to the head, and is bounded by construction. */
#ifndef PK_GC_LIST_H
#define PK_GC_LIST_H

#include <signal.h>
#include <stdint.h>

#include "attach/mem.h"
#include "symbols/layout.h"
#include "util/clock.h"
#include "util/error.h"

struct pk_walk_limits {
    uint64_t max_nodes;                  /* more nodes than this means a corrupt list */
    const volatile sig_atomic_t *cancel; /* polled every few thousand nodes; may be NULL */
    uint64_t deadline_us;                /* pk_monotonic_us(); 0 = none (--max-pause) */
};

/* Called for each object (not GC header) with its ob_type. Non-zero stops the walk. */
typedef int (*pk_gc_visit_fn)(uint64_t obj, uint64_t type, void *arg);

/* Walks the list whose head PyGC_Head is at head. *count gets the number of objects visited.
   Errors: -PK_E_INCONSISTENT (broken link, cycle not through the head, too long),
   -PK_E_UNMAPPED is reported as inconsistent, -PK_E_NO_PROCESS, -PK_E_INTERRUPTED,
   or the visitor's own negative value. */
int pk_gc_list_walk(struct pk_mem *m, const struct pk_layout *l, uint64_t head,
                    const struct pk_walk_limits *lim, pk_gc_visit_fn visit, void *arg,
                    uint64_t *count, struct pk_err *e);

/* Upper bound on the GC objects that fit in the target's writable memory. */
uint64_t pk_gc_max_nodes(const struct pk_maps *maps, const struct pk_layout *l);

#endif
