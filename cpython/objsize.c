/* sys.getsizeof for objects in target memory: the inherited builtin __sizeof__ plus the GC
   header and pre-header that sys.getsizeof adds. */

#include "cpython/caps.h"
#include "cpython/census.h"
#include "cpython/frames.h"
#include "cpython/pydict.h"

static uint64_t magnitude(int64_t v)
{
    return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* Each rule adds to (or replaces) *s, which starts as the basic size __sizeof__ inherits. */

/* A count field (Py_ssize_t) read from the target: 0..PK_MAX_COUNT, or the heap is corrupt. */
static int read_count(struct pk_mem *m, uint64_t addr, uint64_t *out)
{
    int64_t n;
    int r = pk_mem_read(m, addr, &n, sizeof n);
    if (r < 0) return r;
    if (n < 0 || n > PK_MAX_COUNT) return -PK_E_INCONSISTENT;
    *out = (uint64_t)n;
    return 0;
}

/* list___sizeof__: the allocated item slots */
static int list_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, uint64_t *s)
{
    uint64_t allocated;
    int r = read_count(m, obj + PK_OFF(l, list_allocated), &allocated);
    if (r < 0) return r;
    *s += allocated * PK_F(l, list_item).size;
    return 0;
}

/* set___sizeof__: the table when it is not the small table inside the object */
static int set_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, uint64_t *s)
{
    uint64_t mask, table;
    int r;
    if ((r = pk_mem_read_u64(m, obj + PK_OFF(l, set_mask), &mask)) < 0 ||
        (r = pk_mem_read_u64(m, obj + PK_OFF(l, set_table), &table)) < 0)
        return r;
    if (mask > PK_MAX_COUNT) return -PK_E_INCONSISTENT;
    if (table != obj + PK_OFF(l, set_smalltable)) *s += (mask + 1) * PK_F(l, setentry_size).size;
    return 0;
}

/* type___sizeof__: the type struct, and a heap type's cached keys. Returns 1 when *s is already
   what sys.getsizeof says (a static type: its GC header depends on the version, see
   static_type_header_bytes). */
static int type_sizeof(struct pk_mem *m, const struct pk_layout *l, const struct pk_type_info *ti,
                       uint64_t obj, uint64_t *s)
{
    uint64_t flags, keys = 0;
    int r;
    if ((r = pk_mem_read_u64(m, obj + PK_OFF(l, type_flags), &flags)) < 0) return r;
    if (!(flags & l->tpflags_heaptype)) {
        *s = PK_F(l, type_struct_size).size + ti->static_type_header_bytes;
        return 1;
    }
    *s = PK_F(l, heaptype_struct_size).size;
    if (PK_HAS(l, heaptype_cached_keys) &&
        (r = pk_mem_read_u64(m, obj + PK_OFF(l, heaptype_cached_keys), &keys)) < 0)
        return r;
    uint64_t ks;
    if (keys) {
        if ((r = pk_pydict_keys_size(m, l, keys, &ks)) < 0) return r;
        *s += ks;
    }
    return 0;
}

/* 3.11+: _PyObject_VAR_SIZE rounds to the pointer size; <= 3.10: not var-sized */
static int code_sizeof(struct pk_mem *m, const struct pk_layout *l, const struct pk_type_info *ti,
                       uint64_t obj, uint64_t *s)
{
    if (ti->itemsize <= 0) return 0;
    uint64_t n;
    int r = read_count(m, obj + PK_OFF(l, varobject_size), &n);
    if (r < 0) return r;
    *s = (*s + n * (uint64_t)ti->itemsize + 7) & ~UINT64_C(7);
    return 0;
}

/* deque___sizeof__: (leftindex + len + BLOCKLEN - 1) / BLOCKLEN blocks */
static int deque_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, uint64_t *s)
{
    int64_t n, left;
    uint64_t blocklen = PK_F(l, block_data).size / PK_PTR_SIZE;
    uint64_t blocksize = PK_OFF(l, block_rightlink) + PK_F(l, block_rightlink).size;
    int r;
    if ((r = pk_mem_read(m, obj + PK_OFF(l, varobject_size), &n, sizeof n)) < 0 ||
        (r = pk_mem_read(m, obj + PK_OFF(l, deque_leftindex), &left, sizeof left)) < 0)
        return r;
    if (n < 0 || left < 0 || !blocklen || (uint64_t)left >= blocklen || n > PK_MAX_COUNT)
        return -PK_E_INCONSISTENT;
    *s += ((uint64_t)left + (uint64_t)n + blocklen - 1) / blocklen * blocksize;
    return 0;
}

/* 3.11+ gen_sizeof: the frame up to localsplus, then co_nlocalsplus + co_stacksize slots; the
   code is gi_code (3.11) or the frame's f_executable */
static int generator_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, uint64_t *s)
{
    if (!PK_HAS(l, gen_iframe) || !PK_HAS(l, iframe_localsplus)) return 0;
    uint64_t fr = obj + PK_OFF(l, gen_iframe), code = 0;
    struct pk_field cf = PK_HAS(l, gen_code)      ? PK_F(l, gen_code)
                         : PK_HAS(l, iframe_code) ? PK_F(l, iframe_code)
                                                  : PK_F(l, iframe_executable);
    uint64_t base = PK_HAS(l, gen_code) ? obj : fr;
    int64_t nl, ss;
    int r;
    if (!pk_field_ok(cf)) return -PK_E_INCONSISTENT;
    if ((r = pk_mem_read_u64(m, base + (uint64_t)cf.off, &code)) < 0) return r;
    code &= ~l->stackref_tag_bits;
    if ((r = pk_code_frame_slots(m, l, code, &nl, &ss)) < 0) return r;
    *s = PK_OFF(l, gen_iframe) + PK_OFF(l, iframe_localsplus) + (uint64_t)(nl + ss) * PK_PTR_SIZE;
    return 0;
}

/* 3.9/3.10 frame_sizeof: sizeof(PyFrameObject) + (slots - 1) pointers */
static int frame_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, uint64_t *s)
{
    if (!PK_HAS(l, frame_code) || !PK_HAS(l, frame_struct_size)) return 0;
    uint64_t code = 0;
    int64_t nl, ss;
    int r;
    if ((r = pk_mem_read_u64(m, obj + PK_OFF(l, frame_code), &code)) < 0) return r;
    if ((r = pk_code_frame_slots(m, l, code, &nl, &ss)) < 0) return r;
    *s = PK_F(l, frame_struct_size).size + (uint64_t)(nl + ss - 1) * PK_PTR_SIZE;
    return 0;
}

/* object.__sizeof__: basicsize + |ob_size| * itemsize */
static int generic_sizeof(struct pk_mem *m, const struct pk_layout *l,
                          const struct pk_type_info *ti, uint64_t obj, uint64_t *s)
{
    if (ti->itemsize == 0) return 0;
    int64_t n;
    int r = pk_mem_read(m, obj + PK_OFF(l, varobject_size), &n, sizeof n);
    if (r < 0) return r;
    /* magnitudes in unsigned arithmetic: ob_size and tp_itemsize come from the target, and
       -INT64_MIN does not exist */
    uint64_t items = magnitude(n), itemsize = magnitude(ti->itemsize);
    if (items > PK_MAX_COUNT || itemsize > (UINT64_C(1) << 24)) return -PK_E_INCONSISTENT;
    *s += items * itemsize;
    return 0;
}

int pk_object_sizeof(struct pk_mem *m, const struct pk_layout *l, const struct pk_type_info *ti,
                     uint64_t obj, uint64_t *size)
{
    uint64_t s = (uint64_t)ti->sizeof_basicsize;
    int r = 0;
    switch (ti->size_kind) {
    case PK_SIZE_LIST:
        r = list_sizeof(m, l, obj, &s);
        break;
    case PK_SIZE_DICT:
        r = pk_pydict_sizeof(m, l, obj, s, &s);
        break;
    case PK_SIZE_SET:
        r = set_sizeof(m, l, obj, &s);
        break;
    case PK_SIZE_TYPE:
        r = type_sizeof(m, l, ti, obj, &s);
        if (r == 1) {
            *size = s;
            return 0;
        }
        break;
    case PK_SIZE_BASIC:
        break;
    case PK_SIZE_STR:
    case PK_SIZE_LONG:
    case PK_SIZE_BYTEARRAY:
        r = pk_atom_sizeof(m, l, ti->size_kind, obj, s, &s);
        break;
    case PK_SIZE_CODE:
        r = code_sizeof(m, l, ti, obj, &s);
        break;
    case PK_SIZE_DEQUE:
        r = deque_sizeof(m, l, obj, &s);
        break;
    case PK_SIZE_GEN:
        r = generator_sizeof(m, l, obj, &s);
        break;
    case PK_SIZE_FRAME:
        r = frame_sizeof(m, l, obj, &s);
        break;
    case PK_SIZE_GENERIC:
        r = generic_sizeof(m, l, ti, obj, &s);
        break;
    }
    if (r < 0) return r;
    *size = s + ti->header_bytes;
    return 0;
}
