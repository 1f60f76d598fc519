/* Reading every interpreter of the runtime and its object census, while frozen. */
#include "cpython/collect.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "cpython/census.h"
#include "cpython/fd_owners.h"
#include "cpython/gc_state.h"
#include "cpython/pymalloc.h"
#include "cpython/types.h"

static int list_interpreters(struct pk_mem *m, const struct pk_layout *l, uint64_t runtime,
                             uint64_t **out, size_t *n, uint64_t *main_interp, struct pk_err *e)
{
    uint64_t cur;
    *out = NULL;
    *n = 0;
    *main_interp = 0;
    if (pk_mem_read_u64(m, runtime + PK_OFF(l, runtime_interpreters_head), &cur) < 0)
        return pk_fail(e, PK_E_INCONSISTENT, "cannot read _PyRuntime.interpreters");
    if (PK_HAS(l, runtime_interpreters_main))
        pk_mem_read_u64(m, runtime + PK_OFF(l, runtime_interpreters_main), main_interp);
    size_t cap = 4;
    uint64_t *v = malloc(cap * sizeof *v);
    if (!v) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    while (cur) {
        for (size_t i = 0; i < *n; i++)
            if (v[i] == cur) {
                free(v);
                return pk_fail(e, PK_E_INCONSISTENT, "interpreter list loops");
            }
        if (*n >= PK_MAX_INTERPRETERS) {
            free(v);
            return pk_fail(e, PK_E_INCONSISTENT, "more than %d interpreters", PK_MAX_INTERPRETERS);
        }
        if (*n == cap) {
            uint64_t *nv = realloc(v, cap * 2 * sizeof *v);
            if (!nv) {
                free(v);
                return pk_fail(e, PK_E_INTERNAL, "out of memory");
            }
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = cur;
        if (pk_mem_read_u64(m, cur + PK_OFF(l, interp_next), &cur) < 0) {
            free(v);
            return pk_fail(e, PK_E_INCONSISTENT, "interpreter list points to unreadable memory");
        }
    }
    if (*n == 0) {
        free(v);
        return pk_fail(e, PK_E_NOT_PYTHON,
                       "the interpreter is not initialised (no interpreters in _PyRuntime)");
    }
    /* The list is newest first, so the main interpreter is last when not named. */
    if (!*main_interp) *main_interp = v[*n - 1];
    *out = v;
    return 0;
}

void pk_collect_hints(struct pk_mem *m, const struct pk_target *t)
{
    uint64_t *interps, main_interp;
    size_t n;
    struct pk_err ignored = {0};
    if (list_interpreters(m, &t->layout, t->runtime_addr, &interps, &n, &main_interp, &ignored) <
        0) {
        pk_mem_seal_chunk_classes(m);
        return;
    }
    pk_pymalloc_classify(m, t, main_interp);
    free(interps);
}

int pk_collect_interpreters(struct pk_mem *m, const struct pk_target *t,
                            const struct pk_walk_limits *lim, struct pk_snapshot *s,
                            struct pk_err *e)
{
    const struct pk_layout *l = &t->layout;
    uint64_t *interps, main_interp;
    size_t n;
    int r = list_interpreters(m, l, t->runtime_addr, &interps, &n, &main_interp, e);
    if (r < 0) return r;
    s->interps = calloc(n, sizeof *s->interps);
    struct pk_types *types = pk_types_new(m, l, t->builtin_types);
    if (!s->interps || !types) {
        free(interps);
        pk_types_free(types);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    /* Files and sockets are noted during the census walk (NULL on OOM: no owners). */
    struct pk_fd_owners *owners = pk_fd_owners_new(m, l, types);
    /* main first, then the others in list order */
    size_t order = 0;
    for (int pass = 0; pass < 2 && r == 0; pass++) {
        for (size_t i = 0; i < n && r == 0; i++) {
            int is_main = interps[i] == main_interp;
            if (is_main != (pass == 0)) continue;
            struct pk_interp_snap *is = &s->interps[order++];
            s->ninterps = order;
            is->addr = interps[i];
            is->is_main = is_main;
            is->id = -1;
            if (PK_HAS(l, interp_id)) pk_mem_read(m, interps[i] + PK_OFF(l, interp_id), &is->id, 8);
            /* 3.8: one GC state in _PyRuntime, read once, with the main interpreter */
            /* pymalloc's pool headers are copied in the background during the census */
            struct pk_pymalloc_scan *scan = NULL;
            r = pk_pymalloc_begin(m, t, interps[i], &scan, e);
            uint64_t gc = pk_gc_state_addr(l, t->runtime_addr, interps[i]);
            if (l->gc_in_runtime && !is_main) gc = 0;
            if (gc && r == 0) {
                r = pk_gc_state_read(m, l, gc, is, e);
                if (r == 0) r = pk_census_collect_owners(m, l, types, gc, lim, owners, is, e);
                if (r == 0) r = pk_gc_garbage_read(m, l, types, gc, is, e);
            }
            if (r == 0) r = pk_pymalloc_end(m, t, scan, is, e);
            pk_pymalloc_scan_free(m, scan);
        }
    }
    if (r == 0 && owners) {
        r = pk_fd_owners_resolve(owners, s);
        if (r < 0)
            r = pk_fail(e, -r, r == -PK_E_NO_PROCESS ? "the target exited" : "out of memory");
    }
    pk_fd_owners_free(owners);
    pk_types_free(types);
    free(interps);
    return r;
}

void pk_snapshot_describe_target(struct pk_snapshot *s, const struct pk_target *t,
                                 const char *source)
{
    s->target.pid = t->pid;
    s->target.source = source;
    snprintf(s->target.exe, sizeof s->target.exe, "%s", t->exe);
    snprintf(s->target.module, sizeof s->target.module, "%s", t->module);
    snprintf(s->target.python_version, sizeof s->target.python_version, "%s", t->py_version);
    snprintf(s->target.build_id, sizeof s->target.build_id, "%s", t->build_id);
    snprintf(s->target.layout_source, sizeof s->target.layout_source, "%s", t->layout_source);
    for (int i = 0; i < t->nwarnings; i++)
        pk_snapshot_warn(s, "%s", t->warnings[i]);
}
