/* Templates for fuzz_walkers written through a layout record's offsets (fuzz_variant.h): every
   struct is placed with the record's field table, so each shape drives the walkers down its own
   version's code path (GC list heads, stats, obmalloc state, dict keys, pre-headers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_variant.h"
#include "symbols/layout_record.h"
#include "tests/support_heap.h"
#include "tests/support_image.h"

#define IMAGE_SIZE (128u << 10) /* the largest shape uses under 70 KiB */
#define MAX_OBJS 96

/* Include/object.h flags (facts about CPython). */
#define TPF_MANAGED_WEAKREF (1ul << 3)
#define TPF_MANAGED_DICT (1ul << 4)
#define TPF_HEAPTYPE (1ul << 9)
#define TPF_HAVE_GC (1ul << 14)
#define TPF_TYPE_SUBCLASS (1ul << 31)
#define DICT_KEYS_UNICODE 1
#define DICT_KEYS_SPLIT 2

struct shape_info {
    const char *name, *record;
    uint32_t version;
};
static const struct shape_info shapes[FZ_SHAPE_COUNT] = {
    [FZ_SHAPE_3_9] = {"3.9", "3.9.2-bullseye", 0x030902f0},
    [FZ_SHAPE_3_12] = {"3.12", "3.13.5-trixie", 0x030c01f0},
    [FZ_SHAPE_3_13] = {"3.13", "3.13.5-trixie", 0x030d05f0},
    [FZ_SHAPE_3_14_INCREMENTAL] = {"3.14.4 incremental", "3.14.8-forky", 0x030e04f0},
    [FZ_SHAPE_3_14] = {"3.14.8", "3.14.8-forky", 0x030e08f0},
    [FZ_SHAPE_3_15] = {"3.15", "3.15.0-forky", 0x030f00f0},
};

/* The builder's state: the image, the layout it is written with, and the objects so far. */
struct build {
    struct img *im;
    const struct pk_layout *l;
    struct fuzz_variant *v;
    uint64_t objs[MAX_OBJS];
    size_t nobjs;
    uint64_t refcnt; /* 1, or an immortal count for the static objects of 3.12+ */
};

static void set_field(struct pk_layout *l, enum pk_layout_field f, int32_t off, uint32_t size)
{
    l->f[f] = (struct pk_field){off, size, 0, 0};
}

/* Writes v into the field at base (bit fields within their 32-bit word); absent fields are
   skipped, as the version has no such member. */
static void put(struct build *b, uint64_t base, struct pk_field f, uint64_t v)
{
    if (!pk_field_ok(f)) return;
    uint64_t at = base + (uint64_t)f.off;
    if (f.bit_size > 0) {
        uint32_t w, mask = (f.bit_size >= 32 ? ~0u : (1u << f.bit_size) - 1) << f.bit_off;
        memcpy(&w, img_ptr(b->im, at), 4);
        w = (w & ~mask) | (((uint32_t)v << f.bit_off) & mask);
        img_put(b->im, at, &w, 4);
        return;
    }
    size_t n = f.size && f.size < 8 ? f.size : 8;
    img_put(b->im, at, &v, n);
}
#define PUT(b, base, name, v) put((b), (base), PK_F((b)->l, name), (uint64_t)(v))

static void note_obj(struct build *b, uint64_t obj)
{
    if (b->nobjs < MAX_OBJS) b->objs[b->nobjs++] = obj;
}

static uint64_t header(struct build *b, uint64_t obj, uint64_t type, uint64_t refcnt)
{
    PUT(b, obj, object_refcnt, refcnt);
    PUT(b, obj, object_type, type);
    return obj;
}

/* A GC object of size bytes after its PyGC_Head (and pre bytes of pre-header before it);
   returns the object's address (the GC head is gchead_size below). */
static uint64_t gc_object(struct build *b, uint64_t size, uint64_t type, uint64_t pre)
{
    uint64_t gh = PK_F(b->l, gchead_size).size;
    uint64_t obj = img_alloc(b->im, pre + gh + size) + pre + gh;
    header(b, obj, type, 1);
    note_obj(b, obj);
    return obj;
}

static uint64_t gc_head_of(struct build *b, uint64_t obj)
{
    return obj - PK_F(b->l, gchead_size).size;
}

static uint64_t cstr(struct build *b, const char *s)
{
    uint64_t a = img_alloc(b->im, strlen(s) + 1);
    img_put(b->im, a, s, strlen(s) + 1);
    return a;
}

/* A static type object (not GC-tracked). */
static uint64_t static_type(struct build *b, uint64_t meta, const char *name, uint64_t flags,
                            int64_t basicsize, int64_t itemsize, uint64_t base)
{
    uint64_t t = img_alloc(b->im, PK_F(b->l, type_struct_size).size);
    header(b, t, meta ? meta : t, b->refcnt);
    PUT(b, t, type_name, cstr(b, name));
    PUT(b, t, type_flags, flags);
    PUT(b, t, type_basicsize, basicsize);
    PUT(b, t, type_itemsize, itemsize);
    PUT(b, t, type_base, base);
    note_obj(b, t);
    return t;
}

/* A compact str (kind 1, 2 or 4), or with legacy set a str whose characters are elsewhere. */
static uint64_t new_str(struct build *b, uint64_t str_type, const uint32_t *cps, size_t n, int kind,
                        int legacy)
{
    const struct pk_layout *l = b->l;
    int ascii = kind == 1 && !legacy;
    for (size_t i = 0; i < n; i++)
        ascii &= cps[i] < 0x80;
    uint64_t head = ascii ? PK_F(l, ascii_size).size : PK_F(l, compact_unicode_size).size;
    uint64_t s, data;
    if (legacy) {
        s = img_alloc(b->im, PK_OFF(l, unicode_data) + 8);
        data = img_alloc(b->im, (n + 1) * (size_t)kind);
        PUT(b, s, unicode_data, data);
    } else {
        s = img_alloc(b->im, head + (n + 1) * (size_t)kind);
        data = s + head;
    }
    header(b, s, str_type, b->refcnt);
    PUT(b, s, ascii_length, n);
    PUT(b, s, ascii_state_kind, kind);
    PUT(b, s, ascii_state_compact, !legacy);
    PUT(b, s, ascii_state_ascii, ascii);
    for (size_t i = 0; i < n; i++)
        img_put(b->im, data + i * (size_t)kind, &cps[i], (size_t)kind);
    return s;
}

static uint64_t new_ascii(struct build *b, uint64_t str_type, const char *s)
{
    uint32_t cps[64];
    size_t n = strlen(s) < 64 ? strlen(s) : 64;
    for (size_t i = 0; i < n; i++)
        cps[i] = (unsigned char)s[i];
    return new_str(b, str_type, cps, n, 1, 0);
}

/* A keys object of 8 slots holding n str keys (values NULL: a split table's shared keys). */
static uint64_t new_keys(struct build *b, const uint64_t *keys, const uint64_t *values, size_t n)
{
    const struct pk_layout *l = b->l;
    uint64_t hlen = PK_OFF(l, dictkeys_indices);
    int log2 = PK_HAS(l, dictkeys_log2_size);
    int general = !log2; /* 3.9/3.10 entries carry the hash */
    uint64_t esz = general ? PK_F(l, dictentry_size).size : PK_F(l, dictuentry_size).size;
    uint64_t k = img_alloc(b->im, hlen + 8 + 5 * esz);
    PUT(b, k, dictkeys_refcnt, 1);
    if (log2) {
        PUT(b, k, dictkeys_log2_size, 3);
        PUT(b, k, dictkeys_log2_index_bytes, 3);
        PUT(b, k, dictkeys_kind, values ? DICT_KEYS_UNICODE : DICT_KEYS_SPLIT);
    } else {
        PUT(b, k, dictkeys_size, 8);
    }
    PUT(b, k, dictkeys_usable, 5 - n);
    PUT(b, k, dictkeys_nentries, n);
    for (size_t i = 0; i < 8; i++) {
        uint8_t idx = i < n ? (uint8_t)i : 0xff; /* DKIX_EMPTY */
        img_put(b->im, k + hlen + i, &idx, 1);
    }
    uint64_t ent = k + hlen + 8;
    for (size_t i = 0; i < n; i++) {
        uint64_t e = ent + i * esz;
        if (general) {
            img_put_u64(b->im, e, 0x5eed + i); /* me_hash */
            PUT(b, e, dictentry_key, keys[i]);
            if (values) PUT(b, e, dictentry_value, values[i]);
        } else {
            PUT(b, e, dictuentry_key, keys[i]);
            if (values) PUT(b, e, dictuentry_value, values[i]);
        }
    }
    return k;
}

static uint64_t new_dict(struct build *b, uint64_t keys, uint64_t values, uint64_t n)
{
    uint64_t d =
        gc_object(b, PK_OFF(b->l, dict_values) + 8, b->v->target.builtin_types[PK_BT_DICT], 0);
    PUT(b, d, dict_used, n);
    PUT(b, d, dict_keys, keys);
    PUT(b, d, dict_values, values);
    return d;
}

/* A split table's values (PyDictValues: 3.13+ with a capacity header). */
static uint64_t new_values(struct build *b, const uint64_t *values, size_t n)
{
    const struct pk_layout *l = b->l;
    uint64_t off = PK_HAS(l, dictvalues_values) ? PK_OFF(l, dictvalues_values) : 0;
    uint64_t v = img_alloc(b->im, off + 8 * 8);
    PUT(b, v, dictvalues_capacity, 5);
    PUT(b, v, dictvalues_valid, 1);
    for (size_t i = 0; i < n; i++)
        img_put_u64(b->im, v + off + i * 8, values[i]);
    return v;
}

static uint64_t new_list(struct build *b, uint64_t type, const uint64_t *items, size_t n)
{
    uint64_t o = gc_object(b, PK_OFF(b->l, list_allocated) + 8, type, 0);
    uint64_t arr = img_alloc(b->im, (n + 1) * 8);
    for (size_t i = 0; i < n; i++)
        img_put_u64(b->im, arr + i * 8, items[i]);
    PUT(b, o, varobject_size, n);
    PUT(b, o, list_item, arr);
    PUT(b, o, list_allocated, n + 1);
    return o;
}

/* A heap type (a GC object) named module.qualname, with tp_dict and cached keys. */
static uint64_t heap_type(struct build *b, uint64_t base, const char *module, const char *qualname,
                          uint64_t flags, int64_t basicsize)
{
    const struct pk_layout *l = b->l;
    const uint64_t *bt = b->v->target.builtin_types;
    uint64_t t = gc_object(b, PK_F(l, heaptype_struct_size).size, bt[PK_BT_TYPE], 0);
    PUT(b, t, type_name, cstr(b, qualname));
    PUT(b, t, type_flags, flags | TPF_HEAPTYPE | TPF_HAVE_GC);
    PUT(b, t, type_basicsize, basicsize);
    PUT(b, t, type_base, base);
    uint64_t name = new_ascii(b, bt[PK_BT_STR], qualname);
    PUT(b, t, heaptype_name, name);
    PUT(b, t, heaptype_qualname, name);
    uint64_t k[2] = {new_ascii(b, bt[PK_BT_STR], "__module__"),
                     new_ascii(b, bt[PK_BT_STR], "__doc__")};
    uint64_t v[2] = {new_ascii(b, bt[PK_BT_STR], module), new_ascii(b, bt[PK_BT_STR], "doc")};
    PUT(b, t, type_dict, new_dict(b, new_keys(b, k, v, 2), 0, 2));
    PUT(b, t, heaptype_cached_keys, new_keys(b, k, NULL, 1));
    return t;
}

/* Links the objects' GC heads into the list at head; bits go into each member's _gc_next
   (3.14.0-3.14.4 keep an object's old space there). */
static void link(struct build *b, uint64_t head, const uint64_t *objs, size_t n, uint64_t bits)
{
    uint64_t gc[32];
    for (size_t i = 0; i < n && i < 32; i++)
        gc[i] = gc_head_of(b, objs[i]);
    heap_link(b->im, head, gc, n < 32 ? n : 32);
    for (size_t i = 0; bits && i < n && i < 32; i++) {
        uint64_t next;
        memcpy(&next, img_ptr(b->im, gc[i] + PK_OFF(b->l, gchead_next)), 8);
        img_put_u64(b->im, gc[i] + PK_OFF(b->l, gchead_next), next | bits);
    }
    b->v->expect_objects += n;
}

/* The layout: the record's field table, changed where the shape's version differs from it. */
static void shape_layout(enum fuzz_shape shape, struct pk_layout *l)
{
    const struct shape_info *si = &shapes[shape];
    const struct pk_builtin_record *rec = NULL;
    for (size_t i = 0; i < pk_builtin_nrecords; i++)
        if (!strcmp(pk_builtin_records[i].name, si->record)) rec = &pk_builtin_records[i];
    static struct pk_layout_record r;
    struct pk_err e = {0};
    if (!rec || pk_record_parse(rec->text, rec->len, &r, &e) < 0) {
        fprintf(stderr, "fuzz: layout record %s: %s\n", si->record, rec ? e.msg : "not built in");
        abort();
    }
    *l = r.layout;
    l->py_version_hex = si->version;
    if (shape == FZ_SHAPE_3_12) {
        /* 3.12 embeds struct _obmalloc_state in the interpreter (3.13+ points to it) and keeps
           PyDictValues' values at its start */
        set_field(l, PK_L_interp_obmalloc, PK_F(l, interp_obmalloc).off, 1096);
        set_field(l, PK_L_dictvalues_values, 0, 8);
        l->f[PK_L_dictvalues_capacity] = PK_FIELD_MISSING;
        l->f[PK_L_dictvalues_valid] = PK_FIELD_MISSING;
    }
    if (shape == FZ_SHAPE_3_14_INCREMENTAL) {
        /* 3.14.0-3.14.4 (cpython-internals.md 1.4): young, old[2], visited_space */
        l->f[PK_L_gc_generations] = PK_FIELD_MISSING;
        l->f[PK_L_gc_generation0] = PK_FIELD_MISSING;
        set_field(l, PK_L_gc_young, 24, 24);
        set_field(l, PK_L_gc_old, 48, 48);
        set_field(l, PK_L_gc_permanent_generation, 96, 24);
        set_field(l, PK_L_gc_generation_stats, 120, 72);
        set_field(l, PK_L_gc_collecting, 192, 4);
        set_field(l, PK_L_gc_garbage, 200, 8);
        set_field(l, PK_L_gc_visited_space, 232, 4);
        set_field(l, PK_L_gc_size, 0, 240);
        set_field(l, PK_L_interp_gc, PK_F(l, interp_gc).off, 240);
    }
    if (pk_layout_finish(l, &e) < 0) {
        fprintf(stderr, "fuzz: layout of shape %s: %s\n", si->name, e.msg);
        abort();
    }
}

/* The collector's state: thresholds, counts, stats, the lists and gc.garbage. */
static void gc_state(struct build *b, uint64_t gcs, const uint64_t *lists[4], const size_t n[4],
                     uint64_t garbage)
{
    const struct pk_layout *l = b->l;
    uint64_t gsz = PK_F(l, gen_size).size, gens[3];
    PUT(b, gcs, gc_enabled, 1);
    PUT(b, gcs, gc_debug, 0);
    if (l->gc_kind == PK_GC_GENERATIONAL) {
        for (int i = 0; i < 3; i++)
            gens[i] = gcs + PK_OFF(l, gc_generations) + (uint64_t)i * gsz;
        PUT(b, gcs, gc_generation0, gens[0] + PK_OFF(l, gen_head));
        for (int i = 0; i < 3; i++)
            link(b, gens[i] + PK_OFF(l, gen_head), lists[i], n[i], 0);
        for (int i = 0; i < 3; i++)
            b->v->expect_gen[i] = n[i];
    } else {
        /* visited_space 1: get_count() is (young, old[1], old[0]); old[i] members carry i,
           young ones !visited */
        PUT(b, gcs, gc_visited_space, 1);
        gens[0] = gcs + PK_OFF(l, gc_young);
        gens[1] = gcs + PK_OFF(l, gc_old) + gsz;
        gens[2] = gcs + PK_OFF(l, gc_old);
        link(b, gens[0] + PK_OFF(l, gen_head), lists[0], n[0], 0);
        link(b, gens[1] + PK_OFF(l, gen_head), lists[1], n[1], 1);
        link(b, gens[2] + PK_OFF(l, gen_head), lists[2], n[2], 0);
        /* gc.get_objects(1) is always empty; (2) is both old spaces */
        b->v->expect_gen[0] = n[0];
        b->v->expect_gen[2] = n[1] + n[2];
    }
    static const int thresholds[3] = {2000, 10, 10};
    for (int i = 0; i < 3; i++) {
        PUT(b, gens[i], gen_threshold, thresholds[i]);
        PUT(b, gens[i], gen_count, 5 - i);
    }
    link(b, gcs + PK_OFF(l, gc_permanent_generation) + PK_OFF(l, gen_head), lists[3], n[3], 0);
    uint64_t ssz = PK_F(l, genstats_size).size;
    if (PK_HAS(l, gcstats_young_items)) {
        /* 3.15: a pointer to ring buffers; each buffer's index names its current entry */
        uint64_t osz = PK_F(l, oldstats_size).size;
        uint64_t st = img_alloc(b->im, PK_OFF(l, gcstats_old) + 2 * osz);
        PUT(b, gcs, gc_generation_stats, st);
        PUT(b, st, gcstats_young_index, 2);
        PUT(b, st + PK_OFF(l, gcstats_young_items) + 2 * ssz, genstats_collections, 41);
        for (uint64_t k = 0; k < 2; k++) {
            uint64_t buf = st + PK_OFF(l, gcstats_old) + k * osz;
            PUT(b, buf, oldstats_index, 1 + k);
            PUT(b, buf + PK_OFF(l, oldstats_items) + (1 + k) * ssz, genstats_collections, 3 - k);
            PUT(b, buf + PK_OFF(l, oldstats_items) + (1 + k) * ssz, genstats_collected, 7);
        }
    } else {
        for (uint64_t i = 0; i < 3; i++) {
            uint64_t st = gcs + PK_OFF(l, gc_generation_stats) + i * ssz;
            PUT(b, st, genstats_collections, 40 - i);
            PUT(b, st, genstats_collected, 9);
            PUT(b, st, genstats_uncollectable, i);
        }
    }
    PUT(b, gcs, gc_garbage, garbage);
}

/* pymalloc: one arena in use with one carved pool; the arena table where the version keeps
   it (3.9-3.11 statics, 3.12 in the interpreter, 3.13+ behind a pointer in it). */
static void pymalloc(struct build *b, uint64_t interp)
{
    const struct pk_layout *l = b->l;
    struct pk_target *t = &b->v->target;
    uint64_t a_arenas, a_max, a_nar, a_raw;
    if (PK_HAS(l, interp_obmalloc) && PK_HAS(l, obmalloc_arenas)) {
        uint64_t state = interp + PK_OFF(l, interp_obmalloc);
        if (PK_F(l, interp_obmalloc).size == 8) {
            state = img_alloc(b->im, PK_OFF(l, obmalloc_raw_blocks) + 8);
            img_put_u64(b->im, interp + PK_OFF(l, interp_obmalloc), state);
        }
        a_arenas = state + PK_OFF(l, obmalloc_arenas);
        a_max = state + PK_OFF(l, obmalloc_maxarenas);
        a_nar = state + PK_OFF(l, obmalloc_narenas);
        a_raw = state + PK_OFF(l, obmalloc_raw_blocks);
    } else {
        a_arenas = t->obmalloc_syms.arenas = img_alloc(b->im, 8);
        a_max = t->obmalloc_syms.maxarenas = img_alloc(b->im, 8);
        a_nar = t->obmalloc_syms.narenas = img_alloc(b->im, 8);
        a_raw = t->obmalloc_syms.raw_allocated_blocks = img_alloc(b->im, 8);
    }
    uint64_t asz = PK_F(l, arena_size).size, pool = l->pool_size;
    uint64_t arenas = img_alloc(b->im, 2 * asz);
    img_put_u64(b->im, a_arenas, arenas);
    uint32_t two = 2;
    img_put(b->im, a_max, &two, 4);
    img_put_u64(b->im, a_nar, 1);
    img_put_u64(b->im, a_raw, 7);
    /* last in the image: patches reach the first pool's header, not the pages after it */
    uint64_t mem = img_alloc(b->im, 2 * pool);
    uint64_t base = (mem + pool - 1) & ~(pool - 1);
    PUT(b, arenas, arena_address, mem);
    PUT(b, arenas, arena_pool_address, base + pool);
    PUT(b, base, pool_count, 3);
    PUT(b, base, pool_szidx, 1);
    b->im->used = (size_t)(base - b->im->base) + PK_OFF(l, pool_szidx) + 8;
}

/* File and socket objects: TextIOWrapper > BufferedWriter > FileIO (fd 1), TextIOWrapper >
   FileIO (fd 2), BufferedReader > FileIO named by bytes (fd 5), a closed FileIO, sockets
   (one through a Python subclass) and a Python class that only calls itself _io.FileIO. */
static void fd_objects(struct build *b, uint64_t meta, uint64_t object, uint64_t *gen0, size_t *n0,
                       uint64_t *gen2, size_t *n2)
{
    const struct pk_layout *l = b->l;
    const uint64_t *bt = b->v->target.builtin_types;
    uint64_t gcf = TPF_HAVE_GC;
    uint64_t fio = static_type(b, meta, "_io.FileIO", gcf, PK_F(l, fileio_size).size, 0, object);
    uint64_t bw =
        static_type(b, meta, "_io.BufferedWriter", gcf, PK_F(l, buffered_size).size, 0, object);
    uint64_t br =
        static_type(b, meta, "_io.BufferedReader", gcf, PK_F(l, buffered_size).size, 0, object);
    uint64_t tw =
        static_type(b, meta, "_io.TextIOWrapper", gcf, PK_F(l, textio_size).size, 0, object);
    uint64_t sk = static_type(b, meta, "_socket.socket", gcf, PK_F(l, sock_size).size, 0, object);
    uint64_t sub = heap_type(b, sk, "socket", "socket", 0, PK_F(l, sock_size).size + 24);
    uint64_t fake = heap_type(b, object, "app", "_io.FileIO", 0, 32);
    b->v->type_addrs[7] = sub;

    struct {
        int fd, readable, writable;
        const char *name;
    } files[4] = {{1, 0, 1, "<stdout>"}, {2, 0, 1, "<stderr>"}, {5, 1, 0, NULL}, {-1, 1, 0, "x"}};
    uint64_t f[4];
    for (int i = 0; i < 4; i++) {
        f[i] = gc_object(b, PK_F(l, fileio_size).size, fio, 0);
        PUT(b, f[i], fileio_fd, (uint32_t)files[i].fd);
        PUT(b, f[i], fileio_readable, files[i].readable);
        PUT(b, f[i], fileio_writable, files[i].writable);
        PUT(b, f[i], fileio_closefd, 1);
        uint64_t name;
        if (files[i].name) {
            name = new_ascii(b, bt[PK_BT_STR], files[i].name);
        } else {
            name = img_alloc(b->im, PK_OFF(l, bytes_sval) + 16);
            header(b, name, bt[PK_BT_BYTES], 1);
            PUT(b, name, varobject_size, 9);
            img_put(b->im, name + PK_OFF(l, bytes_sval), "/tmp/dat\xff", 10);
        }
        uint64_t k = new_ascii(b, bt[PK_BT_STR], "name");
        uint64_t d = new_dict(b, new_keys(b, &k, &name, 1), 0, 1);
        PUT(b, f[i], fileio_dict, d);
        gen2[(*n2)++] = d;
        gen0[(*n0)++] = f[i];
    }
    uint64_t w = gc_object(b, PK_F(l, buffered_size).size, bw, 0);
    PUT(b, w, buffered_raw, f[0]);
    uint64_t r = gc_object(b, PK_F(l, buffered_size).size, br, 0);
    PUT(b, r, buffered_raw, f[2]);
    uint64_t t1 = gc_object(b, PK_F(l, textio_size).size, tw, 0);
    PUT(b, t1, textio_buffer, w);
    uint64_t t2 = gc_object(b, PK_F(l, textio_size).size, tw, 0);
    PUT(b, t2, textio_buffer, f[1]);
    gen2[(*n2)++] = w;
    gen2[(*n2)++] = r;
    gen0[(*n0)++] = t1;
    gen2[(*n2)++] = t2;
    static const int socks[3][3] = {{7, 2, 1}, {8, 10, 2}, {-1, 1, 1}};
    for (int i = 0; i < 3; i++) {
        uint64_t s =
            gc_object(b, PK_F(l, sock_size).size + (i == 1 ? 24 : 0), i == 1 ? sub : sk, 0);
        PUT(b, s, sock_fd, (uint32_t)socks[i][0]);
        PUT(b, s, sock_family, socks[i][1]);
        PUT(b, s, sock_type, socks[i][2]);
        gen2[(*n2)++] = s;
    }
    gen0[(*n0)++] = gc_object(b, 32, fake, 0);
    gen2[(*n2)++] = sub;
    gen2[(*n2)++] = fake;
    b->v->expect_owners = 5; /* fds 1, 2, 5, 7 and 8 */
}

void fuzz_record_variant(enum fuzz_shape shape, struct fuzz_variant *v)
{
    memset(v, 0, sizeof *v);
    v->name = shapes[shape].name;
    shape_layout(shape, &v->layout);
    struct build bs = {img_new(IMAGE_SIZE), &v->layout, v, {0}, 0, 1};
    struct build *b = &bs;
    const struct pk_layout *l = &v->layout;
    /* static objects of 3.12+ are immortal: the low 32 bits of ob_refcnt all set */
    if (l->refcnt_low32_immortal) b->refcnt = 0xffffffffu;
    uint64_t *bt = v->target.builtin_types;
    const int64_t hts = PK_F(l, heaptype_struct_size).size;
    uint64_t meta = static_type(b, 0, "type", TPF_TYPE_SUBCLASS | TPF_HAVE_GC, hts, 40, 0);
    uint64_t object = static_type(b, meta, "object", 0, PK_F(l, object_size).size, 0, 0);
    bt[PK_BT_TYPE] = meta;
    bt[PK_BT_OBJECT] = object;
    bt[PK_BT_STR] = static_type(b, meta, "str", 1ul << 28, PK_F(l, ascii_size).size, 1, object);
    bt[PK_BT_BYTES] =
        static_type(b, meta, "bytes", 1ul << 27, PK_OFF(l, bytes_sval) + 1, 1, object);
    uint64_t long_off = PK_HAS(l, long_lv_tag) ? PK_OFF(l, long_lv_tag) : PK_OFF(l, varobject_size);
    bt[PK_BT_LONG] = static_type(b, meta, "int", 1ul << 24, (int64_t)long_off + 8, 4, object);
    uint64_t gcf = TPF_HAVE_GC;
    bt[PK_BT_LIST] =
        static_type(b, meta, "list", gcf, (int64_t)PK_OFF(l, list_allocated) + 8, 0, object);
    bt[PK_BT_TUPLE] = static_type(b, meta, "tuple", gcf, (int64_t)PK_OFF(l, tuple_item), 8, object);
    bt[PK_BT_DICT] =
        static_type(b, meta, "dict", gcf, (int64_t)PK_OFF(l, dict_values) + 8, 0, object);
    uint64_t set_size = PK_OFF(l, set_smalltable) + PK_F(l, set_smalltable).size + 8;
    bt[PK_BT_SET] = static_type(b, meta, "set", gcf, (int64_t)set_size, 0, object);
    bt[PK_BT_FROZENSET] = static_type(b, meta, "frozenset", gcf, (int64_t)set_size, 0, object);
    b->refcnt = 1;

    uint32_t wide2[] = {'n', 0xe9, 0x263a, 0x1b, '[', '2', 'J'};
    uint32_t wide4[] = {0x1f600, 0xdcff, 0x110000, 'x'};
    uint32_t legacy[] = {'l', 'e', 'g', '\n', 0xe9};
    v->str_addrs[0] = new_ascii(b, bt[PK_BT_STR], "plain");
    v->str_addrs[1] = new_str(b, bt[PK_BT_STR], wide2, 7, 2, 0);
    v->str_addrs[2] = new_str(b, bt[PK_BT_STR], wide4, 4, 4, 0);
    v->str_addrs[3] = new_str(b, bt[PK_BT_STR], legacy, 5, 1, 1);

    /* Heap types; 3.11+ classes keep their dict (3.12+: and weakrefs) below the GC head. */
    uint64_t preflags = l->tpflags_preheader;
    uint64_t user = heap_type(b, object, "app", "User", 0, 16);
    uint64_t ulist = heap_type(b, bt[PK_BT_LIST], "app.models", "UList", 0,
                               (int64_t)PK_OFF(l, list_allocated) + 8);
    uint64_t managed = heap_type(b, object, "builtins", "Managed", preflags, 16);
    uint64_t *ta = v->type_addrs;
    ta[0] = meta, ta[1] = user, ta[2] = ulist, ta[3] = managed, ta[4] = bt[PK_BT_LIST];
    ta[5] = bt[PK_BT_DICT], ta[6] = bt[PK_BT_SET];

    uint64_t k3[3] = {v->str_addrs[0], v->str_addrs[1], v->str_addrs[2]};
    uint64_t v3[3] = {v->str_addrs[3], v->str_addrs[0], v->str_addrs[1]};
    uint64_t d_comb = new_dict(b, new_keys(b, k3, v3, 3), 0, 3);
    uint64_t d_split = new_dict(b, new_keys(b, k3, NULL, 3), new_values(b, v3, 3), 3);
    v->dict_addrs[0] = d_comb;
    v->dict_addrs[1] = d_split;
    v->dict_addrs[2] = user + PK_OFF(l, type_dict);
    uint64_t items[3] = {v->str_addrs[0], d_comb, v->str_addrs[2]};
    uint64_t l1 = new_list(b, bt[PK_BT_LIST], items, 3);
    uint64_t l2 = new_list(b, ulist, items, 2);
    uint64_t s_small = gc_object(b, set_size, bt[PK_BT_SET], 0);
    PUT(b, s_small, set_mask, 7);
    PUT(b, s_small, set_table, s_small + PK_OFF(l, set_smalltable));
    uint64_t s_big = gc_object(b, set_size, bt[PK_BT_FROZENSET], 0);
    PUT(b, s_big, set_mask, 31);
    PUT(b, s_big, set_table, img_alloc(b->im, 32 * PK_F(l, setentry_size).size));
    uint64_t tup = gc_object(b, PK_OFF(l, tuple_item) + 24, bt[PK_BT_TUPLE], 0);
    PUT(b, tup, varobject_size, 3);
    uint64_t u1 = gc_object(b, 16, user, 0), u2 = gc_object(b, 16, user, 0);
    uint64_t m1 = gc_object(b, 16, managed, l->preheader_extra);
    /* an int and a str on a GC list: sized by their own rules (lv_tag on 3.12+) */
    uint64_t big = gc_object(b, long_off + 8 + 12, bt[PK_BT_LONG], 0);
    PUT(b, big, long_lv_tag, 3u << 3);
    if (!PK_HAS(l, long_lv_tag)) PUT(b, big, varobject_size, -3);
    uint64_t gstr = gc_object(b, PK_F(l, ascii_size).size + 8, bt[PK_BT_STR], 0);
    PUT(b, gstr, ascii_length, 3);
    PUT(b, gstr, ascii_state_kind, 1);
    PUT(b, gstr, ascii_state_compact, 1);
    PUT(b, gstr, ascii_state_ascii, 1);

    uint64_t gen0[16] = {l1, d_comb, u1, s_small, big}, gen1[16] = {l2, d_split, u2};
    uint64_t gen2[32] = {user, ulist, managed, s_big, tup, m1, gstr}, perm[4];
    size_t n[4] = {5, 3, 7, 0};
    fd_objects(b, meta, object, gen0, &n[0], gen2, &n[2]);
    for (size_t i = 0; i < 32 && i < n[2]; i++)
        if (gen2[i] == user || gen2[i] == ulist || gen2[i] == managed) { /* type dicts */
            uint64_t d = 0;
            memcpy(&d, img_ptr(b->im, gen2[i] + PK_OFF(l, type_dict)), 8);
            if (n[1] < 16) gen1[n[1]++] = d;
        }
    uint64_t ki = v->str_addrs[0];
    perm[n[3]++] = new_dict(b, new_keys(b, &ki, &ki, 1), 0, 1);
    uint64_t garbage_items[3] = {u1, l1, d_split};
    uint64_t garbage = new_list(b, bt[PK_BT_LIST], garbage_items, 3);
    gen2[n[2]++] = garbage;

    uint64_t runtime = img_alloc(b->im, PK_OFF(l, runtime_interpreters_main) + 8);
    uint64_t isz = PK_OFF(l, interp_gc) + PK_F(l, interp_gc).size;
    if (PK_HAS(l, interp_obmalloc) &&
        PK_OFF(l, interp_obmalloc) + PK_F(l, interp_obmalloc).size > isz)
        isz = PK_OFF(l, interp_obmalloc) + PK_F(l, interp_obmalloc).size;
    if (PK_OFF(l, interp_id) + 8 > isz) isz = PK_OFF(l, interp_id) + 8;
    if (PK_OFF(l, interp_next) + 8 > isz) isz = PK_OFF(l, interp_next) + 8;
    uint64_t interp = img_alloc(b->im, isz);
    PUT(b, runtime, runtime_interpreters_head, interp);
    PUT(b, runtime, runtime_interpreters_main, interp);
    v->target.runtime_addr = runtime;
    const uint64_t *lists[4] = {gen0, gen1, gen2, perm};
    gc_state(b, interp + PK_OFF(l, interp_gc), lists, n, garbage);
    pymalloc(b, interp);

    v->target.layout = v->layout;
    v->target.py_version_hex = l->py_version_hex;
    if (!(v->objs = malloc(b->nobjs * sizeof *v->objs))) abort();
    memcpy(v->objs, b->objs, b->nobjs * sizeof *v->objs);
    v->tmpl.objs = v->objs;
    v->tmpl.nobjs = b->nobjs;
    fuzz_template_keep(&v->tmpl, b->im);
}
