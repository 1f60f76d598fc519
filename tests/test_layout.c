/* The layout read from DWARF of the mini CPython structs equals what the compiler laid out. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/graph.h"
#include "symbols/layout.h"
#include "tests/support_image.h"
#include "tests/support_py.h"

#define MEMBER_SIZE(T, m) sizeof(((T *)0)->m)

struct expect {
    enum pk_layout_field field;
    size_t off, size;
};

#define E(field, T, m)                                                                             \
    {                                                                                              \
        PK_L_##field, offsetof(T, m), MEMBER_SIZE(T, m)                                            \
    }
#define S(field, T)                                                                                \
    {                                                                                              \
        PK_L_##field, 0, sizeof(T)                                                                 \
    }

static const struct expect expected[] = {
    S(runtime_size, _PyRuntimeState),
    E(runtime_interpreters_head, _PyRuntimeState, interpreters.head),
    E(runtime_interpreters_main, _PyRuntimeState, interpreters.main),
    S(interp_size, PyInterpreterState),
    E(interp_next, PyInterpreterState, next),
    E(interp_id, PyInterpreterState, id),
    E(interp_gc, PyInterpreterState, gc),
    E(interp_threads_head, PyInterpreterState, threads.head),
    E(interp_modules, PyInterpreterState, modules),
    E(tstate_next, PyThreadState, next),
    E(tstate_native_thread_id, PyThreadState, native_thread_id),
    S(gc_size, struct _gc_runtime_state),
    E(gc_enabled, struct _gc_runtime_state, enabled),
    E(gc_debug, struct _gc_runtime_state, debug),
    E(gc_generations, struct _gc_runtime_state, generations),
    E(gc_generation0, struct _gc_runtime_state, generation0),
    E(gc_permanent_generation, struct _gc_runtime_state, permanent_generation),
    E(gc_generation_stats, struct _gc_runtime_state, generation_stats),
    E(gc_collecting, struct _gc_runtime_state, collecting),
    E(gc_garbage, struct _gc_runtime_state, garbage),
    S(gen_size, struct gc_generation),
    E(gen_head, struct gc_generation, head),
    E(gen_threshold, struct gc_generation, threshold),
    E(gen_count, struct gc_generation, count),
    S(genstats_size, struct gc_generation_stats),
    E(genstats_collected, struct gc_generation_stats, collected),
    S(gchead_size, PyGC_Head),
    E(gchead_next, PyGC_Head, _gc_next),
    E(gchead_prev, PyGC_Head, _gc_prev),
    S(object_size, PyObject),
    E(object_refcnt, PyObject, ob_refcnt),
    E(object_type, PyObject, ob_type),
    E(varobject_size, PyVarObject, ob_size),
    E(type_name, PyTypeObject, tp_name),
    E(type_basicsize, PyTypeObject, tp_basicsize),
    E(type_itemsize, PyTypeObject, tp_itemsize),
    E(type_flags, PyTypeObject, tp_flags),
    E(type_base, PyTypeObject, tp_base),
    E(type_dict, PyTypeObject, tp_dict),
    E(heaptype_name, PyHeapTypeObject, ht_name),
    E(heaptype_qualname, PyHeapTypeObject, ht_qualname),
    E(list_item, PyListObject, ob_item),
    E(list_allocated, PyListObject, allocated),
    E(tuple_item, PyTupleObject, ob_item),
    E(dict_used, PyDictObject, ma_used),
    E(dict_keys, PyDictObject, ma_keys),
    E(dict_values, PyDictObject, ma_values),
    E(dictkeys_log2_size, PyDictKeysObject, dk_log2_size),
    E(dictkeys_kind, PyDictKeysObject, dk_kind),
    E(dictkeys_nentries, PyDictKeysObject, dk_nentries),
    {PK_L_dictkeys_indices, offsetof(PyDictKeysObject, dk_indices), 0},
    S(dictkeys_struct_size, PyDictKeysObject),
    S(dictentry_size, PyDictKeyEntry),
    E(dictentry_value, PyDictKeyEntry, me_value),
    S(dictuentry_size, PyDictUnicodeEntry),
    E(dictuentry_value, PyDictUnicodeEntry, me_value),
    E(set_mask, PySetObject, mask),
    E(set_table, PySetObject, table),
    E(set_smalltable, PySetObject, smalltable),
    S(setentry_size, setentry),
    E(dictvalues_values, PyDictValues, values),
    S(ascii_size, PyASCIIObject),
    E(ascii_length, PyASCIIObject, length),
    S(compact_unicode_size, PyCompactUnicodeObject),
    E(unicode_data, PyUnicodeObject, data),
};

Test(layout, fields_match_the_compiler)
{
    struct pk_layout l;
    support_layout(&l);
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        const struct expect *x = &expected[i];
        struct pk_field f = l.f[x->field];
        const char *name = pk_layout_field_name(x->field);
        cr_assert(pk_field_ok(f), "%s missing", name);
        cr_assert_eq((size_t)f.off, x->off, "%s: offset %d, compiler says %zu", name, f.off,
                     x->off);
        if (x->field != PK_L_dictkeys_indices)
            cr_assert_eq(f.size, x->size, "%s: size %u, compiler says %zu", name, f.size, x->size);
    }
}

Test(layout, members_not_in_this_build_are_missing)
{
    struct pk_layout l;
    support_layout(&l);
    cr_assert(!PK_HAS(&l, interp_tstate_head), "3.9/3.10 member in a 3.11 layout");
    cr_assert(!PK_HAS(&l, gc_young));
    cr_assert(!PK_HAS(&l, dictkeys_size));
    cr_assert_eq(l.gc_kind, PK_GC_GENERATIONAL);
    cr_assert_eq(l.py_version_hex, 0x030b02f0);
}

Test(layout, old_versions_are_refused)
{
    struct pk_layout l;
    support_layout(&l);
    struct pk_err e = {0};
    l.py_version_hex = 0x030712f0; /* 3.7.18: 3.8 is the oldest supported */
    cr_assert_eq(pk_layout_finish(&l, &e), -PK_E_NOT_PYTHON);
    cr_assert(strstr(e.msg, "3.7") != NULL, "%s", e.msg);
}

Test(layout, a_newer_version_with_complete_dwarf_is_read)
{
    struct pk_layout l;
    support_layout(&l);
    struct pk_err e = {0};
    l.py_version_hex = (uint32_t)(3u << 24 | (PK_NEWEST_KNOWN_MINOR + 1u) << 16 | 0xf0u);
    cr_assert_eq(pk_layout_finish(&l, &e), 0, "%s", e.msg);
}

Test(layout, a_newer_version_without_a_needed_field_is_unsupported)
{
    struct pk_layout l;
    support_layout(&l);
    struct pk_err e = {0};
    l.py_version_hex = (uint32_t)(3u << 24 | (PK_NEWEST_KNOWN_MINOR + 1u) << 16 | 0xf0u);
    l.f[PK_L_gchead_prev] = PK_FIELD_MISSING;
    cr_assert_eq(pk_layout_finish(&l, &e), -PK_E_NOT_PYTHON); /* exit 4, not 5 */
    char v[16];
    snprintf(v, sizeof v, "3.%d.0", PK_NEWEST_KNOWN_MINOR + 1);
    cr_assert_neq(strstr(e.msg, v), NULL, "%s", e.msg);
    cr_assert_neq(strstr(e.msg, "gchead_prev"), NULL, "%s", e.msg);
}

Test(layout, a_missing_required_field_is_named)
{
    struct pk_layout l;
    support_layout(&l);
    struct pk_err e = {0};
    l.f[PK_L_gchead_prev] = PK_FIELD_MISSING;
    cr_assert_eq(pk_layout_finish(&l, &e), -PK_E_NO_LAYOUT);
    cr_assert_neq(strstr(e.msg, "gchead_prev"), NULL, "%s", e.msg);
}

Test(layout, the_census_and_graph_are_available_in_a_complete_layout)
{
    struct pk_layout l;
    support_layout(&l);
    cr_assert(pk_layout_has(&l, PK_FEAT_CENSUS));
    cr_assert(pk_layout_has(&l, PK_FEAT_GRAPH));
}

Test(layout, a_field_the_graph_requires_disables_the_graph_and_is_named)
{
    struct pk_layout l;
    support_layout(&l);
    struct pk_err e = {0};
    l.f[PK_L_tuple_item] = PK_FIELD_MISSING;
    cr_assert_eq(pk_layout_finish(&l, &e), 0, "the census needs no tuple items: %s", e.msg);
    cr_assert(pk_layout_has(&l, PK_FEAT_CENSUS));
    cr_assert(!pk_layout_has(&l, PK_FEAT_GRAPH));
    cr_assert_eq(pk_layout_need(&l, PK_FEAT_GRAPH, &e), -PK_E_NO_LAYOUT);
    cr_assert_neq(strstr(e.msg, "object graph"), NULL, "%s", e.msg);
    cr_assert_neq(strstr(e.msg, "tuple_item"), NULL, "%s", e.msg);
    /* the graph's entry point refuses before it reads anything (no memory to read here) */
    struct pk_target *t = calloc(1, sizeof *t);
    cr_assert_not_null(t);
    t->layout = l;
    struct pk_graph *g = (struct pk_graph *)&l; /* must be reset to NULL */
    struct pk_err ge = {0};
    cr_assert_eq(pk_graph_collect(NULL, t, 0, NULL, 0, &g, &ge), -PK_E_NO_LAYOUT);
    cr_assert_null(g);
    cr_assert_neq(strstr(ge.msg, "tuple_item"), NULL, "%s", ge.msg);
    free(t);
}

Test(layout, without_the_arena_structs_pymalloc_alone_is_off_and_named)
{
    /* the test binary's mini CPython has no arena_object: the census is unaffected */
    struct pk_layout l;
    support_layout(&l);
    struct pk_err e = {0};
    cr_assert(!pk_layout_has(&l, PK_FEAT_PYMALLOC));
    cr_assert_eq(pk_layout_feature_missing(&l, PK_FEAT_PYMALLOC), PK_L_arena_size);
    cr_assert_eq(pk_layout_need(&l, PK_FEAT_PYMALLOC, &e), -PK_E_NO_LAYOUT);
    cr_assert_neq(strstr(e.msg, "pymalloc statistics needs arena_size"), NULL, "%s", e.msg);
}

Test(layout, a_set_field_is_required_by_the_census)
{
    struct pk_layout l;
    support_layout(&l);
    struct pk_err e = {0};
    l.f[PK_L_set_mask] = PK_FIELD_MISSING; /* read by every set's size: once unchecked */
    cr_assert_eq(pk_layout_finish(&l, &e), -PK_E_NO_LAYOUT);
    cr_assert_neq(strstr(e.msg, "set_mask"), NULL, "%s", e.msg);
}

Test(layout, a_missing_offset_lands_beyond_any_address)
{
    /* what release builds' PK_OFF gives for a missing field: no wrap, far beyond user space,
       and still beyond any object when cut to 32 bits */
    uint64_t user_max = UINT64_C(1) << 47;
    cr_assert_gt(user_max + PK_OFF_ABSENT, PK_OFF_ABSENT);
    cr_assert_geq(PK_OFF_ABSENT, UINT64_C(1) << 62);
    cr_assert_geq((uint32_t)PK_OFF_ABSENT, UINT32_C(1) << 31);
}
