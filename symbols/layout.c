/* Filling the layout from DWARF, and the per-version constants CPython keeps in macros. */
#include "symbols/layout.h"

#include <string.h>

static const struct pk_dwarf_query queries[PK_L_COUNT] = {
#define PK_X(name, types, member) {types, member},
    PK_LAYOUT_FIELDS(PK_X)
#undef PK_X
};

static const char *const field_names[PK_L_COUNT] = {
#define PK_X(name, types, member) #name,
    PK_LAYOUT_FIELDS(PK_X)
#undef PK_X
};

uint64_t pk_layout_gc_state_addr(const struct pk_layout *l, uint64_t runtime_addr, uint64_t interp)
{
    return l->gc_in_runtime ? runtime_addr + PK_OFF(l, runtime_gc) : interp + PK_OFF(l, interp_gc);
}

const char *pk_layout_field_name(enum pk_layout_field i)
{
    return i < PK_L_COUNT ? field_names[i] : "?";
}

struct pk_dwarf_query pk_layout_query(enum pk_layout_field i)
{
    return i < PK_L_COUNT ? queries[i] : (struct pk_dwarf_query){"", NULL};
}

int pk_layout_resolve_dwarf(struct pk_layout *l, struct pk_dwarf *d, uint32_t py_version_hex,
                            struct pk_err *e)
{
    memset(l, 0, sizeof *l);
    l->py_version_hex = py_version_hex;
    int r = pk_dwarf_resolve(d, queries, PK_L_COUNT, l->f, e);
    return r < 0 ? r : 0;
}

int pk_layout_from_dwarf(struct pk_layout *l, struct pk_dwarf *d, uint32_t py_version_hex,
                         struct pk_err *e)
{
    int r = pk_layout_resolve_dwarf(l, d, py_version_hex, e);
    if (r < 0) return r;
    return pk_layout_finish(l, e);
}

#define VER(maj, min) ((uint32_t)(maj) << 24 | (uint32_t)(min) << 16)

/* A needed field is not in the DWARF: the debug info is incomplete (exit 5) for a version
   pypeek knows, the version is unsupported (exit 4, naming it) for a newer one. */
static int missing(uint32_t v, const char *what, struct pk_err *e)
{
    unsigned minor = (v >> 16) & 0xff;
    if (minor > PK_NEWEST_KNOWN_MINOR)
        return pk_fail(e, PK_E_NOT_PYTHON,
                       "CPython %u.%u.%u is not supported: pypeek knows 3.8 to 3.%d, and this "
                       "interpreter's debug info lacks %s",
                       v >> 24, minor, (v >> 8) & 0xff, PK_NEWEST_KNOWN_MINOR, what);
    return pk_fail(e, PK_E_NO_LAYOUT, "layout: %s not found in the debug info", what);
}

int pk_layout_finish(struct pk_layout *l, struct pk_err *e)
{
    uint32_t v = l->py_version_hex;
    if (v < VER(3, 8))
        return pk_fail(e, PK_E_NOT_PYTHON, "CPython %u.%u is not supported (3.8 or later)", v >> 24,
                       (v >> 16) & 0xff);
    if (!pk_field_ok(l->f[PK_L_interp_gc]) && pk_field_ok(l->f[PK_L_runtime_gc])) {
        l->gc_in_runtime = 1;
        l->f[PK_L_interp_gc] = (struct pk_field){0, l->f[PK_L_gc_size].size, 0, 0};
    }
    enum pk_layout_field absent = pk_layout_feature_missing(l, PK_FEAT_CENSUS);
    if (absent < PK_L_COUNT) return missing(v, field_names[absent], e);
    if (l->f[PK_L_object_type].size != PK_PTR_SIZE)
        return pk_fail(e, PK_E_NOT_PYTHON, "layout: %u-byte pointers; pypeek reads 64-bit targets",
                       l->f[PK_L_object_type].size);
    if (pk_field_ok(l->f[PK_L_gc_generations]))
        l->gc_kind = PK_GC_GENERATIONAL;
    else if (pk_field_ok(l->f[PK_L_gc_young]) && pk_field_ok(l->f[PK_L_gc_old]) &&
             pk_field_ok(l->f[PK_L_gc_visited_space]))
        l->gc_kind = PK_GC_INCREMENTAL;
    else
        return missing(v, "the GC generation lists", e);
    if (!pk_field_ok(l->f[PK_L_dictkeys_size]) && !pk_field_ok(l->f[PK_L_dictkeys_log2_size]))
        return missing(v, "the dict key table size", e);

    /* Low bits of _gc_next/_gc_prev carry flags in every supported version (pycore_gc.h). */
    l->gc_link_mask = ~(uint64_t)3;
    /* Include/object.h: Py_TPFLAGS_HEAPTYPE, Py_TPFLAGS_HAVE_GC, Py_TPFLAGS_TYPE_SUBCLASS. */
    l->tpflags_heaptype = 1ul << 9;
    l->tpflags_have_gc = 1ul << 14;
    l->tpflags_type_subclass = 1ul << 31;
    /* _PyType_PreHeaderSize: 3.11 puts dict + values pointers before the GC header of
       MANAGED_DICT types; 3.12+ dict + weakref pointers for MANAGED_DICT|MANAGED_WEAKREF. */
    if (v >= VER(3, 12)) {
        l->tpflags_preheader = (1ul << 4) | (1ul << 3);
        l->preheader_extra = 16;
    } else if (v >= VER(3, 11)) {
        l->tpflags_preheader = 1ul << 4;
        l->preheader_extra = 16;
    }
    /* Objects/obmalloc.c: 4 KiB pools in 256 KiB arenas until 3.9; 3.10 made them 16 KiB in
       1 MiB arenas (USE_LARGE_ARENAS/USE_LARGE_POOLS with the radix tree on 64-bit). */
    if (v >= VER(3, 10)) {
        l->pool_size = 16 << 10;
        l->arena_size_bytes = 1 << 20;
    } else {
        l->pool_size = 4 << 10;
        l->arena_size_bytes = 256 << 10;
    }
    l->pymalloc_alignment = 16;
    l->gc_debug_saveall = 1 << 5; /* Include/internal/pycore_gc.h: DEBUG_SAVEALL */
    /* Object graph: Include/object.h flags; pycore_object.h _PyObject_ManagedDictPointer,
       _PyObject_ValuesPointer (3.11), PyDictOrValues (3.12, low bit 1 = values - 1),
       PyManagedDictPointer + inline values after the object (3.13+). */
    l->tpflags_unicode_subclass = 1ul << 28;
    l->member_t_object = 6;
    l->member_t_object_ex = 16;
    if (v >= VER(3, 11)) {
        l->tpflags_managed_dict = 1ul << 4;
        l->managed_dict_below = 24;
    }
    if (v >= VER(3, 11) && v < VER(3, 12)) l->managed_values_below = 32;
    if (v >= VER(3, 12) && v < VER(3, 13)) l->managed_dict_tagged = 1;
    if (v >= VER(3, 13)) l->tpflags_inline_values = 1ul << 2;
    if (v >= VER(3, 14)) l->stackref_tag_bits = 3;
    /* int.__sizeof__ counts at least one digit from 3.11 on (zero has ob_size 0 but one
       digit allocated); 3.9/3.10 count |ob_size| digits. */
    l->long_min_digits = v >= VER(3, 11) ? 1 : 0;
    if (v >= VER(3, 12)) l->refcnt_low32_immortal = 1;
    if (v >= VER(3, 12)) l->frame_owner_internal = 3;
    if (v >= VER(3, 11)) l->gen_frame_cleared = v >= VER(3, 15) ? 5 : 4;
    if (v >= VER(3, 11)) l->frame_owned_by_frame_object = 2;
    if (v >= VER(3, 12)) l->tpflags_static_builtin = 1ul << 1;
    /* sys.getsizeof of a static type object: _PySys_GetSizeOf adds the GC header when
       type_is_gc() says so: never up to 3.10 (a static type is not GC), on 3.11 and 3.12
       always, from 3.13 not when its metatype is type itself (it skips a static type's
       pre-header). */
    l->static_type_gc_header = v < VER(3, 11)   ? PK_STATIC_TYPE_HEADER_NEVER
                               : v < VER(3, 13) ? PK_STATIC_TYPE_HEADER_ALWAYS
                                                : PK_STATIC_TYPE_HEADER_UNLESS_TYPE;
    pk_layout_features_resolve(l);
    return 0;
}
