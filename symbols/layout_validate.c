/* A layout record checked against the live heap (see layout_validate.h). */
#include "symbols/layout_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "symbols/debug_offsets.h"

struct vctx {
    struct pk_mem *mem;
    const struct pk_layout *l;
    char *why;
    size_t cap;
};

__attribute__((format(printf, 2, 3))) static int fail(struct vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int rd(struct vctx *c, uint64_t addr, void *buf, size_t len)
{
    if (!addr || addr + len < addr) return -1;
    return pk_mem_read(c->mem, addr, buf, len) == 0 ? 0 : -1;
}

static int rd_ptr(struct vctx *c, uint64_t addr, uint64_t *out)
{
    return rd(c, addr, out, sizeof *out);
}

/* A list head: its next node's prev and its prev node's next are the head again. */
static int check_head(struct vctx *c, uint64_t head, const char *what)
{
    const struct pk_layout *l = c->l;
    uint64_t next, prev, back;
    if (rd_ptr(c, head + PK_OFF(l, gchead_next), &next) < 0 ||
        rd_ptr(c, head + PK_OFF(l, gchead_prev), &prev) < 0)
        return fail(c, "%s at 0x%llx is not readable", what, (unsigned long long)head);
    next &= l->gc_link_mask;
    prev &= l->gc_link_mask;
    if (!next || !prev)
        return fail(c, "%s at 0x%llx has a null link", what, (unsigned long long)head);
    if (rd_ptr(c, next + PK_OFF(l, gchead_prev), &back) < 0 || (back & l->gc_link_mask) != head)
        return fail(c, "%s at 0x%llx: its next node does not link back to it", what,
                    (unsigned long long)head);
    if (rd_ptr(c, prev + PK_OFF(l, gchead_next), &back) < 0 || (back & l->gc_link_mask) != head)
        return fail(c, "%s at 0x%llx: its previous node does not link back to it", what,
                    (unsigned long long)head);
    return 0;
}

/* An object on a GC list: the type of its type is `type` or a metatype whose type is. */
static int check_list_object(struct vctx *c, uint64_t head, uint64_t type_type, const char *what)
{
    const struct pk_layout *l = c->l;
    uint64_t node, ty, meta, metameta;
    if (rd_ptr(c, head + PK_OFF(l, gchead_next), &node) < 0) return fail(c, "%s unreadable", what);
    node &= l->gc_link_mask;
    if (node == head) return 0; /* empty */
    uint64_t obj = node + PK_F(l, gchead_size).size;
    if (rd_ptr(c, obj + PK_OFF(l, object_type), &ty) < 0 ||
        rd_ptr(c, ty + PK_OFF(l, object_type), &meta) < 0)
        return fail(c, "the first object of %s has no readable type", what);
    if (meta == type_type) return 0;
    if (rd_ptr(c, meta + PK_OFF(l, object_type), &metameta) == 0 && metameta == type_type) return 0;
    return fail(c, "the first object of %s (0x%llx) has a type whose type is not a type", what,
                (unsigned long long)obj);
}

static int check_type(struct vctx *c, uint64_t addr, uint64_t type_type, const char *name)
{
    const struct pk_layout *l = c->l;
    if (!addr) return 0;
    uint64_t ob_type, tp_name;
    char buf[32] = "";
    if (rd_ptr(c, addr + PK_OFF(l, object_type), &ob_type) < 0 || ob_type != type_type)
        return fail(c, "Py%s_Type's ob_type is not PyType_Type", name);
    if (rd_ptr(c, addr + PK_OFF(l, type_name), &tp_name) < 0 ||
        rd(c, tp_name, buf, strlen(name) + 1) < 0 || memcmp(buf, name, strlen(name) + 1) != 0)
        return fail(c, "the tp_name of the type at 0x%llx is not \"%s\"", (unsigned long long)addr,
                    name);
    return 0;
}

int pk_layout_validate(const struct pk_target *t, struct pk_mem *mem, struct pk_elf *mod,
                       uint64_t runtime_vaddr, const struct pk_layout_record *rec,
                       const struct pk_layout *l, char *why, size_t cap)
{
    struct vctx c = {mem, l, why, cap};
    uint64_t tt = t->builtin_types[PK_BT_TYPE];
    if (!tt) return fail(&c, "PyType_Type is not exported by the module");
    /* Builtin type objects: static, initialised, independent of the GC state. */
    static const struct {
        int bt;
        const char *name;
    } types[] = {{PK_BT_TYPE, "type"},   {PK_BT_LIST, "list"}, {PK_BT_DICT, "dict"},
                 {PK_BT_TUPLE, "tuple"}, {PK_BT_STR, "str"},   {PK_BT_LONG, "int"}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (check_type(&c, t->builtin_types[types[i].bt], tt, types[i].name) < 0) return -1;
    uint64_t basic;
    if (t->builtin_types[PK_BT_TYPE] && PK_HAS(l, type_struct_size) &&
        (rd_ptr(&c, tt + PK_OFF(l, type_basicsize), &basic) < 0 ||
         basic < PK_F(l, type_struct_size).size || basic > PK_F(l, type_struct_size).size + 1024))
        return fail(&c, "type.__basicsize__ does not fit the record's PyTypeObject size");

    /* The interpreter and its GC state. */
    uint64_t interp;
    if (rd_ptr(&c, t->runtime_addr + PK_OFF(l, runtime_interpreters_head), &interp) < 0 || !interp)
        return fail(&c, "_PyRuntime.interpreters.head is not a readable pointer");
    if (PK_HAS(l, runtime_interpreters_main)) {
        uint64_t main_interp;
        if (rd_ptr(&c, t->runtime_addr + PK_OFF(l, runtime_interpreters_main), &main_interp) < 0 ||
            !main_interp)
            return fail(&c, "_PyRuntime.interpreters.main is not a readable pointer");
        interp = main_interp;
    }
    uint64_t gc = pk_layout_gc_state_addr(l, t->runtime_addr, interp);
    char what[64];
    if (l->gc_kind == PK_GC_GENERATIONAL) {
        uint64_t gen0 = gc + PK_OFF(l, gc_generations) + PK_OFF(l, gen_head);
        for (int i = 0; i < 3; i++) {
            uint64_t h = gen0 + (uint64_t)i * PK_F(l, gen_size).size;
            snprintf(what, sizeof what, "generation %d's list head", i);
            if (check_head(&c, h, what) < 0 || check_list_object(&c, h, tt, what) < 0) return -1;
            int32_t threshold;
            if (PK_HAS(l, gen_threshold) &&
                (rd(&c, h - PK_OFF(l, gen_head) + PK_OFF(l, gen_threshold), &threshold,
                    sizeof threshold) < 0 ||
                 threshold < 0))
                return fail(&c, "generation %d's threshold is negative", i);
        }
        if (PK_HAS(l, gc_generation0)) {
            uint64_t g0;
            if (rd_ptr(&c, gc + PK_OFF(l, gc_generation0), &g0) < 0 || g0 != gen0)
                return fail(&c, "generation0 does not point at generations[0] (0x%llx)",
                            (unsigned long long)gen0);
        }
    } else {
        uint64_t young = gc + PK_OFF(l, gc_young) + PK_OFF(l, gen_head);
        if (check_head(&c, young, "the young generation's list head") < 0) return -1;
        for (int i = 0; i < 2; i++) {
            uint64_t h =
                gc + PK_OFF(l, gc_old) + (uint64_t)i * PK_F(l, gen_size).size + PK_OFF(l, gen_head);
            snprintf(what, sizeof what, "old generation %d's list head", i);
            if (check_head(&c, h, what) < 0) return -1;
        }
    }
    uint64_t perm = gc + PK_OFF(l, gc_permanent_generation) + PK_OFF(l, gen_head);
    if (check_head(&c, perm, "the permanent generation's list head") < 0) return -1;

    /* 3.13+: the interpreter's own offsets table, where the record says its members are. */
    if (l->py_version_hex >= 0x030d0000) {
        char w[256];
        int n = pk_debug_offsets_compare(mod, runtime_vaddr, l->py_version_hex, rec->dbgoff, l, w,
                                         sizeof w);
        if (n < 0) return fail(&c, "%s", w);
    }
    return 0;
}
