/* A pypeek.snapshot/1 document into struct pk_snapshot: the one place a saved snapshot is
   checked. Every member pypeek reads is checked for type, sign and size as it is read;
   what pypeek derives when writing (gc thresholds and counts, fds count, unowned and by_kind,
   graph coverage, holder shares) is computed again, not read. */
#include <string.h>

#include "report/snapshot_file.h"
#include "report/snapshot_parse.h"

static int parse_target(const json_t *doc, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_jpath top = {""}, tp = {"target"}, cp = {"target.core"};
    const json_t *t, *core;
    const char *source;
    uint64_t pid = 0;
    int r;
    if ((r = pk_jget_buf(doc, &top, "taken_at", 1, s->taken_at, sizeof s->taken_at, e)) < 0 ||
        (r = pk_jget_obj(doc, &top, "target", 1, &t, e)) < 0 ||
        (r = pk_jget_u64(t, &tp, "pid", 1, &pid, e)) < 0 ||
        (r = pk_jget_buf(t, &tp, "exe", 0, s->target.exe, sizeof s->target.exe, e)) < 0 ||
        (r = pk_jget_buf(t, &tp, "module", 0, s->target.module, sizeof s->target.module, e)) < 0 ||
        (r = pk_jget_buf(t, &tp, "python_version", 0, s->target.python_version,
                         sizeof s->target.python_version, e)) < 0 ||
        (r = pk_jget_buf(t, &tp, "build_id", 0, s->target.build_id, sizeof s->target.build_id, e)) <
            0 ||
        (r = pk_jget_buf(t, &tp, "layout_source", 0, s->target.layout_source,
                         sizeof s->target.layout_source, e)) < 0 ||
        (r = pk_jget_str(t, &tp, "source", &source, e)) < 0 ||
        (r = pk_jget_obj(t, &tp, "core", 0, &core, e)) < 0)
        return r;
    if (pid > INT32_MAX) return pk_jbad(e, &tp, "pid", "is out of range");
    s->target.pid = (pid_t)pid;
    s->target.source = source && strcmp(source, "core") == 0 ? "core" : "process";
    if (!core) return 0;
    if ((r = pk_jget_buf(core, &cp, "path", 0, s->core.path, sizeof s->core.path, e)) < 0 ||
        (r = pk_jget_u64(core, &cp, "size", 0, &s->core.size, e)) < 0)
        return r;
    return pk_jget_int(core, &cp, "signal", 0, 1024, &s->core.signal, e);
}

static int parse_attach(const json_t *doc, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_jpath top = {""}, ap = {"attach"};
    const json_t *a;
    const char *mode, *read;
    int r;
    s->attach.consistent = 1; /* what diff assumed of a document that does not say */
    if ((r = pk_jget_obj(doc, &top, "attach", 0, &a, e)) < 0 || !a) return r;
    if ((r = pk_jget_str(a, &ap, "mode", &mode, e)) < 0 ||
        (r = pk_jget_u64(a, &ap, "pause_us", 0, &s->attach.pause_us, e)) < 0 ||
        (r = pk_jget_u64(a, &ap, "wall_us", 0, &s->attach.wall_us, e)) < 0 ||
        (r = pk_jget_int(a, &ap, "retries", 0, INT32_MAX, &s->attach.retries, e)) < 0 ||
        (r = pk_jget_bool(a, &ap, "consistent", &s->attach.consistent, e)) < 0 ||
        (r = pk_jget_int(a, &ap, "threads", 0, INT32_MAX, &s->attach.threads, e)) < 0 ||
        (r = pk_jget_u64(a, &ap, "bytes_read", 0, &s->attach.bytes_read, e)) < 0 ||
        (r = pk_jget_u64(a, &ap, "read_calls", 0, &s->attach.read_calls, e)) < 0 ||
        (r = pk_jget_str(a, &ap, "read", &read, e)) < 0 ||
        (r = pk_jget_u64(a, &ap, "image_bytes", 0, &s->attach.image_bytes, e)) < 0)
        return r;
    s->attach.mode = "frozen"; /* the only mode pypeek has */
    s->attach.read = !read                            ? NULL
                     : strcmp(read, "image") == 0     ? "image"
                     : strcmp(read, "streaming") == 0 ? "streaming"
                                                      : NULL;
    return 0;
}

static int parse_gc(const json_t *gc, const struct pk_jpath *p, struct pk_interp_snap *is,
                    struct pk_err *e)
{
    const json_t *gens, *g;
    struct pk_jpath gp, item;
    int r;
    if ((r = pk_jget_bool(gc, p, "enabled", &is->gc_enabled, e)) < 0 ||
        (r = pk_jget_i64(gc, p, "debug_flags", &is->gc_debug, e)) < 0 ||
        (r = pk_jget_bool(gc, p, "collecting", &is->gc_collecting, e)) < 0 ||
        (r = pk_jget_u64(gc, p, "permanent_objects", 0, &is->permanent_objects, e)) < 0 ||
        (r = pk_jget_arr(gc, p, "generations", 0, &gens, e)) < 0)
        return r;
    if (json_array_size(gens) > 16) return pk_jbad(e, p, "generations", "has too many entries");
    pk_jpath_key(&gp, p, "generations");
    size_t i;
    json_array_foreach(gens, i, g)
    {
        pk_jpath_idx(&item, &gp, i);
        if (!json_is_object(g)) return pk_jbad(e, &item, NULL, "is not an object");
        if (i >= 3) continue; /* CPython has three */
        struct pk_gen_snap *gs = &is->generations[i];
        if ((r = pk_jget_u64(g, &item, "objects", 0, &gs->objects, e)) < 0 ||
            (r = pk_jget_i64(g, &item, "threshold", &gs->threshold, e)) < 0 ||
            (r = pk_jget_i64(g, &item, "count", &gs->count, e)) < 0 ||
            (r = pk_jget_i64(g, &item, "collections", &gs->collections, e)) < 0 ||
            (r = pk_jget_i64(g, &item, "collected", &gs->collected, e)) < 0 ||
            (r = pk_jget_i64(g, &item, "uncollectable", &gs->uncollectable, e)) < 0)
            return r;
    }
    return 0;
}

static int parse_pymalloc(const json_t *pm, const struct pk_jpath *p, struct pk_pymalloc_snap *out,
                          struct pk_err *e)
{
    int r;
    out->available = 1;
    if ((r = pk_jget_u64(pm, p, "arenas", 0, &out->arenas, e)) < 0 ||
        (r = pk_jget_u64(pm, p, "arena_bytes", 0, &out->arena_bytes, e)) < 0 ||
        (r = pk_jget_u64(pm, p, "pools", 0, &out->pools, e)) < 0 ||
        (r = pk_jget_u64(pm, p, "allocated_blocks", 0, &out->allocated_blocks, e)) < 0)
        return r;
    return pk_jget_u64(pm, p, "used_bytes", 0, &out->used_bytes, e);
}

/* objects, gc, garbage and pymalloc of one interpreter; at: "" for the main interpreter's
   top-level sections, "interpreters[N]" for an entry. */
static int parse_interp(const json_t *o, const struct pk_jpath *at, const json_t *pymalloc,
                        struct pk_interp_snap *is, struct pk_err *e)
{
    struct pk_jpath op, gp, bp, pp;
    const json_t *objects, *gc, *garbage;
    int r;
    pk_jpath_key(&op, at, "objects");
    pk_jpath_key(&gp, at, "gc");
    pk_jpath_key(&bp, at, "garbage");
    if ((r = pk_jget_obj(o, at, "objects", 1, &objects, e)) < 0 ||
        (r = pk_jget_u64(objects, &op, "total", 1, &is->total_objects, e)) < 0 ||
        (r = pk_jget_u64(objects, &op, "bytes", 0, &is->total_bytes, e)) < 0 ||
        (r = pk_jget_u64(objects, &op, "frozen", 0, &is->frozen_objects, e)) < 0 ||
        (r = pk_jget_u64(objects, &op, "frozen_bytes", 0, &is->frozen_bytes, e)) < 0 ||
        (r = pk_jget_type_stats(objects, &op, "types", 1, &is->types, &is->ntypes, e)) < 0 ||
        (r = pk_jget_obj(o, at, "gc", 0, &gc, e)) < 0 ||
        (gc && (r = parse_gc(gc, &gp, is, e)) < 0) ||
        (r = pk_jget_obj(o, at, "garbage", 0, &garbage, e)) < 0)
        return r;
    if (garbage && ((r = pk_jget_u64(garbage, &bp, "count", 0, &is->garbage_count, e)) < 0 ||
                    (r = pk_jget_type_stats(garbage, &bp, "types", 0, &is->garbage_types,
                                            &is->ngarbage_types, e)) < 0))
        return r;
    if (!pymalloc) return 0;
    if (at->s[0])
        pk_jpath_key(&pp, at, "pymalloc");
    else
        snprintf(pp.s, sizeof pp.s, "memory.pymalloc");
    if (!json_is_object(pymalloc)) return pk_jbad(e, &pp, NULL, "is not an object");
    return parse_pymalloc(pymalloc, &pp, &is->pymalloc, e);
}

static int parse_memory(const json_t *doc, struct pk_snapshot *s, const json_t **pymalloc,
                        struct pk_err *e)
{
    const struct pk_jpath top = {""}, mp = {"memory"};
    const json_t *m;
    int r = pk_jget_obj(doc, &top, "memory", 0, &m, e);
    *pymalloc = NULL;
    if (r < 0 || !m) return r;
    if ((r = pk_jcheck_counts(m, &mp, e)) < 0 ||
        (r = pk_jget_u64(m, &mp, "rss_bytes", 0, &s->memory.rss_bytes, e)) < 0 ||
        (r = pk_jget_u64(m, &mp, "hwm_bytes", 0, &s->memory.hwm_bytes, e)) < 0 ||
        (r = pk_jget_u64(m, &mp, "swap_bytes", 0, &s->memory.swap_bytes, e)) < 0 ||
        (r = pk_jget_obj(m, &mp, "pymalloc", 0, pymalloc, e)) < 0)
        return r;
    return 0;
}

/* The main interpreter from the top-level sections, then the others of interpreters[]. */
static int parse_interps(const json_t *doc, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_jpath top = {""}, ip = {"interpreters"};
    struct pk_jpath item;
    const json_t *pymalloc, *list, *it, *gc, *u;
    int r;
    if ((r = parse_memory(doc, s, &pymalloc, e)) < 0 ||
        (r = pk_jget_arr(doc, &top, "interpreters", 0, &list, e)) < 0 ||
        (r = pk_jalloc(json_array_size(list) + 1, sizeof *s->interps, (void **)&s->interps, e)) < 0)
        return r;
    struct pk_interp_snap *main = &s->interps[s->ninterps++];
    main->is_main = 1;
    if ((r = parse_interp(doc, &top, pymalloc, main, e)) < 0) return r;
    const struct pk_jpath gp = {"gc"};
    gc = json_object_get(doc, "gc");
    if ((r = pk_jget_obj(gc, &gp, "unreachable", 0, &u, e)) < 0) return r;
    main->unreachable.absent = !u;
    if (u && (r = pk_parse_unreachable(u, &main->unreachable, e)) < 0) return r;
    if ((r = pk_parse_graph(doc, main, e)) < 0) return r;
    size_t i;
    json_array_foreach(list, i, it)
    {
        pk_jpath_idx(&item, &ip, i);
        if (!json_is_object(it)) return pk_jbad(e, &item, NULL, "is not an object");
        int is_main = 0;
        int64_t id = 0;
        if ((r = pk_jget_bool(it, &item, "main", &is_main, e)) < 0 ||
            (r = pk_jget_i64(it, &item, "id", &id, e)) < 0)
            return r;
        if (is_main) { /* the same as the top-level sections: only its id is new */
            main->id = id;
            continue;
        }
        struct pk_interp_snap *is = &s->interps[s->ninterps++];
        is->id = id;
        const json_t *pm = json_object_get(it, "pymalloc");
        if ((r = parse_interp(it, &item, pm && !json_is_null(pm) ? pm : NULL, is, e)) < 0) return r;
    }
    return 0;
}

static int parse_warnings(const json_t *doc, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_jpath top = {""}, wp = {"warnings"};
    struct pk_jpath item;
    const json_t *arr, *w;
    int r = pk_jget_arr(doc, &top, "warnings", 0, &arr, e);
    size_t i;
    json_array_foreach(arr, i, w)
    {
        pk_jpath_idx(&item, &wp, i);
        if (!json_is_string(w) || json_string_length(w) > PK_SNAPSHOT_MAX_STRING)
            return pk_jbad(e, &item, NULL, "is not a string pypeek accepts");
        if (s->nwarnings >= PK_MAX_WARNINGS) continue;
        if (!(s->warnings[s->nwarnings] = strdup(json_string_value(w))))
            return pk_fail(e, PK_E_INTERNAL, "out of memory");
        s->nwarnings++;
    }
    return r;
}

static int check_schema(const json_t *doc, struct pk_err *e)
{
    if (!json_is_object(doc))
        return pk_fail(e, PK_E_BAD_FILE, "not a JSON object: not a pypeek snapshot");
    const json_t *schema = json_object_get(doc, "schema");
    if (!json_is_string(schema))
        return pk_fail(e, PK_E_BAD_FILE, "no \"schema\" string: not a pypeek snapshot");
    if (strcmp(json_string_value(schema), PK_SNAPSHOT_SCHEMA) != 0) {
        char shown[64];
        snprintf(shown, sizeof shown, "%.60s", json_string_value(schema));
        for (char *c = shown; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
        return pk_fail(e, PK_E_BAD_FILE, "schema is \"%s\", not %s: a foreign file", shown,
                       PK_SNAPSHOT_SCHEMA);
    }
    return 0;
}

int pk_snapshot_from_json(const json_t *doc, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_jpath top = {""};
    const json_t *fds, *threads;
    memset(s, 0, sizeof *s);
    s->fds.limit_soft = s->fds.limit_hard = -1;
    int r = check_schema(doc, e);
    if (r == 0) r = parse_target(doc, s, e);
    if (r == 0) r = parse_attach(doc, s, e);
    if (r == 0) r = parse_interps(doc, s, e);
    if (r == 0) r = pk_jget_obj(doc, &top, "fds", 0, &fds, e);
    if (r == 0 && fds) r = pk_parse_fds(fds, &s->fds, e);
    if (r == 0) r = pk_jget_arr(doc, &top, "threads", 0, &threads, e);
    if (r == 0 && threads) r = pk_parse_threads(threads, s, e);
    if (r == 0) r = parse_warnings(doc, s, e);
    if (r < 0) pk_snapshot_free(s);
    return r;
}
