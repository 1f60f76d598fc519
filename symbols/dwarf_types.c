/* Struct sizes and member offsets from DWARF (libdw), looked up by type and member name. */
#include "symbols/dwarf_types.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TYPES 128
#define MAX_NAME 64
#define MAX_ALTS 4
#define MAX_MEMBER_DEPTH 8

struct pk_dwarf {
    int fd;
    Dwarf *dw;
};

struct wanted_type {
    char names[MAX_ALTS + 1][MAX_NAME]; /* last slot: tag learned from a declaration-only peel */
    int nnames;
    int found;
    Dwarf_Die die;
};

int pk_dwarf_open(const char *path, struct pk_dwarf **out, struct pk_err *e)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pk_fail(e, PK_E_NO_LAYOUT, "cannot open %s: %s", path, strerror(errno));
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    if (!dw) {
        close(fd);
        return pk_fail(e, PK_E_NO_LAYOUT, "dwarf_begin %s: %s", path, dwarf_errmsg(-1));
    }
    struct pk_dwarf *d = malloc(sizeof *d);
    if (!d) {
        dwarf_end(dw);
        close(fd);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    d->fd = fd;
    d->dw = dw;
    *out = d;
    return 0;
}

void pk_dwarf_close(struct pk_dwarf *d)
{
    if (!d) return;
    dwarf_end(d->dw);
    close(d->fd);
    free(d);
}

static Dwarf_Die *dwarf_attr_die(Dwarf_Die *die, unsigned name, Dwarf_Die *out)
{
    Dwarf_Attribute a;
    if (!dwarf_attr_integrate(die, name, &a)) return NULL;
    return dwarf_formref_die(&a, out);
}

static int is_aggregate(int tag)
{
    return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

static int is_complete(Dwarf_Die *die)
{
    return !dwarf_hasattr(die, DW_AT_declaration);
}

/* Offers one top-level DIE to the wanted types. */
static void offer(Dwarf_Die *die, struct wanted_type *w, size_t nw)
{
    const char *name = dwarf_diename(die);
    if (!name) return;
    int tag = dwarf_tag(die);
    if (tag != DW_TAG_typedef && !is_aggregate(tag)) return;
    for (size_t i = 0; i < nw; i++) {
        if (w[i].found) continue;
        int hit = 0;
        for (int k = 0; k <= MAX_ALTS && !hit; k++)
            hit = w[i].names[k][0] && !strcmp(w[i].names[k], name);
        if (!hit) continue;
        if (tag == DW_TAG_typedef) {
            Dwarf_Die peeled;
            if (dwarf_peel_type(die, &peeled) != 0 || !is_aggregate(dwarf_tag(&peeled))) continue;
            if (is_complete(&peeled)) {
                w[i].die = peeled;
                w[i].found = 1;
            } else if (dwarf_diename(&peeled)) {
                /* typedef to a struct defined elsewhere: look for its tag too */
                strncpy(w[i].names[MAX_ALTS], dwarf_diename(&peeled), MAX_NAME - 1);
            }
        } else if (is_complete(die)) {
            w[i].die = *die;
            w[i].found = 1;
        }
    }
}

static int all_found(const struct wanted_type *w, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        if (!w[i].found) return 0;
    return 1;
}

static int scan_units(struct pk_dwarf *d, struct wanted_type *w, size_t nw, struct pk_err *e)
{
    Dwarf_Off off = 0, next;
    size_t hsize;
    int r;
    while ((r = dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL)) == 0) {
        Dwarf_Die cu, child;
        if (dwarf_offdie(d->dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
            int s;
            do {
                offer(&child, w, nw);
            } while ((s = dwarf_siblingof(&child, &child)) == 0);
            if (s < 0) return pk_fail(e, PK_E_NO_LAYOUT, "dwarf_siblingof: %s", dwarf_errmsg(-1));
        }
        if (all_found(w, nw)) return 0;
        off = next;
    }
    if (r < 0) return pk_fail(e, PK_E_NO_LAYOUT, "dwarf_nextcu: %s", dwarf_errmsg(-1));
    return 0;
}

static int member_location(Dwarf_Die *m, Dwarf_Word *loc)
{
    Dwarf_Attribute a;
    *loc = 0;
    if (!dwarf_attr(m, DW_AT_data_member_location, &a)) return 0; /* union members */
    if (dwarf_formudata(&a, loc) == 0) return 0;
    Dwarf_Op *ops;
    size_t nops;
    if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 && ops[0].atom == DW_OP_plus_uconst) {
        *loc = ops[0].number;
        return 0;
    }
    return -1;
}

static int type_size(Dwarf_Die *member, uint32_t *size)
{
    Dwarf_Die t;
    Dwarf_Word sz;
    if (!dwarf_attr_die(member, DW_AT_type, &t)) return -1;
    if (dwarf_aggregate_size(&t, &sz) == 0) {
        *size = (uint32_t)sz;
        return 0;
    }
    Dwarf_Die peeled;
    if (dwarf_peel_type(&t, &peeled) == 0 && dwarf_tag(&peeled) == DW_TAG_pointer_type) {
        *size = 8;
        return 0;
    }
    return -1;
}

/* Finds member `name` of the aggregate at `agg`, descending into anonymous struct/union
   members. base is agg's offset from the outermost struct. */
static int find_member(Dwarf_Die *agg, const char *name, size_t nlen, Dwarf_Word base,
                       Dwarf_Die *out, Dwarf_Word *off, int depth)
{
    Dwarf_Die m;
    if (depth > MAX_MEMBER_DEPTH || dwarf_child(agg, &m) != 0) return 0;
    do {
        if (dwarf_tag(&m) != DW_TAG_member) continue;
        Dwarf_Word loc;
        if (member_location(&m, &loc) < 0) continue;
        const char *mn = dwarf_diename(&m);
        if (mn && strlen(mn) == nlen && !strncmp(mn, name, nlen)) {
            *out = m;
            *off = base + loc;
            return 1;
        }
        if (!mn) {
            Dwarf_Die t, peeled;
            if (dwarf_attr_die(&m, DW_AT_type, &t) && dwarf_peel_type(&t, &peeled) == 0 &&
                is_aggregate(dwarf_tag(&peeled)) &&
                find_member(&peeled, name, nlen, base + loc, out, off, depth + 1))
                return 1;
        }
    } while (dwarf_siblingof(&m, &m) == 0);
    return 0;
}

/* A member path: "a.b" descends into a nested struct (offsets add up); "a->b" follows the
   pointer member a to the struct it points to (b's offset is from that struct's start), for
   types only reachable through one, like _collectionsmodule.c's block ("leftblock->data"). */
static struct pk_field resolve_path(Dwarf_Die *agg, const char *path)
{
    Dwarf_Die cur = *agg, m;
    Dwarf_Word off = 0;
    const char *p = path;
    for (int depth = 0; depth < MAX_MEMBER_DEPTH; depth++) {
        const char *dot = strchr(p, '.'), *arrow = strstr(p, "->");
        if (arrow && (!dot || arrow < dot)) dot = arrow;
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        Dwarf_Word moff;
        if (!find_member(&cur, p, len, off, &m, &moff, 0)) return PK_FIELD_MISSING;
        off = moff;
        if (!dot) break;
        Dwarf_Die t;
        if (!dwarf_attr_die(&m, DW_AT_type, &t) || dwarf_peel_type(&t, &cur) != 0)
            return PK_FIELD_MISSING;
        if (dot == arrow) {
            Dwarf_Die pointee;
            if (dwarf_tag(&cur) != DW_TAG_pointer_type || !dwarf_attr_die(&cur, DW_AT_type, &t) ||
                dwarf_peel_type(&t, &pointee) != 0)
                return PK_FIELD_MISSING;
            cur = pointee;
            off = 0;
        }
        if (!is_aggregate(dwarf_tag(&cur)) || !is_complete(&cur)) return PK_FIELD_MISSING;
        p = dot + (dot == arrow ? 2 : 1);
    }
    struct pk_field f = {(int32_t)off, 0, 0, 0};
    Dwarf_Attribute a;
    Dwarf_Word bits;
    if (dwarf_attr(&m, DW_AT_bit_size, &a) && dwarf_formudata(&a, &bits) == 0) {
        Dwarf_Word bitpos;
        Dwarf_Word member_off = off; /* off of the enclosing aggregate when no location */
        if (dwarf_attr(&m, DW_AT_data_bit_offset, &a) && dwarf_formudata(&a, &bitpos) == 0) {
            /* DWARF 4+: bits from the start of the enclosing aggregate, which starts at
               off - (its own location); find_member added no location for this member. */
            bitpos += member_off * 8;
        } else {
            Dwarf_Word old, bytesz = 4;
            if (!dwarf_attr(&m, DW_AT_bit_offset, &a) || dwarf_formudata(&a, &old) != 0)
                return PK_FIELD_MISSING;
            if (dwarf_attr(&m, DW_AT_byte_size, &a)) dwarf_formudata(&a, &bytesz);
            bitpos = member_off * 8 + bytesz * 8 - old - bits;
        }
        f.off = (int32_t)((bitpos / 32) * 4);
        f.bit_off = (int8_t)(bitpos - (Dwarf_Word)f.off * 8);
        f.bit_size = (int8_t)bits;
        f.size = 4;
        if (f.bit_off + f.bit_size > 32) return PK_FIELD_MISSING;
        return f;
    }
    if (type_size(&m, &f.size) < 0) f.size = 0;
    return f;
}

static int add_wanted(struct wanted_type *w, size_t *nw, const char *types)
{
    struct wanted_type t;
    memset(&t, 0, sizeof t);
    const char *p = types;
    while (*p && t.nnames < MAX_ALTS) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == 0 || len >= MAX_NAME) return -1;
        memcpy(t.names[t.nnames++], p, len);
        if (!bar) break;
        p = bar + 1;
    }
    for (size_t i = 0; i < *nw; i++)
        if (!memcmp(w[i].names, t.names, sizeof t.names)) return (int)i;
    if (*nw >= MAX_TYPES) return -1;
    w[*nw] = t;
    return (int)(*nw)++;
}

int pk_dwarf_resolve(struct pk_dwarf *d, const struct pk_dwarf_query *q, size_t n,
                     struct pk_field *out, struct pk_err *e)
{
    struct wanted_type *w = calloc(MAX_TYPES, sizeof *w);
    int *idx = calloc(n ? n : 1, sizeof *idx);
    if (!w || !idx) {
        free(w);
        free(idx);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        idx[i] = add_wanted(w, &nw, q[i].types);
    int rc = scan_units(d, w, nw, e);
    int resolved = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = PK_FIELD_MISSING;
        if (rc < 0 || idx[i] < 0 || !w[idx[i]].found) continue;
        Dwarf_Die *agg = &w[idx[i]].die;
        if (!q[i].member) {
            Dwarf_Word sz;
            if (dwarf_aggregate_size(agg, &sz) == 0)
                out[i] = (struct pk_field){0, (uint32_t)sz, 0, 0};
        } else {
            out[i] = resolve_path(agg, q[i].member);
        }
        if (pk_field_ok(out[i])) resolved++;
    }
    free(w);
    free(idx);
    return rc < 0 ? rc : resolved;
}
