/* What the next full collection would free: CPython's cycle detection (update_refs,
   subtract_refs, move_unreachable) run on the copied object graph after the target resumed,
   with the unreachable objects' census, their retained untracked objects and example cycles. */
#include "cpython/unreachable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/gc_list.h"

#define NONE32 UINT32_MAX
#define MAX_EXAMPLES 3                /* groups (types) given an example cycle */
#define MAX_EXAMPLE_TRIES 8           /* members of a group tried as the cycle's start */
#define MAX_EXAMPLE_VISITS (1u << 20) /* nodes all the searches for one group visit at most */
#define MAX_HOPS 12                   /* hops of an example kept */
#define HOP_CHARS 240

enum {
    S_CAND = 1,   /* tracked in one of the three generations: what gc.collect() examines */
    S_ALIVE = 2,  /* reachable from a candidate with a positive gc_refs */
    S_RETAIN = 4, /* untracked, referenced only by unreachable objects (retained bytes) */
    S_UNTRAV = 8, /* a candidate whose references pypeek could not (all) read */
};

/* The object an edge leads to, through a module global's slot (the graph links a module dict
   to its values through virtual slot nodes); NONE32 for virtual nodes. */
static uint32_t referent(const struct pk_graph *g, uint32_t d)
{
    if (d == 0 || d >= g->n) return NONE32;
    uint8_t f = g->flags[d];
    if (!(f & PK_GN_VIRTUAL)) return d;
    if (f & PK_GN_FRAME) return NONE32;
    uint64_t v = g->addr[d];
    if (v == 0 || v >= g->n || (g->flags[v] & PK_GN_VIRTUAL)) return NONE32;
    return (uint32_t)v;
}

static int unreachable(const uint8_t *state, uint32_t v)
{
    return (state[v] & (S_CAND | S_ALIVE)) == S_CAND;
}

struct type_acc {
    uint32_t type;
    uint64_t count, bytes, finalizers;
};

static int cmp_acc(const void *x, const void *y)
{
    const struct type_acc *a = x, *b = y;
    if (a->count != b->count) return a->count < b->count ? 1 : -1;
    if (a->bytes != b->bytes) return a->bytes < b->bytes ? 1 : -1;
    return (a->type > b->type) - (a->type < b->type);
}

static const char *type_name(const struct pk_graph *g, uint32_t t)
{
    if (t >= g->ntypes || !g->type_names || !g->type_names[t]) return "?";
    return g->type_names[t];
}

/* The searches for example cycles share these arrays (n each). */
struct search {
    const struct pk_graph *g;
    const uint8_t *state;
    uint32_t *parent, *stamp, *queue;
    uint64_t *pedge;
    uint32_t round;
};

/* Breadth first from m among the unreachable objects until an edge leads back to m; on
   success the cycle's hops into ex. Returns 1 found, 0 not, -1 out of memory. */
static int find_cycle(struct search *s, uint32_t m, uint64_t *budget,
                      struct pk_unreachable_example *ex)
{
    const struct pk_graph *g = s->g;
    uint32_t r = ++s->round, head = 0, tail = 0, last = NONE32;
    uint64_t back = 0;
    s->stamp[m] = r;
    s->parent[m] = NONE32;
    s->queue[tail++] = m;
    while (head < tail && last == NONE32 && *budget) {
        uint32_t v = s->queue[head++];
        (*budget)--;
        for (uint64_t k = g->edge_first[v]; k < g->edge_first[v + 1]; k++) {
            uint32_t d = referent(g, g->edge_dst[k]);
            if (d == NONE32 || !unreachable(s->state, d)) continue;
            if (d == m) {
                last = v;
                back = k;
                break;
            }
            if (s->stamp[d] == r) continue;
            s->stamp[d] = r;
            s->parent[d] = v;
            s->pedge[d] = k;
            s->queue[tail++] = d;
        }
    }
    if (last == NONE32) return 0;
    /* the path m -> ... -> last, then last -> m: walk it backwards into a chain */
    size_t len = 1;
    for (uint32_t v = last; v != m; v = s->parent[v])
        len++;
    size_t keep = len < MAX_HOPS ? len : MAX_HOPS;
    ex->hops = calloc(keep, sizeof *ex->hops);
    if (!ex->hops) return -1;
    ex->truncated = len > keep;
    /* hop i: node i of the cycle and the edge it follows */
    uint32_t *nodes = malloc(len * sizeof *nodes);
    uint64_t *edges = malloc(len * sizeof *edges);
    if (!nodes || !edges) {
        free(nodes);
        free(edges);
        return -1;
    }
    size_t i = len;
    uint32_t v = last;
    uint64_t k = back;
    while (i > 0) {
        nodes[--i] = v;
        edges[i] = k;
        if (v == m) break;
        k = s->pedge[v];
        v = s->parent[v];
    }
    for (size_t h = 0; h < keep; h++) {
        char label[128];
        pk_graph_edge_label(g, g->edge_label[edges[h]], label, sizeof label);
        char hop[HOP_CHARS];
        snprintf(hop, sizeof hop, "%s%s", type_name(g, g->type[nodes[h]]), label);
        if (!(ex->hops[h] = strdup(hop))) {
            free(nodes);
            free(edges);
            return -1;
        }
        ex->nhops = h + 1;
    }
    free(nodes);
    free(edges);
    return 1;
}

static int examples(const struct pk_graph *g, const uint8_t *state, const struct type_acc *acc,
                    size_t nacc, struct pk_unreachable_snap *u)
{
    size_t want = nacc < MAX_EXAMPLES ? nacc : MAX_EXAMPLES;
    if (!want) return 0;
    struct search s = {g, state, NULL, NULL, NULL, NULL, 0};
    s.parent = malloc((size_t)g->n * sizeof *s.parent);
    s.stamp = calloc(g->n, sizeof *s.stamp);
    s.queue = malloc((size_t)g->n * sizeof *s.queue);
    s.pedge = malloc((size_t)g->n * sizeof *s.pedge);
    u->examples = calloc(want, sizeof *u->examples);
    int rc = 0;
    if (!s.parent || !s.stamp || !s.queue || !s.pedge || !u->examples) {
        rc = -1;
        goto out;
    }
    for (size_t t = 0; t < want; t++) {
        uint64_t budget = MAX_EXAMPLE_VISITS;
        int tries = 0, found = 0;
        struct pk_unreachable_example *ex = &u->examples[u->nexamples];
        for (uint32_t v = 1; v < g->n && tries < MAX_EXAMPLE_TRIES && !found && budget; v++) {
            if (!unreachable(state, v) || g->type[v] != acc[t].type) continue;
            tries++;
            found = find_cycle(&s, v, &budget, ex);
            if (found < 0) {
                rc = -1;
                goto out;
            }
        }
        if (!found) continue;
        if (!(ex->type = strdup(type_name(g, acc[t].type)))) {
            rc = -1;
            goto out;
        }
        u->nexamples++;
    }
out:
    free(s.parent);
    free(s.stamp);
    free(s.queue);
    free(s.pedge);
    return rc;
}

/* Untracked objects only the unreachable ones reach: every reference they have comes from
   an unreachable object or another such untracked object (a fixed point: one referenced from
   elsewhere drops out, and with it what only it held). Returns their bytes, or -1 (OOM). */
static int64_t retained_untracked(const struct pk_graph *g, uint8_t *state, int64_t *incoming,
                                  uint32_t *queue)
{
    uint32_t tail = 0;
    for (uint32_t v = 1; v < g->n; v++)
        if (unreachable(state, v)) queue[tail++] = v;
    /* everything untracked reachable from them through untracked objects */
    for (uint32_t head = 0; head < tail; head++) {
        uint32_t v = queue[head];
        for (uint64_t k = g->edge_first[v]; k < g->edge_first[v + 1]; k++) {
            uint32_t d = referent(g, g->edge_dst[k]);
            if (d == NONE32 || (g->flags[d] & (PK_GN_TRACKED | PK_GN_UNREADABLE)) ||
                (state[d] & S_RETAIN))
                continue;
            state[d] |= S_RETAIN;
            incoming[d] = 0;
            queue[tail++] = d;
        }
    }
    for (uint32_t i = 0; i < tail; i++) {
        uint32_t v = queue[i];
        for (uint64_t k = g->edge_first[v]; k < g->edge_first[v + 1]; k++) {
            uint32_t d = referent(g, g->edge_dst[k]);
            if (d != NONE32 && (state[d] & S_RETAIN)) incoming[d]++;
        }
    }
    /* drop those referenced from elsewhere, and what they alone held */
    uint32_t n_drop = 0;
    for (uint32_t i = 0; i < tail; i++) {
        uint32_t v = queue[i];
        if ((state[v] & S_RETAIN) && incoming[v] != g->refcnt[v]) {
            state[v] &= (uint8_t)~S_RETAIN;
            queue[n_drop++] = v; /* safe: n_drop <= i */
        }
    }
    for (uint32_t head = 0; head < n_drop; head++) {
        uint32_t v = queue[head];
        for (uint64_t k = g->edge_first[v]; k < g->edge_first[v + 1]; k++) {
            uint32_t d = referent(g, g->edge_dst[k]);
            if (d == NONE32 || !(state[d] & S_RETAIN)) continue;
            if (--incoming[d] != g->refcnt[d]) {
                state[d] &= (uint8_t)~S_RETAIN;
                queue[n_drop++] = d;
            }
        }
    }
    int64_t bytes = 0;
    for (uint32_t v = 1; v < g->n; v++)
        if (state[v] & S_RETAIN) bytes += (int64_t)g->size[v];
    return bytes;
}

int pk_unreachable_compute(const struct pk_graph *g, struct pk_unreachable_snap *u,
                           struct pk_err *e)
{
    pk_unreachable_snap_clear(u);
    uint64_t t0 = pk_monotonic_us();
    uint32_t n = g->n;
    uint8_t *state = calloc(n ? n : 1, 1);
    int64_t *refs = malloc((size_t)(n ? n : 1) * sizeof *refs);
    uint32_t *queue = malloc((size_t)(n ? n : 1) * sizeof *queue);
    uint32_t nt = g->ntypes + 1; /* the last: nodes without a known type */
    struct type_acc *acc = calloc(nt, sizeof *acc);
    struct type_acc *untrav = calloc(nt, sizeof *untrav);
    int rc = 0;
    if (!state || !refs || !queue || !acc || !untrav) goto oom;

    /* update_refs: gc_refs = ob_refcnt for each candidate; INT64_MAX = held from outside */
    uint64_t inconsistent = 0;
    for (uint32_t v = 1; v < n; v++) {
        uint8_t f = g->flags[v];
        refs[v] = 0;
        if (!(f & PK_GN_TRACKED) || (f & (PK_GN_PERMANENT | PK_GN_VIRTUAL))) continue;
        state[v] = S_CAND;
        refs[v] = g->refcnt[v];
        if (f & (PK_GN_UNTRAVERSED | PK_GN_UNREADABLE)) {
            state[v] |= S_UNTRAV;
            refs[v] = PK_REFCNT_EXTERNAL;
        }
    }
    /* subtract_refs: every reference from a candidate to a candidate */
    for (uint32_t v = 1; v < n; v++) {
        if (!(state[v] & S_CAND)) continue;
        for (uint64_t k = g->edge_first[v]; k < g->edge_first[v + 1]; k++) {
            uint32_t d = referent(g, g->edge_dst[k]);
            if (d != NONE32 && (state[d] & S_CAND) && refs[d] != PK_REFCNT_EXTERNAL) refs[d]--;
        }
    }
    /* move_unreachable: alive = reachable from gc_refs != 0 (negative: more references read
       than counted, which the collector never sees: kept alive, and the answer incomplete) */
    uint32_t tail = 0;
    for (uint32_t v = 1; v < n; v++) {
        if (!(state[v] & S_CAND) || refs[v] == 0) continue;
        if (refs[v] < 0) inconsistent++;
        state[v] |= S_ALIVE;
        queue[tail++] = v;
    }
    for (uint32_t head = 0; head < tail; head++) {
        uint32_t v = queue[head];
        for (uint64_t k = g->edge_first[v]; k < g->edge_first[v + 1]; k++) {
            uint32_t d = referent(g, g->edge_dst[k]);
            if (d == NONE32 || (state[d] & (S_CAND | S_ALIVE)) != S_CAND) continue;
            state[d] |= S_ALIVE;
            queue[tail++] = d;
        }
    }
    /* the census of the unreachable, and of the candidates pypeek could not read */
    for (uint32_t t = 0; t < nt; t++)
        acc[t].type = untrav[t].type = t;
    for (uint32_t v = 1; v < n; v++) {
        uint32_t t = g->type[v] < g->ntypes ? g->type[v] : nt - 1;
        if (state[v] & S_UNTRAV) untrav[t].count++;
        if (!unreachable(state, v)) continue;
        acc[t].count++;
        acc[t].bytes += g->size[v];
        acc[t].finalizers += g->type_finalizer && t < g->ntypes ? g->type_finalizer[t] : 0;
    }
    qsort(acc, nt, sizeof *acc, cmp_acc);
    qsort(untrav, nt, sizeof *untrav, cmp_acc);
    size_t ntypes = 0, nun = 0;
    while (ntypes < nt && acc[ntypes].count)
        ntypes++;
    while (nun < nt && untrav[nun].count)
        nun++;
    u->types = calloc(ntypes ? ntypes : 1, sizeof *u->types);
    u->untraversed_types = calloc(nun ? nun : 1, sizeof *u->untraversed_types);
    if (!u->types || !u->untraversed_types) goto oom;
    for (size_t i = 0; i < ntypes; i++) {
        struct pk_unreachable_type *ut = &u->types[u->ntypes];
        if (!(ut->name = strdup(type_name(g, acc[i].type)))) goto oom;
        ut->count = acc[i].count;
        ut->bytes = acc[i].bytes;
        ut->finalizers = acc[i].finalizers;
        u->ntypes++;
        u->objects += ut->count;
        u->bytes += ut->bytes;
        u->finalizers += ut->finalizers;
    }
    for (size_t i = 0; i < nun; i++) {
        struct pk_type_stat *st = &u->untraversed_types[u->nuntraversed_types];
        if (!(st->name = strdup(type_name(g, untrav[i].type)))) goto oom;
        st->count = untrav[i].count;
        u->nuntraversed_types++;
    }
    int64_t rb = retained_untracked(g, state, refs, queue);
    u->retained_bytes = u->bytes + (uint64_t)(rb > 0 ? rb : 0);
    if (examples(g, state, acc, ntypes, u) < 0) goto oom;
    u->complete = !g->partial && !g->unreadable && !nun && !inconsistent;
    u->available = 1;
    u->analysis_us = pk_monotonic_us() - t0;
    goto out;
oom:
    pk_unreachable_snap_clear(u);
    rc = pk_fail(e, PK_E_INTERNAL, "unreachable objects: out of memory");
out:
    free(state);
    free(refs);
    free(queue);
    free(acc);
    free(untrav);
    return rc;
}
