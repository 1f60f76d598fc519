/* Type objects of the target: validated once, named as Python prints them, cached by address. */
#include "cpython/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/fd_owners.h"
#include "cpython/pydict.h"
#include "cpython/pystr.h"

#define MAX_TYPES (1u << 20) /* distinct types in one heap; more is corruption */
#define MAX_BASE_DEPTH 64    /* tp_base chain length */
#define MAX_TP_NAME 512

struct pk_types {
    struct pk_mem *m;
    const struct pk_layout *l;
    uint64_t builtin[PK_BT_COUNT];
    struct pk_type_info **byindex;
    size_t n, cap;
    uint32_t *slots; /* open addressing: index+1, 0 empty */
    size_t nslots;
    const struct pk_type_info *recent[16]; /* by address bits: a GC list mixes few types */
};

static size_t recent_slot(uint64_t addr)
{
    return (size_t)((addr >> 4) ^ (addr >> 9)) & 15;
}

struct pk_types *pk_types_new(struct pk_mem *m, const struct pk_layout *l,
                              const uint64_t builtin[PK_BT_COUNT])
{
    struct pk_types *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->m = m;
    t->l = l;
    memcpy(t->builtin, builtin, sizeof t->builtin);
    t->nslots = 1024;
    t->slots = calloc(t->nslots, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    return t;
}

void pk_types_free(struct pk_types *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->byindex[i]->name);
        free(t->byindex[i]);
    }
    free(t->byindex);
    free(t->slots);
    free(t);
}

int pk_types_is_deque(struct pk_types *t, uint64_t addr)
{
    static const char want[] = "collections.deque";
    const struct pk_layout *l = t->l;
    uint64_t np = 0;
    int64_t basicsize = 0;
    char buf[sizeof want + 1];
    if (!PK_HAS(l, deque_size) || !PK_HAS(l, deque_leftblock) || !PK_HAS(l, block_data) ||
        !PK_HAS(l, block_rightlink))
        return 0;
    if (pk_mem_read(t->m, addr + PK_OFF(l, type_basicsize), &basicsize, 8) < 0 ||
        basicsize != (int64_t)PK_F(l, deque_size).size ||
        pk_mem_read_u64(t->m, addr + PK_OFF(l, type_name), &np) < 0 || !np)
        return 0;
    long n = pk_mem_read_upto(t->m, np, buf, sizeof buf);
    return n >= (long)sizeof want && !memcmp(buf, want, sizeof want);
}

size_t pk_types_count(const struct pk_types *t)
{
    return t->n;
}

const struct pk_type_info *pk_types_at(const struct pk_types *t, size_t index)
{
    return index < t->n ? t->byindex[index] : NULL;
}

static size_t hash_addr(uint64_t a, size_t mask)
{
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdull;
    a ^= a >> 33;
    return (size_t)a & mask;
}

static int rehash(struct pk_types *t)
{
    size_t ns = t->nslots * 2;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = hash_addr(t->byindex[i]->addr, ns - 1);
        while (s[h])
            h = (h + 1) & (ns - 1);
        s[h] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = ns;
    return 0;
}

static int read_flags(struct pk_types *t, uint64_t type, uint64_t *flags)
{
    return pk_mem_read_u64(t->m, type + PK_OFF(t->l, type_flags), flags);
}

/* A type object is an object whose own type has Py_TPFLAGS_TYPE_SUBCLASS. */
static int is_type_object(struct pk_types *t, uint64_t addr)
{
    uint64_t meta, flags;
    if (!addr || (addr & 7)) return 0;
    if (pk_mem_read_u64(t->m, addr + PK_OFF(t->l, object_type), &meta) < 0 || !meta) return 0;
    if (read_flags(t, meta, &flags) < 0) return 0;
    return (flags & t->l->tpflags_type_subclass) != 0;
}

static int str_attr(struct pk_types *t, uint64_t strobj, char *out, size_t cap)
{
    if (!strobj) return -1;
    return pk_pystr_read(t->m, t->l, strobj, out, cap) < 0 ? -1 : 0;
}

static char *type_name(struct pk_types *t, uint64_t addr, uint64_t flags)
{
    char buf[MAX_TP_NAME * 2 + 2];
    const struct pk_layout *l = t->l;
    if (flags & l->tpflags_heaptype) {
        char qual[MAX_TP_NAME], mod[MAX_TP_NAME];
        uint64_t qs = 0, dict = 0, ms = 0;
        if (pk_mem_read_u64(t->m, addr + PK_OFF(l, heaptype_qualname), &qs) == 0 &&
            str_attr(t, qs, qual, sizeof qual) == 0) {
            int have_mod = pk_mem_read_u64(t->m, addr + PK_OFF(l, type_dict), &dict) == 0 && dict &&
                           pk_pydict_get_str(t->m, l, dict, "__module__", &ms) == 1 &&
                           str_attr(t, ms, mod, sizeof mod) == 0;
            if (have_mod && strcmp(mod, "builtins") != 0)
                snprintf(buf, sizeof buf, "%s.%s", mod, qual);
            else
                snprintf(buf, sizeof buf, "%s", qual);
            return strdup(buf);
        }
    }
    uint64_t np;
    if (pk_mem_read_u64(t->m, addr + PK_OFF(l, type_name), &np) == 0 && np) {
        long n = pk_mem_read_upto(t->m, np, buf, MAX_TP_NAME);
        if (n > 0) {
            size_t len = strnlen(buf, (size_t)n);
            buf[len] = '\0';
            return strdup(buf);
        }
    }
    snprintf(buf, sizeof buf, "<type at 0x%llx>", (unsigned long long)addr);
    return strdup(buf);
}

/* The builtin whose __sizeof__ the type inherits, following tp_base. */
static void classify(struct pk_types *t, struct pk_type_info *ti)
{
    static const enum pk_size_kind kinds[PK_BT_COUNT] = {
        [PK_BT_LIST] = PK_SIZE_LIST,     [PK_BT_DICT] = PK_SIZE_DICT,
        [PK_BT_SET] = PK_SIZE_SET,       [PK_BT_FROZENSET] = PK_SIZE_SET,
        [PK_BT_TYPE] = PK_SIZE_TYPE,     [PK_BT_GENERATOR] = PK_SIZE_GEN,
        [PK_BT_COROUTINE] = PK_SIZE_GEN, [PK_BT_ASYNC_GENERATOR] = PK_SIZE_GEN,
        [PK_BT_FRAME] = PK_SIZE_FRAME,   [PK_BT_STR] = PK_SIZE_STR,
        [PK_BT_LONG] = PK_SIZE_LONG,     [PK_BT_BYTEARRAY] = PK_SIZE_BYTEARRAY,
        [PK_BT_CODE] = PK_SIZE_CODE,
    };
    /* Builtins known for the object graph only: their sizes come from the inherited rules. */
    static const char graph_only[PK_BT_COUNT] = {
        [PK_BT_CELL] = 1,
        [PK_BT_MODULE] = 1,
        [PK_BT_FUNCTION] = 1,
        [PK_BT_METHOD] = 1,
        [PK_BT_GETSET_DESCR] = 1,
        [PK_BT_MEMBER_DESCR] = 1,
        [PK_BT_METHOD_DESCR] = 1,
        [PK_BT_CLASSMETHOD_DESCR] = 1,
        [PK_BT_WRAPPER_DESCR] = 1,
        [PK_BT_METHOD_WRAPPER] = 1,
        [PK_BT_CFUNCTION] = 1,
        [PK_BT_CMETHOD] = 1,
        [PK_BT_WEAKREF] = 1,
        [PK_BT_WEAKPROXY] = 1,
        [PK_BT_WEAKCALLABLEPROXY] = 1,
        [PK_BT_TRACEBACK] = 1,
        [PK_BT_PROPERTY] = 1,
        [PK_BT_CLASSMETHOD] = 1,
        [PK_BT_STATICMETHOD] = 1,
        [PK_BT_MAPPINGPROXY] = 1,
    };
    ti->size_kind = PK_SIZE_GENERIC;
    ti->size_exact = 0;
    ti->sizeof_basicsize = ti->basicsize;
    uint64_t cur = ti->addr;
    /* Exact when no type between this one and the builtin defines its own __sizeof__ (a C
       type such as deque, or a Python class): known only where the type's dict is readable
       (3.12+ keeps static builtin types' dicts elsewhere, so those stay estimates). */
    int own_sizeof_unknown = 0;
    for (int depth = 0; cur && depth < MAX_BASE_DEPTH; depth++) {
        if (pk_types_is_deque(t, cur)) {
            ti->size_kind = PK_SIZE_DEQUE;
            ti->size_exact = !own_sizeof_unknown;
            return;
        }
        for (int b = 0; b < PK_BT_COUNT; b++) {
            if (t->builtin[b] && cur == t->builtin[b] && !graph_only[b]) {
                int64_t base = 0;
                if (kinds[b] == PK_SIZE_LONG && cur != ti->addr &&
                    (pk_mem_read(t->m, cur + PK_OFF(t->l, type_basicsize), &base, 8) < 0 ||
                     base < 0 || base > ti->basicsize))
                    own_sizeof_unknown = 1; /* int's own basic size unreadable */
                else if (kinds[b] == PK_SIZE_LONG && cur != ti->addr)
                    ti->sizeof_basicsize = base;
                ti->size_kind = kinds[b];
                ti->size_exact = !own_sizeof_unknown && kinds[b] != PK_SIZE_BASIC &&
                                 kinds[b] != PK_SIZE_CODE && /* co_extra: not read */
                                 (kinds[b] != PK_SIZE_FRAME || PK_HAS(t->l, frame_code));
                return;
            }
        }
        uint64_t dict = 0, found;
        if (pk_mem_read_u64(t->m, cur + PK_OFF(t->l, type_dict), &dict) < 0 || !dict ||
            pk_pydict_get_str(t->m, t->l, dict, "__sizeof__", &found) != 0)
            own_sizeof_unknown = 1;
        if (pk_mem_read_u64(t->m, cur + PK_OFF(t->l, type_base), &cur) < 0) return;
    }
}

const struct pk_type_info *pk_types_get(struct pk_types *t, uint64_t addr, int *rc)
{
    const struct pk_type_info **recent = &t->recent[recent_slot(addr)];
    if (*recent && (*recent)->addr == addr) return *recent;
    size_t h = hash_addr(addr, t->nslots - 1);
    while (t->slots[h]) {
        struct pk_type_info *ti = t->byindex[t->slots[h] - 1];
        if (ti->addr == addr) return *recent = ti;
        h = (h + 1) & (t->nslots - 1);
    }
    if (!is_type_object(t, addr) || t->n >= MAX_TYPES) {
        *rc = -PK_E_INCONSISTENT;
        return NULL;
    }
    struct pk_type_info *ti = calloc(1, sizeof *ti);
    if (!ti) goto oom;
    const struct pk_layout *l = t->l;
    ti->addr = addr;
    if (read_flags(t, addr, &ti->flags) < 0 ||
        pk_mem_read(t->m, addr + PK_OFF(l, type_basicsize), &ti->basicsize, 8) < 0 ||
        pk_mem_read(t->m, addr + PK_OFF(l, type_itemsize), &ti->itemsize, 8) < 0 ||
        ti->basicsize < 0 || ti->basicsize > (1 << 24)) {
        free(ti);
        *rc = -PK_E_INCONSISTENT;
        return NULL;
    }
    ti->header_bytes = 0;
    if (ti->flags & l->tpflags_have_gc) ti->header_bytes += PK_F(l, gchead_size).size;
    if (ti->flags & l->tpflags_preheader) ti->header_bytes += l->preheader_extra;
    ti->static_type_header_bytes = ti->header_bytes;
    if (l->static_type_gc_header == PK_STATIC_TYPE_HEADER_NEVER ||
        (l->static_type_gc_header == PK_STATIC_TYPE_HEADER_UNLESS_TYPE &&
         t->builtin[PK_BT_TYPE] == addr))
        ti->static_type_header_bytes = 0;
    if (!(ti->name = type_name(t, addr, ti->flags))) goto oom_ti;
    classify(t, ti);
    ti->fd_role = (uint8_t)pk_fd_role_of_type(t->m, l, addr);
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        struct pk_type_info **nb = realloc(t->byindex, nc * sizeof *nb);
        if (!nb) goto oom_name;
        t->byindex = nb;
        t->cap = nc;
    }
    if ((t->n + 1) * 2 > t->nslots && rehash(t) < 0) goto oom_name;
    ti->index = (uint32_t)t->n;
    t->byindex[t->n++] = ti;
    h = hash_addr(addr, t->nslots - 1);
    while (t->slots[h])
        h = (h + 1) & (t->nslots - 1);
    t->slots[h] = ti->index + 1;
    return ti;
oom_name:
    free(ti->name);
oom_ti:
    free(ti);
oom:
    *rc = -PK_E_INTERNAL;
    return NULL;
}
