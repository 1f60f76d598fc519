/* `pypeek why`: shortest reference chains from module globals or thread frame locals (or
   "held from C / unknown") to instances of a type, computed on the object graph after the
   target was resumed. */
#ifndef PK_WHY_H
#define PK_WHY_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct pk_graph;

struct pk_why_chain {
    char *root;  /* "__main__._cache", "thread 812 frame main local x", "held from C / unknown" */
    char **hops; /* "__main__._cache[998]", "__main__.LargeObject.data"; the target excluded */
    size_t nhops;
    char *target_type;
    uint64_t target_addr, target_size, target_retained;
    uint64_t root_retained; /* bytes only this root keeps alive (0 for unknown holders) */
    int from_global;        /* the root is a module global */
    int from_frame;         /* the root is a thread frame local */
};

struct pk_why_root {
    char *root;
    uint64_t instances, retained_bytes;
};

struct pk_why {
    char *query;
    char **types; /* the type names that matched */
    size_t ntypes;
    uint64_t instances, bytes, reachable, unknown;
    struct pk_why_chain *chains;
    size_t nchains;
    struct pk_why_root *roots; /* by instances, descending */
    size_t nroots;
};

/* Whether a type name answers the query: equal, or (a query without a dot) its last part. */
int pk_why_type_matches(const char *name, const char *query);
int pk_why_compute(const struct pk_graph *g, const char *type, size_t limit, struct pk_why *out,
                   struct pk_err *e);
void pk_why_free(struct pk_why *w);

#endif
