/* Printing `pypeek why`: reference chains as text lines or JSON (pypeek.why/1). */
#include "report/why_out.h"
#include "report/json_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/text.h"

int pk_why_json(FILE *f, const struct pk_why *w, int pid, struct pk_err *e)
{
    json_t *types = json_array(), *chains = json_array(), *roots = json_array();
    for (size_t i = 0; i < w->ntypes; i++)
        json_array_append_new(types, pk_json_str(w->types[i]));
    for (size_t i = 0; i < w->nroots; i++)
        json_array_append_new(roots,
                              json_pack("{s:o, s:o, s:o}", "root", pk_json_str(w->roots[i].root),
                                        "instances", pk_json_u64(w->roots[i].instances),
                                        "retained_bytes", pk_json_u64(w->roots[i].retained_bytes)));
    for (size_t i = 0; i < w->nchains; i++) {
        const struct pk_why_chain *c = &w->chains[i];
        json_t *path = json_array();
        for (size_t k = 0; k < c->nhops; k++)
            json_array_append_new(path, pk_json_str(c->hops[k]));
        char addr[32];
        snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)c->target_addr);
        json_array_append_new(
            chains, json_pack("{s:o, s:b, s:b, s:o, s:o, s:{s:o, s:s, s:o, s:o}}", "root",
                              pk_json_str(c->root), "from_global", c->from_global, "from_frame",
                              c->from_frame, "retained_bytes", pk_json_u64(c->root_retained),
                              "path", path, "target", "type", pk_json_str(c->target_type),
                              "address", addr, "bytes", pk_json_u64(c->target_size),
                              "retained_bytes", pk_json_u64(c->target_retained)));
    }
    json_t *doc = json_pack(
        "{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "schema", "pypeek.why/1", "pid", pid,
        "query", pk_json_str(w->query), "types", types, "instances", pk_json_u64(w->instances),
        "bytes", pk_json_u64(w->bytes), "reachable_from_globals", pk_json_u64(w->reachable),
        "held_from_unknown", pk_json_u64(w->unknown), "roots", roots, "chains", chains);
    if (!doc) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (r < 0 || fputc('\n', f) == EOF) return pk_fail(e, PK_E_INTERNAL, "writing JSON failed");
    return 0;
}

int pk_why_text(FILE *f, const struct pk_why *w, int pid, struct pk_err *e)
{
    char q[256], c1[32], c2[32], c3[32], b[32];
    pk_escape(w->query, q, sizeof q);
    pk_fmt_count(w->instances, c1, sizeof c1);
    pk_fmt_count(w->reachable, c2, sizeof c2);
    pk_fmt_count(w->unknown, c3, sizeof c3);
    pk_fmt_bytes(w->bytes, b, sizeof b);
    if (!w->ntypes) {
        fprintf(f, "pypeek why %d %s: no type named '%s' in the heap\n", pid, q, q);
        return ferror(f) ? pk_fail(e, PK_E_INTERNAL, "writing failed") : 0;
    }
    fprintf(f, "pypeek why %d %s: %s instances (%s)", pid, q, c1, b);
    for (size_t i = 0; i < w->ntypes; i++) {
        char tn[256];
        pk_escape(w->types[i], tn, sizeof tn);
        fprintf(f, "%s%s", i ? ", " : " of ", tn);
    }
    fprintf(f,
            "\n  %s reachable from module globals or thread frame locals, %s held from C / "
            "unknown (C code, or references pypeek cannot read)\n",
            c2, c3);
    if (w->nroots) {
        fputs("\nHeld through (instances, bytes retained by the root):\n", f);
        for (size_t i = 0; i < w->nroots && i < 10; i++) {
            char rn[256], n[32], rb[32];
            pk_escape(w->roots[i].root, rn, sizeof rn);
            pk_fmt_count(w->roots[i].instances, n, sizeof n);
            pk_fmt_bytes(w->roots[i].retained_bytes, rb, sizeof rb);
            fprintf(f, "  %-48s %12s  retains %s\n", rn, n, rb);
        }
    }
    char shown[32];
    pk_fmt_count(w->nchains, shown, sizeof shown);
    fprintf(f, "\nShortest chains (%s of %s):\n", shown, c1);
    for (size_t i = 0; i < w->nchains; i++) {
        const struct pk_why_chain *c = &w->chains[i];
        fputs("  ", f);
        if (!c->from_global && !c->from_frame) {
            pk_fputs_escaped(f, c->root, 200);
            fputs(" -> ", f);
        }
        for (size_t k = 0; k < c->nhops; k++) {
            pk_fputs_escaped(f, c->hops[k], 200);
            fputs(" -> ", f);
        }
        char sz[32];
        pk_fmt_bytes(c->target_retained, sz, sizeof sz);
        pk_fputs_escaped(f, c->target_type, 200);
        fprintf(f, " (%s)\n", sz);
    }
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing failed");
    return 0;
}
