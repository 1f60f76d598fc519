/* The object graph of one interpreter: every GC-tracked object plus the untracked objects
   reachable from them, with labelled references, copied while the target is frozen and
   analysed (cpython/retained.c, cpython/why.c) after it is resumed. */
#ifndef PK_GRAPH_H
#define PK_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "attach/mem.h"
#include "cpython/gc_list.h"
#include "cpython/snapshot.h"
#include "symbols/target.h"

#define PK_GRAPH_DEFAULT_BUDGET (256ull << 20) /* bytes of graph pypeek copies at most */
#define PK_GRAPH_MAX_NODES (1u << 27)

/* Node flags. */
enum {
    PK_GN_TRACKED = 1,     /* in a GC list: what gc.get_objects() sees (or frozen) */
    PK_GN_VIRTUAL = 2,     /* the root or a module-global slot: no object, size 0 */
    PK_GN_UNTRAVERSED = 4, /* a GC type whose references pypeek cannot read (all or some) */
    PK_GN_UNREADABLE = 8,  /* its memory could not be read: no size, no references */
    PK_GN_KEYSTR = 16,     /* a str used as a dict key: its text is kept for labels */
    PK_GN_FRAME = 32,      /* virtual: a thread, one of its frames, or a frame-local slot */
    PK_GN_PERMANENT = 64,  /* tracked in the permanent generation (gc.freeze()) */
};

/* refcnt of an object no collection can free: immortal (3.12+), or a count that cannot be
   a live object's (zero, negative, beyond what any heap holds). */
#define PK_REFCNT_EXTERNAL INT64_MAX

/* Edge labels: kind in the top 4 bits, an argument in the low 28. */
enum pk_edge_kind {
    PK_EK_NONE,
    PK_EK_INDEX,  /* [i] of a list, tuple or deque */
    PK_EK_VALUE,  /* [key] of a dict: arg = the key's node */
    PK_EK_KEY,    /* a dict key (arg unused) */
    PK_EK_ATTR,   /* .name: arg = offset of the name in the string pool */
    PK_EK_ITEM,   /* a set member */
    PK_EK_MODULE, /* root -> sys.modules[name]: arg = string pool offset */
    PK_EK_GLOBAL, /* module dict -> global slot: arg = string pool offset of "mod.name" */
};
#define PK_EDGE(kind, arg) ((uint32_t)(kind) << 28 | ((uint32_t)(arg)&0x0fffffffu))
#define PK_EDGE_KIND(l) ((l) >> 28)
#define PK_EDGE_ARG(l) ((l)&0x0fffffffu)
#define PK_EDGE_ARG_NONE 0x0fffffffu

struct pk_graph {
    /* nodes: 0 is the virtual root (sys.modules, the threads and every global and frame-local
       slot: the dominator tree under it has the roots on its first level); then every tracked
       object, the virtual threads, frames and frame-local slots, then the rest. Thread and frame
       nodes have addr NONE; a slot's addr is its value's node (module globals' slots too). */
    uint64_t *addr;
    uint32_t *type; /* index into type_names; UINT32_MAX for virtual nodes */
    uint64_t *size; /* sys.getsizeof */
    uint8_t *flags;
    uint32_t *text;  /* KEYSTR nodes: string pool offset of the text; else UINT32_MAX */
    int64_t *refcnt; /* the object's reference count, PK_REFCNT_EXTERNAL, or 0 (virtual) */
    uint32_t n, cap;
    uint32_t ntracked;
    /* references, CSR: node i's are edge_dst/edge_label[edge_first[i] .. edge_first[i+1]) */
    uint64_t *edge_first;
    uint32_t *edge_dst, *edge_label;
    uint64_t nedges, ecap;
    /* names of the types (UTF-8 from the target) and whether pypeek sizes them exactly */
    char **type_names;
    uint8_t *type_exact;
    uint8_t *type_finalizer; /* the type has tp_finalize (__del__) or a legacy tp_del */
    uint32_t ntypes;
    /* NUL-separated strings: labels, module and global names */
    char *pool;
    size_t pool_len, pool_cap;
    /* accounting */
    uint64_t budget, bytes; /* memory the graph may use / uses */
    int partial;            /* budget or a limit hit: some objects or references are missing */
    char partial_reason[160];
    uint64_t unreadable; /* objects whose memory could not be read */
    uint64_t frozen_us;  /* time spent copying while frozen */
};

/* Reads the graph of the interpreter at interp while the target is frozen. Never fails the
   snapshot for a hostile heap: what cannot be read is marked (partial, unreadable). Returns
   0 and *out, or -PK_E_NO_PROCESS / -PK_E_INTERNAL / -PK_E_INTERRUPTED. */
int pk_graph_collect(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                     const struct pk_walk_limits *lim, uint64_t budget, struct pk_graph **out,
                     struct pk_err *e);
void pk_graph_free(struct pk_graph *g);
const char *pk_graph_str(const struct pk_graph *g, uint32_t off);
/* A human label for an edge into dst, like "[3]", ".data", "['key']" (buf: at least 96). */
void pk_graph_edge_label(const struct pk_graph *g, uint32_t label, char *buf, size_t cap);
const char *pk_graph_type_name(const struct pk_graph *g, uint32_t node);
/* The items of a list/tuple/deque/dict/set/frozenset node, counted on its edges; -1 for any
   other type. */
int64_t pk_graph_container_len(const struct pk_graph *g, uint32_t v);

/* Predecessors in CSR form: node v's referrers are src[first[v] .. first[v+1]). */
int pk_graph_predecessors(const struct pk_graph *g, uint64_t **first, uint32_t **src);
/* Shortest paths from the root (breadth first): parent[v] and the edge index into v, or
   UINT32_MAX / UINT64_MAX when v is not reachable from sys.modules. */
int pk_graph_bfs(const struct pk_graph *g, uint32_t **parent, uint64_t **pedge);
/* Immediate dominators over the graph rooted at node 0 (UINT32_MAX: unreachable) and the
   retained bytes and object counts of each node (its dominator subtree). */
int pk_graph_retained(const struct pk_graph *g, uint32_t **idom, uint64_t **retained,
                      uint64_t **rcount);
/* The path from the root to v as hops ("__main__._cache[3]", "__main__.X.data"), the last
   being v's type name. Returns the number of hops written (at most max), 0 if unreachable. */
size_t pk_graph_path(const struct pk_graph *g, const uint32_t *parent, const uint64_t *pedge,
                     uint32_t v, char **hops, size_t max, size_t hop_cap);

/* What the dominator subtree of v holds, by type (rt->types, bytes descending); cfirst/child:
   the dominator tree's children in CSR form. */
int pk_graph_subtree_types(const struct pk_graph *g, const uint64_t *cfirst, const uint32_t *child,
                           uint32_t v, struct pk_retainer *rt);
/* The holders (cpython/holders.c): reachable and held-from-C totals, the level-0 holders of
   the dominator tree (idom) with the subtrees of the largest, and the leak suspects, into h. */
int pk_graph_holders(const struct pk_graph *g, const uint32_t *idom, const uint64_t *ret,
                     const uint64_t *rcnt, const uint64_t *cfirst, const uint32_t *child,
                     const uint32_t *parent, const uint64_t *pedge, size_t top,
                     struct pk_graph_snap *h);

/* Analysis after the target was resumed: untracked census, coverage and retained sizes of the
   module globals and the largest containers, into is->graph and is->types. */
int pk_graph_analyse(const struct pk_graph *g, size_t top, struct pk_interp_snap *is,
                     struct pk_err *e);

#endif
