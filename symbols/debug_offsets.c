/* _Py_DebugOffsets (3.13+): validated, and cross-checked against the DWARF layout. */
#include "symbols/debug_offsets.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Members of _Py_DebugOffsets (found by name in the same DWARF) and the layout field holding
   the same offset or size. */
static const struct {
    const char *member;
    enum pk_layout_field field;
} pairs[] = {
    {"runtime_state.size", PK_L_runtime_size},
    {"runtime_state.interpreters_head", PK_L_runtime_interpreters_head},
    {"interpreter_state.size", PK_L_interp_size},
    {"interpreter_state.id", PK_L_interp_id},
    {"interpreter_state.next", PK_L_interp_next},
    {"interpreter_state.threads_head", PK_L_interp_threads_head},
    {"interpreter_state.gc", PK_L_interp_gc},
    {"interpreter_state.imports_modules", PK_L_interp_imports_modules},
    {"thread_state.next", PK_L_tstate_next},
    {"thread_state.native_thread_id", PK_L_tstate_native_thread_id},
    {"pyobject.size", PK_L_object_size},
    {"pyobject.ob_type", PK_L_object_type},
    {"type_object.tp_name", PK_L_type_name},
    {"type_object.tp_flags", PK_L_type_flags},
    {"type_object.size", PK_L_type_struct_size},
    {"tuple_object.ob_item", PK_L_tuple_item},
    {"list_object.ob_item", PK_L_list_item},
    {"dict_object.ma_keys", PK_L_dict_keys},
    {"dict_object.ma_values", PK_L_dict_values},
    {"unicode_object.length", PK_L_ascii_length},
    {"unicode_object.asciiobject_size", PK_L_ascii_size},
    {"gc.size", PK_L_gc_size},
    {"gc.collecting", PK_L_gc_collecting},
};
#define NPAIRS (sizeof pairs / sizeof *pairs)

static void warn(struct pk_debug_offsets_result *res, const char *fmt, ...)
{
    if (res->nwarnings >= PK_DEBUG_OFFSETS_MAX_WARNINGS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->warnings[res->nwarnings++], sizeof res->warnings[0], fmt, ap);
    va_end(ap);
}

static void compare_fill(struct pk_elf *mod, uint64_t runtime_vaddr, const struct pk_field *where,
                         struct pk_layout *l, struct pk_debug_offsets_result *res);

void pk_debug_offsets_check(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t py_version_hex,
                            struct pk_dwarf *d, struct pk_layout *l,
                            struct pk_debug_offsets_result *res)
{
    memset(res, 0, sizeof *res);
    if (py_version_hex < 0x030d0000) return; /* 3.13 introduced it */
    unsigned char head[16];
    if (pk_elf_read_vaddr(mod, runtime_vaddr, head, sizeof head) < 0 ||
        memcmp(head, "xdebugpy", 8) != 0) {
        warn(res, "_Py_DebugOffsets: no \"xdebugpy\" cookie at the start of _PyRuntime (CPython "
                  "3.13+ always has one); offsets are from DWARF only");
        return;
    }
    res->present = 1;
    uint64_t version;
    memcpy(&version, head + 8, 8);
    if ((uint32_t)version != py_version_hex || (version >> 32) != 0) {
        warn(res,
             "_Py_DebugOffsets.version is 0x%llx but the interpreter says 0x%08x; its "
             "offsets are ignored",
             (unsigned long long)version, (unsigned)py_version_hex);
        return;
    }
    if (!d) return;
    struct pk_field where[NPAIRS];
    if (pk_debug_offsets_positions(d, where, NPAIRS) <= 0) return;
    compare_fill(mod, runtime_vaddr, where, l, res);
}

void pk_debug_offsets_check_at(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t py_version_hex,
                               const struct pk_field *where, struct pk_layout *l,
                               struct pk_debug_offsets_result *res)
{
    pk_debug_offsets_check(mod, runtime_vaddr, py_version_hex, NULL, l, res);
    if (res->present && !res->nwarnings) compare_fill(mod, runtime_vaddr, where, l, res);
}

static void compare_fill(struct pk_elf *mod, uint64_t runtime_vaddr, const struct pk_field *where,
                         struct pk_layout *l, struct pk_debug_offsets_result *res)
{
    for (size_t i = 0; i < NPAIRS; i++) {
        uint64_t v;
        if (!pk_field_ok(where[i]) || where[i].size != 8 ||
            pk_elf_read_vaddr(mod, runtime_vaddr + (uint64_t)where[i].off, &v, 8) < 0)
            continue;
        struct pk_field *f = &l->f[pairs[i].field];
        int is_size = pk_layout_query(pairs[i].field).member == NULL;
        if (!pk_field_ok(*f)) {
            /* DWARF lacks it: use what the interpreter itself exports */
            if (v > (1u << 30)) continue;
            if (is_size)
                *f = (struct pk_field){0, (uint32_t)v, 0, 0};
            else
                *f = (struct pk_field){(int32_t)v, 0, 0, 0};
            res->filled++;
            continue;
        }
        uint64_t mine = is_size ? f->size : (uint64_t)f->off;
        res->checked++;
        if (mine != v) {
            res->mismatches++;
            warn(res,
                 "_Py_DebugOffsets.%s is %llu but the DWARF layout (%s) says %llu; using "
                 "DWARF",
                 pairs[i].member, (unsigned long long)v, pk_layout_field_name(pairs[i].field),
                 (unsigned long long)mine);
        }
    }
}

size_t pk_debug_offsets_count(void)
{
    return NPAIRS;
}

const char *pk_debug_offsets_member(size_t i)
{
    return i < NPAIRS ? pairs[i].member : NULL;
}

int pk_debug_offsets_positions(struct pk_dwarf *d, struct pk_field *where, size_t cap)
{
    if (cap < NPAIRS) return -1;
    struct pk_dwarf_query q[NPAIRS];
    struct pk_err ignore = {0};
    for (size_t i = 0; i < NPAIRS; i++)
        q[i] = (struct pk_dwarf_query){"_Py_DebugOffsets", pairs[i].member};
    return pk_dwarf_resolve(d, q, NPAIRS, where, &ignore);
}

int pk_debug_offsets_compare(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t py_version_hex,
                             const struct pk_field *where, const struct pk_layout *l, char *why,
                             size_t cap)
{
    if (py_version_hex < 0x030d0000) return 0;
    unsigned char head[16];
    if (pk_elf_read_vaddr(mod, runtime_vaddr, head, sizeof head) < 0 ||
        memcmp(head, "xdebugpy", 8) != 0)
        return 0;
    uint64_t version;
    memcpy(&version, head + 8, 8);
    if ((uint32_t)version != py_version_hex || (version >> 32) != 0) return 0;
    int checked = 0;
    for (size_t i = 0; i < NPAIRS; i++) {
        uint64_t v;
        if (!pk_field_ok(where[i]) || where[i].size != 8 ||
            pk_elf_read_vaddr(mod, runtime_vaddr + (uint64_t)where[i].off, &v, 8) < 0)
            continue;
        struct pk_field f = l->f[pairs[i].field];
        if (!pk_field_ok(f)) continue;
        uint64_t mine = pk_layout_query(pairs[i].field).member == NULL ? f.size : (uint64_t)f.off;
        checked++;
        if (mine != v) {
            snprintf(why, cap, "_Py_DebugOffsets.%s is %llu, the record's %s is %llu",
                     pairs[i].member, (unsigned long long)v, pk_layout_field_name(pairs[i].field),
                     (unsigned long long)mine);
            return -1;
        }
    }
    return checked;
}
