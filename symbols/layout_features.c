/* The fields each feature of pypeek cannot work without, and which features a layout allows. */
#include "symbols/layout.h"

#include <stddef.h>

/* Census: the GC lists, the types, and the sizes of every object (objsize.c, pydict.c,
   pystr.c read these without a PK_HAS test). */
static const enum pk_layout_field census[] = {
    PK_L_runtime_interpreters_head,
    PK_L_interp_next,
    PK_L_interp_gc,
    PK_L_gc_permanent_generation,
    PK_L_gc_collecting,
    PK_L_gen_size,
    PK_L_gen_head,
    PK_L_gen_count,
    PK_L_gchead_size,
    PK_L_gchead_next,
    PK_L_gchead_prev,
    PK_L_object_size,
    PK_L_object_type,
    PK_L_varobject_size,
    PK_L_type_name,
    PK_L_type_basicsize,
    PK_L_type_itemsize,
    PK_L_type_flags,
    PK_L_type_base,
    PK_L_type_struct_size,
    PK_L_heaptype_struct_size,
    PK_L_heaptype_qualname,
    PK_L_type_dict,
    PK_L_list_allocated,
    PK_L_list_item,
    PK_L_dict_keys,
    PK_L_dict_values,
    PK_L_dictkeys_refcnt,
    PK_L_dictkeys_nentries,
    PK_L_dictkeys_indices,
    PK_L_dictentry_size,
    PK_L_dictentry_key,
    PK_L_dictentry_value,
    PK_L_set_mask,
    PK_L_set_table,
    PK_L_set_smalltable,
    PK_L_setentry_size,
    PK_L_ascii_size,
    PK_L_ascii_length,
    PK_L_ascii_state_kind,
    PK_L_ascii_state_compact,
    PK_L_ascii_state_ascii,
    PK_L_compact_unicode_size,
};

/* Object graph (graph.c, referents.c): beyond the census, the reference count and the
   items of tuples; every other referent field is tested where it is read. */
static const enum pk_layout_field graph[] = {
    PK_L_object_refcnt,
    PK_L_tuple_item,
};

/* pymalloc (pymalloc.c): the arena table and the pool header. */
static const enum pk_layout_field pymalloc[] = {
    PK_L_arena_size, PK_L_arena_address, PK_L_arena_pool_address, PK_L_pool_count, PK_L_pool_szidx,
};

static const struct {
    const char *name;
    const enum pk_layout_field *fields;
    size_t n;
} features[PK_FEAT_COUNT] = {
    [PK_FEAT_CENSUS] = {"the census", census, sizeof census / sizeof *census},
    [PK_FEAT_GRAPH] = {"the object graph", graph, sizeof graph / sizeof *graph},
    [PK_FEAT_PYMALLOC] = {"pymalloc statistics", pymalloc, sizeof pymalloc / sizeof *pymalloc},
};

const char *pk_layout_feature_name(enum pk_feature f)
{
    return f < PK_FEAT_COUNT ? features[f].name : "?";
}

enum pk_layout_field pk_layout_feature_missing(const struct pk_layout *l, enum pk_feature f)
{
    if (f >= PK_FEAT_COUNT) return PK_L_COUNT;
    for (size_t i = 0; i < features[f].n; i++)
        if (!pk_field_ok(l->f[features[f].fields[i]])) return features[f].fields[i];
    return PK_L_COUNT;
}

void pk_layout_features_resolve(struct pk_layout *l)
{
    l->features = 0;
    for (int f = 0; f < PK_FEAT_COUNT; f++)
        if (pk_layout_feature_missing(l, (enum pk_feature)f) == PK_L_COUNT) l->features |= 1u << f;
}

int pk_layout_need(const struct pk_layout *l, enum pk_feature f, struct pk_err *e)
{
    if (pk_layout_has(l, f)) return 0;
    enum pk_layout_field i = pk_layout_feature_missing(l, f);
    return pk_fail(e, PK_E_NO_LAYOUT, "layout: %s needs %s, which the debug info lacks",
                   pk_layout_feature_name(f),
                   i < PK_L_COUNT ? pk_layout_field_name(i) : "a field of a later check");
}
