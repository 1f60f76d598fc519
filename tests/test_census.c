/* Type lookup and the object census on a tiny synthetic interpreter. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/census.h"
#include "cpython/gc_state.h"
#include "cpython/types.h"
#include "tests/support_heap.h"

/* Include/object.h (3.11): Py_TPFLAGS_MANAGED_DICT, which puts two pointers before the GC
   header (_PyType_PreHeaderSize). */
#define FX_TPFLAGS_MANAGED_DICT (1ul << 4)

struct heap {
    struct img *im;
    struct pk_layout l;
    uint64_t meta, foo, bar, list, managed;
    uint64_t builtin[PK_BT_COUNT];
    uint64_t interp, gc;
    uint64_t heads[3], perm;
    struct pk_types *types;
};

static uint64_t gen_head(struct heap *h, uint64_t gen_field_off, size_t index)
{
    return h->gc + gen_field_off + index * sizeof(struct gc_generation) +
           offsetof(struct gc_generation, head);
}

static void setup(struct heap *h)
{
    memset(h, 0, sizeof *h);
    support_layout(&h->l);
    h->im = img_new(1 << 16);
    h->meta =
        heap_new_type(h->im, 0, "type", FX_TPFLAGS_TYPE_SUBCLASS, sizeof(PyHeapTypeObject), 0);
    h->foo = heap_new_type(h->im, h->meta, "Foo", FX_TPFLAGS_HAVE_GC, 32, 0);
    h->bar = heap_new_type(h->im, h->meta, "Bar", FX_TPFLAGS_HAVE_GC, 48, 8);
    h->list = heap_new_type(h->im, h->meta, "list", FX_TPFLAGS_HAVE_GC, sizeof(PyListObject), 0);
    h->managed = heap_new_type(h->im, h->meta, "Managed",
                               FX_TPFLAGS_HAVE_GC | FX_TPFLAGS_MANAGED_DICT, 24, 0);
    h->builtin[PK_BT_LIST] = h->list;
    h->interp = img_alloc(h->im, sizeof(PyInterpreterState));
    h->gc = h->interp + offsetof(PyInterpreterState, gc);
    for (size_t i = 0; i < 3; i++) {
        h->heads[i] = gen_head(h, offsetof(struct _gc_runtime_state, generations), i);
        heap_link(h->im, h->heads[i], NULL, 0);
    }
    h->perm = gen_head(h, offsetof(struct _gc_runtime_state, permanent_generation), 0);
    heap_link(h->im, h->perm, NULL, 0);
    h->types = pk_types_new(h->im->mem, &h->l, h->builtin);
    cr_assert(h->types);
}

static void teardown(struct heap *h)
{
    pk_types_free(h->types);
    img_free(h->im);
}

static uint64_t var_object(struct heap *h, uint64_t type, size_t basicsize, Py_ssize_t ob_size)
{
    uint64_t gc = heap_new_gc_object(h->im, basicsize, type);
    img_put_u64(h->im, heap_obj(gc) + offsetof(PyVarObject, ob_size), (uint64_t)ob_size);
    return gc;
}

static void free_interp(struct pk_interp_snap *s)
{
    for (size_t i = 0; i < s->ntypes; i++)
        free(s->types[i].name);
    free(s->types);
}

static int collect(struct heap *h, struct pk_interp_snap *out, struct pk_err *e)
{
    struct pk_walk_limits lim = {10000, NULL};
    memset(out, 0, sizeof *out);
    return pk_census_collect(h->im->mem, &h->l, h->types, pk_gc_state_addr(&h->l, 0, h->interp),
                             &lim, out, e);
}

Test(types, reads_and_caches_a_type)
{
    struct heap h;
    setup(&h);
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(h.types, h.bar, &rc);
    cr_assert(ti, "rc %d", rc);
    cr_assert_str_eq(ti->name, "Bar");
    cr_assert_eq(ti->addr, h.bar);
    cr_assert_eq(ti->basicsize, 48);
    cr_assert_eq(ti->itemsize, 8);
    cr_assert_eq(ti->flags, FX_TPFLAGS_HAVE_GC);
    cr_assert_eq(ti->header_bytes, sizeof(PyGC_Head));
    cr_assert_eq(ti->index, 0);
    cr_assert_eq(pk_types_get(h.types, h.bar, &rc), ti, "cached");
    const struct pk_type_info *m = pk_types_get(h.types, h.managed, &rc);
    cr_assert(m);
    cr_assert_eq(m->index, 1);
    cr_assert_eq(m->header_bytes, sizeof(PyGC_Head) + 2 * sizeof(PyObject *));
    cr_assert_eq(pk_types_count(h.types), 2);
    cr_assert_eq(pk_types_at(h.types, 1), m);
    cr_assert_null(pk_types_at(h.types, 2));
    teardown(&h);
}

Test(types, a_type_whose_type_is_not_a_type_is_rejected)
{
    struct heap h;
    setup(&h);
    /* "Fake" looks like a type, but its ob_type is Foo, whose flags lack TYPE_SUBCLASS. */
    uint64_t fake = heap_new_type(h.im, h.foo, "Fake", FX_TPFLAGS_HAVE_GC, 16, 0);
    int rc = 0;
    cr_assert_null(pk_types_get(h.types, fake, &rc));
    cr_assert_eq(rc, -PK_E_INCONSISTENT);
    rc = 0;
    cr_assert_null(pk_types_get(h.types, 0, &rc), "NULL");
    cr_assert_eq(rc, -PK_E_INCONSISTENT);
    cr_assert_null(pk_types_get(h.types, h.foo + 4, &rc), "misaligned");
    cr_assert_null(pk_types_get(h.types, img_hole(h.im), &rc), "unmapped");
    uint64_t neg = heap_new_type(h.im, h.meta, "Neg", 0, -8, 0);
    cr_assert_null(pk_types_get(h.types, neg, &rc), "negative basicsize");
    cr_assert_eq(pk_types_count(h.types), 0, "nothing cached from rejected types");
    teardown(&h);
}

Test(types, tp_name_at_the_end_of_memory_is_bounded)
{
    struct heap h;
    setup(&h);
    uint64_t t = heap_new_type(h.im, h.meta, "x", 0, 16, 0);
    uint64_t edge = h.im->base + h.im->size - 4;
    img_put(h.im, edge, "Edge", 4); /* no NUL before the mapping ends */
    img_put_u64(h.im, t + offsetof(PyTypeObject, tp_name), edge);
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(h.types, t, &rc);
    cr_assert(ti);
    cr_assert_str_eq(ti->name, "Edge");
    uint64_t t2 = heap_new_type(h.im, h.meta, "y", 0, 16, 0);
    uint64_t big = img_alloc(h.im, 4096);
    memset(img_ptr(h.im, big), 'n', 4096);
    img_put_u64(h.im, t2 + offsetof(PyTypeObject, tp_name), big);
    ti = pk_types_get(h.types, t2, &rc);
    cr_assert(ti);
    cr_assert_leq(strlen(ti->name), 4096);
    cr_assert_gt(strlen(ti->name), 0);
    teardown(&h);
}

Test(census, counts_and_sizes_every_generation)
{
    struct heap h;
    setup(&h);
    uint64_t g0[] = {heap_new_gc_object(h.im, 32, h.foo), heap_new_gc_object(h.im, 32, h.foo),
                     heap_new_gc_object(h.im, 32, h.foo)};
    uint64_t lst = heap_new_gc_object(h.im, sizeof(PyListObject), h.list);
    img_put_u64(h.im, heap_obj(lst) + offsetof(PyListObject, allocated), 5);
    uint64_t g1[] = {var_object(&h, h.bar, 48 + 3 * 8, 3), lst};
    uint64_t g2[] = {heap_new_gc_object(h.im, 32, h.foo), heap_new_gc_object(h.im, 32, h.foo),
                     var_object(&h, h.bar, 48 + 2 * 8, -2),
                     heap_new_gc_object(h.im, 24, h.managed)};
    uint64_t perm[] = {heap_new_gc_object(h.im, 32, h.foo), heap_new_gc_object(h.im, 32, h.foo)};
    heap_link(h.im, h.heads[0], g0, 3);
    heap_link(h.im, h.heads[1], g1, 2);
    heap_link(h.im, h.heads[2], g2, 4);
    heap_link(h.im, h.perm, perm, 2);

    struct pk_interp_snap s;
    struct pk_err e = {0};
    cr_assert_eq(collect(&h, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.generations[0].objects, 3);
    cr_assert_eq(s.generations[1].objects, 2);
    cr_assert_eq(s.generations[2].objects, 4);
    cr_assert_eq(s.permanent_objects, 2);
    /* the census counts the permanent generation too (gc.freeze()), noted as frozen */
    cr_assert_eq(s.total_objects, 11);
    cr_assert_eq(s.frozen_objects, 2);
    const uint64_t gch = sizeof(PyGC_Head);
    cr_assert_eq(s.frozen_bytes, 2 * (32 + gch));
    const uint64_t foo = 7 * (32 + gch);
    const uint64_t bar = (48 + 3 * 8 + gch) + (48 + 2 * 8 + gch);
    const uint64_t list = sizeof(PyListObject) + 5 * sizeof(PyObject *) + gch;
    const uint64_t managed = 24 + gch + 2 * sizeof(PyObject *);
    cr_assert_eq(s.ntypes, 4);
    cr_assert_str_eq(s.types[0].name, "Foo");
    cr_assert_eq(s.types[0].count, 7);
    cr_assert_eq(s.types[0].frozen, 2);
    cr_assert_eq(s.types[0].bytes, foo);
    cr_assert_str_eq(s.types[1].name, "Bar");
    cr_assert_eq(s.types[1].count, 2);
    cr_assert_eq(s.types[1].frozen, 0);
    cr_assert_eq(s.types[1].bytes, bar);
    /* list and Managed both have one object: ties are broken by bytes */
    cr_assert_str_eq(s.types[2].name, "list");
    cr_assert_eq(s.types[2].bytes, list);
    cr_assert_eq(s.types[2].size_exact, 1, "list itself is sized exactly");
    cr_assert_str_eq(s.types[3].name, "Managed");
    cr_assert_eq(s.types[3].bytes, managed);
    cr_assert_eq(s.total_bytes, foo + bar + list + managed);
    free_interp(&s);
    teardown(&h);
}

Test(census, empty_heap)
{
    struct heap h;
    setup(&h);
    struct pk_interp_snap s;
    struct pk_err e = {0};
    cr_assert_eq(collect(&h, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.total_objects, 0);
    cr_assert_eq(s.permanent_objects, 0);
    cr_assert_eq(s.ntypes, 0);
    cr_assert_eq(s.total_bytes, 0);
    free_interp(&s);
    teardown(&h);
}

Test(census, refuses_while_collecting)
{
    struct heap h;
    setup(&h);
    int32_t one = 1;
    img_put(h.im, h.gc + offsetof(struct _gc_runtime_state, collecting), &one, sizeof one);
    struct pk_interp_snap s;
    struct pk_err e = {0};
    cr_assert_eq(collect(&h, &s, &e), -PK_E_INCONSISTENT);
    cr_assert_neq(strstr(e.msg, "collecting"), NULL, "%s", e.msg);
    teardown(&h);
}

Test(census, object_with_a_bad_type_is_inconsistent)
{
    struct heap h;
    setup(&h);
    uint64_t foo_obj = heap_new_gc_object(h.im, 32, h.foo);
    /* an object whose "type" is a Foo instance: not a type object */
    uint64_t g[] = {foo_obj, heap_new_gc_object(h.im, 32, heap_obj(foo_obj))};
    heap_link(h.im, h.heads[1], g, 2);
    struct pk_interp_snap s;
    struct pk_err e = {0};
    cr_assert_eq(collect(&h, &s, &e), -PK_E_INCONSISTENT);
    cr_assert_neq(strstr(e.msg, "type"), NULL, "%s", e.msg);
    teardown(&h);
}

Test(census, broken_generation_is_inconsistent)
{
    struct heap h;
    setup(&h);
    uint64_t g[] = {heap_new_gc_object(h.im, 32, h.foo), heap_new_gc_object(h.im, 32, h.foo)};
    heap_link(h.im, h.heads[2], g, 2);
    heap_set_prev(h.im, g[1], h.heads[2]);
    struct pk_interp_snap s;
    struct pk_err e = {0};
    cr_assert_eq(collect(&h, &s, &e), -PK_E_INCONSISTENT);
    teardown(&h);
}

Test(census, absurd_list_allocation_is_inconsistent)
{
    struct heap h;
    setup(&h);
    uint64_t lst = heap_new_gc_object(h.im, sizeof(PyListObject), h.list);
    img_put_u64(h.im, heap_obj(lst) + offsetof(PyListObject, allocated), UINT64_C(1) << 62);
    heap_link(h.im, h.heads[0], &lst, 1);
    struct pk_interp_snap s;
    struct pk_err e = {0};
    cr_assert_eq(collect(&h, &s, &e), -PK_E_INCONSISTENT);
    teardown(&h);
}

/* int.__sizeof__ starts from int's own basic size (a subclass's __dict__ slot is not
   counted) and, from 3.11, counts at least one digit (the layout here is 3.11's). */
Test(census, int_subclass_sized_as_int_sizeof)
{
    struct heap h;
    setup(&h);
    const Py_ssize_t int_basic = 24, sub_basic = 32, digit = 4;
    uint64_t int_type = heap_new_type(h.im, h.meta, "int", 0, int_basic, digit);
    uint64_t sub = heap_new_type(h.im, h.meta, "IntSub", FX_TPFLAGS_HAVE_GC, sub_basic, digit);
    img_put_u64(h.im, sub + offsetof(PyTypeObject, tp_base), int_type);
    h.builtin[PK_BT_LONG] = int_type;
    pk_types_free(h.types);
    h.types = pk_types_new(h.im->mem, &h.l, h.builtin);
    cr_assert(h.types);
    uint64_t objs[] = {var_object(&h, sub, sub_basic + 2 * digit, 2),
                       var_object(&h, sub, sub_basic + digit, 0)};
    heap_link(h.im, h.heads[2], objs, 2);

    struct pk_interp_snap s;
    struct pk_err e = {0};
    cr_assert_eq(collect(&h, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.ntypes, 1);
    cr_assert_str_eq(s.types[0].name, "IntSub");
    const uint64_t gch = sizeof(PyGC_Head);
    cr_assert_eq(s.types[0].bytes, (int_basic + 2 * digit + gch) + (int_basic + 1 * digit + gch),
                 "%llu", (unsigned long long)s.types[0].bytes);
    free_interp(&s);
    teardown(&h);
}
