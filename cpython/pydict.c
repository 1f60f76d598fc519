/* Iterating Python dicts in target memory, every keys layout from 3.9 on. */
#include "cpython/pydict.h"

#include <stdlib.h>

#include "cpython/caps.h"
#include <string.h>

#include "cpython/pystr.h"

struct dict_table {
    uint64_t keys, values; /* values: the split-table array, 0 for combined tables */
    uint64_t size;         /* slots in the index table */
    uint64_t nentries;
    uint64_t usable;
    int64_t refcnt;
    uint64_t entries; /* address of entry 0 */
    uint32_t entry_size, key_off, value_off;
    int general; /* 3.11+ DICT_KEYS_GENERAL, or any 3.9/3.10 table */
    uint64_t index_bytes;
};

#define KEYS_HEADER_MAX 128 /* bytes before dk_indices, every version */

static uint64_t get_u64(const unsigned char *h, uint64_t off)
{
    uint64_t v;
    memcpy(&v, h + off, sizeof v);
    return v;
}

/* Reads the keys object at k into t (everything but keys/values): its header in one read. */
static int read_keys(struct pk_mem *m, const struct pk_layout *l, uint64_t k, struct dict_table *t)
{
    int r;
    unsigned char h[KEYS_HEADER_MAX];
    const uint64_t hlen = PK_OFF(l, dictkeys_indices);
    if (!k) return -PK_E_INCONSISTENT;
    if (hlen > sizeof h) return -PK_E_INTERNAL;
#define IN_HEADER(f, n) (PK_OFF(l, f) + (n) <= hlen)
    if (!IN_HEADER(dictkeys_refcnt, 8) || !IN_HEADER(dictkeys_nentries, 8) ||
        (PK_HAS(l, dictkeys_usable) && !IN_HEADER(dictkeys_usable, 8)) ||
        (PK_HAS(l, dictkeys_log2_size)
             ? !IN_HEADER(dictkeys_log2_size, 1) || !IN_HEADER(dictkeys_log2_index_bytes, 1) ||
                   !IN_HEADER(dictkeys_kind, 1)
             : !IN_HEADER(dictkeys_size, 8)))
        return -PK_E_INTERNAL;
#undef IN_HEADER
    if ((r = pk_mem_read(m, k, h, (size_t)hlen)) < 0) return r;
    memcpy(&t->refcnt, h + PK_OFF(l, dictkeys_refcnt), sizeof t->refcnt);
    t->nentries = get_u64(h, PK_OFF(l, dictkeys_nentries));
    if (PK_HAS(l, dictkeys_usable)) t->usable = get_u64(h, PK_OFF(l, dictkeys_usable));
    uint64_t idx = k + hlen;
    if (PK_HAS(l, dictkeys_log2_size)) {
        uint8_t log2_size = h[PK_OFF(l, dictkeys_log2_size)];
        uint8_t log2_index_bytes = h[PK_OFF(l, dictkeys_log2_index_bytes)];
        uint8_t kind = h[PK_OFF(l, dictkeys_kind)];
        if (log2_size > 40 || log2_index_bytes > 43) return -PK_E_INCONSISTENT;
        t->size = 1ull << log2_size;
        t->index_bytes = 1ull << log2_index_bytes;
        t->general = kind == 0;
    } else {
        t->size = get_u64(h, PK_OFF(l, dictkeys_size));
        if (t->size == 0 || t->size > (uint64_t)PK_MAX_COUNT || (t->size & (t->size - 1)))
            return -PK_E_INCONSISTENT;
        uint64_t width = t->size <= 0xff            ? 1
                         : t->size <= 0xffff        ? 2
                         : t->size <= 0xffffffffull ? 4
                                                    : 8;
        t->index_bytes = t->size * width;
        t->general = 1;
    }
    if (t->nentries > t->size || t->nentries > PK_DICT_MAX_ENTRIES) return -PK_E_INCONSISTENT;
    t->entries = idx + t->index_bytes;
    if (t->general) {
        t->entry_size = PK_F(l, dictentry_size).size;
        t->key_off = (uint32_t)PK_OFF(l, dictentry_key);
        t->value_off = (uint32_t)PK_OFF(l, dictentry_value);
    } else {
        t->entry_size = PK_F(l, dictuentry_size).size;
        t->key_off = (uint32_t)PK_OFF(l, dictuentry_key);
        t->value_off = (uint32_t)PK_OFF(l, dictuentry_value);
    }
    if (!t->entry_size || t->entry_size > 64) return -PK_E_INCONSISTENT;
    return 0;
}

static int read_table(struct pk_mem *m, const struct pk_layout *l, uint64_t dict,
                      struct dict_table *t)
{
    int r;
    memset(t, 0, sizeof *t);
    /* ma_keys and ma_values are neighbours: one read. */
    uint64_t ok = PK_OFF(l, dict_keys), ov = PK_OFF(l, dict_values);
    uint64_t lo = ok < ov ? ok : ov, hi = (ok > ov ? ok : ov) + PK_PTR_SIZE;
    unsigned char h[64];
    if (hi - lo > sizeof h) return -PK_E_INTERNAL;
    if ((r = pk_mem_read(m, dict + lo, h, (size_t)(hi - lo))) < 0) return r;
    t->keys = get_u64(h, ok - lo);
    t->values = get_u64(h, ov - lo);
    if ((r = read_keys(m, l, t->keys, t)) < 0) return r;
    if (t->values && PK_HAS(l, dictvalues_values)) t->values += PK_OFF(l, dictvalues_values);
    return 0;
}

/* _PyDict_KeysSize: the keys object header, its index table and USABLE_FRACTION entries. */
static uint64_t keys_size(const struct pk_layout *l, const struct dict_table *t)
{
    uint64_t usable = (t->size << 1) / 3;
    return PK_OFF(l, dictkeys_indices) + t->index_bytes + usable * t->entry_size;
}

int pk_pydict_keys_size(struct pk_mem *m, const struct pk_layout *l, uint64_t keys, uint64_t *size)
{
    struct dict_table t;
    memset(&t, 0, sizeof t);
    int r = read_keys(m, l, keys, &t);
    if (r == 0) *size = keys_size(l, &t);
    return r;
}

int pk_pydict_foreach(struct pk_mem *m, const struct pk_layout *l, uint64_t dict,
                      int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg)
{
    struct dict_table t;
    int r = read_table(m, l, dict, &t);
    if (r < 0) return r;
    unsigned char ent[64];
    for (uint64_t i = 0; i < t.nentries; i++) {
        if ((r = pk_mem_read(m, t.entries + i * t.entry_size, ent, t.entry_size)) < 0) return r;
        uint64_t key, value;
        memcpy(&key, ent + t.key_off, sizeof key);
        if (t.values) {
            if ((r = pk_mem_read_u64(m, t.values + i * PK_PTR_SIZE, &value)) < 0) return r;
        } else {
            memcpy(&value, ent + t.value_off, sizeof value);
        }
        if (!key || !value) continue;
        if ((r = fn(key, value, arg)) != 0) return r;
    }
    return 0;
}

struct str_lookup {
    struct pk_mem *m;
    const struct pk_layout *l;
    const char *key;
    size_t klen;
    uint64_t value;
};

static int match_key(uint64_t key, uint64_t value, void *arg)
{
    struct str_lookup *s = arg;
    int64_t len;
    if (pk_mem_read(s->m, key + PK_OFF(s->l, ascii_length), &len, sizeof len) < 0 ||
        (uint64_t)len != s->klen)
        return 0;
    char buf[256];
    long n = pk_pystr_read(s->m, s->l, key, buf, sizeof buf);
    if (n == (long)s->klen && !memcmp(buf, s->key, s->klen)) {
        s->value = value;
        return 1;
    }
    return 0;
}

int pk_pydict_get_str(struct pk_mem *m, const struct pk_layout *l, uint64_t dict, const char *key,
                      uint64_t *value)
{
    struct str_lookup s = {m, l, key, strlen(key), 0};
    if (s.klen >= 200) return 0;
    int r = pk_pydict_foreach(m, l, dict, match_key, &s);
    if (r == 1) *value = s.value;
    return r;
}

int pk_pydict_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t dict, uint64_t basicsize,
                     uint64_t *size)
{
    struct dict_table t;
    int r = read_table(m, l, dict, &t);
    if (r < 0) return r;
    uint64_t usable = (t.size << 1) / 3; /* USABLE_FRACTION */
    uint64_t res = basicsize;
    /* 3.11+ sizes split values by the shared keys' usable slots; 3.9/3.10 by the fraction. */
    if (t.values)
        res += (PK_HAS(l, dictkeys_log2_size) ? t.nentries + t.usable : usable) * PK_PTR_SIZE;
    if (t.refcnt == 1) res += keys_size(l, &t);
    *size = res;
    return 0;
}
