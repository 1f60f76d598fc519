/* libFuzzer harness for the object graph: hostile target memory through pk_graph_collect.
   A small but complete synthetic interpreter (tests/support_* plus the module, function, cell,
   method, bytes and member structs below) has sys.modules with module globals holding lists,
   tuples, dicts, sets, instances (dict, managed values, __slots__), strs, bytes, functions with
   closures and bound methods. The fuzz input patches the image bytes; then the graph is copied,
   analysed (untracked census, dominators, retained sizes), `why` chains are searched and every
   report is printed. Crashes, hangs, leaks and sanitizer reports are graph walker bugs.
   The named reproducers in fuzz/corpus/fuzz_graph/ patch offsets of this template: a change to
   build_template() moves them, so regenerate them with it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/collect.h"
#include "cpython/frames.h"
#include "cpython/graph.h"
#include "cpython/graph_snap.h"
#include "cpython/stacks.h"
#include "cpython/unreachable.h"
#include "cpython/why.h"
#include "fuzz/fuzz_patch.h"
#include "report/report.h"
#include "report/stacks_report.h"
#include "report/why_out.h"
#include "tests/support_heap.h"
#include "tests/support_image.h"
#include "tests/support_py.h"

/* CPython 3.11's structs the graph reads that support_py.h does not define; the layout reads
   them from this binary's DWARF like the rest. */
typedef struct {
    PyObject ob_base;
    PyObject *md_dict;
    void *md_def, *md_state;
    PyObject *md_weaklist, *md_name;
} PyModuleObject;
typedef struct {
    PyObject ob_base;
    PyObject *func_globals, *func_builtins, *func_name, *func_qualname, *func_code;
    PyObject *func_defaults, *func_kwdefaults, *func_closure, *func_doc, *func_dict;
    PyObject *func_weakreflist, *func_module, *func_annotations;
    uint32_t func_version;
    void *vectorcall;
} PyFunctionObject;
typedef struct {
    PyObject ob_base;
    PyObject *ob_ref;
} PyCellObject;
typedef struct {
    PyObject ob_base;
    PyObject *im_func, *im_self, *im_weakreflist;
    void *vectorcall;
} PyMethodObject;
typedef struct {
    PyVarObject ob_base;
    Py_hash_t ob_shash;
    char ob_sval[1];
} PyBytesObject;
typedef struct PyMemberDef {
    const char *name;
    int type;
    Py_ssize_t offset;
    int flags;
    const char *doc;
} PyMemberDef;
/* Modules/_collectionsmodule.c */
#define BLOCKLEN 64
typedef struct BLOCK {
    struct BLOCK *leftlink;
    PyObject *data[BLOCKLEN];
    struct BLOCK *rightlink;
} block;
typedef struct {
    PyVarObject ob_base;
    block *leftblock, *rightblock;
    Py_ssize_t leftindex, rightindex;
    size_t state;
    Py_ssize_t maxlen, numfreeblocks;
    block *freeblocks[16];
    PyObject *weakreflist;
} dequeobject;
__attribute__((used)) dequeobject fg_deque;
/* 3.11 thread frames: PyThreadState.cframe->current_frame, a chain of interpreter frames. */
typedef struct {
    PyVarObject ob_base;
    PyObject *co_consts, *co_names, *co_exceptiontable;
    int co_flags, co_stacksize, co_nlocalsplus, co_nlocals, co_nplaincellvars, co_ncellvars;
    int co_nfreevars;
    PyObject *co_localsplusnames, *co_localspluskinds, *co_filename, *co_name, *co_qualname;
} PyCodeObject;
typedef struct _PyInterpreterFrame {
    PyFunctionObject *f_func;
    PyObject *f_globals, *f_builtins, *f_locals;
    PyCodeObject *f_code;
    void *frame_obj;
    struct _PyInterpreterFrame *previous;
    void *prev_instr;
    int stacktop;
    char is_entry, owner;
    PyObject *localsplus[1];
} _PyInterpreterFrame;
typedef struct _PyCFrame {
    uint8_t use_tracing;
    _PyInterpreterFrame *current_frame;
    struct _PyCFrame *previous;
} _PyCFrame;
/* 3.11 generators: the frame is embedded at gi_iframe */
typedef struct {
    PyObject *exc_value;
    void *previous_item;
} _PyErr_StackItem;
typedef struct {
    PyObject ob_base;
    PyCodeObject *gi_code;
    PyObject *gi_weakreflist, *gi_name, *gi_qualname;
    _PyErr_StackItem gi_exc_state;
    PyObject *gi_origin_or_finalizer;
    char gi_hooks_inited, gi_closed, gi_running_async;
    int8_t gi_frame_state;
    PyObject *gi_iframe[1];
} PyGenObject;
__attribute__((used)) PyGenObject fg_gen;
__attribute__((used)) _PyInterpreterFrame fg_iframe;
__attribute__((used)) _PyCFrame fg_cframe;
__attribute__((used)) PyCodeObject fg_code;
__attribute__((used)) PyModuleObject fg_module;
__attribute__((used)) PyFunctionObject fg_function;
__attribute__((used)) PyCellObject fg_cell;
__attribute__((used)) PyMethodObject fg_method;
__attribute__((used)) PyBytesObject fg_bytes;
__attribute__((used)) PyMemberDef fg_memberdef;

#define IMAGE_SIZE (128u << 10)
#define FX_TPFLAGS_MANAGED_DICT (1ul << 4)
#define FX_T_OBJECT_EX 16
/* support_py.h keeps these PyTypeObject slots anonymous: where CPython 3.11 has them. */
#define OFF_TP_MEMBERS (offsetof(PyTypeObject, tp_slots_b) + 7 * 8)
#define OFF_TP_DICTOFFSET (offsetof(PyTypeObject, tp_slots_c) + 2 * 8)
#define OFF_TP_BASES (offsetof(PyTypeObject, tp_slots_c) + 8 * 8)
#define OFF_TP_MRO (offsetof(PyTypeObject, tp_slots_c) + 9 * 8)
/* nor PyThreadState.cframe: the template's thread states have it after their end */
#define OFF_TS_CFRAME sizeof(PyThreadState)

static struct pk_target target;
static struct fuzz_template tmpl; /* the well-formed image every input patches */
static uint64_t interp_addr;
static uint64_t objs[256]; /* every object of the template, for patches that point at one */
static size_t nobjs;
static FILE *devnull;

/* The types of the template heap. */
struct types {
    uint64_t meta, object, str, bytes, intt, list, tuple, dict, set, module, func, cell, method;
    uint64_t code, frozenset, ctype, deque, gen;
};

static uint64_t keep(uint64_t a)
{
    if (nobjs < sizeof objs / sizeof *objs) objs[nobjs++] = a;
    return a;
}

static uint64_t new_str(struct img *im, const struct types *ty, const char *s)
{
    size_t n = strlen(s);
    uint64_t a = img_alloc(im, sizeof(PyASCIIObject) + n + 1);
    PyASCIIObject o;
    memset(&o, 0, sizeof o);
    o.ob_base.ob_refcnt = 1;
    o.ob_base.ob_type = (struct _typeobject *)(uintptr_t)ty->str;
    o.length = (Py_ssize_t)n;
    o.hash = -1;
    o.state.kind = 1;
    o.state.compact = 1;
    o.state.ascii = 1;
    o.state.ready = 1;
    img_put(im, a, &o, sizeof o);
    img_put(im, a + sizeof o, s, n + 1);
    return keep(a);
}

static uint64_t new_bytes(struct img *im, const struct types *ty, const char *s)
{
    size_t n = strlen(s);
    uint64_t a = img_alloc(im, offsetof(PyBytesObject, ob_sval) + n + 1);
    img_put_u64(im, a + offsetof(PyObject, ob_refcnt), 1);
    img_put_u64(im, a + offsetof(PyObject, ob_type), ty->bytes);
    img_put_u64(im, a + offsetof(PyVarObject, ob_size), n);
    img_put_u64(im, a + offsetof(PyBytesObject, ob_shash), UINT64_MAX);
    img_put(im, a + offsetof(PyBytesObject, ob_sval), s, n + 1);
    return keep(a);
}

static uint64_t new_int(struct img *im, const struct types *ty, uint32_t digit)
{
    uint64_t a = img_alloc(im, sizeof(PyVarObject) + 4);
    img_put_u64(im, a + offsetof(PyObject, ob_refcnt), 1);
    img_put_u64(im, a + offsetof(PyObject, ob_type), ty->intt);
    img_put_u64(im, a + offsetof(PyVarObject, ob_size), 1);
    img_put(im, a + sizeof(PyVarObject), &digit, 4);
    return keep(a);
}

/* A keys object of n entries (unicode-keyed or general), sized like CPython's: the smallest
   power of two whose usable fraction holds n, one-byte indices. */
static uint64_t new_keys(struct img *im, const uint64_t *keys, const uint64_t *values, size_t n,
                         int unicode)
{
    uint8_t log2 = 3;
    while (((1u << log2) * 2) / 3 < n)
        log2++;
    size_t size = 1u << log2, usable = size * 2 / 3;
    size_t esz = unicode ? sizeof(PyDictUnicodeEntry) : sizeof(PyDictKeyEntry);
    uint64_t k = img_alloc(im, sizeof(PyDictKeysObject) + size + usable * esz);
    PyDictKeysObject h;
    memset(&h, 0, sizeof h);
    h.dk_refcnt = 1;
    h.dk_log2_size = log2;
    h.dk_log2_index_bytes = log2;
    h.dk_kind = unicode ? 1 : 0;
    h.dk_usable = (Py_ssize_t)(usable - n);
    h.dk_nentries = (Py_ssize_t)n;
    img_put(im, k, &h, sizeof h);
    uint64_t idx = k + offsetof(PyDictKeysObject, dk_indices);
    memset(img_ptr(im, idx), 0xff, size); /* DKIX_EMPTY */
    uint64_t ent = idx + size;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = values ? values[i] : 0;
        if (unicode) {
            PyDictUnicodeEntry e = {(PyObject *)(uintptr_t)keys[i], (PyObject *)(uintptr_t)v};
            img_put(im, ent + i * esz, &e, sizeof e);
        } else {
            PyDictKeyEntry e = {(Py_hash_t)i, (PyObject *)(uintptr_t)keys[i],
                                (PyObject *)(uintptr_t)v};
            img_put(im, ent + i * esz, &e, sizeof e);
        }
        int8_t ix = (int8_t)i;
        img_put(im, idx + i, &ix, 1);
    }
    return k;
}

/* GC objects: allocated with their PyGC_Head, appended to *gcs for the generation lists. */
struct gcs {
    uint64_t a[64];
    size_t n;
};

static uint64_t gc_obj(struct img *im, struct gcs *g, size_t basicsize, uint64_t type)
{
    uint64_t gc = heap_new_gc_object(im, basicsize, type);
    if (g->n < sizeof g->a / sizeof *g->a) g->a[g->n++] = gc;
    return keep(heap_obj(gc));
}

static uint64_t new_dict(struct img *im, struct gcs *g, const struct types *ty, const uint64_t *k,
                         const uint64_t *v, size_t n, int unicode)
{
    uint64_t d = gc_obj(im, g, sizeof(PyDictObject), ty->dict);
    img_put_u64(im, d + offsetof(PyDictObject, ma_used), n);
    img_put_u64(im, d + offsetof(PyDictObject, ma_keys), new_keys(im, k, v, n, unicode));
    return d;
}

static uint64_t new_list(struct img *im, struct gcs *g, const struct types *ty,
                         const uint64_t *items, size_t n)
{
    uint64_t o = gc_obj(im, g, sizeof(PyListObject), ty->list);
    uint64_t arr = img_alloc(im, (n + 2) * 8);
    for (size_t i = 0; i < n; i++)
        img_put_u64(im, arr + i * 8, items[i]);
    img_put_u64(im, o + offsetof(PyListObject, ob_item), arr);
    img_put_u64(im, o + offsetof(PyListObject, allocated), n + 2);
    img_put_u64(im, o + offsetof(PyVarObject, ob_size), n);
    return o;
}

static uint64_t new_tuple(struct img *im, struct gcs *g, const struct types *ty,
                          const uint64_t *items, size_t n)
{
    uint64_t o = gc_obj(im, g, offsetof(PyTupleObject, ob_item) + n * 8, ty->tuple);
    img_put_u64(im, o + offsetof(PyVarObject, ob_size), n);
    for (size_t i = 0; i < n; i++)
        img_put_u64(im, o + offsetof(PyTupleObject, ob_item) + i * 8, items[i]);
    return o;
}

/* A Python class (a GC heap type) with __module__ and __qualname__ in its dict. */
static uint64_t new_class(struct img *im, struct gcs *g, const struct types *ty, uint64_t base,
                          const char *module, const char *name, unsigned long flags,
                          Py_ssize_t basicsize)
{
    uint64_t t = gc_obj(im, g, sizeof(PyHeapTypeObject), ty->meta);
    PyHeapTypeObject h;
    memset(&h, 0, sizeof h);
    h.ht_type.ob_base.ob_base.ob_refcnt = 1;
    h.ht_type.ob_base.ob_base.ob_type = (struct _typeobject *)(uintptr_t)ty->meta;
    h.ht_type.tp_flags = flags | FX_TPFLAGS_HEAPTYPE | FX_TPFLAGS_HAVE_GC;
    h.ht_type.tp_basicsize = basicsize;
    h.ht_type.tp_base = (struct _typeobject *)(uintptr_t)base;
    uint64_t qn = new_str(im, ty, name);
    h.ht_name = h.ht_qualname = (PyObject *)(uintptr_t)qn;
    uint64_t k[2] = {new_str(im, ty, "__module__"), new_str(im, ty, "__doc__")};
    uint64_t v[2] = {new_str(im, ty, module), new_str(im, ty, "doc")};
    h.ht_type.tp_dict = (PyObject *)(uintptr_t)new_dict(im, g, ty, k, v, 2, 1);
    img_put(im, t, &h, sizeof h);
    uint64_t bases[1] = {base};
    img_put_u64(im, t + OFF_TP_BASES, new_tuple(im, g, ty, bases, 1));
    uint64_t mro[2] = {t, base};
    img_put_u64(im, t + OFF_TP_MRO, new_tuple(im, g, ty, mro, 2));
    return t;
}

static uint64_t new_module(struct img *im, struct gcs *g, const struct types *ty, uint64_t dict,
                           const char *name)
{
    uint64_t m = gc_obj(im, g, sizeof(PyModuleObject), ty->module);
    img_put_u64(im, m + offsetof(PyModuleObject, md_dict), dict);
    img_put_u64(im, m + offsetof(PyModuleObject, md_name), new_str(im, ty, name));
    return m;
}

/* The well-formed interpreter every input starts from. */
static void build_template(void)
{
    struct img *im = img_new(IMAGE_SIZE);
    struct gcs g = {{0}, 0};
    struct types ty;
    const unsigned long gcf = FX_TPFLAGS_HAVE_GC;
    ty.meta =
        heap_new_type(im, 0, "type", FX_TPFLAGS_TYPE_SUBCLASS | gcf, sizeof(PyHeapTypeObject), 8);
    ty.object = heap_new_type(im, ty.meta, "object", 0, sizeof(PyObject), 0);
    ty.str = heap_new_type(im, ty.meta, "str", 1ul << 28, sizeof(PyASCIIObject), 1);
    ty.bytes = heap_new_type(im, ty.meta, "bytes", 0, offsetof(PyBytesObject, ob_sval) + 1, 1);
    ty.intt = heap_new_type(im, ty.meta, "int", 0, sizeof(PyVarObject), 4);
    ty.list = heap_new_type(im, ty.meta, "list", gcf, sizeof(PyListObject), 0);
    ty.tuple = heap_new_type(im, ty.meta, "tuple", gcf, offsetof(PyTupleObject, ob_item), 8);
    ty.dict = heap_new_type(im, ty.meta, "dict", gcf, sizeof(PyDictObject), 0);
    ty.set = heap_new_type(im, ty.meta, "set", gcf, sizeof(PySetObject), 0);
    ty.module = heap_new_type(im, ty.meta, "module", gcf, sizeof(PyModuleObject), 0);
    ty.func = heap_new_type(im, ty.meta, "function", gcf, sizeof(PyFunctionObject), 0);
    ty.cell = heap_new_type(im, ty.meta, "cell", gcf, sizeof(PyCellObject), 0);
    ty.method = heap_new_type(im, ty.meta, "method", gcf, sizeof(PyMethodObject), 0);
    ty.code = heap_new_type(im, ty.meta, "code", 0, sizeof(PyCodeObject), 1);
    ty.frozenset = heap_new_type(im, ty.meta, "frozenset", gcf, sizeof(PySetObject), 0);
    /* a GC C type pypeek does not know: its references are not read */
    ty.ctype = heap_new_type(im, ty.meta, "_asyncio.Task", gcf, 48, 0);
    ty.gen = heap_new_type(im, ty.meta, "generator", gcf, offsetof(PyGenObject, gi_iframe), 8);
    ty.deque = heap_new_type(im, ty.meta, "collections.deque", gcf, sizeof(dequeobject), 0);
    const uint64_t *tys = &ty.meta;
    for (size_t i = 0; i < sizeof ty / sizeof ty.meta; i++)
        keep(tys[i]);
    uint64_t *bt = target.builtin_types;
    bt[PK_BT_OBJECT] = ty.object;
    bt[PK_BT_STR] = ty.str;
    bt[PK_BT_BYTES] = ty.bytes;
    bt[PK_BT_LONG] = ty.intt;
    bt[PK_BT_LIST] = ty.list;
    bt[PK_BT_TUPLE] = ty.tuple;
    bt[PK_BT_DICT] = ty.dict;
    bt[PK_BT_SET] = ty.set;
    bt[PK_BT_FROZENSET] = ty.frozenset;
    bt[PK_BT_TYPE] = ty.meta;
    bt[PK_BT_MODULE] = ty.module;
    bt[PK_BT_FUNCTION] = ty.func;
    bt[PK_BT_CELL] = ty.cell;
    bt[PK_BT_METHOD] = ty.method;
    bt[PK_BT_CODE] = ty.code;
    bt[PK_BT_GENERATOR] = ty.gen;

    /* Classes: User (instance dict at tp_dictoffset), Managed (3.11 managed values named by
       ht_cached_keys), Slotted (a __slots__ member through tp_members), UList(list). */
    uint64_t user = new_class(im, &g, &ty, ty.object, "app", "User", 0, 32);
    img_put_u64(im, user + OFF_TP_DICTOFFSET, 16);
    uint64_t managed =
        new_class(im, &g, &ty, ty.object, "app", "Managed", FX_TPFLAGS_MANAGED_DICT, 16);
    uint64_t attr_names[2] = {new_str(im, &ty, "payload"), new_str(im, &ty, "peer")};
    img_put_u64(im, managed + offsetof(PyHeapTypeObject, ht_cached_keys),
                new_keys(im, attr_names, NULL, 2, 1));
    uint64_t slotted = new_class(im, &g, &ty, ty.object, "app", "Slotted", 0, 32);
    uint64_t md = img_alloc(im, 3 * sizeof(PyMemberDef));
    const char *mnames[2] = {"data", "__weakref__"};
    for (int i = 0; i < 2; i++) {
        uint64_t s = img_alloc(im, strlen(mnames[i]) + 1);
        img_put(im, s, mnames[i], strlen(mnames[i]) + 1);
        PyMemberDef d = {(const char *)(uintptr_t)s, FX_T_OBJECT_EX, 16 + 8 * i, 0, NULL};
        img_put(im, md + (uint64_t)i * sizeof d, &d, sizeof d);
    }
    img_put_u64(im, slotted + OFF_TP_MEMBERS, md);
    uint64_t ulist =
        new_class(im, &g, &ty, ty.list, "app", "UList", 0, (Py_ssize_t)sizeof(PyListObject));

    /* Leaves. */
    uint64_t s_hello = new_str(im, &ty, "hello"), s_key = new_str(im, &ty, "key");
    uint64_t b_blob = new_bytes(im, &ty, "\x01\x02blob"), i_42 = new_int(im, &ty, 42);

    /* Containers and instances. */
    uint64_t tup_items[3] = {s_hello, b_blob, i_42};
    uint64_t tup = new_tuple(im, &g, &ty, tup_items, 3);
    uint64_t inner_items[2] = {s_key, tup};
    uint64_t inner = new_list(im, &g, &ty, inner_items, 2);
    uint64_t u_dk[2] = {new_str(im, &ty, "name"), new_str(im, &ty, "items")};
    uint64_t u_dv[2] = {s_hello, inner};
    uint64_t u_dict = new_dict(im, &g, &ty, u_dk, u_dv, 2, 1);
    uint64_t u1 = gc_obj(im, &g, 32, user);
    img_put_u64(im, u1 + 16, u_dict);
    uint64_t u2 = gc_obj(im, &g, 32, user); /* no dict: held from C only */
    /* Managed: [values][dict][PyGC_Head][object] (3.11 pre-header). */
    uint64_t pre = img_alloc(im, 16 + sizeof(PyGC_Head) + 16);
    uint64_t m1 = pre + 16 + sizeof(PyGC_Head);
    img_put_u64(im, m1 + offsetof(PyObject, ob_refcnt), 1);
    img_put_u64(im, m1 + offsetof(PyObject, ob_type), managed);
    uint64_t vals = img_alloc(im, 4 * 8);
    img_put_u64(im, vals, inner);
    img_put_u64(im, vals + 8, u1);
    img_put_u64(im, pre, vals);
    g.a[g.n++] = pre + 16;
    uint64_t sl = gc_obj(im, &g, 32, slotted);
    img_put_u64(im, sl + 16, b_blob);
    uint64_t ul_items[2] = {u2, m1};
    uint64_t ul = gc_obj(im, &g, sizeof(PyListObject), ulist);
    uint64_t ul_arr = img_alloc(im, 16);
    img_put_u64(im, ul_arr, ul_items[0]);
    img_put_u64(im, ul_arr + 8, ul_items[1]);
    img_put_u64(im, ul + offsetof(PyListObject, ob_item), ul_arr);
    img_put_u64(im, ul + offsetof(PyListObject, allocated), 2);
    img_put_u64(im, ul + offsetof(PyVarObject, ob_size), 2);
    uint64_t set = gc_obj(im, &g, sizeof(PySetObject), ty.set);
    img_put_u64(im, set + offsetof(PySetObject, mask), 7);
    img_put_u64(im, set + offsetof(PySetObject, used), 2);
    img_put_u64(im, set + offsetof(PySetObject, table), set + offsetof(PySetObject, smalltable));
    img_put_u64(im, set + offsetof(PySetObject, smalltable) + 16, s_hello);
    img_put_u64(im, set + offsetof(PySetObject, smalltable) + 5 * 16, tup);
    uint64_t name_cls =
        new_class(im, &g, &ty, ty.str, "app", "Name", 1ul << 28, (Py_ssize_t)sizeof(PyASCIIObject));
    uint64_t s_sub = new_str(im, &ty, "subkey");
    img_put_u64(im, s_sub + offsetof(PyObject, ob_type), name_cls);
    uint64_t gk[3] = {i_42, tup, s_sub}, gv[3] = {u1, sl, b_blob};
    uint64_t gdict = new_dict(im, &g, &ty, gk, gv, 3, 0); /* general keys */
    /* a Managed instance whose dict was materialized: split, sharing the class's keys */
    uint64_t pre2 = img_alloc(im, 16 + sizeof(PyGC_Head) + 16);
    uint64_t m2 = keep(pre2 + 16 + sizeof(PyGC_Head));
    img_put_u64(im, m2 + offsetof(PyObject, ob_refcnt), 1);
    img_put_u64(im, m2 + offsetof(PyObject, ob_type), managed);
    uint64_t vals2 = img_alloc(im, 4 * 8);
    img_put_u64(im, vals2, tup);
    img_put_u64(im, vals2 + 8, m1);
    uint64_t split = gc_obj(im, &g, sizeof(PyDictObject), ty.dict);
    uint64_t cached;
    memcpy(&cached, img_ptr(im, managed + offsetof(PyHeapTypeObject, ht_cached_keys)), 8);
    img_put_u64(im, split + offsetof(PyDictObject, ma_used), 2);
    img_put_u64(im, split + offsetof(PyDictObject, ma_keys), cached);
    img_put_u64(im, split + offsetof(PyDictObject, ma_values), vals2);
    img_put_u64(im, pre2 + 8, split);
    g.a[g.n++] = pre2 + 16;
    uint64_t fs = gc_obj(im, &g, sizeof(PySetObject), ty.frozenset);
    img_put_u64(im, fs + offsetof(PySetObject, mask), 31);
    img_put_u64(im, fs + offsetof(PySetObject, used), 3);
    uint64_t fs_table = img_alloc(im, 32 * 16);
    img_put_u64(im, fs + offsetof(PySetObject, table), fs_table);
    img_put_u64(im, fs_table + 3 * 16, s_sub);
    img_put_u64(im, fs_table + 17 * 16, i_42);
    img_put_u64(im, fs_table + 31 * 16, m2);
    uint64_t task = gc_obj(im, &g, 48, ty.ctype);
    /* a deque of 70 items over two blocks, from leftindex 30 */
    uint64_t dq = gc_obj(im, &g, sizeof(dequeobject), ty.deque);
    uint64_t blk[2] = {img_alloc(im, sizeof(block)), img_alloc(im, sizeof(block))};
    img_put_u64(im, blk[0] + offsetof(block, rightlink), blk[1]);
    img_put_u64(im, blk[1] + offsetof(block, leftlink), blk[0]);
    for (int i = 0; i < 70; i++) {
        uint64_t item = i % 3 == 0 ? s_sub : i % 3 == 1 ? i_42 : u2;
        int at = 30 + i;
        img_put_u64(im, blk[at / BLOCKLEN] + offsetof(block, data) + (uint64_t)(at % BLOCKLEN) * 8,
                    item);
    }
    img_put_u64(im, dq + offsetof(PyVarObject, ob_size), 70);
    img_put_u64(im, dq + offsetof(dequeobject, leftblock), blk[0]);
    img_put_u64(im, dq + offsetof(dequeobject, rightblock), blk[1]);
    img_put_u64(im, dq + offsetof(dequeobject, leftindex), 30);
    img_put_u64(im, dq + offsetof(dequeobject, rightindex), (30 + 70 - 1) % BLOCKLEN);
    img_put_u64(im, dq + offsetof(dequeobject, maxlen), UINT64_MAX);
    uint64_t cyc = new_list(im, &g, &ty, NULL, 0);
    uint64_t cyc_arr;
    memcpy(&cyc_arr, img_ptr(im, cyc + offsetof(PyListObject, ob_item)), 8);
    img_put_u64(im, cyc_arr, cyc); /* cyc = [cyc] */
    img_put_u64(im, cyc + offsetof(PyVarObject, ob_size), 1);
    uint64_t cache_items[6] = {s_hello, b_blob, tup, u_dict, u1, ul};
    uint64_t cache = new_list(im, &g, &ty, cache_items, 6);
    img_put_u64(im, task + 16, cache);

    /* Modules: __main__ and app; a function with a closure cell and a bound method. */
    uint64_t main_keys[9], main_vals[9];
    const char *gnames[9] = {"cache", "obj", "m", "s", "tbl", "cyc", "f", "meth", "User"};
    for (int i = 0; i < 9; i++)
        main_keys[i] = new_str(im, &ty, gnames[i]);
    uint64_t main_dict = gc_obj(im, &g, sizeof(PyDictObject), ty.dict);
    uint64_t cell = gc_obj(im, &g, sizeof(PyCellObject), ty.cell);
    img_put_u64(im, cell + offsetof(PyCellObject, ob_ref), inner);
    uint64_t closure = new_tuple(im, &g, &ty, &cell, 1);
    uint64_t code = keep(img_alloc(im, sizeof(PyCodeObject)));
    img_put_u64(im, code + offsetof(PyObject, ob_refcnt), 1);
    img_put_u64(im, code + offsetof(PyObject, ob_type), ty.code);
    uint64_t lnames[3] = {new_str(im, &ty, "x"), new_str(im, &ty, "buf"), new_str(im, &ty, "n")};
    uint64_t lnames_tup = new_tuple(im, &g, &ty, lnames, 3);
    PyCodeObject co;
    memset(&co, 0, sizeof co);
    memcpy(&co.ob_base, img_ptr(im, code), sizeof co.ob_base);
    co.co_nlocalsplus = 3;
    co.co_nlocals = 3;
    co.co_stacksize = 2;
    co.co_localsplusnames = (PyObject *)(uintptr_t)lnames_tup;
    co.co_name = co.co_qualname = (PyObject *)(uintptr_t)main_keys[6];
    img_put(im, code, &co, sizeof co);
    uint64_t f = gc_obj(im, &g, sizeof(PyFunctionObject), ty.func);
    img_put_u64(im, f + offsetof(PyFunctionObject, func_globals), main_dict);
    img_put_u64(im, f + offsetof(PyFunctionObject, func_name), main_keys[6]);
    img_put_u64(im, f + offsetof(PyFunctionObject, func_qualname), main_keys[6]);
    img_put_u64(im, f + offsetof(PyFunctionObject, func_code), code);
    img_put_u64(im, f + offsetof(PyFunctionObject, func_closure), closure);
    img_put_u64(im, f + offsetof(PyFunctionObject, func_defaults), tup);
    uint64_t meth = gc_obj(im, &g, sizeof(PyMethodObject), ty.method);
    img_put_u64(im, meth + offsetof(PyMethodObject, im_func), f);
    img_put_u64(im, meth + offsetof(PyMethodObject, im_self), u1);
    uint64_t mv[9] = {cache, u1, m1, set, gdict, cyc, f, meth, user};
    memcpy(main_vals, mv, sizeof mv);
    img_put_u64(im, main_dict + offsetof(PyDictObject, ma_used), 9);
    img_put_u64(im, main_dict + offsetof(PyDictObject, ma_keys),
                new_keys(im, main_keys, main_vals, 9, 1));
    uint64_t app_k[8] = {new_str(im, &ty, "shared"),  new_str(im, &ty, "Managed"),
                         new_str(im, &ty, "Slotted"), new_str(im, &ty, "UList"),
                         new_str(im, &ty, "task"),    new_str(im, &ty, "m2"),
                         new_str(im, &ty, "fs"),      new_str(im, &ty, "dq")};
    uint64_t app_v[8] = {cache, managed, slotted, ulist, task, m2, fs, dq};
    uint64_t app_dict = new_dict(im, &g, &ty, app_k, app_v, 8, 1);
    uint64_t mod_main = new_module(im, &g, &ty, main_dict, "__main__");
    uint64_t mod_app = new_module(im, &g, &ty, app_dict, "app");
    uint64_t mods_k[2] = {new_str(im, &ty, "__main__"), new_str(im, &ty, "app")};
    uint64_t mods_v[2] = {mod_main, mod_app};
    uint64_t modules = new_dict(im, &g, &ty, mods_k, mods_v, 2, 1);

    /* A suspended generator of f: x=cache, buf=unbound, n=set, its exception an instance. */
    uint64_t gen =
        gc_obj(im, &g, offsetof(PyGenObject, gi_iframe) + sizeof(_PyInterpreterFrame) + 16, ty.gen);
    img_put_u64(im, gen + offsetof(PyGenObject, gi_code), code);
    img_put_u64(im, gen + offsetof(PyGenObject, gi_name), main_keys[6]);
    img_put_u64(im, gen + offsetof(PyGenObject, gi_qualname), main_keys[6]);
    img_put_u64(im, gen + offsetof(PyGenObject, gi_exc_state.exc_value), u2);
    uint64_t gfr = gen + offsetof(PyGenObject, gi_iframe);
    img_put_u64(im, gfr + offsetof(_PyInterpreterFrame, f_code), code);
    img_put_u64(im, gfr + offsetof(_PyInterpreterFrame, f_func), f);
    img_put_u64(im, gfr + offsetof(_PyInterpreterFrame, f_globals), main_dict);
    int32_t gtop = 3;
    img_put(im, gfr + offsetof(_PyInterpreterFrame, stacktop), &gtop, 4);
    img_put_u64(im, gfr + offsetof(_PyInterpreterFrame, localsplus), cache);
    img_put_u64(im, gfr + offsetof(_PyInterpreterFrame, localsplus) + 16, set);
    img_put_u64(im, cyc_arr + 8, gen); /* cyc = [cyc, gen] */
    img_put_u64(im, cyc + offsetof(PyVarObject, ob_size), 2);

    /* One thread: f(x=inner, buf=unbound, n=42) called from f(x=cache). */
    uint64_t fr[2];
    for (int i = 0; i < 2; i++) {
        fr[i] = img_alloc(im, sizeof(_PyInterpreterFrame) + 2 * 8);
        img_put_u64(im, fr[i] + offsetof(_PyInterpreterFrame, f_code), code);
        img_put_u64(im, fr[i] + offsetof(_PyInterpreterFrame, f_func), f);
        int32_t top = 3;
        img_put(im, fr[i] + offsetof(_PyInterpreterFrame, stacktop), &top, 4);
    }
    img_put_u64(im, fr[0] + offsetof(_PyInterpreterFrame, previous), fr[1]);
    img_put_u64(im, fr[0] + offsetof(_PyInterpreterFrame, localsplus), inner);
    img_put_u64(im, fr[0] + offsetof(_PyInterpreterFrame, localsplus) + 16, i_42);
    img_put_u64(im, fr[1] + offsetof(_PyInterpreterFrame, localsplus), cache);
    uint64_t cframe = img_alloc(im, sizeof(_PyCFrame));
    img_put_u64(im, cframe + offsetof(_PyCFrame, current_frame), fr[0]);
    uint64_t ts = img_alloc(im, sizeof(PyThreadState) + 8);
    img_put_u64(im, ts + offsetof(PyThreadState, native_thread_id), 4242);
    img_put_u64(im, ts + OFF_TS_CFRAME, cframe);

    /* Runtime, interpreter, GC generations. */
    uint64_t runtime = img_alloc(im, sizeof(_PyRuntimeState));
    uint64_t interp = img_alloc(im, sizeof(PyInterpreterState));
    img_put_u64(im, runtime + offsetof(_PyRuntimeState, interpreters.head), interp);
    img_put_u64(im, runtime + offsetof(_PyRuntimeState, interpreters.main), interp);
    img_put_u64(im, interp + offsetof(PyInterpreterState, modules), modules);
    img_put_u64(im, interp + offsetof(PyInterpreterState, threads.head), ts);
    img_put_u64(im, ts + offsetof(PyThreadState, interp), interp);
    target.runtime_addr = runtime;
    interp_addr = interp;
    uint64_t gcs = interp + offsetof(PyInterpreterState, gc);
    struct _gc_runtime_state st;
    memset(&st, 0, sizeof st);
    st.enabled = 1;
    st.generations[0].threshold = 700;
    st.generations[1].threshold = 10;
    st.generations[2].threshold = 10;
    img_put(im, gcs, &st, sizeof st);
    size_t third = g.n / 3;
    for (int i = 0; i < 3; i++) {
        uint64_t head = gcs + offsetof(struct _gc_runtime_state, generations) +
                        (uint64_t)i * sizeof(struct gc_generation) +
                        offsetof(struct gc_generation, head);
        size_t from = (size_t)i * third, to = i == 2 ? g.n : from + third;
        heap_link(im, head, g.a + from, to - from);
    }
    heap_link(im,
              gcs + offsetof(struct _gc_runtime_state, permanent_generation) +
                  offsetof(struct gc_generation, head),
              NULL, 0);

    fuzz_template_keep(&tmpl, im);
    tmpl.objs = objs;
    tmpl.nobjs = nobjs;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    support_layout(&target.layout);
    struct pk_layout *l = &target.layout;
    PK_F(l, type_members) = (struct pk_field){(int32_t)OFF_TP_MEMBERS, 8, 0, 0};
    PK_F(l, type_dictoffset) = (struct pk_field){(int32_t)OFF_TP_DICTOFFSET, 8, 0, 0};
    PK_F(l, type_bases) = (struct pk_field){(int32_t)OFF_TP_BASES, 8, 0, 0};
    PK_F(l, type_mro) = (struct pk_field){(int32_t)OFF_TP_MRO, 8, 0, 0};
    PK_F(l, tstate_cframe) = (struct pk_field){(int32_t)OFF_TS_CFRAME, 8, 0, 0};
    if (!PK_HAS(l, module_dict) || !PK_HAS(l, cell_ref) || !PK_HAS(l, func_closure) ||
        !PK_HAS(l, method_self) || !PK_HAS(l, memberdef_offset) || !PK_HAS(l, interp_modules) ||
        !PK_HAS(l, block_rightlink) || !PK_HAS(l, cframe_current_frame) ||
        !PK_HAS(l, iframe_localsplus) || !PK_HAS(l, code_localsplusnames))
        abort(); /* the harness's own structs must be in its layout */
    target.py_version_hex = 0x030b02f0;
    build_template();
    /* FUZZ_GRAPH_PRINT=1: the reports on stdout, to see what an input does. */
    devnull = getenv("FUZZ_GRAPH_PRINT") ? stdout : fopen("/dev/null", "w");
    if (!devnull) abort();
    return 0;
}

static void why(const struct pk_graph *g, const char *type)
{
    struct pk_why w;
    struct pk_err e = {0};
    if (pk_why_compute(g, type, 8, &w, &e) < 0) abort(); /* fails only out of memory */
    if (w.nchains > 8 || w.reachable + w.unknown != w.instances) abort();
    pk_why_text(devnull, &w, 1, &e);
    pk_why_json(devnull, &w, 1, &e);
    pk_why_free(&w);
}

/* gc.unreachable on a hostile heap (refcounts negative, huge or immortal, objects listed
   twice, references unread): never more than the candidates, the census adds up, examples
   are bounded. */
static void unreachable_invariants(const struct pk_graph *g, const struct pk_unreachable_snap *u)
{
    if (!u->available) {
        if (!u->reason[0]) abort();
        return;
    }
    uint64_t candidates = 0, sum = 0, fin = 0, bytes = 0;
    for (uint32_t v = 1; v < g->n; v++)
        candidates += (g->flags[v] & PK_GN_TRACKED) && !(g->flags[v] & PK_GN_PERMANENT);
    for (size_t i = 0; i < u->ntypes; i++) {
        if (!u->types[i].count || u->types[i].finalizers > u->types[i].count) abort();
        sum += u->types[i].count;
        fin += u->types[i].finalizers;
        bytes += u->types[i].bytes;
    }
    if (u->objects > candidates || sum != u->objects || fin != u->finalizers || bytes != u->bytes ||
        u->retained_bytes < u->bytes || u->nexamples > u->ntypes)
        abort();
    for (size_t i = 0; i < u->nexamples; i++)
        if (!u->examples[i].nhops || !u->examples[i].type) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct img *im = fuzz_image_patched(&tmpl, data, size);

    /* The report's order: census, graph, analysis; without a census, the graph alone. */
    struct pk_snapshot *s = calloc(1, sizeof *s);
    if (!s) abort();
    struct pk_err e = {0};
    struct pk_walk_limits lim = {pk_gc_max_nodes(&im->maps, &target.layout), NULL, 0};
    int census = pk_collect_interpreters(im->mem, &target, &lim, s, &e) == 0 && s->ninterps;
    if (!census) {
        pk_snapshot_free(s);
        memset(s, 0, sizeof *s);
        s->interps = calloc(1, sizeof *s->interps);
        if (!s->interps) abort();
        s->ninterps = 1;
        s->interps[0].addr = interp_addr;
        s->interps[0].is_main = 1;
    }
    struct pk_err he = {0};
    int r = pk_graph_take(im->mem, &target, &lim, s, &he);
    if (r < 0 && he.code != PK_E_NO_PROCESS && he.code != PK_E_INTERRUPTED) abort();
    pk_graph_finish(s, 10, 1);
    struct pk_graph *g = s->graph;
    if (g) {
        if (g->n == 0 || g->edge_first[g->n] != g->nedges) abort();
        for (uint64_t k = 0; k < g->nedges; k++)
            if (g->edge_dst[k] >= g->n) abort();
        unreachable_invariants(g, &s->interps[0].unreachable);
        why(g, "User");
        why(g, "list");
        why(g, "module"); /* held by the root itself */
    }
    /* Thread stacks from the same image: the frame walker with line tables, bounded. */
    if (pk_stacks_collect(im->mem, &target, NULL, 1, s) == 0) {
        if (s->nthreads > PK_FRAMES_MAX_THREADS) abort();
        uint64_t frames = 0;
        for (size_t i = 0; i < s->nthreads; i++) {
            if (s->threads[i].nframes > PK_FRAMES_MAX_DEPTH) abort();
            frames += s->threads[i].nframes;
            size_t nlocals = 0;
            for (size_t k = 0; k < s->threads[i].nframes; k++)
                nlocals += s->threads[i].frames[k].nlocals;
            if (nlocals > PK_STACKS_LOCALS_PER_THREAD) abort();
        }
        if (frames > PK_FRAMES_MAX_TOTAL) abort();
        pk_stacks_text(devnull, s, 1);
        pk_threads_section(devnull, s);
    }
    if (census) {
        struct pk_report_opts ro = {10};
        struct pk_err oe = {0};
        s->attach.mode = "frozen";
        pk_report_text(devnull, s, &ro, &oe);
        pk_report_json(devnull, s, &ro, &oe);
    }
    pk_snapshot_free(s);
    free(s);
    img_free(im);
    return 0;
}
