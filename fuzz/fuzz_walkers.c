/* libFuzzer harness for the cpython/ walkers: hostile target memory through the reader interface.
   A well-formed synthetic interpreter is patched by the fuzz input, then read by
   pk_collect_interpreters (GC state, census, gc.garbage, pymalloc, fd owners), the str/dict/type
   readers and the text and JSON reports. Crashes, hangs and leaks found here are walker bugs.
   The input's first byte chooses the interpreter (fuzz_variant.h): 0 the mini 3.11 one built
   here from tests/support_*, 1-6 the 3.9, 3.12, 3.13, 3.14.0-3.14.4 (incremental GC), 3.14.5+
   and 3.15 shapes of fuzz_record_heap.c; the rest are patches (fuzz_patch.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/collect.h"
#include "cpython/pydict.h"
#include "cpython/pystr.h"
#include "cpython/types.h"
#include "fuzz/fuzz_patch.h"
#include "fuzz/fuzz_variant.h"
#include "report/report.h"
#include "tests/support_heap.h"
#include "tests/support_image.h"
#include "tests/support_py.h"

/* Objects/obmalloc.c's arena and pool headers (3.11), so the layout has their rows. */
typedef uint8_t block;
struct pool_header {
    union {
        block *_padding;
        unsigned int count;
    } ref;
    block *freeblock;
    struct pool_header *nextpool, *prevpool;
    unsigned int arenaindex, szidx, nextoffset, maxnextoffset;
};
struct arena_object {
    uintptr_t address;
    block *pool_address;
    unsigned int nfreepools, ntotalpools;
    struct pool_header *freepools;
    struct arena_object *nextarena, *prevarena;
};
__attribute__((used)) struct pool_header fz_pool;
__attribute__((used)) struct arena_object fz_arena;

#define IMAGE_SIZE (256u << 10)
#define POOL (16u << 10)
#define FX_TPFLAGS_MANAGED_DICT (1ul << 4)
#define FX_DICT_KEYS_UNICODE 1

#define NVARIANTS (1 + FZ_SHAPE_COUNT)
static struct fuzz_variant variants[NVARIANTS]; /* the well-formed images inputs patch */
static FILE *devnull;

/* A compact str object: kind 1 (ASCII or latin-1), 2 or 4. */
static uint64_t new_str(struct img *im, uint64_t str_type, const uint32_t *cps, size_t n, int kind)
{
    int ascii = kind == 1;
    for (size_t i = 0; i < n; i++)
        ascii &= cps[i] < 0x80;
    size_t head = ascii ? sizeof(PyASCIIObject) : sizeof(PyCompactUnicodeObject);
    uint64_t a = img_alloc(im, head + (n + 1) * (size_t)kind);
    PyASCIIObject o;
    memset(&o, 0, sizeof o);
    o.ob_base.ob_refcnt = 1;
    o.ob_base.ob_type = (struct _typeobject *)(uintptr_t)str_type;
    o.length = (Py_ssize_t)n;
    o.hash = -1;
    o.state.kind = (unsigned)kind;
    o.state.compact = 1;
    o.state.ascii = (unsigned)ascii;
    o.state.ready = 1;
    img_put(im, a, &o, sizeof o);
    for (size_t i = 0; i < n; i++)
        img_put(im, a + head + i * (size_t)kind, &cps[i], (size_t)kind);
    return a;
}

static uint64_t new_ascii(struct img *im, uint64_t str_type, const char *s)
{
    uint32_t cps[64];
    size_t n = strlen(s);
    for (size_t i = 0; i < n && i < 64; i++)
        cps[i] = (unsigned char)s[i];
    return new_str(im, str_type, cps, n < 64 ? n : 64, 1);
}

/* A non-compact str whose characters live in a separate buffer (PyUnicodeObject.data). */
static uint64_t new_legacy_str(struct img *im, uint64_t str_type, const char *s)
{
    uint64_t a = img_alloc(im, sizeof(PyUnicodeObject));
    size_t n = strlen(s);
    uint64_t data = img_alloc(im, n + 1);
    img_put(im, data, s, n + 1);
    PyUnicodeObject o;
    memset(&o, 0, sizeof o);
    o._base._base.ob_base.ob_refcnt = 1;
    o._base._base.ob_base.ob_type = (struct _typeobject *)(uintptr_t)str_type;
    o._base._base.length = (Py_ssize_t)n;
    o._base._base.state.kind = 1;
    o._base._base.state.ready = 1;
    o.data.any = (void *)(uintptr_t)data;
    img_put(im, a, &o, sizeof o);
    return a;
}

/* Keys of a unicode-kind table with n entries (8 slots, 1-byte indices). */
static uint64_t new_keys(struct img *im, const uint64_t *keys, const uint64_t *values, size_t n)
{
    uint64_t k = img_alloc(im, sizeof(PyDictKeysObject) + 8 + 5 * sizeof(PyDictUnicodeEntry));
    PyDictKeysObject h;
    memset(&h, 0, sizeof h);
    h.dk_refcnt = 1;
    h.dk_log2_size = 3;
    h.dk_log2_index_bytes = 3;
    h.dk_kind = FX_DICT_KEYS_UNICODE;
    h.dk_usable = (Py_ssize_t)(5 - n);
    h.dk_nentries = (Py_ssize_t)n;
    img_put(im, k, &h, sizeof h);
    uint64_t ent = k + offsetof(PyDictKeysObject, dk_indices) + 8;
    for (size_t i = 0; i < n; i++) {
        PyDictUnicodeEntry e = {(PyObject *)(uintptr_t)keys[i],
                                (PyObject *)(uintptr_t)(values ? values[i] : 0)};
        img_put(im, ent + i * sizeof e, &e, sizeof e);
        int8_t idx = (int8_t)i;
        img_put(im, k + offsetof(PyDictKeysObject, dk_indices) + i, &idx, 1);
    }
    return k;
}

static uint64_t new_dict_gc(struct img *im, uint64_t dict_type, uint64_t keys, uint64_t values)
{
    uint64_t gc = heap_new_gc_object(im, sizeof(PyDictObject), dict_type);
    uint64_t d = heap_obj(gc);
    img_put_u64(im, d + offsetof(PyDictObject, ma_keys), keys);
    img_put_u64(im, d + offsetof(PyDictObject, ma_values), values);
    return gc;
}

static uint64_t new_list_gc(struct img *im, uint64_t list_type, const uint64_t *items, size_t n)
{
    uint64_t gc = heap_new_gc_object(im, sizeof(PyListObject), list_type);
    uint64_t o = heap_obj(gc), arr = img_alloc(im, (n + 1) * 8);
    for (size_t i = 0; i < n; i++)
        img_put_u64(im, arr + i * 8, items[i]);
    img_put_u64(im, o + offsetof(PyListObject, ob_item), arr);
    img_put_u64(im, o + offsetof(PyListObject, allocated), n + 1);
    img_put_u64(im, o + offsetof(PyVarObject, ob_size), n);
    return gc;
}

/* A heap type (itself a GC object) named module.qualname, with tp_dict and cached keys. */
static uint64_t new_heap_type_gc(struct img *im, uint64_t meta, uint64_t str_type,
                                 uint64_t dict_type, uint64_t base, const char *module,
                                 const char *qualname, unsigned long flags, Py_ssize_t basicsize)
{
    uint64_t gc = img_alloc(im, sizeof(PyGC_Head) + sizeof(PyHeapTypeObject));
    uint64_t t = heap_obj(gc);
    PyHeapTypeObject h;
    memset(&h, 0, sizeof h);
    h.ht_type.ob_base.ob_base.ob_refcnt = 1;
    h.ht_type.ob_base.ob_base.ob_type = (struct _typeobject *)(uintptr_t)meta;
    h.ht_type.tp_flags = flags | FX_TPFLAGS_HEAPTYPE | FX_TPFLAGS_HAVE_GC;
    h.ht_type.tp_basicsize = basicsize;
    h.ht_type.tp_base = (struct _typeobject *)(uintptr_t)base;
    uint64_t name = new_ascii(im, str_type, qualname);
    h.ht_qualname = (PyObject *)(uintptr_t)name;
    h.ht_name = (PyObject *)(uintptr_t)name;
    uint64_t k[2] = {new_ascii(im, str_type, "__module__"), new_ascii(im, str_type, "__doc__")};
    uint64_t v[2] = {new_ascii(im, str_type, module), new_ascii(im, str_type, "doc")};
    uint64_t dgc = new_dict_gc(im, dict_type, new_keys(im, k, v, 2), 0);
    h.ht_type.tp_dict = (PyObject *)(uintptr_t)heap_obj(dgc);
    h.ht_cached_keys = (void *)(uintptr_t)new_keys(im, k, NULL, 1);
    img_put(im, t, &h, sizeof h);
    return gc;
}

/* The mini 3.11 interpreter (template 0). */
static void build_template(struct fuzz_variant *v)
{
    struct img *im = img_new(IMAGE_SIZE);
    const unsigned long gcf = FX_TPFLAGS_HAVE_GC;
    uint64_t meta =
        heap_new_type(im, 0, "type", FX_TPFLAGS_TYPE_SUBCLASS | gcf, sizeof(PyHeapTypeObject), 8);
    uint64_t object = heap_new_type(im, meta, "object", 0, sizeof(PyObject), 0);
    uint64_t str = heap_new_type(im, meta, "str", 0, sizeof(PyASCIIObject), 1);
    uint64_t list = heap_new_type(im, meta, "list", gcf, sizeof(PyListObject), 0);
    uint64_t tuple = heap_new_type(im, meta, "tuple", gcf, sizeof(PyTupleObject) - 8, 8);
    uint64_t dict = heap_new_type(im, meta, "dict", gcf, sizeof(PyDictObject), 0);
    uint64_t set = heap_new_type(im, meta, "set", gcf, sizeof(PySetObject), 0);
    uint64_t gen = heap_new_type(im, meta, "generator", gcf, 64, 8);
    uint64_t bt[PK_BT_COUNT] = {0};
    bt[PK_BT_OBJECT] = object;
    bt[PK_BT_LIST] = list;
    bt[PK_BT_TUPLE] = tuple;
    bt[PK_BT_DICT] = dict;
    bt[PK_BT_SET] = set;
    bt[PK_BT_FROZENSET] = set;
    bt[PK_BT_TYPE] = meta;
    bt[PK_BT_GENERATOR] = gen;
    memcpy(v->target.builtin_types, bt, sizeof bt);

    /* Strings of every representation. */
    uint32_t wide2[] = {'n', 0xe9, 0x263a, 0x1b, '[', '2', 'J'};
    uint32_t wide4[] = {0x1f600, 0xdcff, 0x110000, 'x'};
    v->str_addrs[0] = new_ascii(im, str, "plain");
    v->str_addrs[1] = new_str(im, str, wide2, 7, 2);
    v->str_addrs[2] = new_str(im, str, wide4, 4, 4);
    v->str_addrs[3] = new_legacy_str(im, str, "legacy\nstring");

    /* Heap types: one a subclass of list (sized as a list), one of dict, one plain. */
    uint64_t user_gc = new_heap_type_gc(im, meta, str, dict, object, "app", "User", 0, 32);
    uint64_t ulist_gc = new_heap_type_gc(im, meta, str, dict, list, "app.models", "UList", 0,
                                         (Py_ssize_t)sizeof(PyListObject));
    uint64_t managed_gc = new_heap_type_gc(im, meta, str, dict, object, "builtins", "Managed",
                                           FX_TPFLAGS_MANAGED_DICT, 24);
    uint64_t user = heap_obj(user_gc), ulist = heap_obj(ulist_gc), managed = heap_obj(managed_gc);
    v->type_addrs[0] = meta;
    v->type_addrs[1] = user;
    v->type_addrs[2] = ulist;
    v->type_addrs[3] = managed;
    v->type_addrs[4] = list;
    v->type_addrs[5] = dict;
    v->type_addrs[6] = set;
    v->type_addrs[7] = gen;

    /* Containers. */
    uint64_t k3[3] = {v->str_addrs[0], v->str_addrs[1], v->str_addrs[2]};
    uint64_t v3[3] = {v->str_addrs[3], v->str_addrs[0], v->str_addrs[1]};
    uint64_t d_combined = new_dict_gc(im, dict, new_keys(im, k3, v3, 3), 0);
    uint64_t split_vals = img_alloc(im, 5 * 8);
    for (int i = 0; i < 3; i++)
        img_put_u64(im, split_vals + (uint64_t)i * 8, v3[i]);
    uint64_t d_split = new_dict_gc(im, dict, new_keys(im, k3, NULL, 3), split_vals);
    v->dict_addrs[0] = heap_obj(d_combined);
    v->dict_addrs[1] = heap_obj(d_split);
    v->dict_addrs[2] = user + offsetof(PyTypeObject, tp_dict); /* patched into a dict pointer */
    uint64_t items[3] = {v->str_addrs[0], heap_obj(d_combined), v->str_addrs[2]};
    uint64_t l1 = new_list_gc(im, list, items, 3);
    uint64_t l2 = new_list_gc(im, ulist, items, 2);
    uint64_t s_small = heap_new_gc_object(im, sizeof(PySetObject), set);
    img_put_u64(im, heap_obj(s_small) + offsetof(PySetObject, mask), 7);
    img_put_u64(im, heap_obj(s_small) + offsetof(PySetObject, table),
                heap_obj(s_small) + offsetof(PySetObject, smalltable));
    uint64_t s_big = heap_new_gc_object(im, sizeof(PySetObject), set);
    img_put_u64(im, heap_obj(s_big) + offsetof(PySetObject, mask), 31);
    img_put_u64(im, heap_obj(s_big) + offsetof(PySetObject, table), img_alloc(im, 32 * 16));
    uint64_t tup = heap_new_gc_object(im, sizeof(PyTupleObject) + 16, tuple);
    img_put_u64(im, heap_obj(tup) + offsetof(PyVarObject, ob_size), 3);
    uint64_t g = heap_new_gc_object(im, 64, gen);
    img_put_u64(im, heap_obj(g) + offsetof(PyVarObject, ob_size), 0x4141414141414141ull);
    uint64_t u1 = heap_new_gc_object(im, 32, user), u2 = heap_new_gc_object(im, 32, user);
    uint64_t m1 = heap_new_gc_object(im, 24, managed);

    /* Runtime, interpreter, GC state. */
    uint64_t runtime = img_alloc(im, sizeof(_PyRuntimeState));
    uint64_t interp = img_alloc(im, sizeof(PyInterpreterState));
    img_put_u64(im, runtime + offsetof(_PyRuntimeState, interpreters.head), interp);
    img_put_u64(im, runtime + offsetof(_PyRuntimeState, interpreters.main), interp);
    v->target.runtime_addr = runtime;
    uint64_t gcs = interp + offsetof(PyInterpreterState, gc);
    struct _gc_runtime_state st;
    memset(&st, 0, sizeof st);
    st.enabled = 1;
    st.generations[0].threshold = 700;
    st.generations[0].count = 5;
    st.generations[1].threshold = 10;
    st.generations[2].threshold = 10;
    st.generation_stats[0].collections = 3;
    img_put(im, gcs, &st, sizeof st);
    uint64_t heads[4];
    for (int i = 0; i < 3; i++)
        heads[i] = gcs + offsetof(struct _gc_runtime_state, generations) +
                   (uint64_t)i * sizeof(struct gc_generation) +
                   offsetof(struct gc_generation, head);
    heads[3] = gcs + offsetof(struct _gc_runtime_state, permanent_generation) +
               offsetof(struct gc_generation, head);
    uint64_t gen0[] = {l1, d_combined, u1, s_small, g};
    uint64_t gen1[] = {l2, d_split, u2};
    uint64_t gen2[] = {user_gc, ulist_gc, managed_gc, s_big, tup, m1};
    uint64_t perm[] = {new_dict_gc(im, dict, new_keys(im, k3, v3, 1), 0)};
    heap_link(im, heads[0], gen0, 5);
    heap_link(im, heads[1], gen1, 3);
    heap_link(im, heads[2], gen2, 6);
    heap_link(im, heads[3], perm, 1);
    uint64_t garbage_items[3] = {heap_obj(u1), heap_obj(l1), heap_obj(d_split)};
    uint64_t garbage = new_list_gc(im, list, garbage_items, 3);
    img_put_u64(im, gcs + offsetof(struct _gc_runtime_state, garbage), heap_obj(garbage));

    /* pymalloc (3.11 statics): two arena slots, one in use with two pools. */
    uint64_t arenas_var = img_alloc(im, 8), max_var = img_alloc(im, 8);
    uint64_t nar_var = img_alloc(im, 8), raw_var = img_alloc(im, 8);
    uint64_t arenas = img_alloc(im, 2 * sizeof(struct arena_object));
    uint64_t pool_mem = img_alloc(im, 3 * POOL);
    uint64_t pool_base = (pool_mem + POOL - 1) & ~(uint64_t)(POOL - 1);
    img_put_u64(im, arenas_var, arenas);
    img_put_u64(im, max_var, 2);
    img_put_u64(im, nar_var, 1);
    img_put_u64(im, raw_var, 7);
    struct arena_object ao;
    memset(&ao, 0, sizeof ao);
    ao.address = pool_mem;
    ao.pool_address = (block *)(uintptr_t)(pool_base + 2 * POOL);
    img_put(im, arenas, &ao, sizeof ao);
    for (int p = 0; p < 2; p++) {
        struct pool_header ph;
        memset(&ph, 0, sizeof ph);
        ph.ref.count = 3u + (unsigned)p;
        ph.szidx = (unsigned)p;
        img_put(im, pool_base + (uint64_t)p * POOL, &ph, sizeof ph);
    }
    v->target.obmalloc_syms.arenas = arenas_var;
    v->target.obmalloc_syms.maxarenas = max_var;
    v->target.obmalloc_syms.narenas = nar_var;
    v->target.obmalloc_syms.raw_allocated_blocks = raw_var;

    v->name = "3.11 mini";
    v->expect_objects = 5 + 3 + 6 + 1;
    v->expect_gen[0] = 5, v->expect_gen[1] = 3, v->expect_gen[2] = 6;
    fuzz_template_keep(&v->tmpl, im);
}

/* The unpatched template must collect cleanly to what it was built with: a template that no
   longer reaches its path (a walker change, a record change) stops the run here. */
static void check_template(const struct fuzz_variant *v)
{
    static const uint8_t no_patches[1];
    struct img *im = fuzz_image_patched(&v->tmpl, no_patches, 0);
    struct pk_snapshot *s = calloc(1, sizeof *s);
    if (!s) abort();
    struct pk_err e = {0};
    struct pk_walk_limits lim = {pk_gc_max_nodes(&im->maps, &v->layout), NULL, 0};
    int r = pk_collect_interpreters(im->mem, &v->target, &lim, s, &e);
    uint64_t objects = 0, gens[3] = {0};
    for (size_t i = 0; r == 0 && i < s->ninterps; i++) {
        for (int g = 0; g < 3; g++)
            gens[g] += s->interps[i].generations[g].objects;
        objects += s->interps[i].total_objects;
    }
    int pymalloc = r == 0 && s->ninterps == 1 && s->interps[0].pymalloc.available &&
                   s->interps[0].pymalloc.arenas == 1;
    if (r != 0 || objects != v->expect_objects || memcmp(gens, v->expect_gen, sizeof gens) ||
        s->fds.nowners != v->expect_owners || !pymalloc) {
        fprintf(stderr,
                "fuzz_walkers: template %s collects to %d (%s): %llu objects (want %llu), "
                "generations %llu/%llu/%llu (want %llu/%llu/%llu), %zu fd owners (want %zu), "
                "pymalloc %s\n",
                v->name, r, e.msg, (unsigned long long)objects,
                (unsigned long long)v->expect_objects, (unsigned long long)gens[0],
                (unsigned long long)gens[1], (unsigned long long)gens[2],
                (unsigned long long)v->expect_gen[0], (unsigned long long)v->expect_gen[1],
                (unsigned long long)v->expect_gen[2], s->fds.nowners, v->expect_owners,
                pymalloc ? "read" : "not read");
        abort();
    }
    fprintf(
        stderr,
        "fuzz_walkers: template %s (%zu of %zu bytes): %llu objects, %zu fd owners, %zu warnings\n",
        v->name, v->tmpl.used, v->tmpl.size, (unsigned long long)objects, s->fds.nowners,
        s->nwarnings);
    pk_snapshot_free(s);
    free(s);
    img_free(im);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct fuzz_variant *v0 = &variants[0];
    support_layout(&v0->layout);
    v0->target.layout = v0->layout;
    v0->target.py_version_hex = 0x030b02f0;
    build_template(v0);
    for (int i = 0; i < FZ_SHAPE_COUNT; i++)
        fuzz_record_variant((enum fuzz_shape)i, &variants[1 + i]);
    for (int i = 0; i < NVARIANTS; i++)
        check_template(&variants[i]);
    devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    return 0;
}

static void read_strings_and_dicts(const struct fuzz_variant *v, struct img *im)
{
    const struct pk_layout *l = &v->layout;
    char buf[PK_STR_MAX_CHARS * 4 + 8];
    for (size_t i = 0; i < sizeof v->str_addrs / sizeof *v->str_addrs; i++) {
        long n = pk_pystr_read(im->mem, l, v->str_addrs[i], buf, sizeof buf);
        if (n >= 0 && (size_t)n >= sizeof buf) abort();     /* must stay within out */
        pk_pystr_read(im->mem, l, v->str_addrs[i], buf, 8); /* the smallest buffer */
    }
    uint64_t dict_from_type = 0;
    pk_mem_read_u64(im->mem, v->dict_addrs[2], &dict_from_type);
    uint64_t dicts[] = {v->dict_addrs[0], v->dict_addrs[1], dict_from_type};
    for (size_t i = 0; i < 3; i++) {
        uint64_t val, sz;
        pk_pydict_get_str(im->mem, l, dicts[i], "__module__", &val);
        pk_pydict_sizeof(im->mem, l, dicts[i], 48, &sz);
    }
    struct pk_types *types = pk_types_new(im->mem, l, v->target.builtin_types);
    if (!types) abort();
    for (size_t i = 0; i < sizeof v->type_addrs / sizeof *v->type_addrs; i++) {
        int rc = 0;
        const struct pk_type_info *ti = pk_types_get(types, v->type_addrs[i], &rc);
        if (ti && (!ti->name || strlen(ti->name) > 2 * 4096 * 4 + 16)) abort();
    }
    pk_types_free(types);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* byte 0: the template; the rest: patches */
    const struct fuzz_variant *v = &variants[size ? data[0] % NVARIANTS : 0];
    struct img *im = fuzz_image_patched(&v->tmpl, size ? data + 1 : data, size ? size - 1 : 0);

    struct pk_snapshot *s = calloc(1, sizeof *s);
    if (!s) abort();
    struct pk_err e = {0};
    struct pk_walk_limits lim = {pk_gc_max_nodes(&im->maps, &v->layout), NULL, 0};
    int r = pk_collect_interpreters(im->mem, &v->target, &lim, s, &e);
    if (r > 0) abort();                      /* 0 or -PK_E_* only */
    if (r < 0 && e.code == PK_E_OK) abort(); /* every failure says why */
    if (r == 0) {
        struct pk_report_opts ro = {10};
        struct pk_err oe = {0};
        s->attach.mode = "frozen";
        pk_report_text(devnull, s, &ro, &oe);
        pk_report_json(devnull, s, &ro, &oe);
    }
    pk_snapshot_free(s);
    free(s);

    read_strings_and_dicts(v, im);
    img_free(im);
    return 0;
}
