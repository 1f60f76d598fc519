/* Analysing the object graph after the target is resumed: dominators and retained sizes,
   shortest paths, the untracked census and the coverage of the references pypeek read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/graph.h"

#define NONE32 UINT32_MAX
#define MAX_DOM_PASSES 1000
#define PATH_MAX_HOPS 256

/* Predecessors in CSR form. */
int pk_graph_predecessors(const struct pk_graph *g, uint64_t **first, uint32_t **src)
{
    uint64_t *f = calloc((size_t)g->n + 1, sizeof *f);
    uint32_t *s = malloc((g->nedges ? g->nedges : 1) * sizeof *s);
    if (!f || !s) {
        free(f);
        free(s);
        return -PK_E_INTERNAL;
    }
    for (uint64_t e = 0; e < g->nedges; e++)
        f[g->edge_dst[e] + 1]++;
    for (uint32_t v = 0; v < g->n; v++)
        f[v + 1] += f[v];
    uint64_t *pos = malloc(((size_t)g->n + 1) * sizeof *pos);
    if (!pos) {
        free(f);
        free(s);
        return -PK_E_INTERNAL;
    }
    memcpy(pos, f, ((size_t)g->n + 1) * sizeof *pos);
    for (uint32_t v = 0; v < g->n; v++)
        for (uint64_t e = g->edge_first[v]; e < g->edge_first[v + 1]; e++)
            s[pos[g->edge_dst[e]]++] = v;
    free(pos);
    *first = f;
    *src = s;
    return 0;
}

/* Reverse postorder from node 0 by an explicit-stack DFS. order[k] = k-th node in RPO,
   rpo[v] = its position or NONE32. */
static int reverse_postorder(const struct pk_graph *g, uint32_t *order, uint32_t *rpo,
                             uint32_t *nreach)
{
    uint32_t *stack = malloc((size_t)g->n * sizeof *stack);
    uint64_t *next = malloc((size_t)g->n * sizeof *next);
    if (!stack || !next) {
        free(stack);
        free(next);
        return -PK_E_INTERNAL;
    }
    for (uint32_t v = 0; v < g->n; v++)
        rpo[v] = NONE32;
    uint32_t sp = 0, post = 0;
    stack[sp++] = 0;
    rpo[0] = 0; /* visited mark */
    next[0] = g->edge_first[0];
    while (sp) {
        uint32_t v = stack[sp - 1];
        if (next[v] < g->edge_first[v + 1]) {
            uint32_t w = g->edge_dst[next[v]++];
            if (rpo[w] == NONE32) {
                rpo[w] = 0;
                next[w] = g->edge_first[w];
                stack[sp++] = w;
            }
        } else {
            order[post++] = v;
            sp--;
        }
    }
    /* postorder -> reverse postorder */
    for (uint32_t i = 0; i < post / 2; i++) {
        uint32_t t = order[i];
        order[i] = order[post - 1 - i];
        order[post - 1 - i] = t;
    }
    for (uint32_t i = 0; i < post; i++)
        rpo[order[i]] = i;
    *nreach = post;
    free(stack);
    free(next);
    return 0;
}

int pk_graph_retained(const struct pk_graph *g, uint32_t **idom_out, uint64_t **ret_out,
                      uint64_t **cnt_out)
{
    uint64_t *pf = NULL;
    uint32_t *ps = NULL, *order = NULL, *rpo = NULL, *idom = NULL, nreach = 0;
    uint64_t *ret = NULL, *cnt = NULL;
    int r = -PK_E_INTERNAL;
    if (g->n == 0 || pk_graph_predecessors(g, &pf, &ps) < 0) goto out;
    order = malloc((size_t)g->n * sizeof *order);
    rpo = malloc((size_t)g->n * sizeof *rpo);
    idom = malloc((size_t)g->n * sizeof *idom);
    ret = calloc(g->n, sizeof *ret);
    cnt = calloc(g->n, sizeof *cnt);
    if (!order || !rpo || !idom || !ret || !cnt) goto out;
    if (reverse_postorder(g, order, rpo, &nreach) < 0) goto out;
    /* Cooper, Harvey, Kennedy: "A Simple, Fast Dominance Algorithm", on RPO numbers. */
    for (uint32_t v = 0; v < g->n; v++)
        idom[v] = NONE32;
    idom[0] = 0;
    int changed = 1;
    for (int pass = 0; changed && pass < MAX_DOM_PASSES; pass++) {
        changed = 0;
        for (uint32_t k = 1; k < nreach; k++) {
            uint32_t v = order[k], nd = NONE32;
            for (uint64_t e = pf[v]; e < pf[v + 1]; e++) {
                uint32_t p = ps[e];
                if (idom[p] == NONE32) continue;
                if (nd == NONE32) {
                    nd = p;
                    continue;
                }
                uint32_t a = p, b = nd;
                while (a != b) {
                    while (rpo[a] > rpo[b])
                        a = idom[a];
                    while (rpo[b] > rpo[a])
                        b = idom[b];
                }
                nd = a;
            }
            if (nd != NONE32 && idom[v] != nd) {
                idom[v] = nd;
                changed = 1;
            }
        }
    }
    for (uint32_t k = 0; k < nreach; k++) {
        uint32_t v = order[k];
        ret[v] = (g->flags[v] & PK_GN_VIRTUAL) ? 0 : g->size[v];
        cnt[v] = (g->flags[v] & PK_GN_VIRTUAL) ? 0 : 1;
    }
    for (uint32_t k = nreach; k-- > 1;) {
        uint32_t v = order[k];
        ret[idom[v]] += ret[v];
        cnt[idom[v]] += cnt[v];
    }
    *idom_out = idom;
    *ret_out = ret;
    *cnt_out = cnt;
    idom = NULL;
    ret = cnt = NULL;
    r = 0;
out:
    free(pf);
    free(ps);
    free(order);
    free(rpo);
    free(idom);
    free(ret);
    free(cnt);
    return r;
}

int pk_graph_bfs(const struct pk_graph *g, uint32_t **parent_out, uint64_t **pedge_out)
{
    uint32_t *parent = malloc(((size_t)g->n ? g->n : 1) * sizeof *parent);
    uint64_t *pedge = malloc(((size_t)g->n ? g->n : 1) * sizeof *pedge);
    uint32_t *queue = malloc(((size_t)g->n ? g->n : 1) * sizeof *queue);
    if (!parent || !pedge || !queue) {
        free(parent);
        free(pedge);
        free(queue);
        return -PK_E_INTERNAL;
    }
    for (uint32_t v = 0; v < g->n; v++)
        parent[v] = NONE32, pedge[v] = UINT64_MAX;
    uint32_t qh = 0, qt = 0;
    if (g->n) {
        parent[0] = 0;
        queue[qt++] = 0;
    }
    while (qh < qt) {
        uint32_t v = queue[qh++];
        for (uint64_t e = g->edge_first[v]; e < g->edge_first[v + 1]; e++) {
            uint32_t w = g->edge_dst[e];
            if (parent[w] != NONE32) continue;
            parent[w] = v;
            pedge[w] = e;
            queue[qt++] = w;
        }
    }
    free(queue);
    *parent_out = parent;
    *pedge_out = pedge;
    return 0;
}

size_t pk_graph_path(const struct pk_graph *g, const uint32_t *parent, const uint64_t *pedge,
                     uint32_t v, char **hops, size_t max, size_t cap)
{
    if (v >= g->n || parent[v] == NONE32 || max < 2) return 0;
    uint32_t chain[PATH_MAX_HOPS];
    size_t n = 0;
    /* walk up to the global slot (or the root) */
    for (uint32_t cur = v; n < PATH_MAX_HOPS; cur = parent[cur]) {
        chain[n++] = cur;
        if (cur == 0 || (g->flags[cur] & PK_GN_VIRTUAL)) break;
    }
    /* chain: v ... slot (reversed) */
    size_t out = 0;
    char label[128];
    uint32_t top = chain[n - 1];
    if (n < 2) { /* v is the root or a slot itself */
        snprintf(hops[out++], cap, "%s", top == 0 ? "sys.modules" : pk_graph_str(g, g->text[top]));
        return out;
    }
    /* chain[n-1] is a slot: its value chain[n-2] is named by the global; or the root: the
       module chain[n-2] is named by its sys.modules entry */
    char top_name[128];
    if (top == 0)
        pk_graph_edge_label(g, g->edge_label[pedge[chain[n - 2]]], top_name, sizeof top_name);
    else
        snprintf(top_name, sizeof top_name, "%s", pk_graph_str(g, g->text[top]));
    for (size_t k = n - 1; k-- > 0 && out + 1 < max;) {
        uint32_t node = chain[k];
        const char *name = k == n - 2 && ((g->flags[top] & PK_GN_VIRTUAL) || top == 0)
                               ? top_name
                               : pk_graph_type_name(g, node);
        if (k == 0) {
            if (k == n - 2 && out == 0) snprintf(hops[out++], cap, "%s", name);
            snprintf(hops[out++], cap, "%s", pk_graph_type_name(g, node));
            break;
        }
        uint32_t l1 = g->edge_label[pedge[chain[k - 1]]];
        /* an instance's __dict__ entry reads as an attribute: X.__dict__ -> dict['a'] is X.a */
        if (k >= 2 && PK_EDGE_KIND(l1) == PK_EK_ATTR &&
            !strcmp(pk_graph_str(g, PK_EDGE_ARG(l1)), "__dict__") &&
            !strcmp(pk_graph_type_name(g, chain[k - 1]), "dict")) {
            uint32_t l2 = g->edge_label[pedge[chain[k - 2]]], key = PK_EDGE_ARG(l2);
            if (PK_EDGE_KIND(l2) == PK_EK_VALUE && key < g->n && g->text[key] != NONE32) {
                snprintf(hops[out++], cap, "%s.%.64s", name, pk_graph_str(g, g->text[key]));
                k--; /* the dict is folded into the hop */
                if (k == 0) break;
                continue;
            }
        }
        pk_graph_edge_label(g, l1, label, sizeof label);
        snprintf(hops[out++], cap, "%s%s", name, label);
    }
    return out;
}

/* --- the summary for the snapshot --- */

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return a < b ? 1 : a > b ? -1 : 0;
}

struct ranked {
    uint32_t node;
    uint64_t bytes;
};

static int cmp_ranked(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;
    int c = cmp_u64_desc(a->bytes, b->bytes);
    return c ? c : (a->node > b->node) - (a->node < b->node);
}

static int cmp_stat_bytes(const void *x, const void *y)
{
    const struct pk_type_stat *a = x, *b = y;
    int c = cmp_u64_desc(a->bytes, b->bytes);
    return c ? c : strcmp(a->name, b->name);
}

static int cmp_stat_count(const void *x, const void *y)
{
    const struct pk_type_stat *a = x, *b = y;
    int c = cmp_u64_desc(a->count, b->count);
    return c ? c : strcmp(a->name, b->name);
}

/* What the dominator subtree of v holds, by type (children lists built once). */
int pk_graph_subtree_types(const struct pk_graph *g, const uint64_t *cfirst, const uint32_t *child,
                           uint32_t v, struct pk_retainer *rt)
{
    uint64_t *cnt = calloc(g->ntypes + 1, sizeof *cnt), *byt = calloc(g->ntypes + 1, sizeof *byt);
    uint32_t *stack = malloc(((size_t)g->n ? g->n : 1) * sizeof *stack);
    int r = -PK_E_INTERNAL;
    if (!cnt || !byt || !stack) goto out;
    uint32_t sp = 0;
    stack[sp++] = v;
    while (sp) {
        uint32_t x = stack[--sp];
        uint32_t t = g->type[x];
        if (t < g->ntypes) cnt[t]++, byt[t] += g->size[x];
        for (uint64_t k = cfirst[x]; k < cfirst[x + 1]; k++)
            stack[sp++] = child[k];
    }
    size_t nt = 0;
    for (uint32_t t = 0; t < g->ntypes; t++)
        nt += cnt[t] != 0;
    rt->types = calloc(nt ? nt : 1, sizeof *rt->types);
    if (!rt->types) goto out;
    for (uint32_t t = 0; t < g->ntypes; t++) {
        if (!cnt[t]) continue;
        struct pk_type_stat *s = &rt->types[rt->ntypes++];
        s->name = strdup(g->type_names[t] ? g->type_names[t] : "?");
        s->count = cnt[t];
        s->bytes = byt[t];
        s->size_exact = g->type_exact[t];
    }
    qsort(rt->types, rt->ntypes, sizeof *rt->types, cmp_stat_bytes);
    r = 0;
out:
    free(cnt);
    free(byt);
    free(stack);
    return r;
}

static int is_container_type(const char *t)
{
    return !strcmp(t, "list") || !strcmp(t, "dict") || !strcmp(t, "set") ||
           !strcmp(t, "frozenset") || !strcmp(t, "tuple") || !strcmp(t, "collections.deque");
}

static int is_module_dict(const struct pk_graph *g, uint32_t v)
{
    uint64_t e = g->edge_first[v];
    for (; e < g->edge_first[v + 1]; e++)
        if (PK_EDGE_KIND(g->edge_label[e]) == PK_EK_GLOBAL) return 1;
    return 0;
}

#define MAX_CONTAINERS 10

/* The analysis of one graph: its inputs, the arrays it builds, and the snapshot it fills. */
struct analysis {
    const struct pk_graph *g;
    struct pk_graph_snap *h;
    size_t top;
    uint32_t *idom, *parent, *child;
    uint64_t *ret, *rcnt, *pedge, *cfirst;
    uint64_t *untracked_count, *untracked_bytes; /* per type */
    uint64_t *type_count;                        /* per type: untraversed, then unreachable */
    struct ranked *ranked;
    char **hops;
};

static void copy_graph_facts(const struct pk_graph *g, struct pk_graph_snap *h)
{
    memset(h, 0, sizeof *h);
    h->nodes = g->n;
    h->edges = g->nedges;
    h->partial = g->partial;
    snprintf(h->partial_reason, sizeof h->partial_reason, "%s", g->partial_reason);
    h->unreadable = g->unreadable;
    h->graph_bytes = g->bytes;
    h->frozen_us = g->frozen_us;
}

/* Untracked census and coverage: per type, the untracked objects and bytes and the tracked
   objects not traversed. */
static int count_coverage(struct analysis *a)
{
    const struct pk_graph *g = a->g;
    struct pk_graph_snap *h = a->h;
    a->untracked_count = calloc(g->ntypes + 1, sizeof *a->untracked_count);
    a->untracked_bytes = calloc(g->ntypes + 1, sizeof *a->untracked_bytes);
    a->type_count = calloc(g->ntypes + 1, sizeof *a->type_count);
    if (!a->untracked_count || !a->untracked_bytes || !a->type_count) return -1;
    for (uint32_t v = 0; v < g->n; v++) {
        uint8_t f = g->flags[v];
        uint32_t t = g->type[v];
        if ((f & PK_GN_VIRTUAL) || t >= g->ntypes) continue;
        if (!(f & PK_GN_TRACKED)) {
            a->untracked_count[t]++, a->untracked_bytes[t] += g->size[v];
            h->untracked_count++;
            h->untracked_bytes += g->size[v];
            /* an untracked object of a GC type pypeek cannot read (3.14's ContextVar without
               a tracked name or default): listed, not in the tracked coverage */
            if (f & (PK_GN_UNTRAVERSED | PK_GN_UNREADABLE)) a->type_count[t]++;
        } else if (f & (PK_GN_UNTRAVERSED | PK_GN_UNREADABLE)) {
            a->type_count[t]++;
            h->tracked_untraversed++;
        } else {
            h->tracked_traversed++;
        }
    }
    return 0;
}

/* Folds the untracked counts into the census' type list, adding types seen untracked only. */
static int fold_untracked_into_census(const struct analysis *a, struct pk_interp_snap *is)
{
    const struct pk_graph *g = a->g;
    size_t extra = 0;
    for (uint32_t t = 0; t < g->ntypes; t++) {
        if (!a->untracked_count[t]) continue;
        int found = 0;
        for (size_t k = 0; k < is->ntypes && !found; k++)
            found = !strcmp(is->types[k].name, g->type_names[t] ? g->type_names[t] : "");
        extra += !found;
    }
    struct pk_type_stat *nt = realloc(is->types, (is->ntypes + extra + 1) * sizeof *nt);
    if (!nt) return -1;
    is->types = nt;
    for (uint32_t t = 0; t < g->ntypes; t++) {
        if (!a->untracked_count[t] || !g->type_names[t]) continue;
        struct pk_type_stat *s = NULL;
        for (size_t k = 0; k < is->ntypes && !s; k++)
            if (!strcmp(is->types[k].name, g->type_names[t])) s = &is->types[k];
        if (!s) {
            s = &is->types[is->ntypes++];
            memset(s, 0, sizeof *s);
            s->name = strdup(g->type_names[t]);
            s->size_exact = g->type_exact[t];
        }
        s->untracked_count += a->untracked_count[t];
        s->untracked_bytes += a->untracked_bytes[t];
    }
    return 0;
}

/* The types with a non-zero count, most first. */
static int types_by_count(const struct pk_graph *g, const uint64_t *count,
                          struct pk_type_stat **out, size_t *n)
{
    size_t nt = 0;
    for (uint32_t t = 0; t < g->ntypes; t++)
        nt += count[t] != 0;
    *out = calloc(nt ? nt : 1, sizeof **out);
    if (!*out) return -1;
    for (uint32_t t = 0; t < g->ntypes; t++) {
        if (!count[t]) continue;
        struct pk_type_stat *s = &(*out)[(*n)++];
        s->name = strdup(g->type_names[t] ? g->type_names[t] : "?");
        s->count = count[t];
    }
    qsort(*out, *n, sizeof **out, cmp_stat_count);
    return 0;
}

/* Tracked objects no root dominates: counted, and per type in a->type_count. */
static void count_unreachable(struct analysis *a)
{
    const struct pk_graph *g = a->g;
    memset(a->type_count, 0, (g->ntypes + 1) * sizeof *a->type_count);
    for (uint32_t v = 1; v < g->n; v++)
        if ((g->flags[v] & PK_GN_TRACKED) && a->idom[v] == NONE32) {
            a->h->unreachable_tracked++;
            if (g->type[v] < g->ntypes) a->type_count[g->type[v]]++;
        }
}

/* The dominator tree's children (child[cfirst[v] .. cfirst[v + 1]]), for per-type breakdowns. */
static int dominator_children(struct analysis *a)
{
    const struct pk_graph *g = a->g;
    a->cfirst = calloc((size_t)g->n + 1, sizeof *a->cfirst);
    a->child = malloc(((size_t)g->n ? g->n : 1) * sizeof *a->child);
    if (!a->cfirst || !a->child) return -1;
    for (uint32_t v = 1; v < g->n; v++)
        if (a->idom[v] != NONE32) a->cfirst[a->idom[v] + 1]++;
    for (uint32_t v = 0; v < g->n; v++)
        a->cfirst[v + 1] += a->cfirst[v];
    uint64_t *pos = malloc(((size_t)g->n + 1) * sizeof *pos);
    if (!pos) return -1;
    memcpy(pos, a->cfirst, ((size_t)g->n + 1) * sizeof *pos);
    for (uint32_t v = 1; v < g->n; v++)
        if (a->idom[v] != NONE32) a->child[pos[a->idom[v]]++] = v;
    free(pos);
    return 0;
}

/* The globals (and frame locals) by retained bytes, the top ones as retainers. */
static int add_global_retainers(struct analysis *a)
{
    const struct pk_graph *g = a->g;
    struct pk_graph_snap *h = a->h;
    size_t nslots = 0;
    for (uint32_t v = 1; v < g->n; v++)
        nslots += (g->flags[v] & PK_GN_VIRTUAL) != 0;
    a->ranked = malloc((nslots + g->n + 1) * sizeof *a->ranked);
    if (!a->ranked) return -1;
    size_t nr = 0;
    for (uint32_t v = 1; v < g->n; v++)
        if ((g->flags[v] & PK_GN_VIRTUAL) && g->addr[v] != NONE32 && a->ret[v] > 0)
            a->ranked[nr++] = (struct ranked){v, a->ret[v]};
    qsort(a->ranked, nr, sizeof *a->ranked, cmp_ranked);
    size_t nglob = nr < a->top ? nr : a->top;
    h->retainers = calloc(nglob + MAX_CONTAINERS + 1, sizeof *h->retainers);
    a->hops = malloc(PATH_MAX_HOPS * sizeof *a->hops);
    if (!h->retainers || !a->hops) return -1;
    for (size_t k = 0; k < PATH_MAX_HOPS; k++)
        a->hops[k] = NULL;
    for (size_t k = 0; k < PATH_MAX_HOPS; k++)
        if (!(a->hops[k] = malloc(200))) return -1;
    for (size_t k = 0; k < nglob; k++) {
        uint32_t slot = a->ranked[k].node, val = (uint32_t)g->addr[slot];
        struct pk_retainer *rt = &h->retainers[h->nretainers++];
        rt->root = strdup(pk_graph_str(g, g->text[slot]));
        rt->type = strdup(pk_graph_type_name(g, val));
        rt->len = pk_graph_container_len(g, val);
        rt->retained_bytes = a->ret[slot];
        rt->retained_count = a->rcnt[slot];
        rt->is_frame_local = (g->flags[slot] & PK_GN_FRAME) != 0;
        rt->is_global = !rt->is_frame_local;
        if (pk_graph_subtree_types(g, a->cfirst, a->child, slot, rt) < 0) return -1;
    }
    return 0;
}

/* The largest containers (lists, dicts, sets, tuples) that are not a global's value nor a
   module dict, named by their path from a root. */
static int add_container_retainers(struct analysis *a)
{
    const struct pk_graph *g = a->g;
    struct pk_graph_snap *h = a->h;
    size_t nr = 0;
    for (uint32_t v = 1; v < g->n; v++) {
        if ((g->flags[v] & PK_GN_VIRTUAL) || a->idom[v] == NONE32 || a->ret[v] == 0) continue;
        if (g->flags[a->idom[v]] & PK_GN_VIRTUAL) continue; /* listed as the global */
        if (!is_container_type(pk_graph_type_name(g, v)) || is_module_dict(g, v)) continue;
        a->ranked[nr++] = (struct ranked){v, a->ret[v]};
    }
    qsort(a->ranked, nr, sizeof *a->ranked, cmp_ranked);
    for (size_t k = 0; k < nr && k < MAX_CONTAINERS; k++) {
        uint32_t v = a->ranked[k].node;
        size_t nh = pk_graph_path(g, a->parent, a->pedge, v, a->hops, PATH_MAX_HOPS, 200);
        if (!nh) continue;
        char name[1024];
        size_t o = 0;
        name[0] = '\0';
        for (size_t j = 0; j + 1 < nh && o < sizeof name; j++)
            o += (size_t)snprintf(name + o, sizeof name - o, "%s%s", j ? " -> " : "", a->hops[j]);
        if (nh == 1) snprintf(name, sizeof name, "%s", a->hops[0]);
        struct pk_retainer *rt = &h->retainers[h->nretainers++];
        rt->root = strdup(name);
        rt->type = strdup(pk_graph_type_name(g, v));
        rt->len = pk_graph_container_len(g, v);
        rt->retained_bytes = a->ret[v];
        rt->retained_count = a->rcnt[v];
        if (pk_graph_subtree_types(g, a->cfirst, a->child, v, rt) < 0) return -1;
    }
    return 0;
}

static void analysis_free(struct analysis *a)
{
    if (a->hops)
        for (size_t k = 0; k < PATH_MAX_HOPS; k++)
            free(a->hops[k]);
    free(a->hops);
    free(a->idom);
    free(a->parent);
    free(a->child);
    free(a->ret);
    free(a->rcnt);
    free(a->pedge);
    free(a->cfirst);
    free(a->untracked_count);
    free(a->untracked_bytes);
    free(a->type_count);
    free(a->ranked);
}

int pk_graph_analyse(const struct pk_graph *g, size_t top, struct pk_interp_snap *is,
                     struct pk_err *e)
{
    uint64_t t0 = pk_monotonic_us();
    struct pk_graph_snap *h = &is->graph;
    struct analysis a = {.g = g, .h = h, .top = top ? top : 50};
    int r = -PK_E_INTERNAL;
    copy_graph_facts(g, h);
    if (count_coverage(&a) < 0 || fold_untracked_into_census(&a, is) < 0 ||
        types_by_count(g, a.type_count, &h->untraversed_types, &h->nuntraversed_types) < 0)
        goto out;
    if (pk_graph_retained(g, &a.idom, &a.ret, &a.rcnt) < 0 ||
        pk_graph_bfs(g, &a.parent, &a.pedge) < 0)
        goto out;
    count_unreachable(&a);
    if (types_by_count(g, a.type_count, &h->unreachable_types, &h->nunreachable_types) < 0 ||
        dominator_children(&a) < 0 || add_global_retainers(&a) < 0 ||
        add_container_retainers(&a) < 0)
        goto out;
    if (pk_graph_holders(g, a.idom, a.ret, a.rcnt, a.cfirst, a.child, a.parent, a.pedge, a.top, h) <
        0)
        goto out;
    h->available = 1;
    r = 0;
out:
    analysis_free(&a);
    h->analysis_us = pk_monotonic_us() - t0;
    if (r < 0) pk_fail(e, PK_E_INTERNAL, "out of memory analysing the object graph");
    return r;
}
