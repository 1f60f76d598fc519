/* `pypeek why --dot`: the shortest reference paths to every instance of a type, collapsed
   into a small tree (instances reached the same way merged, with a count), for drawing. */
#ifndef PK_WHY_TREE_H
#define PK_WHY_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct pk_graph;

#define PK_WHY_TREE_MAX_NODES 400 /* nodes drawn at most; instances past it are counted */

enum pk_why_node_kind {
    PK_WN_GLOBAL,  /* a module global's slot (root) */
    PK_WN_FRAME,   /* a thread frame local's slot (root) */
    PK_WN_MODULES, /* sys.modules itself: objects it holds directly (root) */
    PK_WN_UNKNOWN, /* held from C / unknown: no root reaches them (root) */
    PK_WN_OBJECT,  /* objects on the way */
    PK_WN_TARGET,  /* instances of the type asked for */
};

struct pk_why_node {
    uint32_t parent; /* index in pk_why_tree.nodes; UINT32_MAX for roots */
    enum pk_why_node_kind kind;
    char *label;           /* roots: the root's name; others: the type name (UTF-8, untrusted) */
    char *edge;            /* the hop from the parent: "[0]", "[0] .. [639]", ".payload" */
    uint64_t count, bytes; /* objects merged here and their sys.getsizeof total */
    uint64_t retained;     /* roots: bytes only this root keeps alive */
};

struct pk_why_tree {
    char *query;
    uint64_t instances, bytes;   /* every instance of the type, and their bytes */
    uint64_t reachable, unknown; /* reached from a root / held from C or unknown */
    uint64_t undrawn;            /* instances past PK_WHY_TREE_MAX_NODES, not drawn */
    int matched;                 /* some type name matched the query */
    struct pk_why_node *nodes;   /* parents before children */
    size_t n;
};

/* Builds the tree for the instances of type (matched as pk_why_compute does). */
int pk_why_tree_compute(const struct pk_graph *g, const char *type, struct pk_why_tree *out,
                        struct pk_err *e);
void pk_why_tree_free(struct pk_why_tree *t);

#endif
