/* The holders of the reachable heap on a hand-built object graph: level-0 holders (globals, a
   frame local, a module, an object two globals share), the split, held from C, the subtree
   below a holder and the leak suspect. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/graph.h"
#include "cpython/snapshot.h"

#define NONE32 UINT32_MAX
#define NODES 12
#define EDGE_NONE PK_EDGE(PK_EK_NONE, PK_EDGE_ARG_NONE)

/* Nodes: 0 the root; 1 module M (100 B) -> 8 its dict (200 B) -> slots 2, 3; slots 2 "M.a"
   -> 5 list (1000 B), 3 "M.b" -> 6 list (2000 B), 4 a frame local -> 7 object (300 B); both
   lists -> 9 X (5000 B) -> 10 bytes (700 B); 11 a tracked object no root reaches (50 B). */
static const char pool[] = "M\0M.a\0M.b\0thread 1 frame f local x\0";
enum { P_M = 0, P_A = 2, P_B = 6, P_X = 10 };
static char *type_names[] = {"module", "dict", "list", "__main__.X", "bytes", "__main__.Obj"};

struct edge {
    uint32_t src, dst, label;
};

static struct pk_graph *build(void)
{
    static const struct edge edges[] = {
        {0, 1, PK_EDGE(PK_EK_MODULE, P_M)},
        {0, 2, EDGE_NONE},
        {0, 3, EDGE_NONE},
        {0, 4, EDGE_NONE},
        {1, 8, EDGE_NONE},
        {2, 5, EDGE_NONE},
        {3, 6, EDGE_NONE},
        {4, 7, EDGE_NONE},
        {5, 9, PK_EDGE(PK_EK_INDEX, 0)},
        {6, 9, PK_EDGE(PK_EK_INDEX, 3)},
        {8, 2, EDGE_NONE},
        {8, 3, EDGE_NONE},
        {9, 10, EDGE_NONE},
    };
    static const uint32_t type[NODES] = {NONE32, 0, NONE32, NONE32, NONE32, 2, 2, 5, 1, 3, 4, 5};
    static const uint64_t size[NODES] = {0, 100, 0, 0, 0, 1000, 2000, 300, 200, 5000, 700, 50};
    struct pk_graph *g = calloc(1, sizeof *g);
    cr_assert_not_null(g);
    g->n = g->cap = NODES;
    g->addr = calloc(NODES, sizeof *g->addr);
    g->type = calloc(NODES, sizeof *g->type);
    g->size = calloc(NODES, sizeof *g->size);
    g->flags = calloc(NODES, sizeof *g->flags);
    g->text = calloc(NODES, sizeof *g->text);
    g->edge_first = calloc(NODES + 1, sizeof *g->edge_first);
    size_t ne = sizeof edges / sizeof *edges;
    g->edge_dst = calloc(ne, sizeof *g->edge_dst);
    g->edge_label = calloc(ne, sizeof *g->edge_label);
    cr_assert(g->addr && g->type && g->size && g->flags && g->text && g->edge_first &&
              g->edge_dst && g->edge_label);
    for (uint32_t v = 0; v < NODES; v++) {
        g->addr[v] = 0x1000 + 0x100 * v;
        g->type[v] = type[v];
        g->size[v] = size[v];
        g->flags[v] = PK_GN_TRACKED;
        g->text[v] = NONE32;
    }
    g->flags[0] = PK_GN_VIRTUAL;
    const uint32_t slots[][3] = {{2, 5, P_A}, {3, 6, P_B}, {4, 7, P_X}};
    for (size_t i = 0; i < 3; i++) {
        uint32_t s = slots[i][0];
        g->flags[s] = PK_GN_VIRTUAL | (s == 4 ? PK_GN_FRAME : 0);
        g->addr[s] = slots[i][1];
        g->text[s] = slots[i][2];
    }
    /* CSR in source order (edges[] is sorted by source) */
    for (size_t e = 0; e < ne; e++) {
        g->edge_dst[e] = edges[e].dst;
        g->edge_label[e] = edges[e].label;
        g->edge_first[edges[e].src + 1]++;
    }
    for (uint32_t v = 0; v < NODES; v++)
        g->edge_first[v + 1] += g->edge_first[v];
    g->nedges = g->ecap = ne;
    g->ntracked = NODES - 1;
    g->type_names = calloc(6, sizeof *g->type_names);
    g->type_exact = calloc(6, 1);
    cr_assert(g->type_names && g->type_exact);
    for (int t = 0; t < 6; t++)
        g->type_names[t] = strdup(type_names[t]);
    g->ntypes = 6;
    g->pool = malloc(sizeof pool);
    cr_assert_not_null(g->pool);
    memcpy(g->pool, pool, sizeof pool);
    g->pool_len = g->pool_cap = sizeof pool;
    return g;
}

static const struct pk_holder *level0(const struct pk_graph_snap *h, const char *name)
{
    for (size_t i = 0; i < h->nholders; i++)
        if (h->holders[i].parent < 0 && !strcmp(h->holders[i].name, name)) return &h->holders[i];
    return NULL;
}

Test(holders, level0_split_subtree_and_suspect)
{
    struct pk_graph *g = build();
    struct pk_interp_snap is;
    memset(&is, 0, sizeof is);
    struct pk_err e = {0};
    cr_assert_eq(pk_graph_analyse(g, 50, &is, &e), 0, "%s", e.msg);
    const struct pk_graph_snap *h = &is.graph;
    cr_assert_eq(h->reachable_bytes, 9300);
    cr_assert_eq(h->reachable_count, 7);
    cr_assert_eq(h->held_from_c_bytes, 50);
    cr_assert_eq(h->held_from_c_count, 1);
    /* globals: M.a, M.b and the module with its dict; frames: the local; shared: X */
    cr_assert_eq(h->globals_bytes, 1000 + 2000 + 300);
    cr_assert_eq(h->frames_bytes, 300);
    cr_assert_eq(h->shared_bytes, 5700);
    cr_assert_eq(h->globals_bytes + h->frames_bytes + h->shared_bytes, h->reachable_bytes);
    cr_assert_eq(h->level0_total, 5);
    const struct pk_holder *a = level0(h, "M.a"), *b = level0(h, "M.b");
    const struct pk_holder *f = level0(h, "thread 1 frame f local x");
    const struct pk_holder *m = level0(h, "sys.modules['M']");
    cr_assert(a && b && f && m, "a level-0 holder is missing");
    cr_assert_eq(a->kind, PK_HK_GLOBAL);
    cr_assert_eq(a->retained_bytes, 1000);
    cr_assert_eq(b->retained_bytes, 2000);
    cr_assert_eq(f->kind, PK_HK_FRAME_LOCAL);
    cr_assert_eq(f->retained_bytes, 300);
    cr_assert_eq(m->kind, PK_HK_MODULE);
    cr_assert_eq(m->retained_bytes, 300);
    /* X: the largest, first; two roots reach it, its chain starts at the first global */
    const struct pk_holder *x = &h->holders[0];
    cr_assert_eq(x->kind, PK_HK_OBJECT);
    cr_assert_str_eq(x->type, "__main__.X");
    cr_assert_eq(x->retained_bytes, 5700);
    cr_assert_eq(x->retained_count, 2);
    cr_assert_eq(x->roots, 2);
    cr_assert_str_eq(x->name, "M.a[0]");
    /* below X: the bytes, named by the reference from X (none labelled: "") */
    cr_assert_gt(h->nholders, 1);
    cr_assert_eq(h->holders[1].parent, 0);
    cr_assert_eq(h->holders[1].depth, 1);
    cr_assert_str_eq(h->holders[1].type, "bytes");
    cr_assert_eq(h->holders[1].retained_bytes, 700);
    /* the leak suspect: X retains 61% of the reachable heap */
    cr_assert_eq(h->nsuspects, 1);
    cr_assert_eq(h->suspects[0].holder, 0);
    cr_assert_float_eq(h->suspects[0].share, 5700.0 / 9300.0, 1e-9);
    cr_assert_str_eq(h->suspects[0].types[0].name, "__main__.X");
    pk_interp_snap_clear(&is);
    pk_graph_free(g);
}
