/* Reading Python str objects from target memory into bounded, NUL-terminated UTF-8. */
#include "cpython/pystr.h"

#include <string.h>

static uint32_t bits(uint32_t word, struct pk_field f)
{
    return (word >> f.bit_off) & ((1u << f.bit_size) - 1);
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    if (c > 0x10FFFF) c = 0xFFFD;
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

long pk_pystr_read(struct pk_mem *m, const struct pk_layout *l, uint64_t addr, char *out,
                   size_t cap)
{
    if (cap < 8) return -PK_E_INTERNAL;
    out[0] = '\0';
    int64_t length;
    uint32_t state;
    int r;
    if ((r = pk_mem_read(m, addr + PK_OFF(l, ascii_length), &length, sizeof length)) < 0) return r;
    if ((r = pk_mem_read(m, addr + PK_OFF(l, ascii_state_kind), &state, sizeof state)) < 0)
        return r;
    uint32_t kind = bits(state, PK_F(l, ascii_state_kind));
    int compact = (int)bits(state, PK_F(l, ascii_state_compact));
    int ascii = (int)bits(state, PK_F(l, ascii_state_ascii));
    if (length < 0 || (kind != 1 && kind != 2 && kind != 4)) return -PK_E_INCONSISTENT;
    uint64_t data;
    if (compact) {
        data = addr + (ascii ? PK_F(l, ascii_size).size : PK_F(l, compact_unicode_size).size);
    } else {
        if (!PK_HAS(l, unicode_data)) return -PK_E_INCONSISTENT;
        if ((r = pk_mem_read_u64(m, addr + PK_OFF(l, unicode_data), &data)) < 0) return r;
    }
    int truncated = length > PK_STR_MAX_CHARS;
    size_t n = truncated ? PK_STR_MAX_CHARS : (size_t)length;
    unsigned char raw[PK_STR_MAX_CHARS * 4];
    if (n && (r = pk_mem_read(m, data, raw, n * kind)) < 0) return r;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c;
        if (kind == 1)
            c = raw[i];
        else if (kind == 2)
            c = (uint32_t)raw[2 * i] | (uint32_t)raw[2 * i + 1] << 8;
        else
            memcpy(&c, raw + 4 * i, 4);
        if (o + 4 + 4 >= cap) {
            truncated = 1;
            break;
        }
        o += put_utf8(out + o, c);
    }
    if (truncated && o + 4 <= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return (long)o;
}
