/* Bounded reprs of simple values, as Python prints them (containers: type and length). */
#include "cpython/value_repr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/pystr.h"

#define STR_SHOWN 48   /* characters of a str before "..." */
#define BYTES_SHOWN 24 /* bytes of a bytes object before "..." */

static int is(const struct pk_target *t, uint64_t type, int bt)
{
    return type && t->builtin_types[bt] == type;
}

/* ints of up to two 30-bit digits exactly (|v| < 2**60); longer ones by digit count. */
static void int_repr(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, char *out,
                     size_t cap)
{
    uint64_t ndigits;
    int negative;
    struct pk_field df;
    if (PK_HAS(l, long_lv_tag) && PK_HAS(l, long_value_digit)) {
        uint64_t tag; /* 3.12+: digits << 3 | sign (0 positive, 1 zero, 2 negative) */
        if (pk_mem_read_u64(m, obj + PK_OFF(l, long_lv_tag), &tag) < 0) goto unknown;
        ndigits = tag >> 3;
        negative = (tag & 3) == 2;
        if ((tag & 3) == 1) ndigits = 0;
        df = PK_F(l, long_value_digit);
    } else if (PK_HAS(l, long_digit)) {
        int64_t size;
        if (pk_mem_read(m, obj + PK_OFF(l, varobject_size), &size, 8) < 0) goto unknown;
        negative = size < 0;
        ndigits = (uint64_t)(size < 0 ? -size : size);
        df = PK_F(l, long_digit);
    } else {
        goto unknown;
    }
    if (ndigits > 2) {
        snprintf(out, cap, "<int, %llu digits of 30 bits>", (unsigned long long)ndigits);
        return;
    }
    uint32_t d[2] = {0, 0};
    if (ndigits && pk_mem_read(m, obj + (uint64_t)df.off, d, ndigits * 4) < 0) goto unknown;
    uint64_t v = (uint64_t)(d[0] & 0x3fffffff) | (uint64_t)(d[1] & 0x3fffffff) << 30;
    snprintf(out, cap, "%s%llu", negative && v ? "-" : "", (unsigned long long)v);
    return;
unknown:
    snprintf(out, cap, "<int>");
}

/* The shortest text that reads back as the same double, as Python's float repr. */
static void float_repr(double v, char *out, size_t cap)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v || v != v) break;
    }
    if (!strpbrk(buf, ".eni")) strcat(buf, ".0"); /* 1.0, not 1 */
    snprintf(out, cap, "%s", buf);
}

static void str_repr(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, char *out,
                     size_t cap)
{
    char s[STR_SHOWN * 4 + 8];
    long n = pk_pystr_read(m, l, obj, s, sizeof s);
    if (n < 0) {
        snprintf(out, cap, "<str>");
        return;
    }
    int64_t len = 0;
    pk_mem_read(m, obj + PK_OFF(l, ascii_length), &len, 8);
    /* cut at a character boundary after STR_SHOWN characters */
    size_t i = 0, chars = 0;
    while (s[i] && chars < STR_SHOWN) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    s[i] = 0;
    snprintf(out, cap, "'%s'%s", s, len > (int64_t)chars ? "..." : "");
}

static void bytes_repr(struct pk_mem *m, const struct pk_layout *l, uint64_t obj, char *out,
                       size_t cap)
{
    int64_t len;
    uint8_t b[BYTES_SHOWN];
    if (!PK_HAS(l, bytes_sval) || pk_mem_read(m, obj + PK_OFF(l, varobject_size), &len, 8) < 0 ||
        len < 0) {
        snprintf(out, cap, "<bytes>");
        return;
    }
    size_t n = len < BYTES_SHOWN ? (size_t)len : BYTES_SHOWN, o = 0;
    if (pk_mem_read(m, obj + PK_OFF(l, bytes_sval), b, n) < 0) n = 0;
    o += (size_t)snprintf(out, cap, "b'");
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\'' && b[i] != '\\')
            out[o++] = (char)b[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", b[i]);
    }
    snprintf(out + o, cap - o, "'%s", (size_t)len > n ? "..." : "");
}

/* A container's length: list/tuple ob_size, dict ma_used, set used. -1 when unreadable. */
static int64_t container_len(struct pk_mem *m, uint64_t obj, struct pk_field f)
{
    int64_t n = -1;
    if (!pk_field_ok(f) || pk_mem_read(m, obj + (uint64_t)f.off, &n, 8) < 0 || n < 0) return -1;
    return n;
}

static void type_name(struct pk_mem *m, const struct pk_layout *l, uint64_t type, char *out,
                      size_t cap)
{
    uint64_t name = 0;
    char buf[64];
    if (pk_mem_read_u64(m, type + PK_OFF(l, type_name), &name) < 0 || !name ||
        pk_mem_read(m, name, buf, sizeof buf) < 0) {
        /* the name may end near the end of a mapping: byte by byte */
        size_t i = 0;
        for (; name && i + 1 < sizeof buf && pk_mem_read(m, name + i, &buf[i], 1) == 0 && buf[i];
             i++)
            ;
        buf[i] = 0;
        if (!i) snprintf(buf, sizeof buf, "?");
    }
    buf[sizeof buf - 1] = 0;
    snprintf(out, cap, "%s", buf);
}

void pk_value_repr(struct pk_mem *m, const struct pk_target *t, uint64_t obj, char *out, size_t cap)
{
    const struct pk_layout *l = &t->layout;
    uint64_t type = 0;
    for (int hop = 0; hop < 2; hop++) {
        if (!obj || (obj & 7)) {
            snprintf(out, cap, "<unbound>");
            return;
        }
        if (obj == t->none_addr) {
            snprintf(out, cap, "None");
            return;
        }
        if (obj == t->true_addr || obj == t->false_addr) {
            snprintf(out, cap, obj == t->true_addr ? "True" : "False");
            return;
        }
        if (pk_mem_read_u64(m, obj + PK_OFF(l, object_type), &type) < 0 || !type) {
            snprintf(out, cap, "<unreadable at 0x%llx>", (unsigned long long)obj);
            return;
        }
        if (!is(t, type, PK_BT_CELL) || !PK_HAS(l, cell_ref)) break;
        uint64_t inner = 0; /* a cell variable: its contents */
        pk_mem_read_u64(m, obj + PK_OFF(l, cell_ref), &inner);
        if (!inner) {
            snprintf(out, cap, "<empty cell>");
            return;
        }
        obj = inner;
    }
    double d;
    int64_t n = -1;
    if (is(t, type, PK_BT_LONG)) {
        int_repr(m, l, obj, out, cap);
        return;
    }
    if (is(t, type, PK_BT_FLOAT) && PK_HAS(l, float_fval) &&
        pk_mem_read(m, obj + PK_OFF(l, float_fval), &d, 8) == 0) {
        float_repr(d, out, cap);
        return;
    }
    if (is(t, type, PK_BT_STR)) {
        str_repr(m, l, obj, out, cap);
        return;
    }
    if (is(t, type, PK_BT_BYTES)) {
        bytes_repr(m, l, obj, out, cap);
        return;
    }
    if (is(t, type, PK_BT_LIST) || is(t, type, PK_BT_TUPLE))
        n = container_len(m, obj, PK_F(l, varobject_size));
    else if (is(t, type, PK_BT_DICT))
        n = container_len(m, obj, PK_F(l, dict_used));
    else if (is(t, type, PK_BT_SET) || is(t, type, PK_BT_FROZENSET))
        n = container_len(m, obj, PK_F(l, set_used));
    char tn[64];
    type_name(m, l, type, tn, sizeof tn);
    if (n >= 0)
        snprintf(out, cap, "<%s, len %lld>", tn, (long long)n);
    else
        snprintf(out, cap, "<%s object at 0x%llx>", tn, (unsigned long long)obj);
}
