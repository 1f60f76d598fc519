/* Reference chains to instances of a type: breadth-first from sys.modules and the threads'
   frame locals, predecessors for objects no root reaches. */
#include "cpython/why.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/graph.h"

#define NONE32 UINT32_MAX
#define MAX_HOPS 256
#define HOP_CAP 200
#define MAX_UNKNOWN_HOPS 64

int pk_why_type_matches(const char *name, const char *q)
{
    if (!strcmp(name, q)) return 1;
    if (strchr(q, '.')) return 0;
    const char *dot = strrchr(name, '.');
    return dot && !strcmp(dot + 1, q);
}

struct cand {
    uint32_t node, depth;
    uint32_t rank; /* among equal depths, the order the breadth-first walk met them */
};

static int cmp_cand(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;
    if (a->depth != b->depth) return a->depth < b->depth ? -1 : 1;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    return (a->node > b->node) - (a->node < b->node);
}

/* rank[v]: when the breadth-first walk from the root (the one pk_graph_bfs makes) met v;
   NONE32 when it did not. */
static uint32_t *bfs_rank(const struct pk_graph *g)
{
    uint32_t *rank = malloc(((size_t)g->n ? g->n : 1) * sizeof *rank);
    uint32_t *queue = malloc(((size_t)g->n ? g->n : 1) * sizeof *queue);
    if (!rank || !queue) {
        free(rank);
        free(queue);
        return NULL;
    }
    for (uint32_t v = 0; v < g->n; v++)
        rank[v] = NONE32;
    uint32_t qh = 0, qt = 0;
    if (g->n) rank[0] = 0, queue[qt++] = 0;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        for (uint64_t e = g->edge_first[v]; e < g->edge_first[v + 1]; e++) {
            uint32_t w = g->edge_dst[e];
            if (rank[w] != NONE32) continue;
            rank[w] = qt;
            queue[qt++] = w;
        }
    }
    free(queue);
    return rank;
}

static int cmp_root(const void *x, const void *y)
{
    const struct pk_why_root *a = x, *b = y;
    if (a->instances != b->instances) return a->instances < b->instances ? 1 : -1;
    return strcmp(a->root, b->root);
}

static uint32_t slot_of(const struct pk_graph *g, const uint32_t *parent, uint32_t v,
                        uint32_t *depth)
{
    uint32_t d = 0;
    while (v != 0 && parent[v] != NONE32 && !(g->flags[v] & PK_GN_VIRTUAL) && d < MAX_HOPS) {
        v = parent[v];
        d++;
    }
    *depth = d;
    return v != 0 && (g->flags[v] & PK_GN_VIRTUAL) ? v : NONE32; /* the root is no slot */
}

static char *fmt_hop(const struct pk_graph *g, uint32_t from, uint32_t to)
{
    char label[128], buf[HOP_CAP + 128];
    label[0] = '\0';
    for (uint64_t e = g->edge_first[from]; e < g->edge_first[from + 1]; e++)
        if (g->edge_dst[e] == to) {
            pk_graph_edge_label(g, g->edge_label[e], label, sizeof label);
            break;
        }
    snprintf(buf, sizeof buf, "%s%s", pk_graph_type_name(g, from), label);
    return strdup(buf);
}

/* A chain for an object no module global reaches: up through its referrers. */
static int unknown_chain(const struct pk_graph *g, const uint64_t *pf, const uint32_t *ps,
                         uint32_t v, struct pk_why_chain *c)
{
    uint32_t path[MAX_UNKNOWN_HOPS];
    size_t n = 0;
    path[n++] = v;
    while (n < MAX_UNKNOWN_HOPS) {
        uint32_t cur = path[n - 1], next = NONE32;
        for (uint64_t e = pf[cur]; e < pf[cur + 1] && next == NONE32; e++) {
            uint32_t p = ps[e];
            int seen = 0;
            for (size_t k = 0; k < n; k++)
                seen |= path[k] == p;
            if (!seen && !(g->flags[p] & PK_GN_VIRTUAL)) next = p;
        }
        if (next == NONE32) break;
        path[n++] = next;
    }
    c->root = strdup("held from C / unknown");
    c->hops = calloc(n, sizeof *c->hops);
    if (!c->root || !c->hops) return -PK_E_INTERNAL;
    for (size_t k = n - 1; k > 0; k--)
        if (!(c->hops[c->nhops++] = fmt_hop(g, path[k], path[k - 1]))) return -PK_E_INTERNAL;
    return 0;
}

/* One query over one graph: the arrays it builds, freed by why_state_free. */
struct why_state {
    const struct pk_graph *g;
    struct pk_why *w;
    uint32_t *parent, *idom, *ps, *rank;
    uint64_t *pedge, *ret, *rcnt, *pf, *per_slot;
    uint8_t *match; /* per type: its name matches the query */
    struct cand *cands;
    size_t ncands;
    char **hops;
};

/* The types whose name matches the query, marked in st->match and listed in w->types. */
static int match_types(struct why_state *st, const char *type)
{
    const struct pk_graph *g = st->g;
    struct pk_why *w = st->w;
    if (!(w->query = strdup(type))) return -1;
    st->match = calloc(g->ntypes + 1, 1);
    if (!st->match) return -1;
    for (uint32_t t = 0; t < g->ntypes; t++)
        if (g->type_names[t] && pk_why_type_matches(g->type_names[t], type)) {
            st->match[t] = 1;
            char **nt = realloc(w->types, (w->ntypes + 1) * sizeof *nt);
            if (!nt) return -1;
            w->types = nt;
            w->types[w->ntypes++] = strdup(g->type_names[t]);
        }
    return 0;
}

/* Counts the matching instances, per root slot too, and sorts them as chain candidates. */
static int count_instances(struct why_state *st)
{
    const struct pk_graph *g = st->g;
    struct pk_why *w = st->w;
    st->per_slot = calloc(g->n, sizeof *st->per_slot);
    st->cands = malloc(((size_t)g->n ? g->n : 1) * sizeof *st->cands);
    if (!st->per_slot || !st->cands) return -1;
    for (uint32_t v = 1; v < g->n; v++) {
        uint32_t t = g->type[v];
        if ((g->flags[v] & PK_GN_VIRTUAL) || t >= g->ntypes || !st->match[t]) continue;
        w->instances++;
        w->bytes += g->size[v];
        uint32_t depth = UINT32_MAX;
        if (st->parent[v] != NONE32) {
            uint32_t slot = slot_of(g, st->parent, v, &depth);
            if (slot != NONE32) st->per_slot[slot]++;
            w->reachable++;
        } else {
            w->unknown++;
        }
        st->cands[st->ncands++] = (struct cand){v, depth, st->rank[v]};
    }
    qsort(st->cands, st->ncands, sizeof *st->cands, cmp_cand);
    return 0;
}

/* The roots, by instances held. */
static int list_roots(struct why_state *st)
{
    const struct pk_graph *g = st->g;
    struct pk_why *w = st->w;
    size_t nroots = 0;
    for (uint32_t v = 1; v < g->n; v++)
        nroots += st->per_slot[v] != 0;
    w->roots = calloc(nroots ? nroots : 1, sizeof *w->roots);
    if (!w->roots) return -1;
    for (uint32_t v = 1; v < g->n; v++) {
        if (!st->per_slot[v]) continue;
        struct pk_why_root *rt = &w->roots[w->nroots++];
        rt->root = strdup(pk_graph_str(g, g->text[v]));
        rt->instances = st->per_slot[v];
        rt->retained_bytes = st->ret[v];
    }
    qsort(w->roots, w->nroots, sizeof *w->roots, cmp_root);
    return 0;
}

/* The chain from a root slot (or sys.modules) down the shortest path to v. */
static int reachable_chain(struct why_state *st, uint32_t v, struct pk_why_chain *c)
{
    const struct pk_graph *g = st->g;
    uint32_t depth, slot = slot_of(g, st->parent, v, &depth);
    size_t nh = pk_graph_path(g, st->parent, st->pedge, v, st->hops, MAX_HOPS, HOP_CAP);
    c->from_frame = slot != NONE32 && (g->flags[slot] & PK_GN_FRAME);
    c->from_global = slot != NONE32 && !c->from_frame;
    c->root = strdup(slot != NONE32 ? pk_graph_str(g, g->text[slot]) : "sys.modules");
    c->root_retained = slot != NONE32 ? st->ret[slot] : 0;
    c->hops = calloc(nh ? nh : 1, sizeof *c->hops);
    if (!c->root || !c->hops) return -1;
    /* the last hop is the target's own type name: kept apart */
    for (size_t j = 0; j + 1 < nh; j++)
        if (!(c->hops[c->nhops++] = strdup(st->hops[j]))) return -1;
    return 0;
}

/* Chains for the first limit candidates: the shortest first, then objects held from elsewhere. */
static int build_chains(struct why_state *st, size_t limit)
{
    const struct pk_graph *g = st->g;
    struct pk_why *w = st->w;
    size_t nch = st->ncands < limit ? st->ncands : limit;
    w->chains = calloc(nch ? nch : 1, sizeof *w->chains);
    st->hops = calloc(MAX_HOPS, sizeof *st->hops);
    if (!w->chains || !st->hops) return -1;
    for (size_t k = 0; k < MAX_HOPS; k++)
        if (!(st->hops[k] = malloc(HOP_CAP))) return -1;
    for (size_t k = 0; k < nch; k++) {
        uint32_t v = st->cands[k].node;
        struct pk_why_chain *c = &w->chains[w->nchains++];
        c->target_type = strdup(pk_graph_type_name(g, v));
        c->target_addr = g->addr[v];
        c->target_size = g->size[v];
        c->target_retained = st->idom[v] != NONE32 ? st->ret[v] : g->size[v];
        int rc = st->parent[v] == NONE32 ? unknown_chain(g, st->pf, st->ps, v, c)
                                         : reachable_chain(st, v, c);
        if (rc < 0) return -1;
    }
    return 0;
}

static void why_state_free(struct why_state *st)
{
    if (st->hops)
        for (size_t k = 0; k < MAX_HOPS; k++)
            free(st->hops[k]);
    free(st->hops);
    free(st->parent);
    free(st->rank);
    free(st->pedge);
    free(st->idom);
    free(st->ret);
    free(st->rcnt);
    free(st->pf);
    free(st->ps);
    free(st->per_slot);
    free(st->match);
    free(st->cands);
}

int pk_why_compute(const struct pk_graph *g, const char *type, size_t limit, struct pk_why *w,
                   struct pk_err *e)
{
    memset(w, 0, sizeof *w);
    struct why_state st = {.g = g, .w = w};
    int r = -PK_E_INTERNAL;
    if (match_types(&st, type) < 0) goto out;
    if (pk_graph_bfs(g, &st.parent, &st.pedge) < 0 ||
        pk_graph_retained(g, &st.idom, &st.ret, &st.rcnt) < 0 ||
        pk_graph_predecessors(g, &st.pf, &st.ps) < 0 || !(st.rank = bfs_rank(g)))
        goto out;
    if (count_instances(&st) < 0 || list_roots(&st) < 0 || build_chains(&st, limit) < 0) goto out;
    r = 0;
out:
    why_state_free(&st);
    if (r < 0) pk_fail(e, PK_E_INTERNAL, "out of memory");
    return r;
}

void pk_why_free(struct pk_why *w)
{
    free(w->query);
    for (size_t i = 0; i < w->ntypes; i++)
        free(w->types[i]);
    free(w->types);
    for (size_t i = 0; i < w->nchains; i++) {
        struct pk_why_chain *c = &w->chains[i];
        free(c->root);
        for (size_t k = 0; k < c->nhops; k++)
            free(c->hops[k]);
        free(c->hops);
        free(c->target_type);
    }
    free(w->chains);
    for (size_t i = 0; i < w->nroots; i++)
        free(w->roots[i].root);
    free(w->roots);
    memset(w, 0, sizeof *w);
}
