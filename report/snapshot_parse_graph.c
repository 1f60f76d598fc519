/* The snapshot reader's heap sections: graph, retainers, holders, leak_suspects (the main
   interpreter's object graph) and gc.unreachable, into the structs cpython/ fills live. */
#include <string.h>

#include "report/snapshot_parse.h"

static int parse_retainers(const json_t *doc, struct pk_graph_snap *h, struct pk_err *e)
{
    const struct pk_jpath top = {""};
    struct pk_jpath at, item;
    const json_t *arr, *o;
    int r = pk_jget_arr(doc, &top, "retainers", 0, &arr, e);
    if (r < 0 || !arr) return r;
    if ((r = pk_jalloc(json_array_size(arr), sizeof *h->retainers, (void **)&h->retainers, e)) < 0)
        return r;
    pk_jpath_key(&at, &top, "retainers");
    size_t i;
    json_array_foreach(arr, i, o)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(o)) return pk_jbad(e, &item, NULL, "is not an object");
        struct pk_retainer *t = &h->retainers[h->nretainers++];
        const char *kind;
        t->len = -1;
        if ((r = pk_jget_dup(o, &item, "root", "", &t->root, e)) < 0 ||
            (r = pk_jget_dup(o, &item, "type", "", &t->type, e)) < 0 ||
            (r = pk_jget_str(o, &item, "kind", &kind, e)) < 0 ||
            (r = pk_jget_i64(o, &item, "len", &t->len, e)) < 0 ||
            (r = pk_jget_u64(o, &item, "retained_bytes", 0, &t->retained_bytes, e)) < 0 ||
            (r = pk_jget_u64(o, &item, "retained_count", 0, &t->retained_count, e)) < 0 ||
            (r = pk_jget_type_stats(o, &item, "types", 0, &t->types, &t->ntypes, e)) < 0)
            return r;
        t->is_global = kind && strcmp(kind, "global") == 0;
        t->is_frame_local = kind && strcmp(kind, "frame_local") == 0;
    }
    return 0;
}

static int holder_kind(const char *k)
{
    static const char *const names[] = {"global", "frame_local", "module", "object"};
    for (int i = 0; k && i < 4; i++)
        if (strcmp(k, names[i]) == 0) return i;
    return PK_HK_OBJECT;
}

static int parse_holders(const json_t *doc, struct pk_graph_snap *h, struct pk_err *e)
{
    const struct pk_jpath top = {""};
    struct pk_jpath at, item;
    const json_t *arr, *o;
    int r = pk_jget_arr(doc, &top, "holders", 0, &arr, e);
    if (r < 0 || !arr) return r;
    if ((r = pk_jalloc(json_array_size(arr), sizeof *h->holders, (void **)&h->holders, e)) < 0)
        return r;
    pk_jpath_key(&at, &top, "holders");
    size_t i;
    json_array_foreach(arr, i, o)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(o)) return pk_jbad(e, &item, NULL, "is not an object");
        struct pk_holder *hd = &h->holders[h->nholders++];
        const char *kind;
        int depth = 0;
        hd->parent = -1;
        hd->len = -1;
        if ((r = pk_jget_dup(o, &item, "name", "", &hd->name, e)) < 0 ||
            (r = pk_jget_dup(o, &item, "type", "", &hd->type, e)) < 0 ||
            (r = pk_jget_str(o, &item, "kind", &kind, e)) < 0 ||
            (r = pk_jget_i64(o, &item, "parent", &hd->parent, e)) < 0 ||
            (r = pk_jget_i64(o, &item, "len", &hd->len, e)) < 0 ||
            (r = pk_jget_int(o, &item, "depth", 0, 1 << 20, &depth, e)) < 0 ||
            (r = pk_jget_u64(o, &item, "retained_bytes", 0, &hd->retained_bytes, e)) < 0 ||
            (r = pk_jget_u64(o, &item, "retained_count", 0, &hd->retained_count, e)) < 0 ||
            (r = pk_jget_u64(o, &item, "roots", 0, &hd->roots, e)) < 0 ||
            (r = pk_jget_bool(o, &item, "roots_capped", &hd->roots_capped, e)) < 0)
            return r;
        /* a subtree follows its holder: the parent is listed before */
        if (hd->parent < -1 || hd->parent >= (int64_t)i)
            return pk_jbad(e, &item, "parent", "is not an earlier holder");
        hd->kind = holder_kind(kind);
        hd->depth = (uint32_t)depth;
    }
    return 0;
}

static int parse_suspects(const json_t *doc, struct pk_graph_snap *h, struct pk_err *e)
{
    const struct pk_jpath top = {""};
    struct pk_jpath at, item;
    const json_t *arr, *o;
    int r = pk_jget_arr(doc, &top, "leak_suspects", 0, &arr, e);
    if (r < 0 || !arr) return r;
    if ((r = pk_jalloc(json_array_size(arr), sizeof *h->suspects, (void **)&h->suspects, e)) < 0)
        return r;
    pk_jpath_key(&at, &top, "leak_suspects");
    size_t i;
    json_array_foreach(arr, i, o)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(o)) return pk_jbad(e, &item, NULL, "is not an object");
        struct pk_leak_suspect *s = &h->suspects[h->nsuspects++];
        uint64_t holder = 0;
        if ((r = pk_jget_u64(o, &item, "holder", 1, &holder, e)) < 0 ||
            (r = pk_jget_real(o, &item, "share", &s->share, e)) < 0 ||
            (r = pk_jget_type_stats(o, &item, "types", 0, &s->types, &s->ntypes, e)) < 0)
            return r;
        if (holder >= h->nholders) return pk_jbad(e, &item, "holder", "is not a holder's index");
        s->holder = (size_t)holder;
    }
    return 0;
}

int pk_parse_graph(const json_t *doc, struct pk_interp_snap *main, struct pk_err *e)
{
    const struct pk_jpath top = {""}, gp = {"graph"}, sp = {"graph.split"}, op = {"objects"};
    struct pk_graph_snap *h = &main->graph;
    const json_t *g, *split, *objects, *untracked;
    int r = pk_jget_obj(doc, &top, "graph", 0, &g, e);
    if (r == 0) r = parse_retainers(doc, h, e);
    if (r < 0 || !g) return r; /* no graph: no holders or suspects either */
    h->available = 1;
    if ((r = pk_jget_u64(g, &gp, "nodes", 0, &h->nodes, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "edges", 0, &h->edges, e)) < 0 ||
        (r = pk_jget_bool(g, &gp, "partial", &h->partial, e)) < 0 ||
        (r = pk_jget_buf(g, &gp, "partial_reason", 0, h->partial_reason, sizeof h->partial_reason,
                         e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "tracked_traversed", 0, &h->tracked_traversed, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "tracked_untraversed", 0, &h->tracked_untraversed, e)) < 0 ||
        (r = pk_jget_type_stats(g, &gp, "untraversed_types", 0, &h->untraversed_types,
                                &h->nuntraversed_types, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "unreachable_tracked", 0, &h->unreachable_tracked, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "unreadable", 0, &h->unreadable, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "graph_bytes", 0, &h->graph_bytes, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "frozen_us", 0, &h->frozen_us, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "analysis_us", 0, &h->analysis_us, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "reachable_count", 0, &h->reachable_count, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "reachable_tracked", 0, &h->reachable_tracked, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "reachable_bytes", 0, &h->reachable_bytes, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "held_from_c_count", 0, &h->held_from_c_count, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "held_from_c_bytes", 0, &h->held_from_c_bytes, e)) < 0 ||
        (r = pk_jget_u64(g, &gp, "holders_level0_total", 0, &h->level0_total, e)) < 0 ||
        (r = pk_jget_type_stats(g, &gp, "unreachable_types", 0, &h->unreachable_types,
                                &h->nunreachable_types, e)) < 0 ||
        (r = pk_jget_obj(g, &gp, "split", 0, &split, e)) < 0)
        return r;
    if (split && ((r = pk_jget_u64(split, &sp, "globals_bytes", 0, &h->globals_bytes, e)) < 0 ||
                  (r = pk_jget_u64(split, &sp, "frames_bytes", 0, &h->frames_bytes, e)) < 0 ||
                  (r = pk_jget_u64(split, &sp, "shared_bytes", 0, &h->shared_bytes, e)) < 0))
        return r;
    /* objects.untracked is the graph's census */
    objects = json_object_get(doc, "objects");
    if ((r = pk_jget_obj(objects, &op, "untracked", 0, &untracked, e)) < 0) return r;
    if (untracked) {
        const struct pk_jpath up = {"objects.untracked"};
        if ((r = pk_jget_u64(untracked, &up, "count", 0, &h->untracked_count, e)) < 0 ||
            (r = pk_jget_u64(untracked, &up, "bytes", 0, &h->untracked_bytes, e)) < 0)
            return r;
    }
    if ((r = parse_holders(doc, h, e)) < 0) return r;
    return parse_suspects(doc, h, e);
}

static int parse_examples(const json_t *u, const struct pk_jpath *p,
                          struct pk_unreachable_snap *out, struct pk_err *e)
{
    struct pk_jpath at, item, hp, hop;
    const json_t *arr, *o, *hops, *x;
    int r = pk_jget_arr(u, p, "examples", 0, &arr, e);
    if (r < 0 || !arr) return r;
    if ((r = pk_jalloc(json_array_size(arr), sizeof *out->examples, (void **)&out->examples, e)) <
        0)
        return r;
    pk_jpath_key(&at, p, "examples");
    size_t i, k;
    json_array_foreach(arr, i, o)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(o)) return pk_jbad(e, &item, NULL, "is not an object");
        struct pk_unreachable_example *ex = &out->examples[out->nexamples++];
        if ((r = pk_jget_dup(o, &item, "type", "", &ex->type, e)) < 0 ||
            (r = pk_jget_bool(o, &item, "truncated", &ex->truncated, e)) < 0 ||
            (r = pk_jget_arr(o, &item, "cycle", 0, &hops, e)) < 0)
            return r;
        if (!hops) continue;
        if ((r = pk_jalloc(json_array_size(hops), sizeof *ex->hops, (void **)&ex->hops, e)) < 0)
            return r;
        pk_jpath_key(&hp, &item, "cycle");
        json_array_foreach(hops, k, x)
        {
            pk_jpath_idx(&hop, &hp, k);
            if (!json_is_string(x) || json_string_length(x) > 8192)
                return pk_jbad(e, &hop, NULL, "is not a string pypeek accepts");
            if (!(ex->hops[ex->nhops] = strdup(json_string_value(x))))
                return pk_fail(e, PK_E_INTERNAL, "out of memory");
            ex->nhops++;
        }
    }
    return 0;
}

int pk_parse_unreachable(const json_t *u, struct pk_unreachable_snap *out, struct pk_err *e)
{
    const struct pk_jpath p = {"gc.unreachable"};
    struct pk_jpath at, item;
    const json_t *arr, *o;
    int r;
    out->available = 1; /* a section without the flag (DESIGN.md's shape) has its numbers */
    if ((r = pk_jget_bool(u, &p, "available", &out->available, e)) < 0 ||
        (r = pk_jget_buf(u, &p, "reason", 0, out->reason, sizeof out->reason, e)) < 0 ||
        (r = pk_jget_u64(u, &p, "objects", 0, &out->objects, e)) < 0 ||
        (r = pk_jget_u64(u, &p, "bytes", 0, &out->bytes, e)) < 0 ||
        (r = pk_jget_u64(u, &p, "retained_bytes", 0, &out->retained_bytes, e)) < 0 ||
        (r = pk_jget_u64(u, &p, "finalizers", 0, &out->finalizers, e)) < 0 ||
        (r = pk_jget_bool(u, &p, "complete", &out->complete, e)) < 0 ||
        (r = pk_jget_u64(u, &p, "analysis_us", 0, &out->analysis_us, e)) < 0 ||
        (r = pk_jget_type_stats(u, &p, "untraversed_types", 0, &out->untraversed_types,
                                &out->nuntraversed_types, e)) < 0 ||
        (r = pk_jget_arr(u, &p, "types", 0, &arr, e)) < 0)
        return r;
    if (arr) {
        if ((r = pk_jalloc(json_array_size(arr), sizeof *out->types, (void **)&out->types, e)) < 0)
            return r;
        pk_jpath_key(&at, &p, "types");
        size_t i;
        json_array_foreach(arr, i, o)
        {
            pk_jpath_idx(&item, &at, i);
            if (!json_is_object(o)) return pk_jbad(e, &item, NULL, "is not an object");
            struct pk_unreachable_type *t = &out->types[out->ntypes++];
            if ((r = pk_jget_dup(o, &item, "type", NULL, &t->name, e)) < 0) return r;
            if (!t->name) return pk_jbad(e, &item, "type", "is missing");
            if ((r = pk_jget_u64(o, &item, "count", 1, &t->count, e)) < 0 ||
                (r = pk_jget_u64(o, &item, "bytes", 0, &t->bytes, e)) < 0 ||
                (r = pk_jget_u64(o, &item, "finalizers", 0, &t->finalizers, e)) < 0)
                return r;
        }
    }
    return parse_examples(u, &p, out, e);
}
