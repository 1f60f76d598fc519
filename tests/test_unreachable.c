/* The unreachable-cycle finder on hand-made object graphs: cycles, permanent objects, objects
   whose references are unread, hostile reference counts, module-global slots, retained
   untracked objects, finalizers and the example chain. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/graph.h"
#include "cpython/unreachable.h"

#define MAXN 64
#define MAXE 256

struct gb {
    struct pk_graph g;
    uint32_t src[MAXE], dst[MAXE], label[MAXE];
    size_t ne;
};

static const char *const TYPES[] = {"Pair", "Self", "Frozen", "Opaque",
                                    "Odd",  "dict", "str",    "Held"};
enum { T_PAIR, T_SELF, T_FROZEN, T_OPAQUE, T_ODD, T_DICT, T_STR, T_HELD, NTYPES };

static void gb_init(struct gb *b)
{
    memset(b, 0, sizeof *b);
    struct pk_graph *g = &b->g;
    g->addr = calloc(MAXN, sizeof *g->addr);
    g->type = calloc(MAXN, sizeof *g->type);
    g->size = calloc(MAXN, sizeof *g->size);
    g->flags = calloc(MAXN, 1);
    g->text = calloc(MAXN, sizeof *g->text);
    g->refcnt = calloc(MAXN, sizeof *g->refcnt);
    g->edge_first = calloc(MAXN + 1, sizeof *g->edge_first);
    g->edge_dst = calloc(MAXE, sizeof *g->edge_dst);
    g->edge_label = calloc(MAXE, sizeof *g->edge_label);
    g->type_names = calloc(NTYPES, sizeof *g->type_names);
    g->type_exact = calloc(NTYPES, 1);
    g->type_finalizer = calloc(NTYPES, 1);
    g->pool = calloc(64, 1);
    cr_assert(g->addr && g->type && g->size && g->flags && g->text && g->refcnt && g->edge_first &&
              g->edge_dst && g->edge_label && g->type_names && g->pool);
    memcpy(g->pool, "other", 6);
    g->pool_len = g->pool_cap = 64;
    for (uint32_t t = 0; t < NTYPES; t++)
        g->type_names[t] = strdup(TYPES[t]);
    g->type_finalizer[T_PAIR] = 1;
    g->ntypes = NTYPES;
    g->flags[0] = PK_GN_VIRTUAL; /* the root */
    g->type[0] = UINT32_MAX;
    g->n = 1;
}

static uint32_t node(struct gb *b, uint32_t type, uint8_t flags, int64_t refcnt)
{
    struct pk_graph *g = &b->g;
    cr_assert_lt(g->n, MAXN);
    uint32_t v = g->n++;
    g->addr[v] = 0x1000 + 16 * (uint64_t)v;
    g->type[v] = type;
    g->size[v] = 100 + v;
    g->flags[v] = flags;
    g->text[v] = UINT32_MAX;
    g->refcnt[v] = refcnt;
    return v;
}

static void edge(struct gb *b, uint32_t from, uint32_t to)
{
    cr_assert_lt(b->ne, MAXE);
    b->src[b->ne] = from;
    b->dst[b->ne] = to;
    b->label[b->ne] = PK_EDGE(PK_EK_ATTR, 0);
    b->ne++;
}

/* CSR from the edge list (stable: edges of a node keep their order) */
static void gb_finish(struct gb *b)
{
    struct pk_graph *g = &b->g;
    for (uint32_t v = 0; v < g->n; v++) {
        g->edge_first[v] = g->nedges;
        for (size_t k = 0; k < b->ne; k++)
            if (b->src[k] == v) {
                g->edge_dst[g->nedges] = b->dst[k];
                g->edge_label[g->nedges++] = b->label[k];
            }
    }
    g->edge_first[g->n] = g->nedges;
}

static void gb_free(struct gb *b)
{
    struct pk_graph *g = &b->g;
    for (uint32_t t = 0; t < g->ntypes; t++)
        free(g->type_names[t]);
    free(g->type_names);
    free(g->type_exact);
    free(g->type_finalizer);
    free(g->addr);
    free(g->type);
    free(g->size);
    free(g->flags);
    free(g->text);
    free(g->refcnt);
    free(g->edge_first);
    free(g->edge_dst);
    free(g->edge_label);
    free(g->pool);
}

static const struct pk_unreachable_type *find(const struct pk_unreachable_snap *u, const char *t)
{
    for (size_t i = 0; i < u->ntypes; i++)
        if (!strcmp(u->types[i].name, t)) return &u->types[i];
    return NULL;
}

static void compute(struct gb *b, struct pk_unreachable_snap *u)
{
    gb_finish(b);
    struct pk_err e = {0};
    memset(u, 0, sizeof *u);
    cr_assert_eq(pk_unreachable_compute(&b->g, u, &e), 0, "%s", e.msg);
    cr_assert(u->available);
}

#define T PK_GN_TRACKED

Test(unreachable, cycles_found_live_objects_kept)
{
    struct gb b;
    gb_init(&b);
    uint32_t p1 = node(&b, T_PAIR, T, 1), p2 = node(&b, T_PAIR, T, 1);
    edge(&b, p1, p2);
    edge(&b, p2, p1);
    uint32_t s = node(&b, T_SELF, T, 1); /* only itself refers to it */
    edge(&b, s, s);
    /* held from outside (a C global, a frame): h's refcnt exceeds the references read */
    uint32_t h = node(&b, T_HELD, T, 3), h2 = node(&b, T_HELD, T, 1);
    edge(&b, h, h2);
    edge(&b, h2, h);
    /* reached from a live object only */
    uint32_t h3 = node(&b, T_HELD, T, 1);
    edge(&b, h, h3);
    edge(&b, h3, h);
    struct pk_unreachable_snap u;
    compute(&b, &u);
    cr_assert_eq(u.objects, 3);
    cr_assert_eq(find(&u, "Pair")->count, 2);
    cr_assert_eq(find(&u, "Pair")->finalizers, 2, "Pair has __del__");
    cr_assert_eq(find(&u, "Pair")->bytes, b.g.size[p1] + b.g.size[p2]);
    cr_assert_eq(find(&u, "Self")->count, 1);
    cr_assert_eq(find(&u, "Self")->finalizers, 0);
    cr_assert_null(find(&u, "Held"), "a live cycle reported");
    cr_assert_eq(u.finalizers, 2);
    cr_assert(u.complete);
    /* the largest group's cycle: Pair -> Pair -> back */
    cr_assert_geq(u.nexamples, 1);
    cr_assert_str_eq(u.examples[0].type, "Pair");
    cr_assert_eq(u.examples[0].nhops, 2);
    cr_assert_str_eq(u.examples[0].hops[0], "Pair.other");
    pk_unreachable_snap_clear(&u);
    gb_free(&b);
}

Test(unreachable, permanent_generation_is_never_collected_nor_subtracted)
{
    struct gb b;
    gb_init(&b);
    uint32_t f1 = node(&b, T_FROZEN, T | PK_GN_PERMANENT, 1);
    uint32_t f2 = node(&b, T_FROZEN, T | PK_GN_PERMANENT, 1);
    edge(&b, f1, f2);
    edge(&b, f2, f1);
    /* a candidate whose only referrer is frozen: referenced from outside the collection */
    uint32_t c = node(&b, T_HELD, T, 2);
    edge(&b, f1, c);
    edge(&b, c, c);
    struct pk_unreachable_snap u;
    compute(&b, &u);
    cr_assert_eq(u.objects, 0, "permanent or their referents reported: %llu",
                 (unsigned long long)u.objects);
    pk_unreachable_snap_clear(&u);
    gb_free(&b);
}

Test(unreachable, unread_references_count_as_external)
{
    struct gb b;
    gb_init(&b);
    uint32_t o = node(&b, T_OPAQUE, T | PK_GN_UNTRAVERSED, 1), x = node(&b, T_PAIR, T, 1);
    edge(&b, o, x);
    edge(&b, x, o);
    uint32_t r = node(&b, T_OPAQUE, T | PK_GN_UNREADABLE, 1);
    edge(&b, r, r);
    struct pk_unreachable_snap u;
    compute(&b, &u);
    cr_assert_eq(u.objects, 0, "an object pypeek cannot read reported as garbage");
    cr_assert_not(u.complete);
    cr_assert_eq(u.nuntraversed_types, 1);
    cr_assert_str_eq(u.untraversed_types[0].name, "Opaque");
    cr_assert_eq(u.untraversed_types[0].count, 2);
    pk_unreachable_snap_clear(&u);
    gb_free(&b);
}

Test(unreachable, hostile_reference_counts)
{
    struct gb b;
    gb_init(&b);
    /* immortal / negative / huge as read: PK_REFCNT_EXTERNAL */
    uint32_t a = node(&b, T_ODD, T, PK_REFCNT_EXTERNAL), a2 = node(&b, T_ODD, T, 1);
    edge(&b, a, a2);
    edge(&b, a2, a);
    /* more references read than counted: gc_refs < 0, kept alive, answer incomplete */
    uint32_t m = node(&b, T_ODD, T, 1), l = node(&b, T_ODD, T, 1);
    edge(&b, m, l);
    edge(&b, m, l);
    edge(&b, l, m);
    /* a reference count of 0 where one reference exists */
    uint32_t z = node(&b, T_ODD, T, 0);
    edge(&b, z, z);
    struct pk_unreachable_snap u;
    compute(&b, &u);
    cr_assert_eq(u.objects, 0, "hostile counts made %llu objects garbage",
                 (unsigned long long)u.objects);
    cr_assert_not(u.complete);
    pk_unreachable_snap_clear(&u);
    gb_free(&b);
}

Test(unreachable, module_global_slots_are_references)
{
    struct gb b;
    gb_init(&b);
    /* a dict whose value goes through a virtual global slot (as module dicts do) */
    uint32_t d = node(&b, T_DICT, T, 1), v = node(&b, T_PAIR, T, 1);
    uint32_t slot = node(&b, UINT32_MAX, PK_GN_VIRTUAL, 0);
    b.g.addr[slot] = v;
    edge(&b, d, slot);
    edge(&b, v, d);
    struct pk_unreachable_snap u;
    compute(&b, &u);
    cr_assert_eq(u.objects, 2);
    cr_assert_eq(find(&u, "dict")->count, 1);
    pk_unreachable_snap_clear(&u);
    gb_free(&b);
}

Test(unreachable, retained_untracked_objects)
{
    struct gb b;
    gb_init(&b);
    uint32_t s = node(&b, T_SELF, T, 1);
    edge(&b, s, s);
    uint32_t only = node(&b, T_STR, 0, 1);   /* held by the garbage alone */
    uint32_t shared = node(&b, T_STR, 0, 2); /* also held elsewhere */
    uint32_t behind = node(&b, T_STR, 0, 1); /* held only by the shared one */
    uint32_t twice = node(&b, T_STR, 0, 2);  /* two references, both from the garbage */
    uint32_t immortal = node(&b, T_STR, 0, PK_REFCNT_EXTERNAL);
    edge(&b, s, only);
    edge(&b, s, shared);
    edge(&b, shared, behind);
    edge(&b, s, twice);
    edge(&b, s, twice);
    edge(&b, s, immortal);
    struct pk_unreachable_snap u;
    compute(&b, &u);
    cr_assert_eq(u.objects, 1);
    cr_assert_eq(u.retained_bytes, b.g.size[s] + b.g.size[only] + b.g.size[twice]);
    pk_unreachable_snap_clear(&u);
    gb_free(&b);
}
