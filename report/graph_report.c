/* The object graph's part of the report: untracked census, coverage and retained sizes. */
#include "report/graph_report.h"
#include "report/json_util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/text.h"

json_t *pk_graph_untracked_json(const struct pk_interp_snap *is)
{
    if (!is->graph.available) return json_null();
    return json_pack("{s:o, s:o}", "count", pk_json_u64(is->graph.untracked_count), "bytes",
                     pk_json_u64(is->graph.untracked_bytes));
}

json_t *pk_graph_json(const struct pk_interp_snap *is)
{
    const struct pk_graph_snap *h = &is->graph;
    if (!h->available) return json_null();
    json_t *ut = json_array();
    for (size_t i = 0; i < h->nuntraversed_types && i < 50; i++)
        json_array_append_new(ut, json_pack("{s:o, s:o}", "type",
                                            pk_json_str(h->untraversed_types[i].name), "count",
                                            pk_json_u64(h->untraversed_types[i].count)));
    uint64_t tracked = h->tracked_traversed + h->tracked_untraversed;
    double cov = tracked ? (double)h->tracked_traversed / (double)tracked : 1.0;
    json_t *o = json_pack(
        "{s:o, s:o, s:b, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o, s:o, s:o}", "nodes",
        pk_json_u64(h->nodes), "edges", pk_json_u64(h->edges), "partial", h->partial,
        "partial_reason", h->partial ? pk_json_str(h->partial_reason) : json_null(),
        "tracked_traversed", pk_json_u64(h->tracked_traversed), "tracked_untraversed",
        pk_json_u64(h->tracked_untraversed), "coverage", cov, "untraversed_types", ut,
        "unreachable_tracked", pk_json_u64(h->unreachable_tracked), "unreadable",
        pk_json_u64(h->unreadable), "graph_bytes", pk_json_u64(h->graph_bytes), "frozen_us",
        pk_json_u64(h->frozen_us), "analysis_us", pk_json_u64(h->analysis_us));
    if (!o) return json_null();
    json_object_set_new(o, "reachable_count", pk_json_u64(h->reachable_count));
    json_object_set_new(o, "reachable_tracked", pk_json_u64(h->reachable_tracked));
    json_object_set_new(o, "reachable_bytes", pk_json_u64(h->reachable_bytes));
    json_object_set_new(o, "held_from_c_count", pk_json_u64(h->held_from_c_count));
    json_object_set_new(o, "held_from_c_bytes", pk_json_u64(h->held_from_c_bytes));
    json_object_set_new(o, "split",
                        json_pack("{s:o, s:o, s:o, s:o}", "globals_bytes",
                                  pk_json_u64(h->globals_bytes), "frames_bytes",
                                  pk_json_u64(h->frames_bytes), "shared_bytes",
                                  pk_json_u64(h->shared_bytes), "held_from_c_bytes",
                                  pk_json_u64(h->held_from_c_bytes)));
    json_object_set_new(o, "holders_level0_total", pk_json_u64(h->level0_total));
    json_t *hc = json_array();
    for (size_t i = 0; i < h->nunreachable_types && i < 20; i++)
        json_array_append_new(hc, json_pack("{s:o, s:o}", "type",
                                            pk_json_str(h->unreachable_types[i].name), "count",
                                            pk_json_u64(h->unreachable_types[i].count)));
    json_object_set_new(o, "unreachable_types", hc);
    return o;
}

static const char *const holder_kinds[] = {"global", "frame_local", "module", "object"};

static const char *holder_kind(int k)
{
    return k >= 0 && k < 4 ? holder_kinds[k] : "object";
}

json_t *pk_graph_holders_json(const struct pk_interp_snap *is)
{
    const struct pk_graph_snap *h = &is->graph;
    if (!h->available) return json_null();
    json_t *arr = json_array();
    for (size_t i = 0; i < h->nholders; i++) {
        const struct pk_holder *hd = &h->holders[i];
        json_t *o = json_pack(
            "{s:o, s:s, s:o, s:o, s:o, s:i, s:o, s:o, s:o}", "name", pk_json_str(hd->name), "kind",
            holder_kind(hd->kind), "type", pk_json_str(hd->type), "parent",
            hd->parent >= 0 ? json_integer(hd->parent) : json_null(), "len",
            hd->len >= 0 ? json_integer(hd->len) : json_null(), "depth", (int)hd->depth,
            "retained_bytes", pk_json_u64(hd->retained_bytes), "retained_count",
            pk_json_u64(hd->retained_count), "share",
            json_real(h->reachable_bytes ? (double)hd->retained_bytes / (double)h->reachable_bytes
                                         : 0.0));
        if (o && hd->depth == 0 && hd->kind == PK_HK_OBJECT && hd->roots) {
            json_object_set_new(o, "roots", pk_json_u64(hd->roots));
            json_object_set_new(o, "roots_capped", json_boolean(hd->roots_capped));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *pk_graph_suspects_json(const struct pk_interp_snap *is)
{
    const struct pk_graph_snap *h = &is->graph;
    json_t *arr = json_array();
    for (size_t i = 0; i < h->nsuspects; i++) {
        const struct pk_leak_suspect *s = &h->suspects[i];
        if (s->holder >= h->nholders) continue;
        json_t *types = json_array();
        for (size_t k = 0; k < s->ntypes && k < PK_JSON_SUSPECT_TYPES; k++)
            json_array_append_new(types, json_pack("{s:o, s:o, s:o}", "type",
                                                   pk_json_str(s->types[k].name), "count",
                                                   pk_json_u64(s->types[k].count), "bytes",
                                                   pk_json_u64(s->types[k].bytes)));
        const struct pk_holder *hd = &h->holders[s->holder];
        json_array_append_new(
            arr, json_pack("{s:I, s:o, s:s, s:o, s:f, s:o, s:o}", "holder", (json_int_t)s->holder,
                           "name", pk_json_str(hd->name), "kind", holder_kind(hd->kind), "type",
                           pk_json_str(hd->type), "share", s->share, "retained_bytes",
                           pk_json_u64(hd->retained_bytes), "types", types));
    }
    return arr;
}

json_t *pk_graph_retainers_json(const struct pk_interp_snap *is)
{
    const struct pk_graph_snap *h = &is->graph;
    json_t *arr = json_array();
    for (size_t i = 0; i < h->nretainers; i++) {
        const struct pk_retainer *r = &h->retainers[i];
        json_t *types = json_array();
        for (size_t k = 0; k < r->ntypes && k < PK_JSON_RETAINER_TYPES; k++)
            json_array_append_new(types, json_pack("{s:o, s:o, s:o}", "type",
                                                   pk_json_str(r->types[k].name), "count",
                                                   pk_json_u64(r->types[k].count), "bytes",
                                                   pk_json_u64(r->types[k].bytes)));
        json_array_append_new(arr, json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "root",
                                             pk_json_str(r->root), "kind",
                                             r->is_global        ? "global"
                                             : r->is_frame_local ? "frame_local"
                                                                 : "container",
                                             "type", pk_json_str(r->type), "len",
                                             r->len >= 0 ? json_integer(r->len) : json_null(),
                                             "retained_bytes", pk_json_u64(r->retained_bytes),
                                             "retained_count", pk_json_u64(r->retained_count),
                                             "types", types));
    }
    return arr;
}

static void holders_text(FILE *f, const struct pk_graph_snap *h, size_t top);

void pk_graph_report_text(FILE *f, const struct pk_interp_snap *is, size_t top)
{
    const struct pk_graph_snap *h = &is->graph;
    if (!h->available) return;
    char c[32], b[32], n[32], un[32];
    pk_fmt_count(h->untracked_count, c, sizeof c);
    pk_fmt_bytes(h->untracked_bytes, b, sizeof b);
    pk_fmt_count(h->nodes, n, sizeof n);
    pk_fmt_count(h->tracked_untraversed, un, sizeof un);
    uint64_t tracked = h->tracked_traversed + h->tracked_untraversed;
    fprintf(f, "\nUntracked objects reachable from them (str, int, bytes, bytearray...): %s (%s)\n",
            c, b);
    fprintf(f,
            "  object graph: %s objects; references of %.1f%% of tracked objects read (%s of "
            "types pypeek cannot traverse%s",
            n, tracked ? 100.0 * (double)h->tracked_traversed / (double)tracked : 100.0, un,
            h->nuntraversed_types ? ", most: " : "");
    for (size_t i = 0; i < h->nuntraversed_types && i < 3; i++) {
        char tn[128];
        pk_escape(h->untraversed_types[i].name, tn, sizeof tn);
        fprintf(f, "%s%s", i ? ", " : "", tn);
    }
    fputs(")\n", f);
    if (h->partial)
        fputs("  PARTIAL: the graph hit its memory budget; retained sizes are lower bounds\n", f);
    size_t shown = 0;
    for (size_t i = 0; i < h->nretainers; i++)
        shown += h->retainers[i].is_global || h->retainers[i].is_frame_local;
    if (!shown) return;
    if (top && shown > top) shown = top;
    fprintf(f,
            "\nRetained by module globals and thread frame locals (bytes only reachable "
            "through them), top %zu:\n",
            shown);
    for (size_t i = 0, k = 0; i < h->nretainers && k < shown; i++) {
        const struct pk_retainer *r = &h->retainers[i];
        if (!r->is_global && !r->is_frame_local) continue;
        k++;
        char root[200], type[120], len[48], rb[32];
        pk_escape(r->root, root, sizeof root);
        pk_escape(r->type, type, sizeof type);
        len[0] = '\0';
        if (r->len >= 0) {
            char lc[32];
            pk_fmt_count((uint64_t)r->len, lc, sizeof lc);
            snprintf(len, sizeof len, "%s items", lc);
        }
        pk_fmt_bytes(r->retained_bytes, rb, sizeof rb);
        fprintf(f, "  %-40s %-20s %16s  retains %s\n", root, type, len, rb);
    }
    holders_text(f, h, top);
}

/* One holder line, indented by depth; objects several roots reach say how many. */
static void holder_line(FILE *f, const struct pk_graph_snap *h, const struct pk_holder *hd)
{
    char name[400], type[120], rb[32], roots[48] = "", items[48] = "";
    pk_escape(hd->name, name, sizeof name);
    pk_escape(hd->type, type, sizeof type);
    pk_fmt_bytes(hd->retained_bytes, rb, sizeof rb);
    if (hd->depth == 0 && hd->kind == PK_HK_OBJECT && hd->roots)
        snprintf(roots, sizeof roots, ", reached from %s%llu roots", hd->roots_capped ? ">= " : "",
                 (unsigned long long)hd->roots);
    if (hd->len >= 0) {
        char c[32];
        pk_fmt_count((uint64_t)hd->len, c, sizeof c);
        snprintf(items, sizeof items, ", %s items", c);
    }
    double share =
        h->reachable_bytes ? 100.0 * (double)hd->retained_bytes / (double)h->reachable_bytes : 0.0;
    fprintf(f, "  %*s%s (%s%s%s)  retains %s (%.1f%%)%s\n", (int)hd->depth * 2, "",
            name[0] ? name : "(through several of its objects)", type, items,
            hd->kind == PK_HK_MODULE ? ", a module in sys.modules" : "", rb, share, roots);
}

/* The holders of the reachable heap as a tree: level 0 by retained bytes, the subtrees of the
   largest below them. */
static void holders_text(FILE *f, const struct pk_graph_snap *h, size_t top)
{
    size_t shown = 0, n0 = 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < h->nholders; i++)
        if (!h->holders[i].depth) {
            n0++;
            if (!top || shown < top) sum += h->holders[i].retained_bytes, shown++;
        }
    if (!n0) return;
    char tb[32], lb[32];
    pk_fmt_bytes(h->reachable_bytes, tb, sizeof tb);
    pk_fmt_bytes(sum, lb, sizeof lb);
    fprintf(f,
            "\nHolders of the reachable heap (%s): the roots, and the objects several roots "
            "share; each byte under exactly one. Top %zu of %llu hold %s:\n",
            tb, shown, (unsigned long long)h->level0_total, lb);
    for (size_t i = 0, k = 0; i < h->nholders; i++) {
        const struct pk_holder *hd = &h->holders[i];
        if (!hd->depth && top && k++ >= top) break;
        holder_line(f, h, hd);
    }
}

void pk_graph_split_text(FILE *f, const struct pk_interp_snap *is)
{
    const struct pk_graph_snap *h = &is->graph;
    if (!h->available) return;
    char all[32], gl[32], fr[32], sh[32], hc[32];
    pk_fmt_bytes(h->reachable_bytes + h->held_from_c_bytes, all, sizeof all);
    pk_fmt_bytes(h->globals_bytes, gl, sizeof gl);
    pk_fmt_bytes(h->frames_bytes, fr, sizeof fr);
    pk_fmt_bytes(h->shared_bytes, sh, sizeof sh);
    pk_fmt_bytes(h->held_from_c_bytes, hc, sizeof hc);
    fprintf(f,
            "  Python objects: %s = module globals %s + thread frames %s + shared by several "
            "roots %s + held from C / unknown %s\n",
            all, gl, fr, sh, hc);
}

void pk_graph_suspects_text(FILE *f, const struct pk_interp_snap *is)
{
    const struct pk_graph_snap *h = &is->graph;
    for (size_t i = 0; i < h->nsuspects; i++) {
        const struct pk_leak_suspect *s = &h->suspects[i];
        if (s->holder >= h->nholders) continue;
        const struct pk_holder *hd = &h->holders[s->holder];
        char name[400], type[120], rb[32];
        pk_escape(hd->name, name, sizeof name);
        pk_escape(hd->type, type, sizeof type);
        pk_fmt_bytes(hd->retained_bytes, rb, sizeof rb);
        fprintf(f, "\nLEAK SUSPECT: one %s retains %s, %.0f%% of the reachable heap\n", type, rb,
                100.0 * s->share);
        if (hd->kind == PK_HK_OBJECT)
            fprintf(f, "  reached from %s%llu roots, the shortest: %s\n",
                    hd->roots_capped ? ">= " : "", (unsigned long long)hd->roots, name);
        else
            fprintf(f, "  held by %s %s\n",
                    hd->kind == PK_HK_GLOBAL        ? "the module global"
                    : hd->kind == PK_HK_FRAME_LOCAL ? "the frame local"
                                                    : "the module",
                    name);
        fputs("  biggest contents:", f);
        for (size_t k = 0; k < s->ntypes && k < 5; k++) {
            char tn[120], b[32], c[32];
            pk_escape(s->types[k].name, tn, sizeof tn);
            pk_fmt_bytes(s->types[k].bytes, b, sizeof b);
            pk_fmt_count(s->types[k].count, c, sizeof c);
            fprintf(f, "%s %s %s (%s)", k ? "," : "", c, tn, b);
        }
        fputc('\n', f);
    }
}
