/* Thread stacks as JSON and as text; every string from the target is sanitised. */
#include "report/stacks_report.h"

#include <inttypes.h>
#include <stdlib.h>

#include "cpython/stacks.h"
#include "report/json_util.h"
#include "util/text.h"

static json_t *str_or_null(const char *s)
{
    return s ? pk_json_str(s) : json_null();
}

static json_t *pyframe_json(const struct pk_pyframe *f, int locals)
{
    json_t *o =
        json_pack("{s:o, s:o, s:o}", "function", str_or_null(f->function), "file",
                  str_or_null(f->file), "line", f->line >= 0 ? json_integer(f->line) : json_null());
    if (o && locals) {
        json_t *arr = json_array();
        for (size_t i = 0; i < f->nlocals; i++)
            json_array_append_new(arr,
                                  json_pack("{s:o, s:o}", "name", pk_json_str(f->locals[i].name),
                                            "repr", pk_json_str(f->locals[i].repr)));
        json_object_set_new(o, "locals", arr);
    }
    return o;
}

static json_t *native_json(const struct pk_native_frame *n)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "address", pk_json_u64(n->address), "function",
                     str_or_null(n->function), "offset", pk_json_u64(n->offset), "module",
                     str_or_null(n->module));
}

/* The merged view: {"kind": "python", function, file, line} or {"kind": "native", ...}. */
static json_t *merged_json(const struct pk_thread_snap *t)
{
    struct pk_merged *mv = malloc((t->nframes + t->nnative + 1) * sizeof *mv);
    if (!mv) return json_null();
    size_t n = pk_stacks_merge(t, mv);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = mv[i].python ? pyframe_json(&t->frames[mv[i].index], 0)
                                 : native_json(&t->native[mv[i].index]);
        json_object_set_new(o, "kind", json_string(mv[i].python ? "python" : "native"));
        json_array_append_new(arr, o);
    }
    free(mv);
    return arr;
}

static json_t *thread_json(const struct pk_thread_snap *t)
{
    json_t *frames = json_array();
    for (size_t k = 0; k < t->nframes; k++)
        json_array_append_new(frames, pyframe_json(&t->frames[k], t->locals_read));
    json_t *native = json_null(), *merged = json_null();
    if (t->native_available) {
        native = json_array();
        for (size_t k = 0; k < t->nnative; k++)
            json_array_append_new(native, native_json(&t->native[k]));
        merged = merged_json(t);
    }
    char state[2] = {t->state ? t->state : '?', 0};
    json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:o}", "tid",
                          t->tid >= 0 ? json_integer(t->tid) : json_null(), "ident",
                          t->has_ident ? pk_json_u64(t->ident) : json_null(), "name",
                          pk_json_str(t->name), "state", state, "interpreter",
                          t->interp_id >= 0 ? json_integer(t->interp_id) : json_null(), "holds_gil",
                          t->holds_gil, "gc_running", t->gc_running, "frames", frames, "truncated",
                          str_or_null(t->truncated), "native", native, "native_truncated",
                          str_or_null(t->native_truncated), "merged", merged);
    if (o && t->locals_read)
        json_object_set_new(o, "locals_truncated", json_boolean(t->locals_truncated));
    return o;
}

json_t *pk_threads_to_json(const struct pk_snapshot *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < s->nthreads; i++)
        json_array_append_new(arr, thread_json(&s->threads[i]));
    return arr;
}

static void header(FILE *f, const struct pk_snapshot *s, const struct pk_thread_snap *t)
{
    if (t->tid >= 0)
        fprintf(f, "Thread %" PRId64, t->tid);
    else
        fprintf(f, "Thread state without an OS thread");
    if (t->has_ident) fprintf(f, " (ident 0x%" PRIx64 ")", t->ident);
    if (t->name[0]) {
        fputs(" \"", f);
        pk_fputs_escaped(f, t->name, sizeof t->name);
        fputc('"', f);
    }
    if (t->tid == s->target.pid) fputs(" main", f);
    fprintf(f, " state %c", t->state ? t->state : '?');
    if (t->holds_gil) fputs(", holds the GIL", f);
    if (t->gc_running) fputs(", collecting garbage", f);
    if (!t->has_ident) fputs(", no Python thread state", f);
    fputc('\n', f);
}

static void pyframe_line(FILE *f, const char *indent, const struct pk_pyframe *p)
{
    fputs(indent, f);
    pk_fputs_escaped(f, p->function ? p->function : "?", 200);
    fputs(" (", f);
    pk_fputs_escaped(f, p->file ? p->file : "?", 400);
    if (p->line >= 0) fprintf(f, ":%d", p->line);
    fputs(")\n", f);
    for (size_t i = 0; i < p->nlocals; i++) {
        fprintf(f, "%s    ", indent);
        pk_fputs_escaped(f, p->locals[i].name, 100);
        fputs(" = ", f);
        pk_fputs_escaped(f, p->locals[i].repr, 200);
        fputc('\n', f);
    }
}

static void native_line(FILE *f, const struct pk_native_frame *n)
{
    fprintf(f, "    0x%016" PRIx64 " ", n->address);
    pk_fputs_escaped(f, n->function ? n->function : "??", 200);
    if (n->function) fprintf(f, "+0x%" PRIx64, n->offset);
    if (n->module) {
        fputs(" (", f);
        pk_fputs_escaped(f, n->module, 400);
        fputc(')', f);
    }
    fputc('\n', f);
}

/* --native: the merged view, Python frames (marked "py") in place of the eval loop frames. */
static void merged_text(FILE *f, const struct pk_thread_snap *t)
{
    struct pk_merged *mv = malloc((t->nframes + t->nnative + 1) * sizeof *mv);
    if (!mv) return;
    size_t n = pk_stacks_merge(t, mv);
    for (size_t k = 0; k < n; k++) {
        if (mv[k].python)
            pyframe_line(f, "    py                 ", &t->frames[mv[k].index]);
        else
            native_line(f, &t->native[mv[k].index]);
    }
    free(mv);
}

static void truncated_line(FILE *f, const char *what, const char *why)
{
    if (!why) return;
    fprintf(f, "    (%s truncated: ", what);
    pk_fputs_escaped(f, why, 200);
    fputs(")\n", f);
}

void pk_stacks_text(FILE *f, const struct pk_snapshot *s, int native)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct pk_thread_snap *t = &s->threads[i];
        if (i) fputc('\n', f);
        header(f, s, t);
        if (native && t->native_available) {
            merged_text(f, t);
            truncated_line(f, "Python stack", t->truncated);
            truncated_line(f, "native stack", t->native_truncated);
            continue;
        }
        for (size_t k = 0; k < t->nframes; k++)
            pyframe_line(f, "    ", &t->frames[k]);
        truncated_line(f, "stack", t->truncated);
        if (t->locals_truncated)
            fputs("    (locals cut short: the budget per thread ran out)\n", f);
        if (native) fputs("    (native frames not read)\n", f);
    }
}

void pk_threads_section(FILE *f, const struct pk_snapshot *s)
{
    if (!s->threads_available) return;
    fprintf(f, "\nThreads: %zu (pypeek stacks PID shows every frame)\n", s->nthreads);
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct pk_thread_snap *t = &s->threads[i];
        fprintf(f, "  %c ", t->holds_gil ? '*' : ' ');
        if (t->tid >= 0)
            fprintf(f, "%-8" PRId64, t->tid);
        else
            fputs("-       ", f);
        char name[80];
        pk_escape(t->name, name, 40);
        fprintf(f, " %-16s %c  ", name, t->state ? t->state : '?');
        if (t->nframes) {
            const struct pk_pyframe *p = &t->frames[0];
            pk_fputs_escaped(f, p->function ? p->function : "?", 80);
            fputs(" (", f);
            pk_fputs_escaped(f, p->file ? p->file : "?", 160);
            if (p->line >= 0) fprintf(f, ":%d", p->line);
            fputc(')', f);
        } else {
            fputs(t->has_ident ? "(no Python frame)" : "(no Python thread state)", f);
        }
        if (t->gc_running) fputs("  [collecting]", f);
        fputc('\n', f);
    }
    fputs("  (* holds the GIL)\n", f);
}
