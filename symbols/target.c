/* Finding the interpreter in a process: module defining _PyRuntime, bias, version, layout. */
#include "symbols/target.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/debug_offsets.h"
#include "symbols/debuginfo.h"
#include "symbols/debuginfod.h"
#include "symbols/elf_file.h"
#include "symbols/ext_layout.h"
#include "symbols/layout_cache.h"
#include "symbols/layout_record.h"
#include "symbols/layout_validate.h"
#include "symbols/version.h"

#define MAX_MODULES_TRIED 512

static const char *const builtin_type_symbols[PK_BT_COUNT] = {
    "PyBaseObject_Type",
    "PyList_Type",
    "PyTuple_Type",
    "PyDict_Type",
    "PySet_Type",
    "PyFrozenSet_Type",
    "PyType_Type",
    "PyGen_Type",
    "PyCoro_Type",
    "PyAsyncGen_Type",
    "PyFrame_Type",
    "PyUnicode_Type",
    "PyBytes_Type",
    "PyByteArray_Type",
    "PyLong_Type",
    "PyFloat_Type",
    "PyCell_Type",
    "PyModule_Type",
    "PyFunction_Type",
    "PyMethod_Type",
    "PyCode_Type",
    "PyGetSetDescr_Type",
    "PyMemberDescr_Type",
    "PyMethodDescr_Type",
    "PyClassMethodDescr_Type",
    "PyWrapperDescr_Type",
    "_PyMethodWrapper_Type",
    "PyCFunction_Type",
    "PyCMethod_Type",
    "_PyWeakref_RefType",
    "_PyWeakref_ProxyType",
    "_PyWeakref_CallableProxyType",
    "PyTraceBack_Type",
    "PyProperty_Type",
    "PyClassMethod_Type",
    "PyStaticMethod_Type",
    "PyDictProxy_Type",
};

/* Opens a mapped file the way the target sees it: under its root (/proc/PID/root for
   containers, a core's --sysroot), else /proc/PID/map_files (deleted or replaced files of a
   running process). */
static int open_mapped(const struct pk_target_where *w, const struct pk_map *m, struct pk_elf **out)
{
    char path[PATH_MAX + 64];
    struct pk_err ignore = {0};
    size_t len = strlen(m->path);
    static const char deleted[] = " (deleted)";
    int is_deleted =
        len > sizeof deleted - 1 && !strcmp(m->path + len - (sizeof deleted - 1), deleted);
    if (!is_deleted) {
        snprintf(path, sizeof path, "%.4000s%s", w->root, m->path);
        if (pk_elf_open(path, out, &ignore) == 0) return 0;
    }
    if (!w->live) return -1;
    snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", (int)w->pid,
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
    for (size_t i = 0; i < n && 2 * i + 2 < cap; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static void target_warn(struct pk_target *t, const char *fmt, ...)
{
    if (t->nwarnings >= PK_TARGET_MAX_WARNINGS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->warnings[t->nwarnings++], sizeof t->warnings[0], fmt, ap);
    va_end(ap);
}

/* The record's module-relative symbols, when the record is this very build's. */
static void apply_record_syms(const struct pk_layout_record *r, struct pk_target *t)
{
    uint64_t *out[PK_RS_COUNT] = {
        &t->obmalloc_syms.arenas,           &t->obmalloc_syms.maxarenas,
        &t->obmalloc_syms.narenas,          &t->obmalloc_syms.raw_allocated_blocks,
        &t->obmalloc_syms.allocated_blocks, &t->subtype_traverse};
    for (int i = 0; i < PK_RS_COUNT; i++)
        *out[i] = r->syms[i] ? r->syms[i] + t->bias : 0;
}

static void append_source(struct pk_target *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void append_source(struct pk_target *t, const char *fmt, ...)
{
    size_t len = strlen(t->layout_source);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->layout_source + len, sizeof t->layout_source - len, fmt, ap);
    va_end(ap);
}

/* From a record of this build (cache, or the DWARF just read): _Py_DebugOffsets checked (and
   filling what DWARF lacked), then the per-version constants. */
static int layout_from_own_record(struct pk_elf *mod, uint64_t runtime_vaddr,
                                  const struct pk_layout_record *r, struct pk_target *t,
                                  struct pk_err *e)
{
    t->layout = r->layout;
    t->layout.py_version_hex = t->py_version_hex;
    struct pk_debug_offsets_result dbg;
    pk_debug_offsets_check_at(mod, runtime_vaddr, t->py_version_hex, r->dbgoff, &t->layout, &dbg);
    for (int i = 0; i < dbg.nwarnings; i++)
        target_warn(t, "%s", dbg.warnings[i]);
    int rc = pk_layout_finish(&t->layout, e);
    if (rc < 0) return rc;
    apply_record_syms(r, t);
    if (dbg.checked && !dbg.mismatches)
        append_source(t, " (%d offsets agree with _Py_DebugOffsets)", dbg.checked);
    return 0;
}

/* Candidates when no DWARF is reachable: --layout-record, then the built-in records of this
   build-id, then those of the same minor version and flavour (the same micro version first).
   Each is validated against the live heap; the first that passes is used. */
#define MAX_CANDIDATES 64
struct candidate {
    char name[PATH_MAX];
    const char *text; /* built-in, or NULL for a file */
    size_t len;
    int by_id;
};

static int try_record(struct pk_mem *mem, struct pk_elf *mod, uint64_t runtime_vaddr,
                      const struct candidate *c, const char *flavour, struct pk_target *t,
                      char *why, size_t cap)
{
    struct pk_layout_record r;
    struct pk_err e = {0};
    int rc = c->text ? pk_record_parse(c->text, c->len, &r, &e) : pk_record_load(c->name, &r, &e);
    if (rc < 0) return snprintf(why, cap, "%.400s", e.msg), -1;
    if ((r.py_version_hex & 0xffff0000u) != (t->py_version_hex & 0xffff0000u))
        return snprintf(why, cap, "it is for CPython %u.%u", r.py_version_hex >> 24,
                        (r.py_version_hex >> 16) & 0xff),
               -1;
    if (strcmp(r.flavour, flavour) != 0)
        return snprintf(why, cap, "it is for a %s build, this one is %s", r.flavour, flavour), -1;
    int same_build = t->build_id[0] && !strcmp(r.build_id, t->build_id);
    struct pk_layout l = r.layout;
    l.py_version_hex = t->py_version_hex;
    if (pk_layout_finish(&l, &e) < 0) return snprintf(why, cap, "%.400s", e.msg), -1;
    if (pk_layout_validate(t, mem, mod, runtime_vaddr, &r, &l, why, cap) < 0) return -1;
    t->layout = l;
    if (same_build)
        apply_record_syms(&r, t);
    else if (!PK_HAS(&l, interp_obmalloc) && t->py_version_hex < 0x030c0000)
        target_warn(t,
                    "pymalloc statistics unavailable: CPython %s keeps them in file-local "
                    "statics that only this build's symbol table names",
                    t->py_version);
    return same_build ? 1 : 0;
}

static int layout_from_records(struct pk_mem *mem, struct pk_elf *mod, uint64_t runtime_vaddr,
                               const struct pk_target_opts *opts, struct pk_target *t, char *tried,
                               size_t tried_cap)
{
    char flavour[32];
    pk_record_flavour(mod, flavour, sizeof flavour);
    struct candidate *c = calloc(MAX_CANDIDATES, sizeof *c);
    if (!c) return -1;
    size_t n = 0;
    if (opts && opts->layout_record) {
        snprintf(c[n].name, sizeof c[n].name, "%s", opts->layout_record);
        n++;
    }
    const char *env = getenv("PYPEEK_BUILTIN_RECORDS");
    int builtin = !(env && !strcmp(env, "0"));
    /* pass 0: this build-id; 1: same version; 2: same minor, another micro version */
    for (int pass = 0; builtin && pass < 3; pass++) {
        for (size_t i = 0; i < pk_builtin_nrecords && n < MAX_CANDIDATES; i++) {
            const struct pk_builtin_record *b = &pk_builtin_records[i];
            struct pk_layout_record r;
            struct pk_err ignore = {0};
            if (pk_record_parse(b->text, b->len, &r, &ignore) < 0) continue;
            int id = t->build_id[0] && !strcmp(r.build_id, t->build_id);
            int same_ver = r.py_version_hex == t->py_version_hex;
            int same_minor = (r.py_version_hex & 0xffff0000u) == (t->py_version_hex & 0xffff0000u);
            int want = pass == 0   ? id
                       : pass == 1 ? !id && same_ver
                                   : !id && !same_ver && same_minor;
            if (!want || strcmp(r.flavour, flavour) != 0) continue;
            snprintf(c[n].name, sizeof c[n].name, "%s", b->name);
            c[n].text = b->text;
            c[n].len = b->len;
            c[n].by_id = id;
            n++;
        }
    }
    int found = -1;
    for (size_t i = 0; i < n && found < 0; i++) {
        char why[512];
        int r = try_record(mem, mod, runtime_vaddr, &c[i], flavour, t, why, sizeof why);
        if (r >= 0) {
            snprintf(t->layout_source, sizeof t->layout_source, "record:%s (%s)", c[i].name,
                     r == 1 ? "build-id match" : "same version, validated against the heap");
            if (r == 1 && !c[i].text) append_source(t, ", validated against the heap");
            target_warn(t,
                        "no debug info for %s (build-id %s): its layout is the record %s "
                        "(%s), validated against the live heap",
                        t->module, t->build_id[0] ? t->build_id : "none", c[i].name,
                        r == 1 ? "same build-id"
                               : "same CPython version and flavour, another build");
            found = 0;
        } else {
            target_warn(t, "layout record %s rejected: %s", c[i].name, why);
            size_t len = strlen(tried);
            snprintf(tried + len, tried_cap - len, "%s%s", len ? ", " : "", c[i].name);
        }
    }
    free(c);
    return found;
}

static int resolve_layout(const struct pk_target_where *w, struct pk_elf *mod,
                          uint64_t runtime_vaddr, const struct pk_target_opts *opts,
                          struct pk_target *t, struct pk_err *e)
{
    int quiet = opts && opts->quiet;
    /* 1. The cache: a layout this build's DWARF gave before. */
    char cache_path[PATH_MAX];
    int have_cache_path = pk_layout_cache_path(t->build_id, cache_path, sizeof cache_path) == 0;
    struct pk_layout_record rec;
    char why[2048];
    if (have_cache_path) {
        int r = pk_layout_cache_load(cache_path, t->build_id, &rec, why, sizeof why);
        if (r == 1 && rec.py_version_hex == t->py_version_hex) {
            snprintf(t->layout_source, sizeof t->layout_source, "cache:%s", cache_path);
            struct pk_err ce = {0};
            if (layout_from_own_record(mod, runtime_vaddr, &rec, t, &ce) == 0) return 0;
            snprintf(why, sizeof why, "%s", ce.msg);
            r = -1;
        }
        if (r < 0) target_warn(t, "layout cache %s ignored: %s", cache_path, why);
    }
    /* 2. DWARF: the module, a local debug file, or a debuginfod server. */
    char debug_path[PATH_MAX];
    const char *how = "dwarf";
    char fetch_why[1024] = "";
    int rc = pk_debuginfo_find(mod, w->root, opts ? opts->debug_dir : NULL, debug_path,
                               sizeof debug_path);
    if (rc < 0) {
        unsigned char id[64];
        size_t idlen = pk_elf_build_id(mod, id, sizeof id);
        rc = pk_debuginfod_fetch(id, idlen, quiet, debug_path, sizeof debug_path, fetch_why,
                                 sizeof fetch_why);
        how = "debuginfod";
    }
    if (rc == 0) {
        rc = pk_record_from_dwarf(mod, debug_path, t->py_version_hex, &rec, e);
        if (rc < 0) return rc;
        snprintf(t->layout_source, sizeof t->layout_source, "%s:%s", how, debug_path);
        rc = layout_from_own_record(mod, runtime_vaddr, &rec, t, e);
        if (rc < 0) return rc;
        char sw[1024];
        if (have_cache_path && pk_layout_cache_store(cache_path, &rec, sw, sizeof sw) < 0)
            target_warn(t, "layout cache not written: %s", sw);
        return 0;
    }
    if (fetch_why[0]) target_warn(t, "%s; trying the built-in layout records", fetch_why);
    /* 3. Layout records, each validated against the live heap. */
    char tried[1024] = "";
    if (layout_from_records(w->mem, mod, runtime_vaddr, opts, t, tried, sizeof tried) == 0)
        return 0;
    unsigned minor = (t->py_version_hex >> 16) & 0xff;
    return pk_fail(e, PK_E_NO_LAYOUT,
                   "no debug info for %s (CPython %s, build-id %s)%s%s%s%s. Install the "
                   "matching debug package (on Debian: apt-get install python3.%u-dbg), point "
                   "DEBUGINFOD_URLS at a debuginfod server, or pass --debug-dir DIR",
                   t->module, t->py_version, t->build_id[0] ? t->build_id : "none",
                   fetch_why[0] ? "; " : "", fetch_why,
                   tried[0] ? "; layout records rejected by validation: " : "", tried, minor);
}

/* 3.13+: _Py_DebugOffsets (cookie, version, free_threaded) opens _PyRuntime; the static
   initialiser in the file is what the interpreter runs with. No free-threaded build before. */
static int is_free_threaded(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t version_hex)
{
    struct {
        char cookie[8];
        uint64_t version, free_threaded;
    } head;
    if (version_hex < 0x030d0000u) return 0;
    if (pk_elf_read_vaddr(mod, runtime_vaddr, &head, sizeof head) < 0) return 0;
    return memcmp(head.cookie, "xdebugpy", 8) == 0 && head.free_threaded == 1;
}

int pk_target_resolve_at(const struct pk_target_where *w, const struct pk_maps *maps,
                         const struct pk_target_opts *opts, struct pk_target *t, struct pk_err *e)
{
    memset(t, 0, sizeof *t);
    pid_t pid = w->pid;
    t->pid = pid;
    snprintf(t->exe, sizeof t->exe, "%s", w->exe);
    const struct pk_map **cands = malloc(MAX_MODULES_TRIED * sizeof *cands);
    if (!cands) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    size_t nc = candidate_modules(maps, t->exe, cands, MAX_MODULES_TRIED);
    struct pk_elf *mod = NULL;
    const struct pk_map *modmap = NULL;
    struct pk_elf_sym runtime;
    for (size_t i = 0; i < nc && !mod; i++) {
        struct pk_elf *f;
        if (open_mapped(w, cands[i], &f) < 0) continue;
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
        if (pk_elf_find_symbol(mod, "_Py_NoneStruct", 0, &sym)) t->none_addr = sym.value + t->bias;
        if (pk_elf_find_symbol(mod, "_Py_TrueStruct", 0, &sym)) t->true_addr = sym.value + t->bias;
        if (pk_elf_find_symbol(mod, "_Py_FalseStruct", 0, &sym))
            t->false_addr = sym.value + t->bias;
    }
    rc = pk_version_detect(mod, runtime.value, t->module, &t->py_version_hex, e);
    if (rc < 0) goto out;
    pk_version_format(t->py_version_hex, t->py_version, sizeof t->py_version);
    t->free_threaded = is_free_threaded(mod, runtime.value, t->py_version_hex);

    rc = resolve_layout(w, mod, runtime.value, opts, t, e);
    if (rc < 0) goto out;
    unsigned minor = (t->py_version_hex >> 16) & 0xff;
    if (minor > PK_NEWEST_KNOWN_MINOR)
        target_warn(t,
                    "CPython %s is newer than the versions pypeek knows (3.8 to 3.%d): its "
                    "layout comes from DWARF alone, and per-version rules are 3.%d's",
                    t->py_version, PK_NEWEST_KNOWN_MINOR, PK_NEWEST_KNOWN_MINOR);
    pk_ext_layout_socket(w, maps, opts ? opts->debug_dir : NULL, &t->layout);
out:
    pk_elf_close(mod);
    return rc;
}

int pk_target_resolve(pid_t pid, int procfd, const struct pk_maps *maps,
                      const struct pk_target_opts *opts, struct pk_target *t, struct pk_err *e)
{
    char exe[PATH_MAX], root[64];
    ssize_t n = readlinkat(procfd, "exe", exe, sizeof exe - 1);
    if (n < 0) {
        memset(t, 0, sizeof *t);
        return pk_fail(e, PK_E_NOT_PYTHON,
                       "process %d has no executable (a kernel thread or a zombie)", (int)pid);
    }
    exe[n] = '\0';
    snprintf(root, sizeof root, "/proc/%d/root", (int)pid);
    /* Layout records are checked against the running process, read as it runs. */
    struct pk_mem *mem = pk_mem_open_pid(pid, procfd, maps);
    if (!mem) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    struct pk_target_where w = {pid, 1, root, exe, mem};
    int r = pk_target_resolve_at(&w, maps, opts, t, e);
    pk_mem_free(mem);
    return r;
}
