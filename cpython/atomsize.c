/* sys.getsizeof of the atoms the full census sizes exactly: str, int and bytearray. */
#include <stdlib.h>

#include "cpython/caps.h"

#include "cpython/census.h"
#include "cpython/types.h"

static uint32_t bits(uint32_t word, struct pk_field f)
{
    return f.bit_size ? (word >> f.bit_off) & ((1u << f.bit_size) - 1) : word;
}

/* unicode_sizeof (Objects/unicodeobject.c) of 3.9-3.14. */
static int str_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, uint64_t *size)
{
    int64_t length;
    uint32_t state;
    int r;
    if ((r = pk_mem_read(m, obj + PK_OFF(l, ascii_length), &length, 8)) < 0) return r;
    if ((r = pk_mem_read(m, obj + PK_OFF(l, ascii_state_kind), &state, 4)) < 0) return r;
    uint32_t kind = bits(state, PK_F(l, ascii_state_kind));
    int compact = (int)bits(state, PK_F(l, ascii_state_compact));
    int ascii = (int)bits(state, PK_F(l, ascii_state_ascii));
    if (length < 0 || length > PK_MAX_COUNT || kind > 4) return -PK_E_INCONSISTENT;
    uint64_t s, data = 0;
    if (compact && ascii) {
        s = PK_F(l, ascii_size).size + (uint64_t)length + 1;
        data = obj + PK_F(l, ascii_size).size;
    } else if (compact) {
        s = PK_F(l, compact_unicode_size).size + ((uint64_t)length + 1) * kind;
        data = obj + PK_F(l, compact_unicode_size).size;
    } else {
        /* legacy (str subclasses): sizeof(PyUnicodeObject) + the data block if any */
        s = PK_HAS(l, unicode_data)
                ? (uint64_t)PK_OFF(l, unicode_data) + PK_F(l, unicode_data).size
                : (uint64_t)PK_F(l, compact_unicode_size).size + PK_F(l, object_type).size;
        if (PK_HAS(l, unicode_data) &&
            (r = pk_mem_read_u64(m, obj + PK_OFF(l, unicode_data), &data)) < 0)
            return r;
        if (data) s += ((uint64_t)length + 1) * kind;
    }
    /* <= 3.11: a wstr buffer not shared with the data */
    if (PK_HAS(l, ascii_wstr)) {
        uint64_t wstr = 0;
        if ((r = pk_mem_read_u64(m, obj + PK_OFF(l, ascii_wstr), &wstr)) < 0) return r;
        if (wstr && (kind == 0 || wstr != data)) {
            uint64_t wlen = (uint64_t)length;
            if (!(compact && ascii) && PK_HAS(l, compact_wstr_length) &&
                (r = pk_mem_read_u64(m, obj + PK_OFF(l, compact_wstr_length), &wlen)) < 0)
                return r;
            if (wlen > PK_MAX_COUNT) return -PK_E_INCONSISTENT;
            s += (wlen + 1) * 4; /* sizeof(wchar_t) */
        }
    }
    /* a cached UTF-8 copy of a non-ASCII string */
    if (!(compact && ascii) && PK_HAS(l, compact_utf8)) {
        uint64_t utf8 = 0, ulen = 0;
        if ((r = pk_mem_read_u64(m, obj + PK_OFF(l, compact_utf8), &utf8)) < 0) return r;
        if (utf8 && utf8 != data) {
            if ((r = pk_mem_read_u64(m, obj + PK_OFF(l, compact_utf8_length), &ulen)) < 0) return r;
            if (ulen > PK_MAX_COUNT) return -PK_E_INCONSISTENT;
            s += ulen + 1;
        }
    }
    *size = s;
    return 0;
}

int pk_atom_sizeof(struct pk_mem *m, const struct pk_layout *l, int size_kind, uint64_t obj,
                   uint64_t basicsize, uint64_t *size)
{
    int r;
    switch (size_kind) {
    case PK_SIZE_STR:
        return str_sizeof(m, l, obj, size);
    case PK_SIZE_LONG: {
        uint64_t digits;
        if (PK_HAS(l, long_lv_tag)) { /* 3.12+: the digit count is in lv_tag */
            uint64_t tag;
            if ((r = pk_mem_read_u64(m, obj + PK_OFF(l, long_lv_tag), &tag)) < 0) return r;
            digits = tag >> 3;
        } else {
            int64_t n;
            if ((r = pk_mem_read(m, obj + PK_OFF(l, varobject_size), &n, 8)) < 0) return r;
            /* |ob_size| in unsigned arithmetic: -INT64_MIN does not exist (hostile memory) */
            digits = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
        }
        if (digits < l->long_min_digits) digits = l->long_min_digits;
        if (digits > (UINT64_C(1) << 36)) return -PK_E_INCONSISTENT;
        *size = basicsize + digits * 4; /* sizeof(digit), 30-bit digits */
        return 0;
    }
    case PK_SIZE_BYTEARRAY: {
        int64_t alloc;
        if (!PK_HAS(l, bytearray_alloc)) return -PK_E_INCONSISTENT;
        if ((r = pk_mem_read(m, obj + PK_OFF(l, bytearray_alloc), &alloc, 8)) < 0) return r;
        if (alloc < 0 || alloc > (INT64_C(1) << 44)) return -PK_E_INCONSISTENT;
        *size = basicsize + (uint64_t)alloc;
        /* 3.15+: the buffer is a bytes object whose header __sizeof__ counts too */
        if (alloc > 0 && PK_HAS(l, bytearray_bytes_object) && PK_HAS(l, bytes_sval))
            *size += PK_OFF(l, bytes_sval) + 1;
        return 0;
    }
    }
    return -PK_E_INTERNAL;
}
