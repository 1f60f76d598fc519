/* Line numbers from line tables, as CPython's PyCode_Addr2Line computes them per version
   (Objects/codeobject.c, Objects/lnotab_notes.txt, InternalDocs/code_objects.md). */
#include "cpython/linetable.h"

#include <stdint.h>
#include <stdlib.h>

/* 3.8, 3.9 PyCode_Addr2Line: the line of the last pair starting at or before addr. */
static int lnotab_line(const uint8_t *p, size_t len, int line, int64_t addr)
{
    int64_t a = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        a += p[i];
        if (a > addr) break;
        line += (int8_t)p[i + 1];
    }
    return line;
}

/* 3.10 _PyCode_CheckLineNumber: address ranges [start, end) of byte pairs; zero-width ranges
   are skipped; ldelta -128 means the range has no line. */
static int pep626_line(const uint8_t *p, size_t len, int line, int64_t addr)
{
    int64_t end = 0;
    int computed = line, ar_line = -1;
    for (size_t i = 0; i + 1 < len; i += 2) {
        int64_t start = end;
        end += p[i];
        int8_t ld = (int8_t)p[i + 1];
        if (ld == -128) {
            ar_line = -1;
        } else {
            computed += ld;
            ar_line = computed;
        }
        if (start <= addr && addr < end) return ar_line;
    }
    return -1;
}

/* Unsigned varint of the location table: 6 bits a byte, bit 6 = more. */
static int scan_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; *i < len && shift < 64; shift += 6) {
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 63) << shift;
        if (!(b & 64)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* 3.11+ location table: an entry starts with a byte with bit 7 set; bits 3-6 its code, bits
   0-2 its length in code units minus one. Codes 13 (no columns) and 14 (long) carry a signed
   varint line delta, 10-12 a line delta of 0-2, 15 no location, 0-9 (short) delta 0. */
static int location_line(const uint8_t *p, size_t len, int firstlineno, int64_t addr)
{
    int64_t end = 0, line = firstlineno;
    size_t i = 0;
    while (i < len) {
        uint8_t first = p[i];
        if (!(first & 128)) return -1; /* not at an entry: corrupt */
        int code = (first >> 3) & 15;
        int64_t start = end;
        end += ((first & 7) + 1) * 2;
        int64_t delta = 0;
        size_t j = i + 1;
        if (code == 13 || code == 14) {
            uint64_t u;
            if (scan_varint(p, len, &j, &u) < 0) return -1;
            if (u >> 33) return -1; /* more than any line delta */
            delta = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
        } else if (code >= 10 && code <= 12) {
            delta = code - 10;
        }
        line += delta;
        if (line > INT32_MAX || line < -INT32_MAX) return -1; /* corrupt deltas */
        if (start <= addr && addr < end) return code == 15 ? -1 : (int)line;
        for (i++; i < len && !(p[i] & 128); i++) /* the rest of the entry */
            ;
    }
    return -1;
}

int pk_linetable_addr2line(enum pk_linetable_kind kind, const uint8_t *table, size_t len,
                           int firstlineno, int64_t addr)
{
    if (addr < 0) return firstlineno;
    switch (kind) {
    case PK_LT_LNOTAB:
        return lnotab_line(table, len, firstlineno, addr);
    case PK_LT_PEP626:
        return pep626_line(table, len, firstlineno, addr);
    case PK_LT_LOCATION:
        return location_line(table, len, firstlineno, addr);
    }
    return -1;
}

int pk_code_addr2line(struct pk_mem *m, const struct pk_layout *l, uint64_t code, int64_t addr)
{
    enum pk_linetable_kind kind;
    struct pk_field f;
    if (PK_HAS(l, code_lnotab)) {
        kind = PK_LT_LNOTAB;
        f = PK_F(l, code_lnotab);
    } else if (PK_HAS(l, code_linetable)) {
        kind = PK_HAS(l, code_code_adaptive) ? PK_LT_LOCATION : PK_LT_PEP626;
        f = PK_F(l, code_linetable);
    } else {
        return -PK_E_INCONSISTENT;
    }
    int32_t first;
    uint64_t table;
    int64_t len;
    int r;
    if (!PK_HAS(l, code_firstlineno) || !PK_HAS(l, bytes_sval)) return -PK_E_INCONSISTENT;
    if ((r = pk_mem_read(m, code + PK_OFF(l, code_firstlineno), &first, 4)) < 0) return r;
    if (addr < 0) return first;
    if ((r = pk_mem_read_u64(m, code + (uint64_t)f.off, &table)) < 0) return r;
    if (!table || (table & 7)) return -PK_E_INCONSISTENT;
    if ((r = pk_mem_read(m, table + PK_OFF(l, varobject_size), &len, 8)) < 0) return r;
    if (len < 0 || len > PK_LINETABLE_MAX) return -PK_E_INCONSISTENT;
    uint8_t *buf = malloc(len ? (size_t)len : 1);
    if (!buf) return -PK_E_INTERNAL;
    r = pk_mem_read(m, table + PK_OFF(l, bytes_sval), buf, (size_t)len);
    if (r == 0) r = pk_linetable_addr2line(kind, buf, (size_t)len, first, addr);
    free(buf);
    return r;
}
