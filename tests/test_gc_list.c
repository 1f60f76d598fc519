/* The GC list walker on synthetic heaps: normal, empty, cyclic, broken and truncated lists. */
#include <criterion/criterion.h>
#include <string.h>

#include "cpython/gc_list.h"
#include "tests/support_heap.h"

#define MAX_SEEN 64

struct seen {
    size_t n;
    uint64_t obj[MAX_SEEN], type[MAX_SEEN];
    size_t stop_after; /* 0: never */
    int stop_with;
};

static int record(uint64_t obj, uint64_t type, void *arg)
{
    struct seen *s = arg;
    cr_assert_lt(s->n, MAX_SEEN, "visitor called too often");
    s->obj[s->n] = obj;
    s->type[s->n] = type;
    s->n++;
    return s->stop_after && s->n == s->stop_after ? s->stop_with : 0;
}

struct fixture {
    struct img *im;
    struct pk_layout l;
    uint64_t head;
    uint64_t gc[8];
    uint64_t type_a, type_b;
};

static void setup(struct fixture *fx, size_t n)
{
    support_layout(&fx->l);
    fx->im = img_new(1 << 16);
    fx->type_a = heap_new_type(fx->im, 0, "A", 0, 32, 0);
    fx->type_b = heap_new_type(fx->im, 0, "B", 0, 48, 0);
    fx->head = heap_new_head(fx->im);
    for (size_t i = 0; i < n; i++)
        fx->gc[i] = heap_new_gc_object(fx->im, i % 2 ? 48 : 32, i % 2 ? fx->type_b : fx->type_a);
    heap_link(fx->im, fx->head, fx->gc, n);
}

static int walk(struct fixture *fx, uint64_t max_nodes, struct seen *s, uint64_t *count,
                struct pk_err *e)
{
    struct pk_walk_limits lim = {max_nodes, NULL};
    *count = 12345;
    return pk_gc_list_walk(fx->im->mem, &fx->l, fx->head, &lim, record, s, count, e);
}

static void expect_inconsistent(struct fixture *fx, const char *what)
{
    struct seen s = {0};
    struct pk_err e = {0};
    uint64_t count;
    int r = walk(fx, 1000, &s, &count, &e);
    cr_assert_eq(r, -PK_E_INCONSISTENT, "%s: walk returned %d (%s)", what, r, e.msg);
    cr_assert_eq(e.code, PK_E_INCONSISTENT, "%s", what);
    cr_assert_neq(e.msg[0], '\0', "%s: no message", what);
    cr_assert_leq(s.n, 8, "%s: visited more nodes than exist", what);
}

Test(gc_list, normal_list_visits_each_object_once)
{
    struct fixture fx;
    setup(&fx, 5);
    struct seen s = {0};
    struct pk_err e = {0};
    uint64_t count;
    cr_assert_eq(walk(&fx, 1000, &s, &count, &e), 0, "%s", e.msg);
    cr_assert_eq(count, 5);
    cr_assert_eq(s.n, 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(s.obj[i], heap_obj(fx.gc[i]), "object %zu", i);
        cr_assert_eq(s.type[i], i % 2 ? fx.type_b : fx.type_a, "type of object %zu", i);
    }
    img_free(fx.im);
}

Test(gc_list, flag_bits_in_prev_links_are_masked)
{
    struct fixture fx;
    setup(&fx, 3);
    heap_set_prev(fx.im, fx.gc[1], fx.gc[0] | FX_GC_PREV_MASK_FINALIZED);
    heap_set_prev(fx.im, fx.gc[2], fx.gc[1] | FX_GC_PREV_MASK_FINALIZED);
    struct seen s = {0};
    struct pk_err e = {0};
    uint64_t count;
    cr_assert_eq(walk(&fx, 1000, &s, &count, &e), 0, "%s", e.msg);
    cr_assert_eq(count, 3);
    img_free(fx.im);
}

Test(gc_list, empty_list)
{
    struct fixture fx;
    setup(&fx, 0);
    struct seen s = {0};
    struct pk_err e = {0};
    uint64_t count;
    cr_assert_eq(walk(&fx, 1000, &s, &count, &e), 0, "%s", e.msg);
    cr_assert_eq(count, 0);
    cr_assert_eq(s.n, 0);
    img_free(fx.im);
}

Test(gc_list, cycle_that_misses_the_head_stops)
{
    struct fixture fx;
    setup(&fx, 4);
    heap_set_next(fx.im, fx.gc[3], fx.gc[1]); /* 0 -> 1 -> 2 -> 3 -> 1 -> ... */
    expect_inconsistent(&fx, "cycle through 1");
    heap_set_next(fx.im, fx.gc[0], fx.gc[0]); /* a node linked to itself */
    expect_inconsistent(&fx, "self loop");
    img_free(fx.im);
}

Test(gc_list, cycle_is_bounded_even_by_the_node_limit_alone)
{
    /* 0 -> 1 -> 0 -> ...: the back-link check catches it on the second lap; either way the walk
       never visits more than max_nodes objects. */
    struct fixture fx;
    setup(&fx, 2);
    heap_set_next(fx.im, fx.gc[1], fx.gc[0]);
    struct seen s = {0};
    struct pk_err e = {0};
    uint64_t count;
    cr_assert_eq(walk(&fx, 32, &s, &count, &e), -PK_E_INCONSISTENT);
    cr_assert_leq(s.n, 32);
    img_free(fx.im);
}

Test(gc_list, too_many_nodes_is_inconsistent)
{
    struct fixture fx;
    setup(&fx, 8);
    struct seen s = {0};
    struct pk_err e = {0};
    uint64_t count;
    cr_assert_eq(walk(&fx, 5, &s, &count, &e), -PK_E_INCONSISTENT);
    cr_assert_eq(s.n, 5, "visited exactly the allowed number");
    pk_err_clear(&e);
    memset(&s, 0, sizeof s);
    cr_assert_eq(walk(&fx, 8, &s, &count, &e), 0, "the bound itself is allowed: %s", e.msg);
    cr_assert_eq(count, 8);
    img_free(fx.im);
}

Test(gc_list, wrong_back_pointer_is_inconsistent)
{
    struct fixture fx;
    setup(&fx, 4);
    heap_set_prev(fx.im, fx.gc[2], fx.gc[0]);
    expect_inconsistent(&fx, "back link skips a node");
    img_free(fx.im);
}

Test(gc_list, first_node_must_link_back_to_the_head)
{
    struct fixture fx;
    setup(&fx, 2);
    heap_set_prev(fx.im, fx.gc[0], fx.gc[1]);
    expect_inconsistent(&fx, "first node's back link");
    img_free(fx.im);
}

Test(gc_list, link_to_unmapped_memory_is_inconsistent)
{
    struct fixture fx;
    setup(&fx, 3);
    heap_set_next(fx.im, fx.gc[1], img_hole(fx.im));
    expect_inconsistent(&fx, "link into a hole");
    heap_set_next(fx.im, fx.gc[1], 0);
    expect_inconsistent(&fx, "NULL link");
    heap_set_next(fx.im, fx.gc[1], fx.gc[2] + 4);
    expect_inconsistent(&fx, "misaligned link");
    heap_set_next(fx.im, fx.gc[1], UINT64_MAX & ~(uint64_t)7);
    expect_inconsistent(&fx, "link at the top of the address space");
    img_free(fx.im);
}

Test(gc_list, unreadable_head_is_inconsistent)
{
    struct fixture fx;
    setup(&fx, 1);
    fx.head = img_hole(fx.im);
    expect_inconsistent(&fx, "head in a hole");
    img_free(fx.im);
}

Test(gc_list, object_straddling_the_end_of_the_mapping)
{
    struct fixture fx;
    setup(&fx, 2);
    /* A node whose _gc_next is the last 8 mapped bytes: the rest of its header and the object
       lie past the end of the image. */
    uint64_t last = fx.im->base + fx.im->size - 8;
    heap_set_next(fx.im, fx.gc[1], last);
    img_put_u64(fx.im, last, fx.head);
    expect_inconsistent(&fx, "truncated object");
    img_free(fx.im);
}

Test(gc_list, visitor_can_stop_the_walk)
{
    struct fixture fx;
    setup(&fx, 6);
    struct seen s = {.stop_after = 2, .stop_with = 1};
    struct pk_err e = {0};
    uint64_t count;
    cr_assert_eq(walk(&fx, 1000, &s, &count, &e), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(count, 2);
    struct seen s2 = {.stop_after = 3, .stop_with = -PK_E_INTERNAL};
    cr_assert_eq(walk(&fx, 1000, &s2, &count, &e), -PK_E_INTERNAL, "visitor's error returned");
    cr_assert_eq(s2.n, 3);
    img_free(fx.im);
}

Test(gc_list, target_gone_and_cancel)
{
    struct fixture fx;
    setup(&fx, 3);
    struct pk_err e = {0};
    uint64_t count;
    volatile sig_atomic_t cancel = 1;
    struct pk_walk_limits lim = {1000, &cancel};
    cr_assert_eq(pk_gc_list_walk(fx.im->mem, &fx.l, fx.head, &lim, NULL, NULL, &count, &e),
                 -PK_E_INTERRUPTED);
    pk_err_clear(&e);
    fx.im->gone = 1;
    pk_mem_invalidate(fx.im->mem);
    struct seen s = {0};
    cr_assert_eq(walk(&fx, 1000, &s, &count, &e), -PK_E_NO_PROCESS);
    img_free(fx.im);
}

Test(gc_list, max_nodes_bound_covers_a_full_heap)
{
    struct fixture fx;
    setup(&fx, 0);
    uint64_t bound = pk_gc_max_nodes(&fx.im->maps, &fx.l);
    uint64_t smallest = sizeof(PyGC_Head) + sizeof(PyObject);
    cr_assert_geq(bound, fx.im->size / smallest, "fewer nodes than fit in writable memory");
    img_free(fx.im);
}
