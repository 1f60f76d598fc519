/* What an object refers to, per core type, read through the layout; bounded and validated. */
#include "cpython/referents.h"

#include <stdlib.h>
#include <string.h>

#include "cpython/frames.h"
#include "cpython/graph.h"
#include "cpython/pydict.h"
#include "cpython/pystr.h"

#define MAX_SEQ_ITEMS (1ull << 28) /* list/tuple items; more is corruption */
#define MAX_SET_SLOTS (1ull << 28)
#define MAX_MEMBERS 256 /* T_OBJECT members per type chain */
#define MAX_BASE_DEPTH 64
#define MAX_ATTRS 4096 /* shared-keys attributes of one class */
#define CHUNK 2048     /* pointers read per call */

enum ref_kind {
    RK_UNKNOWN, /* a C type pypeek does not know: members and instance dict only */
    RK_LEAF,    /* no tp_traverse (not a GC type): gc.get_referents() is empty */
    RK_OBJECT,
    RK_LIST,
    RK_TUPLE,
    RK_DICT,
    RK_SET,
    RK_TYPE,
    RK_MODULE,
    RK_FUNCTION,
    RK_CELL,
    RK_METHOD,
    RK_DEQUE,
    RK_GEN,   /* generator, coroutine, async generator: its frame's references */
    RK_FRAME, /* a frame object: 3.9/3.10 PyFrameObject, 3.11+ one over an interpreter frame */
    RK_DESCR, /* getset, member, method, classmethod and wrapper descriptors: d_type */
    RK_METHOD_WRAPPER,
    RK_CFUNCTION, /* builtin_function_or_method (and PyCMethod: its class) */
    RK_WEAKREF,   /* weakref.ref and subclasses: the callback */
    RK_TRACEBACK,
    RK_PROPERTY,
    RK_CLASSMETHOD, /* classmethod and staticmethod: the callable and the dict */
    RK_STATICMETHOD,
    RK_MAPPINGPROXY,
    RK_EXCEPTION, /* BaseException and the subclasses that share its tp_traverse */
    /* C types of the stdlib, found by name */
    RK_IOBASE,      /* _io._IOBase (and _RawIOBase, _BufferedIOBase...): its dict */
    RK_FILEIO,      /* _io.FileIO: its dict */
    RK_BUFFERED,    /* _io.BufferedReader/Writer/Random: raw and dict */
    RK_TUPLEGETTER, /* a namedtuple field: its doc */
    RK_NAMESPACE,   /* types.SimpleNamespace: its dict */
    RK_DEFAULTDICT, /* a dict and its default_factory */
    RK_ODICT,       /* a dict and its instance dict */
    RK_ABC_DATA,    /* _abc._abc_data: the registry and caches (sets of weak references) */
    RK_FIELDS,      /* a C type whose tp_traverse visits object fields only (named_fields) */
    RK_LRU_CACHE,   /* functools._lru_cache_wrapper: its links' keys and results, then fields */
};

/* C types found by name whose tp_traverse visits these fields (and, for a heap type, its
   class); dict: the last field is the instance dict (tp_dictoffset points at it). */
#define MAX_NAMED_FIELDS 4
static const struct named_fields {
    const char *name;
    enum pk_layout_field f[MAX_NAMED_FIELDS];
    const char *label[MAX_NAMED_FIELDS];
    int n, dict;
} named_fields[] = {
    {"re.Pattern",
     {PK_L_pattern_groupindex, PK_L_pattern_indexgroup, PK_L_pattern_pattern},
     {"groupindex", "indexgroup", "pattern"},
     3,
     0},
    {"re.Match",
     {PK_L_match_string, PK_L_match_regs, PK_L_match_pattern},
     {"string", "regs", "re"},
     3,
     0},
    {"functools.partial",
     {PK_L_partial_fn, PK_L_partial_args, PK_L_partial_kw, PK_L_partial_dict},
     {"func", "args", "keywords", "__dict__"},
     4,
     1},
    {"list_iterator", {PK_L_listiter_seq}, {"it_seq"}, 1, 0},
    {"tuple_iterator", {PK_L_tupleiter_seq}, {"it_seq"}, 1, 0},
    {"memoryview", {PK_L_memoryview_mbuf}, {"mbuf"}, 1, 0},
    {"managedbuffer", {PK_L_mbuf_obj}, {"obj"}, 1, 0},
    {"slice",
     {PK_L_slice_start, PK_L_slice_stop, PK_L_slice_step},
     {"start", "stop", "step"},
     3,
     0},
    {"dict_keys", {PK_L_dictview_dict}, {"mapping"}, 1, 0},
    {"dict_values", {PK_L_dictview_dict}, {"mapping"}, 1, 0},
    {"dict_items", {PK_L_dictview_dict}, {"mapping"}, 1, 0},
    {"dict_keyiterator",
     {PK_L_dictiter_dict, PK_L_dictiter_result},
     {"di_dict", "di_result"},
     2,
     0},
    {"dict_valueiterator",
     {PK_L_dictiter_dict, PK_L_dictiter_result},
     {"di_dict", "di_result"},
     2,
     0},
    {"dict_itemiterator",
     {PK_L_dictiter_dict, PK_L_dictiter_result},
     {"di_dict", "di_result"},
     2,
     0},
    {"set_iterator", {PK_L_setiter_set}, {"si_set"}, 1, 0},
    {"enumerate",
     {PK_L_enum_sit, PK_L_enum_result, PK_L_enum_longindex},
     {"en_sit", "en_result", "en_longindex"},
     3,
     0},
    {"itertools.count", {PK_L_count_long_cnt, PK_L_count_long_step}, {"cnt", "step"}, 2, 0},
    {"operator.itemgetter", {PK_L_itemgetter_item}, {"item"}, 1, 0},
    {"operator.attrgetter", {PK_L_attrgetter_attr}, {"attr"}, 1, 0},
    {"types.GenericAlias",
     {PK_L_ga_origin, PK_L_ga_args, PK_L_ga_parameters},
     {"__origin__", "__args__", "__parameters__"},
     3,
     0},
};

/* Exceptions whose tp_traverse visits fields of their own after BaseException's (subclasses
   inherit it: FileNotFoundError reads as OSError); fields not in this version's struct are
   skipped. */
#define MAX_EXC_FIELDS 8
static const struct exc_fields {
    const char *name;
    enum pk_layout_field f[MAX_EXC_FIELDS];
    const char *label[MAX_EXC_FIELDS];
    int n;
} exc_fields[] = {
    {"OSError",
     {PK_L_oserror_errno, PK_L_oserror_strerror, PK_L_oserror_filename, PK_L_oserror_filename2},
     {"errno", "strerror", "filename", "filename2"},
     4},
    {"ImportError",
     {PK_L_importerror_msg, PK_L_importerror_name, PK_L_importerror_path,
      PK_L_importerror_name_from},
     {"msg", "name", "path", "name_from"},
     4},
    {"StopIteration", {PK_L_stopiteration_value}, {"value"}, 1},
    {"SyntaxError",
     {PK_L_syntaxerror_msg, PK_L_syntaxerror_filename, PK_L_syntaxerror_lineno,
      PK_L_syntaxerror_offset, PK_L_syntaxerror_end_lineno, PK_L_syntaxerror_end_offset,
      PK_L_syntaxerror_text, PK_L_syntaxerror_print_file_and_line},
     {"msg", "filename", "lineno", "offset", "end_lineno", "end_offset", "text",
      "print_file_and_line"},
     8},
    {"AttributeError", {PK_L_attributeerror_obj, PK_L_attributeerror_name}, {"obj", "name"}, 2},
    {"NameError", {PK_L_nameerror_name}, {"name"}, 1},
    /* UnicodeError itself keeps BaseException's traversal; its three subclasses do not */
    {"UnicodeDecodeError",
     {PK_L_unicodeerror_encoding, PK_L_unicodeerror_object, PK_L_unicodeerror_reason},
     {"encoding", "object", "reason"},
     3},
    {"UnicodeEncodeError",
     {PK_L_unicodeerror_encoding, PK_L_unicodeerror_object, PK_L_unicodeerror_reason},
     {"encoding", "object", "reason"},
     3},
    {"UnicodeTranslateError",
     {PK_L_unicodeerror_encoding, PK_L_unicodeerror_object, PK_L_unicodeerror_reason},
     {"encoding", "object", "reason"},
     3},
    {"SystemExit", {PK_L_systemexit_code}, {"code"}, 1},
    {"BaseExceptionGroup", {PK_L_excgroup_msg, PK_L_excgroup_excs}, {"message", "exceptions"}, 2},
};

struct member {
    uint64_t off;
    char *name;
};

struct attr_key {
    uint64_t key; /* the str's address */
    char *name;
};

struct type_ref {
    int ready;
    enum ref_kind kind;
    int complete, heap, is_str;
    int dict_in_base;                  /* the base's own traversal visits the instance dict */
    const struct named_fields *fields; /* RK_FIELDS */
    const struct exc_fields *exc;      /* RK_EXCEPTION: the fields of a subclass, or NULL */
    int64_t dictoffset;
    uint64_t basicsize;
    struct member *members;
    size_t nmembers;
    /* the shared keys of managed-dict instances, as last read */
    uint64_t keys_addr, keys_n;
    struct attr_key *attrs;
    size_t nattrs;
};

struct pk_referents {
    struct pk_mem *m;
    const struct pk_target *t;
    const struct pk_layout *l;
    struct pk_types *types;
    struct type_ref **tr; /* by type index; each allocated once: callbacks that meet a new
                             type grow this array, a type_ref held meanwhile stays put */
    size_t ntr;
    uint64_t interp;        /* for 3.12+ static types' dicts; 0: unknown */
    uint64_t set_dummy_obj; /* the dummy key itself: _PySet_Dummy is a pointer to it */
};

struct pk_referents *pk_referents_new(struct pk_mem *m, const struct pk_target *t,
                                      struct pk_types *types)
{
    struct pk_referents *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->m = m;
    r->t = t;
    r->l = &t->layout;
    r->types = types;
    return r;
}

void pk_referents_set_interp(struct pk_referents *r, uint64_t interp)
{
    r->interp = interp;
    if (r->t->set_dummy) pk_mem_read_u64(r->m, r->t->set_dummy, &r->set_dummy_obj);
}

/* A 3.12+ static type's dict, kept in the interpreter's state for the type: index
   tp_subclasses - 1 into the builtins' table (or, 3.13+, the extensions'), whose entry must
   name the type. 0 when there is none. */
static uint64_t static_type_dict(struct pk_referents *r, uint64_t type, uint64_t flags)
{
    const struct pk_layout *l = r->l;
    if (!r->interp || !l->tpflags_static_builtin || (flags & l->tpflags_heaptype) ||
        !PK_HAS(l, type_subclasses) || !PK_HAS(l, static_state_dict) ||
        !PK_HAS(l, static_state_type))
        return 0;
    struct pk_field table = PK_F(l, interp_static_builtins);
    if (!pk_field_ok(table)) table = PK_F(l, interp_static_builtins_312);
    if (!(flags & l->tpflags_static_builtin)) table = PK_F(l, interp_static_extensions);
    uint64_t esz = PK_F(l, static_state_size).size, index = 0, named = 0, dict = 0;
    if (!pk_field_ok(table) || !esz ||
        pk_mem_read_u64(r->m, type + PK_OFF(l, type_subclasses), &index) < 0 || !index ||
        index > table.size / esz)
        return 0;
    uint64_t e = r->interp + (uint64_t)table.off + (index - 1) * esz;
    if (pk_mem_read_u64(r->m, e + PK_OFF(l, static_state_type), &named) < 0 || named != type ||
        pk_mem_read_u64(r->m, e + PK_OFF(l, static_state_dict), &dict) < 0)
        return 0;
    return dict;
}

static void clear_attrs(struct type_ref *tr)
{
    for (size_t i = 0; i < tr->nattrs; i++)
        free(tr->attrs[i].name);
    free(tr->attrs);
    tr->attrs = NULL;
    tr->nattrs = 0;
}

void pk_referents_free(struct pk_referents *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->ntr; i++) {
        if (!r->tr[i]) continue;
        for (size_t k = 0; k < r->tr[i]->nmembers; k++)
            free(r->tr[i]->members[k].name);
        free(r->tr[i]->members);
        clear_attrs(r->tr[i]);
        free(r->tr[i]);
    }
    free(r->tr);
    free(r);
}

static enum ref_kind builtin_kind(const struct pk_referents *r, uint64_t type, int *is_str)
{
    const uint64_t *bt = r->t->builtin_types;
    static const struct {
        int bt;
        enum ref_kind k;
    } map[] = {
        {PK_BT_LIST, RK_LIST},
        {PK_BT_TUPLE, RK_TUPLE},
        {PK_BT_DICT, RK_DICT},
        {PK_BT_SET, RK_SET},
        {PK_BT_FROZENSET, RK_SET},
        {PK_BT_TYPE, RK_TYPE},
        {PK_BT_MODULE, RK_MODULE},
        {PK_BT_FUNCTION, RK_FUNCTION},
        {PK_BT_CELL, RK_CELL},
        {PK_BT_METHOD, RK_METHOD},
        {PK_BT_OBJECT, RK_OBJECT},
        {PK_BT_STR, RK_LEAF},
        {PK_BT_BYTES, RK_LEAF},
        {PK_BT_BYTEARRAY, RK_LEAF},
        {PK_BT_LONG, RK_LEAF},
        {PK_BT_FLOAT, RK_LEAF},
        {PK_BT_GENERATOR, RK_GEN},
        {PK_BT_COROUTINE, RK_GEN},
        {PK_BT_ASYNC_GENERATOR, RK_GEN},
        {PK_BT_FRAME, RK_FRAME},
        {PK_BT_GETSET_DESCR, RK_DESCR},
        {PK_BT_MEMBER_DESCR, RK_DESCR},
        {PK_BT_METHOD_DESCR, RK_DESCR},
        {PK_BT_CLASSMETHOD_DESCR, RK_DESCR},
        {PK_BT_WRAPPER_DESCR, RK_DESCR},
        {PK_BT_METHOD_WRAPPER, RK_METHOD_WRAPPER},
        {PK_BT_CFUNCTION, RK_CFUNCTION},
        {PK_BT_CMETHOD, RK_CFUNCTION},
        {PK_BT_WEAKREF, RK_WEAKREF},
        {PK_BT_WEAKPROXY, RK_WEAKREF},
        {PK_BT_WEAKCALLABLEPROXY, RK_WEAKREF},
        {PK_BT_TRACEBACK, RK_TRACEBACK},
        {PK_BT_PROPERTY, RK_PROPERTY},
        {PK_BT_CLASSMETHOD, RK_CLASSMETHOD},
        {PK_BT_STATICMETHOD, RK_STATICMETHOD},
        {PK_BT_MAPPINGPROXY, RK_MAPPINGPROXY},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (bt[map[i].bt] && bt[map[i].bt] == type) {
            if (map[i].bt == PK_BT_STR) *is_str = 1;
            return map[i].k;
        }
    return RK_UNKNOWN;
}

/* T_OBJECT / T_OBJECT_EX members of one type's tp_members table. */
static void read_members(struct pk_referents *r, uint64_t type, struct type_ref *tr)
{
    const struct pk_layout *l = r->l;
    if (!PK_HAS(l, type_members) || !PK_HAS(l, memberdef_offset) || !PK_HAS(l, memberdef_name))
        return;
    uint64_t md;
    if (pk_mem_read_u64(r->m, type + PK_OFF(l, type_members), &md) < 0 || !md) return;
    uint64_t esz = PK_F(l, memberdef_size).size;
    if (!esz || esz > 256) return;
    for (int i = 0; i < MAX_MEMBERS && tr->nmembers < MAX_MEMBERS; i++) {
        uint64_t nameptr, off;
        int32_t mtype;
        uint64_t e = md + (uint64_t)i * esz;
        if (pk_mem_read_u64(r->m, e + PK_OFF(l, memberdef_name), &nameptr) < 0 || !nameptr) break;
        if (pk_mem_read(r->m, e + PK_OFF(l, memberdef_type), &mtype, 4) < 0 ||
            pk_mem_read_u64(r->m, e + PK_OFF(l, memberdef_offset), &off) < 0)
            break;
        if (mtype != l->member_t_object && mtype != l->member_t_object_ex) continue;
        if (off < 16 || off > (1u << 20) || (off & 7)) continue;
        char name[80];
        long n = pk_mem_read_upto(r->m, nameptr, name, sizeof name - 1);
        if (n <= 0) continue;
        name[n] = '\0';
        name[strnlen(name, (size_t)n)] = '\0';
        if (!strcmp(name, "__weakref__")) continue; /* weak: gc does not follow it */
        int dup = 0;
        for (size_t k = 0; k < tr->nmembers; k++)
            dup |= tr->members[k].off == off;
        if (dup) continue;
        struct member *nm = realloc(tr->members, (tr->nmembers + 1) * sizeof *nm);
        if (!nm) return;
        tr->members = nm;
        if (!(nm[tr->nmembers].name = strdup(name))) return;
        nm[tr->nmembers++].off = off;
    }
}

/* Static types found by name: BaseException (its symbol is a pointer to it) and
   method-wrapper (its symbol is not exported from 3.13 on). */
static enum ref_kind static_kind_by_name(struct pk_referents *r, uint64_t type)
{
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(r->types, type, &rc);
    if (!ti) return RK_UNKNOWN;
    if (!strcmp(ti->name, "BaseException")) return RK_EXCEPTION;
    if (!strcmp(ti->name, "method-wrapper") && PK_HAS(r->l, wrapper_self) &&
        (uint64_t)ti->basicsize == PK_OFF(r->l, wrapper_self) + PK_PTR_SIZE)
        return RK_METHOD_WRAPPER;
    static const struct {
        const char *name;
        enum ref_kind kind;
    } named[] = {
        {"_io._IOBase", RK_IOBASE},
        {"_io.FileIO", RK_FILEIO},
        {"_io.BufferedReader", RK_BUFFERED},
        {"_io.BufferedWriter", RK_BUFFERED},
        {"_io.BufferedRandom", RK_BUFFERED},
        {"_collections._tuplegetter", RK_TUPLEGETTER},
        {"collections._tuplegetter", RK_TUPLEGETTER}, /* 3.12+ */
        {"types.SimpleNamespace", RK_NAMESPACE},
        {"collections.defaultdict", RK_DEFAULTDICT},
        {"collections.OrderedDict", RK_ODICT},
        {"_abc._abc_data", RK_ABC_DATA},
        {"functools._lru_cache_wrapper", RK_LRU_CACHE},
    };
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (!strcmp(ti->name, named[i].name)) return named[i].kind;
    for (size_t i = 0; i < sizeof named_fields / sizeof *named_fields; i++)
        if (!strcmp(ti->name, named_fields[i].name)) return RK_FIELDS;
    return RK_UNKNOWN;
}

/* 1 for a heap type made by C code (PyType_FromSpec): its tp_traverse is its own, not
   subtype_traverse (when pypeek knows where that is). */
static int is_c_heap_type(struct pk_referents *r, uint64_t type)
{
    uint64_t trav = 0;
    if (!r->t->subtype_traverse || !PK_HAS(r->l, type_traverse) ||
        pk_mem_read_u64(r->m, type + PK_OFF(r->l, type_traverse), &trav) < 0)
        return 0;
    return trav && trav != r->t->subtype_traverse;
}

/* The named_fields entry of a C type (by name), NULL if none or a field is not in the layout. */
static const struct named_fields *fields_of(struct pk_referents *r, uint64_t type)
{
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(r->types, type, &rc);
    for (size_t i = 0; ti && i < sizeof named_fields / sizeof *named_fields; i++) {
        const struct named_fields *nf = &named_fields[i];
        if (strcmp(ti->name, nf->name)) continue;
        for (int k = 0; k < nf->n; k++)
            if (!pk_field_ok(r->l->f[nf->f[k]])) return NULL;
        return nf;
    }
    return NULL;
}

/* The exc_fields entry of a static exception type, by name. */
static const struct exc_fields *exc_fields_of(struct pk_referents *r, uint64_t type)
{
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(r->types, type, &rc);
    for (size_t i = 0; ti && i < sizeof exc_fields / sizeof *exc_fields; i++)
        if (!strcmp(ti->name, exc_fields[i].name)) return &exc_fields[i];
    return NULL;
}

/* 1 when every C type in statics has the tp_traverse of the builtin at base. */
static int same_traverse(struct pk_referents *r, uint64_t base, const uint64_t *statics, size_t n)
{
    const struct pk_layout *l = r->l;
    if (!n) return 1;
    uint64_t want = 0, got = 0;
    if (!PK_HAS(l, type_traverse) ||
        pk_mem_read_u64(r->m, base + PK_OFF(l, type_traverse), &want) < 0)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (pk_mem_read_u64(r->m, statics[k] + PK_OFF(l, type_traverse), &got) < 0 || got != want)
            return 0;
    return 1;
}

/* 1 when the type at type is (a subclass of) the builtin bt. */
static int base_is(struct pk_referents *r, uint64_t type, int bt)
{
    uint64_t want = r->t->builtin_types[bt];
    for (int d = 0; want && type && d < MAX_BASE_DEPTH; d++) {
        if (type == want) return 1;
        if (pk_mem_read_u64(r->m, type + PK_OFF(r->l, type_base), &type) < 0) return 0;
    }
    return 0;
}

/* The layout has what a kind's traversal reads. */
static int kind_readable(const struct pk_layout *l, enum ref_kind k)
{
    switch (k) {
    case RK_DESCR:
        return PK_HAS(l, descr_type);
    case RK_METHOD_WRAPPER:
        return PK_HAS(l, wrapper_descr) && PK_HAS(l, wrapper_self);
    case RK_CFUNCTION:
        return PK_HAS(l, cfunc_self) && PK_HAS(l, cfunc_module);
    case RK_WEAKREF:
        return PK_HAS(l, weakref_callback);
    case RK_TRACEBACK:
        return PK_HAS(l, tb_next) && PK_HAS(l, tb_frame);
    case RK_PROPERTY:
        return PK_HAS(l, prop_get) && PK_HAS(l, prop_set) && PK_HAS(l, prop_del) &&
               PK_HAS(l, prop_doc);
    case RK_CLASSMETHOD:
        return PK_HAS(l, cm_callable);
    case RK_STATICMETHOD:
        return PK_HAS(l, sm_callable);
    case RK_MAPPINGPROXY:
        return PK_HAS(l, mappingproxy_mapping);
    case RK_EXCEPTION:
        return PK_HAS(l, exc_args) && PK_HAS(l, exc_dict) && PK_HAS(l, exc_traceback) &&
               PK_HAS(l, exc_context) && PK_HAS(l, exc_cause);
    case RK_IOBASE:
        return PK_HAS(l, iobase_dict);
    case RK_FILEIO:
        return PK_HAS(l, fileio_dict);
    case RK_BUFFERED:
        return PK_HAS(l, buffered_raw) && PK_HAS(l, buffered_dict);
    case RK_TUPLEGETTER:
        return PK_HAS(l, tuplegetter_doc);
    case RK_NAMESPACE:
        return PK_HAS(l, namespace_dict);
    case RK_DEFAULTDICT:
        return PK_HAS(l, defdict_factory);
    case RK_ODICT:
        return PK_HAS(l, odict_inst_dict);
    case RK_ABC_DATA:
        return PK_HAS(l, abc_registry) && PK_HAS(l, abc_cache) && PK_HAS(l, abc_negative_cache);
    case RK_FIELDS:
        return 1; /* checked by fields_of */
    case RK_LRU_CACHE:
        return PK_HAS(l, lru_root) && PK_HAS(l, lru_root_next) && PK_HAS(l, lru_elem_next) &&
               PK_HAS(l, lru_elem_key) && PK_HAS(l, lru_elem_result) && PK_HAS(l, lru_cache) &&
               PK_HAS(l, lru_func) && PK_HAS(l, lru_dict); /* kwd_mark: 3.10+ */
    default:
        return 1;
    }
}

static struct type_ref *type_ref_of(struct pk_referents *r, const struct pk_type_info *ti)
{
    if (ti->index >= r->ntr) {
        size_t nn = r->ntr ? r->ntr : 256;
        while (nn <= ti->index)
            nn *= 2;
        struct type_ref **n = realloc(r->tr, nn * sizeof *n);
        if (!n) return NULL;
        memset(n + r->ntr, 0, (nn - r->ntr) * sizeof *n);
        r->tr = n;
        r->ntr = nn;
    }
    if (!r->tr[ti->index] && !(r->tr[ti->index] = calloc(1, sizeof *r->tr[ti->index]))) return NULL;
    struct type_ref *tr = r->tr[ti->index];
    if (tr->ready) return tr;
    tr->ready = 1;
    const struct pk_layout *l = r->l;
    tr->heap = (ti->flags & l->tpflags_heaptype) != 0;
    tr->basicsize = (uint64_t)ti->basicsize;
    if (PK_HAS(l, type_dictoffset))
        pk_mem_read(r->m, ti->addr + PK_OFF(l, type_dictoffset), &tr->dictoffset,
                    sizeof tr->dictoffset);
    /* Walk tp_base to a builtin pypeek knows. The references are complete when every type
       on the way is a heap type (a Python class: subtype_traverse visits its slots and dict,
       then the base's) or a C type with the builtin's own tp_traverse (ValueError's is
       BaseException's). */
    tr->kind = RK_UNKNOWN;
    int all_heap = 1;
    uint64_t cur = ti->addr, statics[MAX_BASE_DEPTH];
    int exc_ok = 1;
    size_t nstatics = 0;
    for (int d = 0; cur && d < MAX_BASE_DEPTH; d++) {
        enum ref_kind k = builtin_kind(r, cur, &tr->is_str);
        if (k == RK_UNKNOWN && pk_types_is_deque(r->types, cur)) k = RK_DEQUE;
        uint64_t flags = 0;
        pk_mem_read_u64(r->m, cur + PK_OFF(l, type_flags), &flags);
        int c_type = !(flags & l->tpflags_heaptype) || is_c_heap_type(r, cur);
        if (k == RK_UNKNOWN && c_type) k = static_kind_by_name(r, cur);
        if (k == RK_FIELDS) tr->fields = fields_of(r, cur);
        if (k != RK_UNKNOWN) {
            tr->kind = k;
            all_heap = same_traverse(r, cur, statics, nstatics);
            if (tr->exc) all_heap = all_heap && exc_ok && k == RK_EXCEPTION;
            break;
        }
        const struct exc_fields *xf = c_type && !tr->exc ? exc_fields_of(r, cur) : NULL;
        if (xf) {
            /* its own traversal: the C types below it must share it */
            tr->exc = xf;
            exc_ok = same_traverse(r, cur, statics, nstatics);
            nstatics = 0;
        } else if (c_type) {
            statics[nstatics++] = cur;
            all_heap = 0;
        } else {
            read_members(r, cur, tr);
        }
        if (pk_mem_read_u64(r->m, cur + PK_OFF(l, type_base), &cur) < 0) break;
    }
    /* a C type pypeek does not know: its T_OBJECT members at least */
    if (tr->kind == RK_UNKNOWN)
        for (size_t k = 0; k < nstatics; k++)
            read_members(r, statics[k], tr);
    tr->dict_in_base =
        tr->kind == RK_EXCEPTION || tr->kind == RK_CLASSMETHOD || tr->kind == RK_STATICMETHOD ||
        tr->kind == RK_IOBASE || tr->kind == RK_FILEIO || tr->kind == RK_BUFFERED ||
        tr->kind == RK_NAMESPACE || tr->kind == RK_ODICT ||
        (tr->kind == RK_FIELDS && tr->fields && tr->fields->dict) || tr->kind == RK_LRU_CACHE;
    if (!(ti->flags & l->tpflags_have_gc)) {
        /* Not a GC type: no tp_traverse, so gc.get_referents() sees nothing in it. */
        tr->kind = RK_LEAF;
        tr->complete = 1;
        return tr;
    }
    if (tr->kind == RK_FRAME && !PK_HAS(l, frame_code) &&
        (!PK_HAS(l, frame_frame) || !PK_HAS(l, iframe_owner) || !l->frame_owned_by_frame_object))
        tr->kind = RK_UNKNOWN;
    if (tr->kind == RK_GEN && !PK_HAS(l, gen_frame) && !PK_HAS(l, gen_iframe))
        tr->kind = RK_UNKNOWN;
    if (!kind_readable(l, tr->kind) || (tr->kind == RK_FIELDS && !tr->fields))
        tr->kind = RK_UNKNOWN;
    tr->complete = all_heap && tr->kind != RK_UNKNOWN;
    /* A GC subclass of an atom (str, bytes, int, float): its attributes. Its dict follows the
       items for bytes and int (a negative tp_dictoffset); 3.12+ int keeps no ob_size there. */
    if (tr->kind == RK_LEAF && tr->dictoffset < 0 && PK_HAS(l, long_lv_tag) &&
        base_is(r, ti->addr, PK_BT_LONG))
        tr->complete = 0;
    /* <= 3.10: an async generator's ag_finalizer is not in the layout */
    if (tr->kind == RK_GEN && !PK_HAS(l, gen_origin_or_finalizer) &&
        ti->addr == r->t->builtin_types[PK_BT_ASYNC_GENERATOR])
        tr->complete = 0;
    if (tr->kind == RK_LEAF) tr->kind = RK_OBJECT; /* a GC subclass of an atom: its attributes */
    return tr;
}

int pk_referents_is_str(struct pk_referents *r, const struct pk_type_info *ti)
{
    struct type_ref *tr = type_ref_of(r, ti);
    return tr && tr->is_str;
}

static int emit(pk_ref_fn fn, void *arg, uint64_t obj, int kind, uint64_t a, const char *name,
                uint64_t name_key)
{
    if (!obj) return 0;
    struct pk_ref ref = {obj, kind, a, name, name_key};
    return fn(&ref, arg);
}

#define ATTR(obj, lit) emit(fn, arg, (obj), PK_EK_ATTR, 0, (lit), (uint64_t)(uintptr_t)(lit))

static int pointers(struct pk_referents *r, uint64_t items, uint64_t n, pk_ref_fn fn, void *arg)
{
    uint64_t buf[CHUNK];
    for (uint64_t i = 0; i < n; i += CHUNK) {
        uint64_t k = n - i < CHUNK ? n - i : CHUNK;
        int rc = pk_mem_read(r->m, items + i * PK_PTR_SIZE, buf, k * sizeof *buf);
        if (rc < 0) return rc;
        for (uint64_t j = 0; j < k; j++)
            if ((rc = emit(fn, arg, buf[j], PK_EK_INDEX, i + j, NULL, 0)) != 0) return rc;
    }
    return 0;
}

static int field(struct pk_referents *r, uint64_t obj, struct pk_field f, const char *name,
                 pk_ref_fn fn, void *arg)
{
    if (!pk_field_ok(f)) return 0;
    uint64_t v;
    int rc = pk_mem_read_u64(r->m, obj + (uint64_t)f.off, &v);
    if (rc < 0) return rc;
    return ATTR(v, name);
}

struct dict_ctx {
    pk_ref_fn fn;
    void *arg;
};

static int dict_entry(uint64_t key, uint64_t value, void *arg)
{
    struct dict_ctx *c = arg;
    int rc = emit(c->fn, c->arg, key, PK_EK_KEY, 0, NULL, 0);
    if (rc == 0) rc = emit(c->fn, c->arg, value, PK_EK_VALUE, key, NULL, 0);
    return rc;
}

/* The shared keys (ht_cached_keys) of a managed-dict class: names by entry index. */
static int load_attrs(struct pk_referents *r, uint64_t type, struct type_ref *tr)
{
    const struct pk_layout *l = r->l;
    uint64_t keys = 0, n = 0;
    if (!PK_HAS(l, heaptype_cached_keys) || !PK_HAS(l, dictkeys_log2_index_bytes)) return -1;
    if (pk_mem_read_u64(r->m, type + PK_OFF(l, heaptype_cached_keys), &keys) < 0 || !keys)
        return -1;
    if (pk_mem_read_u64(r->m, keys + PK_OFF(l, dictkeys_nentries), &n) < 0 || n > MAX_ATTRS)
        return -1;
    if (keys == tr->keys_addr && n == tr->keys_n && tr->attrs) return 0;
    clear_attrs(tr);
    uint8_t log2_index_bytes;
    if (pk_mem_read(r->m, keys + PK_OFF(l, dictkeys_log2_index_bytes), &log2_index_bytes, 1) < 0 ||
        log2_index_bytes > 32)
        return -1;
    uint64_t entries = keys + PK_OFF(l, dictkeys_indices) + (1ull << log2_index_bytes);
    uint64_t esz = PK_F(l, dictuentry_size).size;
    if (!(tr->attrs = calloc(n ? n : 1, sizeof *tr->attrs))) return -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = 0;
        char text[96];
        pk_mem_read_u64(r->m, entries + i * esz + PK_OFF(l, dictuentry_key), &k);
        tr->attrs[i].key = k;
        if (k && pk_pystr_read(r->m, l, k, text, sizeof text) >= 0)
            tr->attrs[i].name = strdup(text);
    }
    tr->nattrs = n;
    tr->keys_addr = keys;
    tr->keys_n = n;
    return 0;
}

/* Attribute values stored without a dict (3.11 managed values, 3.12 tagged, 3.13+ inline). */
static int managed_values(struct pk_referents *r, const struct pk_type_info *ti,
                          struct type_ref *tr, uint64_t values, pk_ref_fn fn, void *arg,
                          int *complete)
{
    const struct pk_layout *l = r->l;
    if (load_attrs(r, ti->addr, tr) < 0) {
        *complete = 0;
        return 0;
    }
    uint64_t n = tr->nattrs;
    uint64_t vals = values + (PK_HAS(l, dictvalues_values) ? PK_OFF(l, dictvalues_values) : 0);
    if (PK_HAS(l, dictvalues_capacity)) {
        uint8_t cap = 0, valid = 1;
        pk_mem_read(r->m, values + PK_OFF(l, dictvalues_capacity), &cap, 1);
        if (PK_HAS(l, dictvalues_valid))
            pk_mem_read(r->m, values + PK_OFF(l, dictvalues_valid), &valid, 1);
        if (!valid) return 0;
        if (n > cap) n = cap;
    }
    uint64_t buf[MAX_ATTRS];
    int rc;
    if (n && (rc = pk_mem_read(r->m, vals, buf, n * sizeof *buf)) < 0) return rc;
    for (uint64_t i = 0; i < n; i++) {
        const char *name = tr->attrs[i].name ? tr->attrs[i].name : "?";
        if ((rc = emit(fn, arg, buf[i], PK_EK_ATTR, 0, name, tr->attrs[i].key)) != 0) return rc;
    }
    return 0;
}

static int instance_attrs(struct pk_referents *r, uint64_t obj, const struct pk_type_info *ti,
                          struct type_ref *tr, pk_ref_fn fn, void *arg, int *complete)
{
    const struct pk_layout *l = r->l;
    int rc;
    if (l->tpflags_managed_dict && (ti->flags & l->tpflags_managed_dict) && l->managed_dict_below) {
        uint64_t d = 0;
        if ((rc = pk_mem_read_u64(r->m, obj - l->managed_dict_below, &d)) < 0) return rc;
        uint64_t values = 0;
        if (l->managed_dict_tagged && (d & 1)) {
            values = d + 1;
            d = 0;
        } else if (!d && l->managed_values_below) {
            if ((rc = pk_mem_read_u64(r->m, obj - l->managed_values_below, &values)) < 0) return rc;
        } else if (!d && l->tpflags_inline_values && (ti->flags & l->tpflags_inline_values)) {
            values = obj + tr->basicsize;
        }
        if (d) {
            if ((rc = ATTR(d, "__dict__")) != 0) return rc;
        } else if (values) {
            if ((rc = managed_values(r, ti, tr, values, fn, arg, complete)) != 0) return rc;
        }
    } else if (tr->dict_in_base) {
        /* the builtin's traversal visited it */
    } else if (tr->dictoffset > 0 && tr->dictoffset < (1 << 20)) {
        uint64_t d;
        if ((rc = pk_mem_read_u64(r->m, obj + (uint64_t)tr->dictoffset, &d)) < 0) return rc;
        if ((rc = ATTR(d, "__dict__")) != 0) return rc;
    } else if (tr->dictoffset < 0 && tr->dictoffset > -(1 << 20)) {
        /* _PyObject_GetDictPtr: the dict after the variable-size items (int subclasses up
           to 3.11): dictoffset + _PyObject_VAR_SIZE(type, |ob_size|) */
        int64_t n;
        uint64_t d;
        if ((rc = pk_mem_read(r->m, obj + PK_OFF(l, varobject_size), &n, sizeof n)) < 0) return rc;
        if (n < 0) n = -n;
        if ((uint64_t)n > MAX_SEQ_ITEMS || ti->basicsize < 0 || ti->basicsize > (1 << 20))
            return -PK_E_INCONSISTENT;
        uint64_t size =
            ((uint64_t)ti->basicsize + (uint64_t)n * (uint64_t)ti->itemsize + 7) & ~7ull;
        if (size < (uint64_t)(-tr->dictoffset)) return -PK_E_INCONSISTENT;
        if ((rc = pk_mem_read_u64(r->m, obj + size - (uint64_t)(-tr->dictoffset), &d)) < 0)
            return rc;
        if ((rc = ATTR(d, "__dict__")) != 0) return rc;
    } else if (tr->dictoffset < 0) {
        *complete = 0;
    }
    for (size_t i = 0; i < tr->nmembers; i++) {
        uint64_t v;
        if ((rc = pk_mem_read_u64(r->m, obj + tr->members[i].off, &v)) < 0) return rc;
        const char *name = tr->members[i].name;
        if ((rc = emit(fn, arg, v, PK_EK_ATTR, 0, name, (uint64_t)(uintptr_t)name)) != 0) return rc;
    }
    /* subtype_traverse visits a heap type instance's class */
    if (tr->heap && (rc = ATTR(ti->addr, "__class__")) != 0) return rc;
    return 0;
}

/* A frame's locals and value stack as references: .name for a local, [i] for a stack slot. */
struct frame_ctx {
    pk_ref_fn fn;
    void *arg;
};

static int frame_ref(const struct pk_frame_visit *v, void *arg)
{
    struct frame_ctx *c = arg;
    if (v->kind != PK_FE_LOCAL) return 0;
    if (!v->name) return emit(c->fn, c->arg, v->value, PK_EK_INDEX, (uint64_t)v->index, NULL, 0);
    return emit(c->fn, c->arg, v->value, PK_EK_ATTR, 0, v->name, v->name_addr);
}

/* A field holding an object pointer or (3.14+) a _PyStackRef: the object, tags removed. */
static int stackref_field(struct pk_referents *r, uint64_t obj, struct pk_field f, const char *name,
                          pk_ref_fn fn, void *arg)
{
    if (!pk_field_ok(f)) return 0;
    uint64_t v, tag = r->l->stackref_tag_bits;
    int rc = pk_mem_read_u64(r->m, obj + (uint64_t)f.off, &v);
    if (rc < 0) return rc;
    if (tag && (v & tag) == tag) return 0;
    return ATTR(v & ~tag, name);
}

static int iframe_refs(struct pk_referents *r, uint64_t fr, const char *frame_name,
                       const char *code_name, pk_ref_fn fn, void *arg);

/* gen_traverse: name, qualname, the code (<= 3.11), the exception state, and the frame: on
   3.9/3.10 the gi_frame object, on 3.11+ the embedded _PyInterpreterFrame's references
   (_PyFrame_Traverse) while the frame is not cleared. */
static int gen_refs(struct pk_referents *r, uint64_t obj, const struct pk_type_info *ti,
                    pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    int rc;
    if (ti->addr == r->t->builtin_types[PK_BT_ASYNC_GENERATOR] &&
        (rc = field(r, obj, PK_F(l, gen_origin_or_finalizer), "ag_finalizer", fn, arg)) != 0)
        return rc;
    if ((rc = field(r, obj, PK_F(l, gen_code), "gi_code", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, gen_name), "__name__", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, gen_qualname), "__qualname__", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, gen_exc_type), "gi_exc_type", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, gen_exc_value), "gi_exc_value", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, gen_exc_traceback), "gi_exc_traceback", fn, arg)) != 0)
        return rc;
    if (PK_HAS(l, gen_frame)) return field(r, obj, PK_F(l, gen_frame), "gi_frame", fn, arg);
    int8_t state = 0;
    if (!PK_HAS(l, gen_frame_state) || !l->gen_frame_cleared) return -PK_E_INCONSISTENT;
    if ((rc = pk_mem_read(r->m, obj + PK_OFF(l, gen_frame_state), &state, 1)) < 0) return rc;
    if (state >= l->gen_frame_cleared) return 0;
    return iframe_refs(r, obj + PK_OFF(l, gen_iframe), "gi_frame", "gi_code", fn, arg);
}

/* _PyFrame_Traverse of a 3.11+ interpreter frame at fr: its frame object, locals dict,
   function, code, then its live slots (locals and value stack). */
static int iframe_refs(struct pk_referents *r, uint64_t fr, const char *frame_name,
                       const char *code_name, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    int rc;
    struct pk_field code =
        PK_HAS(l, iframe_code) ? PK_F(l, iframe_code) : PK_F(l, iframe_executable);
    struct pk_field func = PK_HAS(l, iframe_func) ? PK_F(l, iframe_func) : PK_F(l, iframe_funcobj);
    if ((rc = field(r, fr, PK_F(l, iframe_frame_obj), frame_name, fn, arg)) != 0 ||
        (rc = field(r, fr, PK_F(l, iframe_locals), "f_locals", fn, arg)) != 0 ||
        (rc = stackref_field(r, fr, func, "f_func", fn, arg)) != 0 ||
        (rc = stackref_field(r, fr, code, code_name, fn, arg)) != 0)
        return rc;
    int64_t live = pk_frame_live_slots(r->m, l, fr);
    if (live < 0) return (int)live;
    struct frame_ctx c = {fn, arg};
    return pk_frame_locals(r->m, r->t, fr, 0, live, frame_ref, &c);
}

/* frame_traverse of 3.9/3.10: back, code, builtins, globals, locals dict, trace, then the
   locals and (when suspended) the value stack. */
static int frame_refs(struct pk_referents *r, uint64_t obj, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    int rc;
    if (!PK_HAS(l, frame_code)) {
        /* 3.11+ frame_traverse: back, trace (3.13+ the extra locals, 3.14+ the locals cache
           and overwritten fast locals), then the interpreter frame when the object owns it
           (the frame outlived its call); a running frame's is its thread's. */
        uint64_t fr = 0;
        int8_t owner = 0;
        if ((rc = field(r, obj, PK_F(l, frame_back), "f_back", fn, arg)) != 0 ||
            (rc = field(r, obj, PK_F(l, frame_trace), "f_trace", fn, arg)) != 0 ||
            (rc = field(r, obj, PK_F(l, frame_extra_locals), "f_extra_locals", fn, arg)) != 0 ||
            (rc = field(r, obj, PK_F(l, frame_locals_cache), "f_locals_cache", fn, arg)) != 0 ||
            (rc = field(r, obj, PK_F(l, frame_overwritten), "f_overwritten_fast_locals", fn,
                        arg)) != 0)
            return rc;
        if ((rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, frame_frame), &fr)) < 0) return rc;
        if (!fr || (rc = pk_mem_read(r->m, fr + PK_OFF(l, iframe_owner), &owner, 1)) < 0) return rc;
        if (owner != l->frame_owned_by_frame_object) return 0;
        return iframe_refs(r, fr, "frame_obj", "f_code", fn, arg);
    }
    if ((rc = field(r, obj, PK_F(l, frame_back), "f_back", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, frame_code), "f_code", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, frame_builtins), "f_builtins", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, frame_globals), "f_globals", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, frame_locals), "f_locals", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, frame_trace), "f_trace", fn, arg)) != 0)
        return rc;
    int64_t live = pk_frame_object_live_slots(r->m, r->t, obj);
    if (live < -1) return (int)live;
    struct frame_ctx c = {fn, arg};
    return pk_frame_locals(r->m, r->t, 0, obj, live, frame_ref, &c);
}

/* lru_cache_tp_traverse: each link's key and result, from root.next round to the root (links
   are not objects the graph holds: their contents are the cache's), then the cache dict, the
   function, kwd_mark, the link and cache-info types and the dict. */
static int lru_refs(struct pk_referents *r, uint64_t obj, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    uint64_t root = obj + PK_OFF(l, lru_root), link = 0;
    int rc;
    if ((rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, lru_root_next), &link)) < 0) return rc;
    /* Brent's cycle check: a corrupt ring that never comes back to the root */
    uint64_t saved = 0, power = 1, steps = 0;
    for (uint64_t n = 0; link != root; n++) {
        if (!link || (link & 7) || link == saved || n > MAX_SEQ_ITEMS) return -PK_E_INCONSISTENT;
        if (++steps == power) {
            saved = link;
            power *= 2;
            steps = 0;
        }
        if ((rc = field(r, link, PK_F(l, lru_elem_key), "key", fn, arg)) != 0 ||
            (rc = field(r, link, PK_F(l, lru_elem_result), "result", fn, arg)) != 0)
            return rc;
        if ((rc = pk_mem_read_u64(r->m, link + PK_OFF(l, lru_elem_next), &link)) < 0) return rc;
    }
    if ((rc = field(r, obj, PK_F(l, lru_cache), "cache", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, lru_func), "__wrapped__", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, lru_kwd_mark), "kwd_mark", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, lru_elem_type), "lru_list_elem_type", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, lru_cache_info_type), "cache_info_type", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, lru_dict), "__dict__", fn, arg)) != 0)
        return rc;
    return 0;
}

/* collections.deque: Py_SIZE items from leftblock[leftindex], BLOCKLEN to a block, linked by
   rightlink; labelled [i] like a list. */
static int deque_items(struct pk_referents *r, uint64_t obj, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    uint64_t blocklen = PK_F(l, block_data).size / PK_PTR_SIZE, block;
    int64_t n, index;
    int rc;
    if ((rc = pk_mem_read(r->m, obj + PK_OFF(l, varobject_size), &n, sizeof n)) < 0 ||
        (rc = pk_mem_read(r->m, obj + PK_OFF(l, deque_leftindex), &index, sizeof index)) < 0 ||
        (rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, deque_leftblock), &block)) < 0)
        return rc;
    if (!blocklen || blocklen > CHUNK || n < 0 || (uint64_t)n > MAX_SEQ_ITEMS || index < 0 ||
        (uint64_t)index >= blocklen)
        return -PK_E_INCONSISTENT;
    uint64_t buf[CHUNK];
    /* Brent's cycle check: a block list that loops (corrupt) would repeat its items up to
       MAX_SEQ_ITEMS times */
    uint64_t saved = 0, power = 1, steps = 0;
    for (uint64_t i = 0; i < (uint64_t)n;) {
        if (!block || (block & 7)) return -PK_E_INCONSISTENT;
        if (block == saved) return -PK_E_INCONSISTENT;
        if (++steps == power) {
            saved = block;
            power *= 2;
            steps = 0;
        }
        uint64_t k = blocklen - (uint64_t)index;
        if (k > (uint64_t)n - i) k = (uint64_t)n - i;
        if ((rc = pk_mem_read(r->m, block + PK_OFF(l, block_data) + (uint64_t)index * PK_PTR_SIZE,
                              buf, k * sizeof *buf)) < 0)
            return rc;
        for (uint64_t j = 0; j < k; j++)
            if ((rc = emit(fn, arg, buf[j], PK_EK_INDEX, i + j, NULL, 0)) != 0) return rc;
        i += k;
        index = 0;
        if (i < (uint64_t)n &&
            (rc = pk_mem_read_u64(r->m, block + PK_OFF(l, block_rightlink), &block)) < 0)
            return rc;
    }
    return 0;
}

static int list_refs(struct pk_referents *r, uint64_t obj, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    int64_t n, alloc;
    uint64_t items;
    int rc;
    if ((rc = pk_mem_read(r->m, obj + PK_OFF(l, varobject_size), &n, sizeof n)) < 0 ||
        (rc = pk_mem_read(r->m, obj + PK_OFF(l, list_allocated), &alloc, sizeof alloc)) < 0 ||
        (rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, list_item), &items)) < 0)
        return rc;
    if (n < 0 || n > alloc || (uint64_t)n > MAX_SEQ_ITEMS) return -PK_E_INCONSISTENT;
    return n ? pointers(r, items, (uint64_t)n, fn, arg) : 0;
}

static int tuple_refs(struct pk_referents *r, uint64_t obj, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    int64_t n;
    int rc;
    if ((rc = pk_mem_read(r->m, obj + PK_OFF(l, varobject_size), &n, sizeof n)) < 0) return rc;
    if (n < 0 || (uint64_t)n > MAX_SEQ_ITEMS || !PK_HAS(l, tuple_item)) return -PK_E_INCONSISTENT;
    return n ? pointers(r, obj + PK_OFF(l, tuple_item), (uint64_t)n, fn, arg) : 0;
}

/* A dict's items; a defaultdict's default_factory or an OrderedDict's __dict__ first. */
static int dict_refs(struct pk_referents *r, uint64_t obj, enum ref_kind kind, pk_ref_fn fn,
                     void *arg)
{
    const struct pk_layout *l = r->l;
    int rc;
    if (kind == RK_DEFAULTDICT &&
        (rc = field(r, obj, PK_F(l, defdict_factory), "default_factory", fn, arg)) != 0)
        return rc;
    if (kind == RK_ODICT &&
        (rc = field(r, obj, PK_F(l, odict_inst_dict), "__dict__", fn, arg)) != 0)
        return rc;
    struct dict_ctx c = {fn, arg};
    return pk_pydict_foreach(r->m, l, obj, dict_entry, &c);
}

static int set_refs(struct pk_referents *r, uint64_t obj, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    uint64_t mask, table;
    int rc;
    if ((rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, set_mask), &mask)) < 0 ||
        (rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, set_table), &table)) < 0)
        return rc;
    if (mask >= MAX_SET_SLOTS || ((mask + 1) & mask)) return -PK_E_INCONSISTENT;
    /* setentry from DWARF; its key is the first member (Objects/setobject.h) */
    uint64_t esz = PK_F(l, setentry_size).size;
    if (esz < PK_PTR_SIZE || esz > 64 || esz % PK_PTR_SIZE) return -PK_E_INCONSISTENT;
    uint64_t buf[CHUNK];
    const uint64_t per_read = sizeof buf / esz;
    for (uint64_t i = 0; i <= mask; i += per_read) {
        uint64_t k = mask + 1 - i < per_read ? mask + 1 - i : per_read;
        if ((rc = pk_mem_read(r->m, table + i * esz, buf, k * esz)) < 0) return rc;
        for (uint64_t j = 0; j < k; j++) {
            uint64_t key = buf[j * (esz / PK_PTR_SIZE)];
            if (!key || key == r->t->set_dummy || key == r->set_dummy_obj) continue;
            if ((rc = emit(fn, arg, key, PK_EK_ITEM, 0, NULL, 0)) != 0) return rc;
        }
    }
    return 0;
}

static int type_refs(struct pk_referents *r, uint64_t obj, pk_ref_fn fn, void *arg)
{
    const struct pk_layout *l = r->l;
    uint64_t dict = 0, flags = 0;
    int rc;
    if ((rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, type_dict), &dict)) < 0 ||
        (rc = pk_mem_read_u64(r->m, obj + PK_OFF(l, type_flags), &flags)) < 0)
        return rc;
    if (!dict) dict = static_type_dict(r, obj, flags);
    if ((rc = ATTR(dict, "__dict__")) != 0 ||
        (rc = field(r, obj, PK_F(l, type_mro), "__mro__", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, type_bases), "__bases__", fn, arg)) != 0 ||
        (rc = field(r, obj, PK_F(l, type_base), "__base__", fn, arg)) != 0)
        return rc;
    if ((flags & l->tpflags_heaptype) &&
        (rc = field(r, obj, PK_F(l, heaptype_module), "__module_object__", fn, arg)) != 0)
        return rc;
    return 0;
}

/* The fields of a kind that has nothing but fields, in the order tp_traverse visits them. */
static const struct {
    enum ref_kind kind;
    enum pk_layout_field f;
    const char *name;
} kind_fields[] = {
    {RK_MODULE, PK_L_module_dict, "__dict__"},
    {RK_FUNCTION, PK_L_func_code, "__code__"},
    {RK_FUNCTION, PK_L_func_globals, "__globals__"},
    {RK_FUNCTION, PK_L_func_builtins, "__builtins__"},
    {RK_FUNCTION, PK_L_func_module, "__module__"},
    {RK_FUNCTION, PK_L_func_defaults, "__defaults__"},
    {RK_FUNCTION, PK_L_func_kwdefaults, "__kwdefaults__"},
    {RK_FUNCTION, PK_L_func_doc, "__doc__"},
    {RK_FUNCTION, PK_L_func_name, "__name__"},
    {RK_FUNCTION, PK_L_func_dict, "__dict__"},
    {RK_FUNCTION, PK_L_func_closure, "__closure__"},
    {RK_FUNCTION, PK_L_func_annotations, "__annotations__"},
    {RK_FUNCTION, PK_L_func_qualname, "__qualname__"},
    {RK_FUNCTION, PK_L_func_typeparams, "__type_params__"},
    {RK_CELL, PK_L_cell_ref, "cell_contents"},
    {RK_METHOD, PK_L_method_func, "__func__"},
    {RK_METHOD, PK_L_method_self, "__self__"},
    {RK_DESCR, PK_L_descr_type, "__objclass__"},
    {RK_METHOD_WRAPPER, PK_L_wrapper_descr, "descr"},
    {RK_METHOD_WRAPPER, PK_L_wrapper_self, "__self__"},
    {RK_CFUNCTION, PK_L_cfunc_self, "__self__"},
    {RK_CFUNCTION, PK_L_cfunc_module, "__module__"},
    {RK_WEAKREF, PK_L_weakref_callback, "__callback__"},
    {RK_TRACEBACK, PK_L_tb_next, "tb_next"},
    {RK_TRACEBACK, PK_L_tb_frame, "tb_frame"},
    {RK_PROPERTY, PK_L_prop_get, "fget"},
    {RK_PROPERTY, PK_L_prop_set, "fset"},
    {RK_PROPERTY, PK_L_prop_del, "fdel"},
    {RK_PROPERTY, PK_L_prop_doc, "__doc__"},
    {RK_PROPERTY, PK_L_prop_name, "__name__"},
    {RK_CLASSMETHOD, PK_L_cm_callable, "__func__"},
    {RK_CLASSMETHOD, PK_L_cm_dict, "__dict__"},
    {RK_STATICMETHOD, PK_L_sm_callable, "__func__"},
    {RK_STATICMETHOD, PK_L_sm_dict, "__dict__"},
    {RK_MAPPINGPROXY, PK_L_mappingproxy_mapping, "mapping"},
    {RK_EXCEPTION, PK_L_exc_dict, "__dict__"},
    {RK_EXCEPTION, PK_L_exc_args, "args"},
    {RK_EXCEPTION, PK_L_exc_notes, "__notes__"},
    {RK_EXCEPTION, PK_L_exc_traceback, "__traceback__"},
    {RK_EXCEPTION, PK_L_exc_cause, "__cause__"},
    {RK_EXCEPTION, PK_L_exc_context, "__context__"},
    {RK_IOBASE, PK_L_iobase_dict, "__dict__"},
    {RK_FILEIO, PK_L_fileio_dict, "__dict__"},
    {RK_BUFFERED, PK_L_buffered_raw, "raw"},
    {RK_BUFFERED, PK_L_buffered_dict, "__dict__"},
    {RK_TUPLEGETTER, PK_L_tuplegetter_doc, "__doc__"},
    {RK_NAMESPACE, PK_L_namespace_dict, "__dict__"},
    {RK_ABC_DATA, PK_L_abc_registry, "_abc_registry"},
    {RK_ABC_DATA, PK_L_abc_cache, "_abc_cache"},
    {RK_ABC_DATA, PK_L_abc_negative_cache, "_abc_negative_cache"},
};

static int fixed_fields(struct pk_referents *r, uint64_t obj, enum ref_kind kind, pk_ref_fn fn,
                        void *arg)
{
    int rc;
    for (size_t i = 0; i < sizeof kind_fields / sizeof *kind_fields; i++)
        if (kind_fields[i].kind == kind &&
            (rc = field(r, obj, r->l->f[kind_fields[i].f], kind_fields[i].name, fn, arg)) != 0)
            return rc;
    return 0;
}

/* The fields of a per-type list (RK_FIELDS, or an exception with its own tp_traverse). */
static int listed_fields(struct pk_referents *r, uint64_t obj, const enum pk_layout_field *f,
                         const char *const *label, int n, pk_ref_fn fn, void *arg)
{
    int rc;
    for (int k = 0; k < n; k++)
        if ((rc = field(r, obj, r->l->f[f[k]], label[k], fn, arg)) != 0) return rc;
    return 0;
}

/* What tp_traverse of the object's kind visits, before its instance attributes. */
static int kind_refs(struct pk_referents *r, uint64_t obj, const struct pk_type_info *ti,
                     const struct type_ref *tr, pk_ref_fn fn, void *arg)
{
    int rc;
    switch (tr->kind) {
    case RK_LIST:
        return list_refs(r, obj, fn, arg);
    case RK_TUPLE:
        return tuple_refs(r, obj, fn, arg);
    case RK_DEFAULTDICT:
    case RK_ODICT:
    case RK_DICT:
        return dict_refs(r, obj, tr->kind, fn, arg);
    case RK_SET:
        return set_refs(r, obj, fn, arg);
    case RK_TYPE:
        return type_refs(r, obj, fn, arg);
    case RK_DEQUE:
        return deque_items(r, obj, fn, arg);
    case RK_GEN:
        return gen_refs(r, obj, ti, fn, arg);
    case RK_FRAME:
        return frame_refs(r, obj, fn, arg);
    case RK_LRU_CACHE:
        return lru_refs(r, obj, fn, arg);
    case RK_FIELDS:
        return listed_fields(r, obj, tr->fields->f, tr->fields->label, tr->fields->n, fn, arg);
    case RK_CFUNCTION:
        if ((rc = fixed_fields(r, obj, tr->kind, fn, arg)) != 0) return rc;
        if (base_is(r, ti->addr, PK_BT_CMETHOD))
            return field(r, obj, PK_F(r->l, cmethod_class), "__objclass__", fn, arg);
        return 0;
    case RK_EXCEPTION:
        if ((rc = fixed_fields(r, obj, tr->kind, fn, arg)) != 0) return rc;
        return tr->exc ? listed_fields(r, obj, tr->exc->f, tr->exc->label, tr->exc->n, fn, arg) : 0;
    case RK_OBJECT:
    case RK_UNKNOWN:
    case RK_LEAF:
        return 0;
    default:
        return fixed_fields(r, obj, tr->kind, fn, arg);
    }
}

int pk_referents_of(struct pk_referents *r, uint64_t obj, const struct pk_type_info *ti,
                    pk_ref_fn fn, void *arg, int *complete)
{
    struct type_ref *tr = type_ref_of(r, ti);
    if (!tr) return -PK_E_INTERNAL;
    *complete = tr->complete;
    if (tr->kind == RK_LEAF) return 0;
    int rc = kind_refs(r, obj, ti, tr, fn, arg);
    if (rc != 0) return rc;
    /* types, modules and functions have no instance attributes beyond their fields */
    int attrs = tr->kind != RK_TYPE && tr->kind != RK_MODULE && tr->kind != RK_FUNCTION;
    if (attrs &&
        (tr->heap || tr->kind == RK_UNKNOWN || tr->kind == RK_OBJECT || tr->kind == RK_LEAF))
        rc = instance_attrs(r, obj, ti, tr, fn, arg, complete);
    return rc;
}
