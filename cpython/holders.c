/* The holders of the reachable heap: the dominator tree under the virtual root (joined to
   every module global and frame local slot), its first level in full and the next levels of
   the largest as a tree, what reaches each shared object, and the leak suspects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/graph.h"

#define NONE32 UINT32_MAX
#define LEVEL0_MIN 50         /* level-0 holders listed at least (or --top) */
#define LEVEL0_MAX 10000      /* and at most, listing on until LEVEL0_SHARE */
#define LEVEL0_SHARE 85       /* % of the reachable bytes the listed level-0 holders cover */
#define TREE_HOLDERS 10       /* level-0 holders whose subtree is listed */
#define TREE_DEPTH 3          /* levels below a level-0 holder */
#define TREE_CHILDREN 5       /* children listed per holder */
#define ROOTS_HOLDERS 20      /* level-0 objects whose roots are counted (the largest) */
#define ROOTS_VISIT_MAX 50000 /* referrers visited to count the roots of one shared object */
#define LABEL_SCAN_MAX 100000 /* references of a parent scanned for the one to its child */
#define SUSPECT_SHARE 0.30    /* a level-0 holder retaining this share is a leak suspect */
#define HOPS_MAX 64
#define HOP_CAP 200

struct ranked {
    uint32_t node;
    uint64_t bytes;
};

static int cmp_ranked(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;
    if (a->bytes != b->bytes) return a->bytes < b->bytes ? 1 : -1;
    return (a->node > b->node) - (a->node < b->node);
}

/* The object a node stands for: a slot's value, else itself. */
static uint32_t object_of(const struct pk_graph *g, uint32_t v)
{
    if ((g->flags[v] & PK_GN_VIRTUAL) && g->addr[v] < g->n) return (uint32_t)g->addr[v];
    return v;
}

/* The reference from p to v as a label (".env", "['key']", "[3]"), "" when p does not refer
   to v directly (v is reached through several of p's objects). */
static void child_label(const struct pk_graph *g, uint32_t p, uint32_t v, char *buf, size_t cap)
{
    buf[0] = '\0';
    uint64_t lo = g->edge_first[p], hi = g->edge_first[p + 1];
    if (hi - lo > LABEL_SCAN_MAX) hi = lo + LABEL_SCAN_MAX;
    for (uint64_t e = lo; e < hi; e++)
        if (g->edge_dst[e] == v) {
            pk_graph_edge_label(g, g->edge_label[e], buf, cap);
            return;
        }
}

/* How many roots reach v: referrers followed back from v until a root slot or a module
   in sys.modules, each counted once; bounded by ROOTS_VISIT_MAX visits. */
static uint64_t count_roots(const struct pk_graph *g, const uint64_t *pf, const uint32_t *ps,
                            uint32_t v, uint8_t *mark, uint32_t *stack, uint32_t *touched,
                            int *capped)
{
    uint64_t roots = 0;
    size_t sp = 0, nt = 0;
    *capped = 0;
    stack[sp++] = v;
    mark[v] = 1;
    touched[nt++] = v;
    while (sp) {
        uint32_t x = stack[--sp];
        for (uint64_t e = pf[x]; e < pf[x + 1]; e++) {
            uint32_t p = ps[e];
            if (p == 0) { /* the root: x is a module in sys.modules, a thread or a slot */
                roots += (g->flags[x] & PK_GN_VIRTUAL) == 0;
                continue;
            }
            if (mark[p]) continue;
            if (nt >= ROOTS_VISIT_MAX) {
                *capped = 1;
                sp = 0;
                break;
            }
            mark[p] = 1;
            touched[nt++] = p;
            if ((g->flags[p] & PK_GN_VIRTUAL) && g->addr[p] != NONE32) {
                roots++; /* a global or frame-local slot: a root; not followed further */
                continue;
            }
            stack[sp++] = p;
        }
    }
    for (size_t k = 0; k < nt; k++)
        mark[touched[k]] = 0;
    return roots;
}

struct holders_ctx {
    const struct pk_graph *g;
    const uint32_t *idom;
    const uint64_t *ret, *rcnt, *cfirst;
    const uint32_t *child;
    struct pk_graph_snap *h;
    size_t cap;
    uint64_t min_bytes; /* children smaller than this are not listed */
};

static struct pk_holder *add_holder(struct holders_ctx *c, uint32_t v, const char *name, int kind,
                                    int64_t parent, uint32_t depth)
{
    struct pk_graph_snap *h = c->h;
    if (h->nholders == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        struct pk_holder *n = realloc(h->holders, nc * sizeof *n);
        if (!n) return NULL;
        h->holders = n;
        c->cap = nc;
    }
    struct pk_holder *hd = &h->holders[h->nholders];
    memset(hd, 0, sizeof *hd);
    uint32_t obj = object_of(c->g, v);
    hd->name = strdup(name);
    hd->type = strdup(pk_graph_type_name(c->g, obj));
    if (!hd->name || !hd->type) {
        free(hd->name);
        free(hd->type);
        return NULL;
    }
    hd->kind = kind;
    hd->parent = parent;
    hd->depth = depth;
    hd->len = obj < c->g->n ? pk_graph_container_len(c->g, obj) : -1;
    hd->retained_bytes = c->ret[v];
    hd->retained_count = c->rcnt[v];
    h->nholders++;
    return hd;
}

/* The dominator children of v, largest first, at most TREE_CHILDREN of at least min_bytes. */
static size_t top_children(const struct holders_ctx *c, uint32_t v, struct ranked *out)
{
    size_t n = 0;
    for (uint64_t k = c->cfirst[v]; k < c->cfirst[v + 1]; k++) {
        uint32_t w = c->child[k];
        if (c->ret[w] < c->min_bytes || !c->ret[w]) continue;
        struct ranked r = {w, c->ret[w]};
        if (n < TREE_CHILDREN) {
            out[n++] = r;
        } else if (cmp_ranked(&r, &out[n - 1]) < 0) {
            out[n - 1] = r;
        } else {
            continue;
        }
        for (size_t i = n - 1; i > 0 && cmp_ranked(&out[i], &out[i - 1]) < 0; i--) {
            struct ranked t = out[i];
            out[i] = out[i - 1];
            out[i - 1] = t;
        }
    }
    return n;
}

/* The subtree of v (already listed at index self) down to TREE_DEPTH levels. */
static int add_subtree(struct holders_ctx *c, uint32_t v, size_t self, uint32_t depth)
{
    if (depth >= TREE_DEPTH) return 0;
    /* a slot holds one object: its children are that object's, so no level repeats it */
    uint32_t from = object_of(c->g, v);
    if (from != v && c->idom[from] == v) v = from;
    struct ranked kids[TREE_CHILDREN];
    size_t n = top_children(c, v, kids);
    for (size_t i = 0; i < n; i++) {
        char label[128];
        child_label(c->g, v, kids[i].node, label, sizeof label);
        if (!add_holder(c, kids[i].node, label, PK_HK_OBJECT, (int64_t)self, depth + 1))
            return -PK_E_INTERNAL;
        int rc = add_subtree(c, kids[i].node, c->h->nholders - 1, depth + 1);
        if (rc < 0) return rc;
    }
    return 0;
}

int pk_graph_holders(const struct pk_graph *g, const uint32_t *idom, const uint64_t *ret,
                     const uint64_t *rcnt, const uint64_t *cfirst, const uint32_t *child,
                     const uint32_t *parent, const uint64_t *pedge, size_t top,
                     struct pk_graph_snap *h)
{
    struct holders_ctx c = {g, idom, ret, rcnt, cfirst, child, h, 0, 0};
    struct ranked *level0 = NULL;
    uint64_t *pf = NULL;
    uint32_t *ps = NULL, *stack = NULL, *touched = NULL;
    uint8_t *mark = NULL;
    char **hops = NULL;
    int r = -PK_E_INTERNAL;
    /* reachable and not */
    for (uint32_t v = 1; v < g->n; v++) {
        if (g->flags[v] & PK_GN_VIRTUAL) continue;
        if (idom[v] != NONE32) {
            h->reachable_count++;
            h->reachable_bytes += g->size[v];
            h->reachable_tracked += (g->flags[v] & PK_GN_TRACKED) != 0;
        } else {
            h->held_from_c_count++;
            h->held_from_c_bytes += g->size[v];
        }
    }
    /* level 0: the root's dominator children */
    size_t n0 = cfirst[1] - cfirst[0];
    level0 = malloc((n0 ? n0 : 1) * sizeof *level0);
    if (!level0) goto out;
    size_t nl = 0;
    for (uint64_t k = cfirst[0]; k < cfirst[1]; k++) {
        uint32_t v = child[k];
        if (!ret[v]) continue;
        level0[nl++] = (struct ranked){v, ret[v]};
    }
    qsort(level0, nl, sizeof *level0, cmp_ranked);
    h->level0_total = nl;
    if (pk_graph_predecessors(g, &pf, &ps) < 0) goto out;
    stack = malloc(((size_t)g->n ? g->n : 1) * sizeof *stack);
    touched = malloc(((size_t)g->n ? g->n : 1) * sizeof *touched);
    mark = calloc(g->n ? g->n : 1, 1);
    hops = calloc(HOPS_MAX, sizeof *hops);
    if (!stack || !touched || !mark || !hops) goto out;
    for (size_t k = 0; k < HOPS_MAX; k++)
        if (!(hops[k] = malloc(HOP_CAP))) goto out;
    uint64_t listed = 0;
    size_t want = top > LEVEL0_MIN ? top : LEVEL0_MIN;
    c.min_bytes = h->reachable_bytes / 1000;
    for (size_t i = 0; i < nl; i++) {
        uint32_t v = level0[i].node;
        /* a module in sys.modules (the root refers to it) counts with the globals */
        int is_module = 0;
        if (!(g->flags[v] & PK_GN_VIRTUAL))
            for (uint64_t e = pf[v]; e < pf[v + 1] && !is_module; e++)
                is_module = ps[e] == 0;
        if (is_module || !(g->flags[v] & PK_GN_VIRTUAL))
            *(is_module ? &h->globals_bytes : &h->shared_bytes) += ret[v];
        else if (g->flags[v] & PK_GN_FRAME)
            h->frames_bytes += ret[v];
        else
            h->globals_bytes += ret[v];
        if (i >= LEVEL0_MAX ||
            (i >= want && listed * 100 >= (uint64_t)LEVEL0_SHARE *
                                              (h->reachable_bytes ? h->reachable_bytes : 1)))
            continue;
        listed += ret[v];
        char name[1024];
        int kind;
        uint64_t roots = 1;
        int capped = 0;
        if (g->flags[v] & PK_GN_VIRTUAL) {
            kind = (g->flags[v] & PK_GN_FRAME) ? PK_HK_FRAME_LOCAL : PK_HK_GLOBAL;
            snprintf(name, sizeof name, "%s", pk_graph_str(g, g->text[v]));
        } else {
            kind = is_module ? PK_HK_MODULE : PK_HK_OBJECT;
            if (!is_module && i < ROOTS_HOLDERS)
                roots = count_roots(g, pf, ps, v, mark, stack, touched, &capped);
            else if (!is_module)
                roots = 0; /* not counted */
            size_t nh = pk_graph_path(g, parent, pedge, v, hops, HOPS_MAX, HOP_CAP);
            size_t o = 0;
            name[0] = '\0';
            for (size_t j = 0; j + 1 < nh && o < sizeof name; j++)
                o += (size_t)snprintf(name + o, sizeof name - o, "%s%s", j ? " -> " : "", hops[j]);
            if (nh == 1) snprintf(name, sizeof name, "%s", hops[0]);
        }
        struct pk_holder *hd = add_holder(&c, v, name, kind, -1, 0);
        if (!hd) goto out;
        hd->roots = roots;
        hd->roots_capped = capped;
        /* leak suspects: level-0 holders retaining SUSPECT_SHARE of the reachable heap */
        if (h->reachable_bytes && (double)ret[v] >= SUSPECT_SHARE * (double)h->reachable_bytes) {
            struct pk_leak_suspect *ns = realloc(h->suspects, (h->nsuspects + 1) * sizeof *ns);
            if (!ns) goto out;
            h->suspects = ns;
            struct pk_leak_suspect *s = &h->suspects[h->nsuspects++];
            memset(s, 0, sizeof *s);
            s->holder = h->nholders - 1;
            s->share = (double)ret[v] / (double)h->reachable_bytes;
            struct pk_retainer tmp = {0};
            if (pk_graph_subtree_types(g, cfirst, child, v, &tmp) < 0) goto out;
            s->types = tmp.types;
            s->ntypes = tmp.ntypes;
        }
        if (i < TREE_HOLDERS && add_subtree(&c, v, h->nholders - 1, 0) < 0) goto out;
    }
    r = 0;
out:
    if (hops)
        for (size_t k = 0; k < HOPS_MAX; k++)
            free(hops[k]);
    free(hops);
    free(level0);
    free(pf);
    free(ps);
    free(stack);
    free(touched);
    free(mark);
    return r;
}
