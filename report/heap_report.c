/* The object graph's part of the report: untracked census, coverage and retained sizes. */
#include "report/heap_report.h"
#include "report/json_util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/text.h"

json_t *pk_heap_untracked_json(const struct pk_interp_snap *is)
{
    if (!is->heap.available) return json_null();
    return json_pack("{s:o, s:o}", "count", pk_json_u64(is->heap.untracked_count), "bytes",
                     pk_json_u64(is->heap.untracked_bytes));
}

json_t *pk_heap_graph_json(const struct pk_interp_snap *is)
{
    const struct pk_heap_snap *h = &is->heap;
    if (!h->available) return json_null();
    json_t *ut = json_array();
    for (size_t i = 0; i < h->nuntraversed_types && i < 50; i++)
        json_array_append_new(ut, json_pack("{s:o, s:o}", "type",
                                            pk_json_str(h->untraversed_types[i].name), "count",
                                            pk_json_u64(h->untraversed_types[i].count)));
    uint64_t tracked = h->tracked_traversed + h->tracked_untraversed;
    double cov = tracked ? (double)h->tracked_traversed / (double)tracked : 1.0;
    return json_pack("{s:o, s:o, s:b, s:o, s:o, s:o, s:f, s:o, s:o, s:o, s:o, s:o, s:o}", "nodes",
                     pk_json_u64(h->nodes), "edges", pk_json_u64(h->edges), "partial", h->partial,
                     "partial_reason", h->partial ? pk_json_str(h->partial_reason) : json_null(),
                     "tracked_traversed", pk_json_u64(h->tracked_traversed), "tracked_untraversed",
                     pk_json_u64(h->tracked_untraversed), "coverage", cov, "untraversed_types", ut,
                     "unreachable_tracked", pk_json_u64(h->unreachable_tracked), "unreadable",
                     pk_json_u64(h->unreadable), "graph_bytes", pk_json_u64(h->graph_bytes),
                     "frozen_us", pk_json_u64(h->frozen_us), "analysis_us",
                     pk_json_u64(h->analysis_us));
}

json_t *pk_heap_retainers_json(const struct pk_interp_snap *is)
{
    const struct pk_heap_snap *h = &is->heap;
    json_t *arr = json_array();
    for (size_t i = 0; i < h->nretainers; i++) {
        const struct pk_retainer *r = &h->retainers[i];
        json_t *types = json_array();
        for (size_t k = 0; k < r->ntypes && k < 20; k++)
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

void pk_heap_report_text(FILE *f, const struct pk_interp_snap *is, size_t top)
{
    const struct pk_heap_snap *h = &is->heap;
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
    int any = 0;
    for (size_t i = 0; i < h->nretainers; i++) {
        const struct pk_retainer *r = &h->retainers[i];
        if (r->is_global || r->is_frame_local) continue;
        if (!any++) fputs("\nLargest containers inside them (by retained bytes):\n", f);
        char root[300], type[120], rb[32];
        pk_escape(r->root, root, sizeof root);
        pk_escape(r->type, type, sizeof type);
        pk_fmt_bytes(r->retained_bytes, rb, sizeof rb);
        fprintf(f, "  %-60s %-12s retains %s\n", root, type, rb);
    }
}
