/* The unreachable cycles' part of the report, in JSON and text. */
#include "report/unreachable_report.h"

#include <jansson.h>
#include <string.h>

#include "report/json_util.h"
#include "report/report.h"
#include "util/text.h"

void pk_unreachable_chain(const struct pk_unreachable_example *ex, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ex->nhops && len + 1 < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s -> ", ex->hops[i]);
        if (w < 0) return;
        len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
    if (len + 1 < cap)
        snprintf(buf + len, cap - len, "%s",
                 ex->truncated ? "... (longer)" : "(back to the first)");
}

json_t *pk_unreachable_json(const struct pk_interp_snap *is, size_t top)
{
    const struct pk_unreachable_snap *u = &is->unreachable;
    if (!u->available)
        return json_pack("{s:b, s:o}", "available", 0, "reason",
                         pk_json_str(u->reason[0] ? u->reason : "not computed"));
    json_t *types = json_array(), *untrav = json_array(), *ex = json_array();
    size_t n = top && top < u->ntypes ? top : u->ntypes;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(types, json_pack("{s:o, s:o, s:o, s:o}", "type",
                                               pk_json_str(u->types[i].name), "count",
                                               pk_json_u64(u->types[i].count), "bytes",
                                               pk_json_u64(u->types[i].bytes), "finalizers",
                                               pk_json_u64(u->types[i].finalizers)));
    for (size_t i = 0; i < u->nuntraversed_types && i < 50; i++)
        json_array_append_new(untrav, json_pack("{s:o, s:o}", "type",
                                                pk_json_str(u->untraversed_types[i].name), "count",
                                                pk_json_u64(u->untraversed_types[i].count)));
    for (size_t i = 0; i < u->nexamples; i++) {
        const struct pk_unreachable_example *e = &u->examples[i];
        json_t *hops = json_array();
        for (size_t k = 0; k < e->nhops; k++)
            json_array_append_new(hops, pk_json_str(e->hops[k]));
        char chain[2048];
        pk_unreachable_chain(e, chain, sizeof chain);
        json_array_append_new(ex, json_pack("{s:o, s:o, s:b, s:o}", "type", pk_json_str(e->type),
                                            "cycle", hops, "truncated", e->truncated, "chain",
                                            pk_json_str(chain)));
    }
    return json_pack("{s:b, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "available", 1,
                     "objects", pk_json_u64(u->objects), "bytes", pk_json_u64(u->bytes),
                     "retained_bytes", pk_json_u64(u->retained_bytes), "finalizers",
                     pk_json_u64(u->finalizers), "complete", u->complete, "types", types,
                     "untraversed_types", untrav, "examples", ex, "analysis_us",
                     pk_json_u64(u->analysis_us));
}

void pk_unreachable_text(FILE *f, const struct pk_interp_snap *is, size_t top)
{
    const struct pk_unreachable_snap *u = &is->unreachable;
    if (!u->available) return;
    char c[32], b[32], rb[32], fin[32];
    pk_fmt_count(u->objects, c, sizeof c);
    pk_fmt_bytes(u->bytes, b, sizeof b);
    pk_fmt_bytes(u->retained_bytes, rb, sizeof rb);
    pk_fmt_count(u->finalizers, fin, sizeof fin);
    fprintf(f, "  Unreachable cycles awaiting collection: %s objects (%s), %s with __del__%s\n", c,
            b, fin, u->complete ? "" : " (at least: some references were not read)");
    if (u->objects) fprintf(f, "    with what only they hold, collecting them frees %s\n", rb);
    if (!u->objects) return;
    if (!is->gc_enabled)
        fputs("  warning: the collector is disabled, so these cycles are never freed: "
              "gc.collect() would free them\n",
              f);
    size_t n = top && top < u->ntypes ? top : u->ntypes;
    if (n > 5) n = 5;
    for (size_t i = 0; i < n; i++) {
        char name[120], tc[32], tb[32], tf[32];
        pk_escape(u->types[i].name, name, sizeof name);
        pk_fmt_count(u->types[i].count, tc, sizeof tc);
        pk_fmt_bytes(u->types[i].bytes, tb, sizeof tb);
        pk_fmt_count(u->types[i].finalizers, tf, sizeof tf);
        fprintf(f, "    %-44s %12s %12s  %s with __del__\n", name, tc, tb, tf);
    }
    if (u->nexamples) {
        char chain[2048], safe[2048];
        pk_unreachable_chain(&u->examples[0], chain, sizeof chain);
        pk_escape(chain, safe, sizeof safe);
        fprintf(f, "    example cycle: %s\n", safe);
    }
}
