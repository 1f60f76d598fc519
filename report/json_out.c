/* The snapshot as JSON (schema pypeek.snapshot/1), built with jansson. Strings from the target
   are made valid UTF-8 first; jansson escapes them. */
#include "report/json_util.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report/fds_report.h"
#include "report/graph_report.h"
#include "report/report.h"
#include "report/stacks_report.h"
#include "report/unreachable_report.h"
#include "util/text.h"

/* A type list; with_frozen (objects.types): how many of each count are gc.freeze()d. */
static json_t *stats_json(const struct pk_type_stat *v, size_t n, size_t top, int with_frozen)
{
    json_t *arr = json_array();
    size_t lim = top && top < n ? top : n;
    for (size_t i = 0; i < lim; i++) {
        json_t *t =
            json_pack("{s:o, s:o, s:o, s:b, s:o, s:o}", "type", pk_json_str(v[i].name), "count",
                      pk_json_u64(v[i].count), "bytes", pk_json_u64(v[i].bytes), "bytes_exact",
                      v[i].size_exact, "untracked_count", pk_json_u64(v[i].untracked_count),
                      "untracked_bytes", pk_json_u64(v[i].untracked_bytes));
        if (t && with_frozen) json_object_set_new(t, "frozen", pk_json_u64(v[i].frozen));
        json_array_append_new(arr, t);
    }
    return arr;
}

static json_t *gc_json(const struct pk_interp_snap *is)
{
    json_t *gens = json_array(), *thr = json_array(), *cnt = json_array();
    for (int g = 0; g < 3; g++) {
        const struct pk_gen_snap *gs = &is->generations[g];
        json_array_append_new(
            gens,
            json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "objects", pk_json_u64(gs->objects),
                      "threshold", (json_int_t)gs->threshold, "count", (json_int_t)gs->count,
                      "collections", (json_int_t)gs->collections, "collected",
                      (json_int_t)gs->collected, "uncollectable", (json_int_t)gs->uncollectable));
        json_array_append_new(thr, json_integer(gs->threshold));
        json_array_append_new(cnt, json_integer(gs->count));
    }
    return json_pack("{s:b, s:I, s:b, s:o, s:o, s:o, s:o}", "enabled", is->gc_enabled,
                     "debug_flags", (json_int_t)is->gc_debug, "collecting", is->gc_collecting,
                     "thresholds", thr, "counts", cnt, "generations", gens, "permanent_objects",
                     pk_json_u64(is->permanent_objects));
}

static json_t *garbage_json(const struct pk_interp_snap *is, size_t top)
{
    return json_pack("{s:o, s:o}", "count", pk_json_u64(is->garbage_count), "types",
                     stats_json(is->garbage_types, is->ngarbage_types, top, 0));
}

static json_t *pymalloc_json(const struct pk_interp_snap *is)
{
    const struct pk_pymalloc_snap *p = &is->pymalloc;
    if (!p->available) return json_null();
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "arenas", pk_json_u64(p->arenas), "arena_bytes",
                     pk_json_u64(p->arena_bytes), "pools", pk_json_u64(p->pools),
                     "allocated_blocks", pk_json_u64(p->allocated_blocks), "used_bytes",
                     pk_json_u64(p->used_bytes));
}

static json_t *objects_json(const struct pk_interp_snap *is, size_t top)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "total", pk_json_u64(is->total_objects),
                     "bytes", pk_json_u64(is->total_bytes), "frozen",
                     pk_json_u64(is->frozen_objects), "frozen_bytes", pk_json_u64(is->frozen_bytes),
                     "types", stats_json(is->types, is->ntypes, top, 1), "untracked",
                     pk_graph_untracked_json(is));
}

json_t *pk_snapshot_target_json(const struct pk_snapshot *s)
{
    json_t *tgt = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o}", "pid", (int)s->target.pid, "exe",
                            pk_json_str(s->target.exe), "module", pk_json_str(s->target.module),
                            "python_version", pk_json_str(s->target.python_version), "build_id",
                            pk_json_str(s->target.build_id), "layout_source",
                            pk_json_str(s->target.layout_source));
    int from_core = pk_snapshot_from_core(s);
    json_object_set_new(tgt, "source", json_string(from_core ? "core" : "process"));
    if (from_core)
        json_object_set_new(tgt, "core",
                            json_pack("{s:o, s:o, s:i, s:i}", "path", pk_json_str(s->core.path),
                                      "size", pk_json_u64(s->core.size), "signal", s->core.signal,
                                      "pid", (int)s->target.pid));
    return tgt;
}

json_t *pk_snapshot_to_json(const struct pk_snapshot *s, const struct pk_report_opts *o)
{
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string(PK_SNAPSHOT_SCHEMA));
    json_object_set_new(root, "taken_at", json_string(s->taken_at));
    json_object_set_new(root, "target", pk_snapshot_target_json(s));
    json_object_set_new(root, "attach",
                        json_pack("{s:s, s:o, s:o, s:i, s:b, s:i, s:o, s:o}", "mode",
                                  s->attach.mode ? s->attach.mode : "frozen", "pause_us",
                                  pk_json_u64(s->attach.pause_us), "wall_us",
                                  pk_json_u64(s->attach.wall_us), "retries", s->attach.retries,
                                  "consistent", s->attach.consistent, "threads", s->attach.threads,
                                  "bytes_read", pk_json_u64(s->attach.bytes_read), "read_calls",
                                  pk_json_u64(s->attach.read_calls)));
    int from_core = pk_snapshot_from_core(s);
    json_t *att = json_object_get(root, "attach");
    if (att && s->attach.read) {
        json_object_set_new(att, "read", json_string(s->attach.read));
        json_object_set_new(att, "image_bytes", pk_json_u64(s->attach.image_bytes));
    }
    const struct pk_interp_snap *main = pk_snapshot_main(s);
    if (main) {
        json_t *gc = gc_json(main);
        if (!main->unreachable.absent)
            json_object_set_new(gc, "unreachable", pk_unreachable_json(main, o->top));
        json_object_set_new(root, "gc", gc);
        json_object_set_new(root, "garbage", garbage_json(main, o->top));
        /* A core has no live counters: only what the heap itself says. */
        json_object_set_new(
            root, "memory",
            from_core
                ? json_pack("{s:o}", "pymalloc", pymalloc_json(main))
                : json_pack("{s:o, s:o, s:o, s:o}", "rss_bytes", pk_json_u64(s->memory.rss_bytes),
                            "hwm_bytes", pk_json_u64(s->memory.hwm_bytes), "swap_bytes",
                            pk_json_u64(s->memory.swap_bytes), "pymalloc", pymalloc_json(main)));
        json_object_set_new(root, "objects", objects_json(main, o->top));
        json_object_set_new(root, "graph", pk_graph_json(main));
        json_object_set_new(root, "retainers", pk_graph_retainers_json(main));
        json_object_set_new(root, "holders", pk_graph_holders_json(main));
        json_object_set_new(root, "leak_suspects", pk_graph_suspects_json(main));
    }
    json_t *interps = json_array();
    for (size_t i = 0; i < s->ninterps; i++) {
        const struct pk_interp_snap *is = &s->interps[i];
        json_array_append_new(
            interps, json_pack("{s:I, s:b, s:o, s:o, s:o, s:o}", "id", (json_int_t)is->id, "main",
                               is->is_main, "gc", gc_json(is), "garbage", garbage_json(is, o->top),
                               "pymalloc", pymalloc_json(is), "objects", objects_json(is, o->top)));
    }
    if (!from_core) json_object_set_new(root, "fds", pk_fds_to_json(&s->fds));
    json_object_set_new(root, "interpreters", interps);
    if (s->threads_available) json_object_set_new(root, "threads", pk_threads_to_json(s));
    json_t *warn = json_array();
    for (size_t i = 0; i < s->nwarnings; i++)
        json_array_append_new(warn, pk_json_str(s->warnings[i]));
    json_object_set_new(root, "warnings", warn);
    return root;
}

int pk_report_json(FILE *f, const struct pk_snapshot *s, const struct pk_report_opts *o,
                   struct pk_err *e)
{
    json_t *root = pk_snapshot_to_json(s, o);
    if (!root) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (r < 0 || fputc('\n', f) == EOF) return pk_fail(e, PK_E_INTERNAL, "writing JSON failed");
    return 0;
}
