/* The shortest paths to every instance of a type, merged into a tree for `why --dot`: two
   objects of the same type reached by the same kind of hop from the same tree node are one
   node with a count (640 LargeObjects at _cache[0] .. _cache[639] are one node). */
#include "cpython/why_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/graph.h"
#include "cpython/why.h"

#define NONE32 UINT32_MAX
#define HASH_SLOTS 1024 /* > 2 * PK_WHY_TREE_MAX_NODES, a power of two */
#define UNKNOWN_HOPS 8  /* referrers walked up from an instance no root reaches */
#define MAX_UNKNOWN_DRAWN 10000
#define HOP_DICT_ATTR 15 /* an instance's __dict__ entry read as an attribute: X.a */

/* How a path enters a node: an edge kind with its argument, or a folded __dict__ key. */
struct hop {
    unsigned kind;
    uint32_t arg;     /* INDEX: the index; VALUE: the key's node; else the edge's argument */
    const char *text; /* ATTR, MODULE, HOP_DICT_ATTR, VALUE with a str key: the name */
};

/* A tree node while building: the key it is found by, and what its incoming hops were. */
struct building {
    uint32_t parent, type;
    struct hop first;
    int hops_differ;
    uint32_t idx_min, idx_max;
};

struct builder {
    const struct pk_graph *g;
    const uint8_t *match;
    struct pk_why_tree *t;
    struct building *b;
    uint32_t slots[HASH_SLOTS];
    uint32_t modules_root, unknown_root;
    uint8_t *folded; /* per graph node: an instance dict left out of the drawing */
};

static int hop_keyed_by_text(unsigned kind)
{
    return kind == PK_EK_ATTR || kind == PK_EK_MODULE || kind == HOP_DICT_ATTR;
}

static uint64_t hash_text(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static uint32_t key_hash(uint32_t parent, uint32_t type, const struct hop *h)
{
    uint64_t x = 0xcbf29ce484222325ull ^ ((uint64_t)parent << 32 | type);
    x = (x ^ h->kind) * 0x100000001b3ull;
    if (hop_keyed_by_text(h->kind)) x = hash_text(x, h->text);
    x ^= x >> 29;
    return (uint32_t)(x * 0x9e3779b97f4a7c15ull >> 40) & (HASH_SLOTS - 1);
}

static int same_key(const struct building *n, uint32_t parent, uint32_t type, const struct hop *h)
{
    if (n->parent != parent || n->type != type || n->first.kind != h->kind) return 0;
    return !hop_keyed_by_text(h->kind) ||
           !strcmp(n->first.text ? n->first.text : "", h->text ? h->text : "");
}

static int same_hop(const struct hop *a, const struct hop *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind == PK_EK_VALUE && a->text && b->text) return !strcmp(a->text, b->text);
    return hop_keyed_by_text(a->kind) || a->arg == b->arg;
}

/* A new tree node, or NONE32 when the tree is full (or out of memory: *oom set). */
static uint32_t add_node(struct builder *bd, uint32_t parent, enum pk_why_node_kind kind,
                         const char *label, uint32_t type, const struct hop *h, int *oom)
{
    struct pk_why_tree *t = bd->t;
    if (t->n >= PK_WHY_TREE_MAX_NODES) return NONE32;
    struct pk_why_node *n = &t->nodes[t->n];
    memset(n, 0, sizeof *n);
    n->parent = parent;
    n->kind = kind;
    if (!(n->label = strdup(label ? label : "?"))) {
        *oom = 1;
        return NONE32;
    }
    struct building *b = &bd->b[t->n];
    b->parent = parent;
    b->type = type;
    b->first = h ? *h : (struct hop){PK_EK_NONE, PK_EDGE_ARG_NONE, NULL};
    b->hops_differ = 0;
    b->idx_min = b->idx_max = b->first.arg;
    return (uint32_t)t->n++;
}

static uint32_t root_node(struct builder *bd, uint32_t *memo, enum pk_why_node_kind kind,
                          const char *label, uint64_t retained, int *oom)
{
    if (*memo != NONE32) return *memo;
    uint32_t id = add_node(bd, NONE32, kind, label, NONE32, NULL, oom);
    if (id != NONE32) bd->t->nodes[id].retained = retained;
    return *memo = id;
}

/* The child of parent for an object of graph node v entered by hop h (found or added). */
static uint32_t child_node(struct builder *bd, uint32_t parent, uint32_t v, const struct hop *h,
                           int *oom)
{
    const struct pk_graph *g = bd->g;
    uint32_t type = g->type[v];
    uint32_t s = key_hash(parent, type, h);
    for (uint32_t probe = 0; probe < HASH_SLOTS; probe++, s = (s + 1) & (HASH_SLOTS - 1)) {
        uint32_t id = bd->slots[s];
        if (id == NONE32) break;
        if (same_key(&bd->b[id], parent, type, h)) {
            struct building *b = &bd->b[id];
            if (!b->hops_differ && !same_hop(&b->first, h)) b->hops_differ = 1;
            if (h->arg < b->idx_min) b->idx_min = h->arg;
            if (h->arg > b->idx_max) b->idx_max = h->arg;
            return id;
        }
    }
    int target = type < g->ntypes && bd->match[type];
    uint32_t id = add_node(bd, parent, target ? PK_WN_TARGET : PK_WN_OBJECT,
                           pk_graph_type_name(g, v), type, h, oom);
    if (id != NONE32) bd->slots[s] = id;
    return id;
}

static struct hop edge_hop(const struct pk_graph *g, uint64_t e)
{
    struct hop h = {PK_EK_NONE, PK_EDGE_ARG_NONE, NULL};
    if (e == UINT64_MAX || e >= g->nedges) return h;
    uint32_t l = g->edge_label[e];
    h.kind = PK_EDGE_KIND(l);
    h.arg = PK_EDGE_ARG(l);
    if (h.kind == PK_EK_ATTR || h.kind == PK_EK_MODULE)
        h.text = pk_graph_str(g, h.arg);
    else if (h.kind == PK_EK_VALUE && h.arg < g->n && g->text[h.arg] != NONE32)
        h.text = pk_graph_str(g, g->text[h.arg]);
    return h;
}

/* An instance's attribute dict (X.__dict__, a dict that is no instance asked for): left out
   of the drawing, its entries become attributes of X. */
static int is_instance_dict(const struct builder *bd, uint32_t pred, uint32_t v,
                            const struct hop *into)
{
    const struct pk_graph *g = bd->g;
    if (pred == 0 || (g->flags[pred] & PK_GN_VIRTUAL)) return 0;
    if (into->kind != PK_EK_ATTR || !into->text || strcmp(into->text, "__dict__")) return 0;
    if (g->type[v] < g->ntypes && bd->match[g->type[v]]) return 0;
    return !strcmp(pk_graph_type_name(g, v), "dict");
}

/* Adds the objects chain[len-1] (nearest to the root) .. chain[0] under tree node base, whose
   graph node is base_v; edges[k] enters chain[k]. Each graph node is merged once (memo).
   Returns 0, 1 when the tree is full, or -PK_E_INTERNAL. */
static int add_chain(struct builder *bd, uint32_t *memo, uint32_t base, uint32_t base_v,
                     const uint32_t *chain, const uint64_t *edges, size_t len)
{
    const struct pk_graph *g = bd->g;
    uint32_t cur = base, pred = base_v;
    int folded = base_v < g->n && bd->folded[base_v], oom = 0;
    for (size_t k = len; k-- > 0;) {
        uint32_t v = chain[k];
        struct hop h = edge_hop(g, edges[k]);
        if (folded && h.kind == PK_EK_VALUE && h.text) h.kind = HOP_DICT_ATTR;
        folded = k > 0 && is_instance_dict(bd, pred, v, &h);
        if (folded) {
            memo[v] = cur;
            bd->folded[v] = 1;
        } else {
            uint32_t id = child_node(bd, cur, v, &h, &oom);
            if (oom) return -PK_E_INTERNAL;
            if (id == NONE32) return 1;
            bd->t->nodes[id].count++;
            bd->t->nodes[id].bytes += g->size[v];
            memo[v] = cur = id;
        }
        pred = v;
    }
    return 0;
}

/* Reverse CSR of edge indices: the edges into v are redge[rfirst[v] .. rfirst[v+1]). */
static int reverse_edges(const struct pk_graph *g, uint64_t **rfirst, uint64_t **redge)
{
    uint64_t *f = calloc((size_t)g->n + 1, sizeof *f);
    uint64_t *r = malloc((g->nedges ? g->nedges : 1) * sizeof *r);
    uint64_t *pos = malloc(((size_t)g->n + 1) * sizeof *pos);
    if (!f || !r || !pos) {
        free(f);
        free(r);
        free(pos);
        return -PK_E_INTERNAL;
    }
    for (uint64_t e = 0; e < g->nedges; e++)
        f[g->edge_dst[e] + 1]++;
    for (uint32_t v = 0; v < g->n; v++)
        f[v + 1] += f[v];
    memcpy(pos, f, ((size_t)g->n + 1) * sizeof *pos);
    for (uint32_t v = 0; v < g->n; v++)
        for (uint64_t e = g->edge_first[v]; e < g->edge_first[v + 1]; e++)
            r[pos[g->edge_dst[e]]++] = e;
    free(pos);
    *rfirst = f;
    *redge = r;
    return 0;
}

/* The node an edge leaves from (edge_first is ascending). */
static uint32_t edge_source(const struct pk_graph *g, uint64_t e)
{
    uint32_t lo = 0, hi = g->n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->edge_first[mid] <= e)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void format_edge(const struct pk_graph *g, const struct building *b, uint64_t count,
                        char *buf, size_t cap)
{
    char first[128];
    const struct hop *h = &b->first;
    switch (h->kind) {
    case HOP_DICT_ATTR:
        snprintf(buf, cap, ".%.64s", h->text);
        return;
    case PK_EK_MODULE:
        snprintf(buf, cap, "['%.64s']", h->text);
        return;
    case PK_EK_NONE:
        buf[0] = '\0';
        return;
    case PK_EK_KEY:
        snprintf(buf, cap, "(key)");
        return;
    case PK_EK_ITEM:
        snprintf(buf, cap, "(member)");
        return;
    default:
        break;
    }
    pk_graph_edge_label(g, PK_EDGE(h->kind, h->arg), first, sizeof first);
    if (!b->hops_differ || count < 2)
        snprintf(buf, cap, "%s", first);
    else if (h->kind == PK_EK_INDEX)
        snprintf(buf, cap, "[%u] .. [%u]", b->idx_min, b->idx_max);
    else
        snprintf(buf, cap, "%s ...", first);
}

int pk_why_tree_compute(const struct pk_graph *g, const char *type, struct pk_why_tree *t,
                        struct pk_err *e)
{
    memset(t, 0, sizeof *t);
    struct builder bd = {g, NULL, t, NULL, {0}, NONE32, NONE32, NULL};
    uint32_t *parent = NULL, *idom = NULL, *memo = NULL, *chain = NULL;
    uint64_t *pedge = NULL, *ret = NULL, *rcnt = NULL, *edges = NULL, *rfirst = NULL, *redge = NULL;
    uint8_t *match = NULL;
    int r = -PK_E_INTERNAL;
    for (size_t i = 0; i < HASH_SLOTS; i++)
        bd.slots[i] = NONE32;
    if (!(t->query = strdup(type))) goto out;
    t->nodes = calloc(PK_WHY_TREE_MAX_NODES, sizeof *t->nodes);
    bd.b = calloc(PK_WHY_TREE_MAX_NODES, sizeof *bd.b);
    bd.match = match = calloc(g->ntypes + 1, 1);
    if (!t->nodes || !bd.b || !match) goto out;
    for (uint32_t k = 0; k < g->ntypes; k++)
        if (g->type_names[k] && pk_why_type_matches(g->type_names[k], type))
            match[k] = 1, t->matched = 1;
    if (pk_graph_bfs(g, &parent, &pedge) < 0 || pk_graph_retained(g, &idom, &ret, &rcnt) < 0)
        goto out;
    size_t cap = (size_t)g->n ? g->n : 1;
    memo = malloc(cap * sizeof *memo);
    bd.folded = calloc(cap, 1);
    chain = malloc(cap * sizeof *chain);
    edges = malloc(cap * sizeof *edges);
    if (!memo || !chain || !edges || !bd.folded) goto out;
    for (uint32_t v = 0; v < g->n; v++)
        memo[v] = NONE32;
    uint64_t unknown_drawn = 0;
    for (uint32_t v = 1; v < g->n; v++) {
        uint32_t ty = g->type[v];
        if ((g->flags[v] & PK_GN_VIRTUAL) || ty >= g->ntypes || !match[ty]) continue;
        t->instances++;
        t->bytes += g->size[v];
        size_t len = 0;
        uint32_t x = v, base = NONE32;
        int oom = 0;
        if (parent[v] != NONE32) {
            t->reachable++;
            /* up the breadth-first tree to a merged node, a root slot or sys.modules */
            while (x != 0 && memo[x] == NONE32 && !(g->flags[x] & PK_GN_VIRTUAL) && len < cap) {
                chain[len] = x;
                edges[len++] = pedge[x];
                x = parent[x];
            }
            if (memo[x] != NONE32)
                base = memo[x];
            else if (x == 0)
                base = root_node(&bd, &bd.modules_root, PK_WN_MODULES, "sys.modules", 0, &oom);
            else
                base = root_node(&bd, &memo[x],
                                 (g->flags[x] & PK_GN_FRAME) ? PK_WN_FRAME : PK_WN_GLOBAL,
                                 pk_graph_str(g, g->text[x]), ret[x], &oom);
        } else {
            t->unknown++;
            if (unknown_drawn >= MAX_UNKNOWN_DRAWN) {
                t->undrawn++;
                continue;
            }
            unknown_drawn++;
            if (!rfirst && reverse_edges(g, &rfirst, &redge) < 0) goto out;
            /* up through referrers (none reached from a root), a few hops */
            for (;;) {
                if (memo[x] != NONE32) {
                    base = memo[x];
                    break;
                }
                if (len == UNKNOWN_HOPS) {
                    edges[len - 1] = UINT64_MAX; /* its referrer is not drawn */
                    x = 0;
                    break;
                }
                chain[len] = x;
                edges[len++] = UINT64_MAX;
                uint32_t next = NONE32;
                for (uint64_t k = rfirst[x]; k < rfirst[x + 1] && next == NONE32; k++) {
                    uint32_t p = edge_source(g, redge[k]);
                    int seen = (g->flags[p] & PK_GN_VIRTUAL) != 0;
                    for (size_t j = 0; j < len && !seen; j++)
                        seen = chain[j] == p;
                    if (!seen) next = p, edges[len - 1] = redge[k];
                }
                if (next == NONE32) {
                    x = 0;
                    break;
                }
                x = next;
            }
            if (base == NONE32)
                base = root_node(&bd, &bd.unknown_root, PK_WN_UNKNOWN, "held from C / unknown", 0,
                                 &oom);
        }
        if (oom) goto out;
        if (base == NONE32) {
            t->undrawn++;
            continue;
        }
        int rc = add_chain(&bd, memo, base, x, chain, edges, len);
        if (rc < 0) goto out;
        t->undrawn += rc > 0;
    }
    if (bd.unknown_root != NONE32) t->nodes[bd.unknown_root].count = t->unknown;
    for (size_t i = 0; i < t->n; i++) {
        char buf[192];
        if (t->nodes[i].parent == NONE32) continue;
        format_edge(g, &bd.b[i], t->nodes[i].count, buf, sizeof buf);
        if (!(t->nodes[i].edge = strdup(buf))) goto out;
    }
    r = 0;
out:
    free(parent);
    free(pedge);
    free(idom);
    free(ret);
    free(rcnt);
    free(memo);
    free(chain);
    free(edges);
    free(rfirst);
    free(redge);
    free(match);
    free(bd.b);
    free(bd.folded);
    if (r < 0) {
        pk_why_tree_free(t);
        pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    return r;
}

void pk_why_tree_free(struct pk_why_tree *t)
{
    free(t->query);
    for (size_t i = 0; i < t->n; i++) {
        free(t->nodes[i].label);
        free(t->nodes[i].edge);
    }
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
