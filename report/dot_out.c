/* Graphviz DOT of the merged reference paths to a type's instances (`pypeek why --dot`). */
#include "report/dot_out.h"

#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/text.h"

#define LABEL_MAX 200 /* bytes of a target string shown in one label */

void pk_dot_fputs(FILE *f, const char *s, size_t max_bytes)
{
    char buf[LABEL_MAX * 6 + 8];
    size_t cap = max_bytes * 6 + 8 < sizeof buf ? max_bytes * 6 + 8 : sizeof buf;
    pk_escape(s ? s : "", buf, cap);
    for (const char *p = buf; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', f), fputc(*p, f);
        else if (*p == '&')
            fputs("&amp;", f);
        else
            fputc(*p, f);
    }
}

static const char *root_kind(enum pk_why_node_kind k)
{
    switch (k) {
    case PK_WN_GLOBAL:
        return "module global";
    case PK_WN_FRAME:
        return "thread frame local";
    case PK_WN_MODULES:
        return "the interpreter's modules";
    case PK_WN_UNKNOWN:
        return "no root reaches them";
    default:
        return NULL;
    }
}

static void node_line(FILE *f, size_t i, const struct pk_why_node *n)
{
    char count[32], bytes[32];
    pk_fmt_count(n->count, count, sizeof count);
    fprintf(f, "  n%zu [label=\"", i);
    pk_dot_fputs(f, n->label, LABEL_MAX);
    const char *rk = root_kind(n->kind);
    if (rk) {
        fprintf(f, "\\n%s", rk);
        if (n->retained) {
            pk_fmt_bytes(n->retained, bytes, sizeof bytes);
            fprintf(f, ", retains %s", bytes);
        }
        if (n->kind == PK_WN_UNKNOWN) fprintf(f, "\\n%s objects", count);
        fputs("\", shape=box, style=\"filled,bold\", fillcolor=\"#cfe2ff\"", f);
    } else {
        pk_fmt_bytes(n->bytes, bytes, sizeof bytes);
        if (n->count == 1)
            fprintf(f, "\\n%s", bytes);
        else
            fprintf(f, "\\n%s objects, %s", count, bytes);
        fputc('"', f);
        if (n->kind == PK_WN_TARGET) fputs(", fillcolor=\"#f8c4c4\"", f);
    }
    fputs("];\n", f);
}

int pk_why_dot(FILE *f, const struct pk_why_tree *t, int pid, struct pk_err *e)
{
    char inst[32], unk[32], bytes[32];
    pk_fmt_count(t->instances, inst, sizeof inst);
    pk_fmt_count(t->unknown, unk, sizeof unk);
    pk_fmt_bytes(t->bytes, bytes, sizeof bytes);
    fputs("digraph pypeek_why {\n", f);
    fprintf(f, "  graph [fontname=\"Helvetica\", labelloc=t, label=\"pypeek why %d ", pid);
    pk_dot_fputs(f, t->query, LABEL_MAX);
    if (!t->matched)
        fputs(": no type by that name in the heap", f);
    else
        fprintf(f, ": %s instances (%s), %s held from C / unknown", inst, bytes, unk);
    if (t->undrawn) {
        char und[32];
        pk_fmt_count(t->undrawn, und, sizeof und);
        fprintf(f, "; %s on other paths not drawn", und);
    }
    fputs("\"];\n", f);
    fputs("  node [shape=box, style=\"rounded,filled\", fillcolor=white, "
          "fontname=\"Helvetica\"];\n"
          "  edge [fontname=\"Helvetica\", fontsize=10];\n",
          f);
    /* Roots with the most instances first (left in the drawing), each with its subtree;
       t->nodes has parents before children. */
    uint32_t *root_of = malloc((t->n ? t->n : 1) * sizeof *root_of);
    uint64_t *held = calloc(t->n ? t->n : 1, sizeof *held);
    size_t *order = malloc((t->n ? t->n : 1) * sizeof *order);
    if (!root_of || !held || !order) {
        free(root_of);
        free(held);
        free(order);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    size_t nroots = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint32_t p = t->nodes[i].parent;
        root_of[i] = p < i ? root_of[p] : (uint32_t)i;
        if (root_of[i] == i) order[nroots++] = i;
        if (t->nodes[i].kind == PK_WN_TARGET) held[root_of[i]] += t->nodes[i].count;
    }
    for (size_t a = 1; a < nroots; a++) /* insertion sort: stable, by instances held */
        for (size_t b = a; b > 0 && held[order[b]] > held[order[b - 1]]; b--) {
            size_t x = order[b];
            order[b] = order[b - 1];
            order[b - 1] = x;
        }
    for (size_t k = 0; k < nroots; k++)
        for (size_t i = order[k]; i < t->n; i++)
            if (root_of[i] == order[k]) node_line(f, i, &t->nodes[i]);
    for (size_t k = 0; k < nroots; k++)
        for (size_t i = order[k]; i < t->n; i++) {
            const struct pk_why_node *n = &t->nodes[i];
            if (root_of[i] != order[k] || n->parent >= i) continue;
            fprintf(f, "  n%u -> n%zu", n->parent, i);
            if (n->edge && *n->edge) {
                fputs(" [label=\"", f);
                pk_dot_fputs(f, n->edge, LABEL_MAX);
                fputs("\"]", f);
            }
            fputs(";\n", f);
        }
    free(root_of);
    free(held);
    free(order);
    fputs("}\n", f);
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing DOT failed");
    return 0;
}
