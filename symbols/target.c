/* Finding the interpreter in a process: module defining _PyRuntime, bias, version, layout. */
#include "symbols/target.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/debug_offsets.h"
#include "symbols/debuginfo.h"
#include "symbols/ext_layout.h"
#include "symbols/elf_file.h"
#include "symbols/version.h"

#define MAX_MODULES_TRIED 512

static const char *const builtin_type_symbols[PK_BT_COUNT] = {
    "PyBaseObject_Type", "PyList_Type", "PyTuple_Type", "PyDict_Type", "PySet_Type",
    "PyFrozenSet_Type", "PyType_Type", "PyGen_Type", "PyCoro_Type", "PyAsyncGen_Type",
    "PyFrame_Type", "PyUnicode_Type", "PyBytes_Type", "PyByteArray_Type", "PyLong_Type",
    "PyFloat_Type", "PyCell_Type", "PyModule_Type", "PyFunction_Type", "PyMethod_Type",
};

/* Opens a mapped file the way the target sees it: through /proc/PID/root (containers), else
   /proc/PID/map_files (deleted or replaced files). */
static int open_mapped(pid_t pid, const struct pk_map *m, struct pk_elf **out)
{
    char path[PATH_MAX + 64];
    struct pk_err ignore = {0};
    size_t len = strlen(m->path);
    static const char deleted[] = " (deleted)";
    int is_deleted = len > sizeof deleted - 1 && !strcmp(m->path + len - (sizeof deleted - 1), deleted);
    if (!is_deleted) {
        snprintf(path, sizeof path, "/proc/%d/root%s", (int)pid, m->path);
        if (pk_elf_open(path, out, &ignore) == 0) return 0;
    }
    snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", (int)pid,
             (unsigned long long)m->start, (unsigned long long)m->end);
    pk_err_clear(&ignore);
    return pk_elf_open(path, out, &ignore);
}

static int module_rank(const char *path, const char *exe)
{
    if (!strcmp(path, exe)) return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strncmp(base, "libpython", 9)) return 1;
    if (strstr(base, "python")) return 2;
    return 3;
}

/* The first mapping of each distinct file, best candidates first. */
static size_t candidate_modules(const struct pk_maps *maps, const char *exe,
                                const struct pk_map **out, size_t cap)
{
    size_t n = 0;
    for (int rank = 0; rank <= 3; rank++) {
        for (size_t i = 0; i < maps->n && n < cap; i++) {
            const struct pk_map *m = &maps->v[i];
            if (m->path[0] != '/' || m->inode == 0) continue;
            if (module_rank(m->path, exe) != rank) continue;
            int dup = 0;
            for (size_t k = 0; k < n && !dup; k++)
                dup = out[k]->inode == m->inode && out[k]->dev_major == m->dev_major &&
                      out[k]->dev_minor == m->dev_minor;
            if (!dup) out[n++] = m;
        }
    }
    return n;
}

static int compute_bias(const struct pk_maps *maps, const struct pk_map *any, struct pk_elf *f,
                        uint64_t *bias)
{
    if (pk_elf_is_exec(f)) {
        *bias = 0;
        return 0;
    }
    uint64_t base;
    if (pk_elf_load_base(f, &base) < 0) return -1;
    for (size_t i = 0; i < maps->n; i++) {
        const struct pk_map *m = &maps->v[i];
        if (m->inode == any->inode && m->dev_major == any->dev_major &&
            m->dev_minor == any->dev_minor && m->offset == 0) {
            *bias = m->start - base;
            return 0;
        }
    }
    return -1;
}

static void hex_build_id(struct pk_elf *f, char *out, size_t cap)
{
    unsigned char id[64];
    size_t n = pk_elf_build_id(f, id, sizeof id);
    out[0] = '\0';
    for (size_t i = 0; i < n && 2 * i + 2 < cap; i++) snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static void resolve_obmalloc_syms(struct pk_elf *mod, const char *debug_path, struct pk_target *t)
{
    static const char *const names[] = {"arenas", "maxarenas", "narenas_currently_allocated",
                                        "raw_allocated_blocks", "_Py_AllocatedBlocks"};
    uint64_t *out[] = {&t->obmalloc_syms.arenas, &t->obmalloc_syms.maxarenas,
                       &t->obmalloc_syms.narenas, &t->obmalloc_syms.raw_allocated_blocks,
                       &t->obmalloc_syms.allocated_blocks};
    struct pk_elf *dbg = NULL;
    struct pk_err ignore = {0};
    if (strcmp(debug_path, pk_elf_path(mod)) != 0) pk_elf_open(debug_path, &dbg, &ignore);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct pk_elf_sym sym;
        if (pk_elf_find_symbol(mod, names[i], 1, &sym) ||
            (dbg && pk_elf_find_symbol(dbg, names[i], 1, &sym)))
            *out[i] = sym.value + t->bias;
    }
    pk_elf_close(dbg);
}

static void target_warn(struct pk_target *t, const char *fmt, ...)
{
    if (t->nwarnings >= PK_TARGET_MAX_WARNINGS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->warnings[t->nwarnings++], sizeof t->warnings[0], fmt, ap);
    va_end(ap);
}

int pk_target_resolve(pid_t pid, int procfd, const struct pk_maps *maps,
                      const struct pk_target_opts *opts, struct pk_target *t, struct pk_err *e)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    ssize_t n = readlinkat(procfd, "exe", t->exe, sizeof t->exe - 1);
    if (n < 0) {
        return pk_fail(e, PK_E_NOT_PYTHON,
                       "process %d has no executable (a kernel thread or a zombie)", (int)pid);
    }
    t->exe[n] = '\0';

    const struct pk_map **cands = malloc(MAX_MODULES_TRIED * sizeof *cands);
    if (!cands) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    size_t nc = candidate_modules(maps, t->exe, cands, MAX_MODULES_TRIED);
    struct pk_elf *mod = NULL;
    const struct pk_map *modmap = NULL;
    struct pk_elf_sym runtime;
    for (size_t i = 0; i < nc && !mod; i++) {
        struct pk_elf *f;
        if (open_mapped(pid, cands[i], &f) < 0) continue;
        if (pk_elf_find_symbol(f, "_PyRuntime", 0, &runtime)) {
            mod = f;
            modmap = cands[i];
        } else {
            pk_elf_close(f);
        }
    }
    free(cands);
    if (!mod)
        return pk_fail(e, PK_E_NOT_PYTHON,
                       "process %d (%s) is not a CPython process: no module defines _PyRuntime",
                       (int)pid, t->exe);
    snprintf(t->module, sizeof t->module, "%s", modmap->path);
    t->module_is_shared = !pk_elf_is_exec(mod) && strcmp(modmap->path, t->exe) != 0;
    hex_build_id(mod, t->build_id, sizeof t->build_id);
    int rc = 0;
    if (compute_bias(maps, modmap, mod, &t->bias) < 0) {
        rc = pk_fail(e, PK_E_NOT_PYTHON, "%s: cannot compute its load address", t->module);
        goto out;
    }
    t->runtime_addr = runtime.value + t->bias;
    for (int i = 0; i < PK_BT_COUNT; i++) {
        struct pk_elf_sym sym;
        if (pk_elf_find_symbol(mod, builtin_type_symbols[i], 0, &sym))
            t->builtin_types[i] = sym.value + t->bias;
    }
    {
        struct pk_elf_sym sym;
        if (pk_elf_find_symbol(mod, "_PySet_Dummy", 0, &sym)) t->set_dummy = sym.value + t->bias;
    }
    rc = pk_version_detect(mod, runtime.value, t->module, &t->py_version_hex, e);
    if (rc < 0) goto out;
    pk_version_format(t->py_version_hex, t->py_version, sizeof t->py_version);

    char debug_path[PATH_MAX];
    rc = pk_debuginfo_find(mod, pid, opts ? opts->debug_dir : NULL, debug_path, sizeof debug_path);
    if (rc < 0) {
        unsigned minor = (t->py_version_hex >> 16) & 0xff;
        rc = pk_fail(e, PK_E_NO_LAYOUT,
                     "no debug info for %s (CPython %s, build-id %s). Install the matching "
                     "debug package (on Debian: apt-get install python3.%u-dbg), point "
                     "DEBUGINFOD_URLS at a debuginfod server, or pass --debug-dir DIR",
                     t->module, t->py_version, t->build_id[0] ? t->build_id : "none", minor);
        goto out;
    }
    resolve_obmalloc_syms(mod, debug_path, t);
    struct pk_dwarf *dw;
    rc = pk_dwarf_open(debug_path, &dw, e);
    if (rc < 0) goto out;
    rc = pk_layout_resolve_dwarf(&t->layout, dw, t->py_version_hex, e);
    struct pk_debug_offsets_result dbg;
    if (rc == 0) {
        pk_debug_offsets_check(mod, runtime.value, t->py_version_hex, dw, &t->layout, &dbg);
        for (int i = 0; i < dbg.nwarnings; i++) target_warn(t, "%s", dbg.warnings[i]);
        rc = pk_layout_finish(&t->layout, e);
    }
    pk_dwarf_close(dw);
    if (rc < 0) goto out;
    snprintf(t->layout_source, sizeof t->layout_source, "dwarf:%s", debug_path);
    char agrees[64];
    int alen = snprintf(agrees, sizeof agrees, " (%d offsets agree with _Py_DebugOffsets)",
                        dbg.checked);
    size_t srclen = strlen(t->layout_source);
    if (dbg.checked && !dbg.mismatches && srclen + (size_t)alen < sizeof t->layout_source)
        memcpy(t->layout_source + srclen, agrees, (size_t)alen + 1);
    unsigned minor = (t->py_version_hex >> 16) & 0xff;
    if (minor > PK_NEWEST_KNOWN_MINOR)
        target_warn(t, "CPython %s is newer than the versions pypeek knows (3.8 to 3.%d): its "
                       "layout comes from DWARF alone, and per-version rules are 3.%d's",
                    t->py_version, PK_NEWEST_KNOWN_MINOR, PK_NEWEST_KNOWN_MINOR);
    pk_ext_layout_socket(pid, maps, opts ? opts->debug_dir : NULL, &t->layout);
out:
    pk_elf_close(mod);
    return rc;
}
