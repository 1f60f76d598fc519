/* Comparing two snapshot documents (pypeek diff): per-type deltas sorted by growth, and a
   generic old/new/delta tree of the numbers in gc, memory and fds, so sections other modules
   add flow through without changes here. */
#include "report/diff.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/snapdoc.h"
#include "util/text.h"

#define TREE_MAX_DEPTH 6
#define TREE_MAX_ARRAY 16 /* arrays diffed element by element (generations, thresholds) */
#define NAME_COLS 44

struct row {
    const char *name;
    json_int_t oc, nc, ob, nb;
};

static int cmp_growth(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    json_int_t da = a->nc - a->oc, db = b->nc - b->oc;
    if (da != db) return da < db ? 1 : -1;
    json_int_t ba = a->nb - a->ob, bb = b->nb - b->ob;
    if (ba != bb) return ba < bb ? 1 : -1;
    return strcmp(a->name, b->name);
}

/* Every name of either tally whose count or bytes changed, sorted by growth, as
   [{label, old_count, new_count, count_delta[, old_bytes, new_bytes, bytes_delta]}].
   split_kind: names are "KIND TARGET" and become {kind, target, ...}. */
static json_t *diff_tallies(const json_t *old_t, const json_t *new_t, const char *label,
                            int with_bytes, int split_kind, size_t top, json_int_t *unchanged)
{
    size_t cap = json_object_size(old_t) + json_object_size(new_t), n = 0;
    struct row *rows = malloc((cap ? cap : 1) * sizeof *rows);
    json_t *out = json_array();
    if (!rows || !out) {
        free(rows);
        json_decref(out);
        return NULL;
    }
    json_int_t same = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)new_t, k, v)
    {
        struct row r = {k, 0, 0, 0, 0};
        pk_doc_tally_get(old_t, k, &r.oc, &r.ob);
        pk_doc_tally_get(new_t, k, &r.nc, &r.nb);
        if (r.oc == r.nc && (!with_bytes || r.ob == r.nb))
            same++;
        else
            rows[n++] = r;
    }
    json_object_foreach((json_t *)old_t, k, v)
    {
        if (json_object_get(new_t, k)) continue;
        struct row r = {k, 0, 0, 0, 0};
        pk_doc_tally_get(old_t, k, &r.oc, &r.ob);
        if (r.oc == 0 && (!with_bytes || r.ob == 0))
            same++;
        else
            rows[n++] = r;
    }
    qsort(rows, n, sizeof *rows, cmp_growth);
    size_t lim = top && top < n ? top : n;
    for (size_t i = 0; i < lim; i++) {
        const struct row *r = &rows[i];
        json_t *e = json_object();
        if (split_kind) {
            size_t kl = strcspn(r->name, " ");
            json_object_set_new(e, "kind", json_stringn(r->name, kl));
            if (r->name[kl]) json_object_set_new(e, label, json_string(r->name + kl + 1));
        } else {
            json_object_set_new(e, label, json_string(r->name));
        }
        json_object_set_new(e, "old_count", json_integer(r->oc));
        json_object_set_new(e, "new_count", json_integer(r->nc));
        json_object_set_new(e, "count_delta", json_integer(r->nc - r->oc));
        if (with_bytes) {
            json_object_set_new(e, "old_bytes", json_integer(r->ob));
            json_object_set_new(e, "new_bytes", json_integer(r->nb));
            json_object_set_new(e, "bytes_delta", json_integer(r->nb - r->ob));
        }
        json_array_append_new(out, e);
    }
    if (unchanged) *unchanged = same;
    free(rows);
    return out;
}

/* {old, new, delta} for numbers, {old, new} for booleans, and the same shape for objects and
   short arrays of them; NULL where nothing comparable is found. Keys in skip are left out at
   the top level (lists compared by name elsewhere). */
static json_t *diff_tree(const json_t *o, const json_t *n, int depth, const char *const *skip)
{
    if (depth > TREE_MAX_DEPTH || !o || !n) return NULL;
    if (json_is_integer(o) && json_is_integer(n)) {
        json_int_t a = json_integer_value(o), b = json_integer_value(n), d;
        if (__builtin_sub_overflow(b, a, &d)) return NULL;
        return json_pack("{s:I, s:I, s:I}", "old", a, "new", b, "delta", d);
    }
    if (json_is_number(o) && json_is_number(n)) {
        double a = json_number_value(o), b = json_number_value(n);
        return json_pack("{s:f, s:f, s:f}", "old", a, "new", b, "delta", b - a);
    }
    if (json_is_boolean(o) && json_is_boolean(n))
        return json_pack("{s:O, s:O}", "old", o, "new", n);
    if (json_is_object(o) && json_is_object(n)) {
        json_t *out = json_object();
        const char *k;
        json_t *nv;
        json_object_foreach((json_t *)n, k, nv)
        {
            int skipped = 0;
            for (const char *const *s = skip; s && *s; s++)
                skipped |= strcmp(*s, k) == 0;
            json_t *d = skipped ? NULL : diff_tree(json_object_get(o, k), nv, depth + 1, NULL);
            if (d) json_object_set_new(out, k, d);
        }
        if (json_object_size(out) == 0) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    if (json_is_array(o) && json_is_array(n) && json_array_size(o) == json_array_size(n) &&
        json_array_size(n) <= TREE_MAX_ARRAY) {
        json_t *out = json_array();
        int any = 0;
        for (size_t i = 0; i < json_array_size(n); i++) {
            json_t *d = diff_tree(json_array_get(o, i), json_array_get(n, i), depth + 1, NULL);
            any |= d != NULL;
            json_array_append_new(out, d ? d : json_null());
        }
        if (!any) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    return NULL;
}

static json_t *side_json(const json_t *doc)
{
    const json_t *consistent = json_object_get(json_object_get(doc, "attach"), "consistent");
    return json_pack("{s:s, s:I, s:s, s:s, s:b}", "taken_at", pk_doc_str(doc, "taken_at", ""),
                     "pid", pk_doc_int(doc, "target.pid", 0), "exe",
                     pk_doc_str(doc, "target.exe", ""), "python_version",
                     pk_doc_str(doc, "target.python_version", ""), "consistent",
                     !json_is_false(consistent));
}

/* Sum of the counts a types list names, to tell a list cut by --top from a full one. */
static json_int_t listed_count(const json_t *doc)
{
    json_int_t sum = 0;
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(json_object_get(doc, "objects"), "types"), i, t)
    {
        json_int_t c = json_integer_value(json_object_get(t, "count"));
        sum = sum > PK_JSON_INT_MAX - c ? PK_JSON_INT_MAX : sum + c;
    }
    return sum;
}

static void add_warnings(json_t *warn, const json_t *od, const json_t *nd, double elapsed)
{
    if (pk_doc_int(od, "target.pid", 0) != pk_doc_int(nd, "target.pid", 0) ||
        strcmp(pk_doc_str(od, "target.exe", ""), pk_doc_str(nd, "target.exe", "")) != 0)
        json_array_append_new(warn, json_string("the snapshots are of different processes"));
    if (strcmp(pk_doc_str(od, "target.python_version", ""),
               pk_doc_str(nd, "target.python_version", "")) != 0)
        json_array_append_new(warn, json_string("the snapshots are of different Python versions"));
    if (elapsed < 0)
        json_array_append_new(warn, json_string("NEW was taken before OLD: deltas are reversed"));
    const json_t *docs[2] = {od, nd};
    const char *names[2] = {"OLD", "NEW"};
    for (int i = 0; i < 2; i++) {
        json_int_t listed = listed_count(docs[i]), total = pk_doc_int(docs[i], "objects.total", 0);
        if (listed < total)
            json_array_append_new(
                warn, json_sprintf("%s lists the types of %" JSON_INTEGER_FORMAT
                                   " of its %" JSON_INTEGER_FORMAT
                                   " objects (saved with --top?): types it leaves out count as 0",
                                   names[i], listed, total));
        if (json_is_false(json_object_get(json_object_get(docs[i], "attach"), "consistent")))
            json_array_append_new(warn, json_sprintf("%s was not read consistently", names[i]));
    }
    const json_t *ou = json_object_get(json_object_get(od, "gc"), "unreachable");
    const json_t *nu = json_object_get(json_object_get(nd, "gc"), "unreachable");
    int uo = json_is_true(json_object_get(ou, "available"));
    int un = json_is_true(json_object_get(nu, "available"));
    if (uo != un)
        json_array_append_new(warn, json_sprintf("unreachable cycles (gc.unreachable) were only "
                                                 "computed for %s: not compared",
                                                 uo ? "OLD" : "NEW"));
    static const char *const sections[] = {"gc", "garbage", "memory", "fds"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        int in_o = json_is_object(json_object_get(od, sections[i]));
        int in_n = json_is_object(json_object_get(nd, sections[i]));
        if (in_o != in_n)
            json_array_append_new(warn, json_sprintf("%s is only in %s: not compared", sections[i],
                                                     in_o ? "OLD" : "NEW"));
    }
}

static json_t *types_diff(const json_t *ol, const json_t *nl, size_t top, json_t *into,
                          const char *unchanged_key)
{
    json_t *ot = pk_doc_tally_types(ol), *nt = pk_doc_tally_types(nl);
    json_int_t same = 0;
    json_t *d = diff_tallies(ot, nt, "type", 1, 0, top, &same);
    json_decref(ot);
    json_decref(nt);
    json_object_set_new(into, unchanged_key, json_integer(same));
    return d;
}

static json_t *fds_diff(const json_t *of, const json_t *nf, size_t top)
{
    static const char *const skip[] = {"items", "by_kind", NULL};
    json_t *out = diff_tree(of, nf, 0, skip);
    if (!out) out = json_object();
    json_t *ok = pk_doc_tally_fd_kinds(of), *nk = pk_doc_tally_fd_kinds(nf);
    json_object_set_new(out, "by_kind", diff_tallies(ok, nk, "kind", 0, 0, top, NULL));
    json_decref(ok);
    json_decref(nk);
    if (json_object_get(of, "items") && json_object_get(nf, "items")) {
        json_t *ot = pk_doc_tally_fd_targets(of), *nt = pk_doc_tally_fd_targets(nf);
        json_object_set_new(out, "targets", diff_tallies(ot, nt, "target", 0, 1, top, NULL));
        json_decref(ot);
        json_decref(nt);
    }
    return out;
}

json_t *pk_diff_docs(const json_t *od, const json_t *nd, size_t top)
{
    json_t *d = json_object();
    json_object_set_new(d, "schema", json_string(PK_DIFF_SCHEMA));
    json_object_set_new(d, "old", side_json(od));
    json_object_set_new(d, "new", side_json(nd));
    double to = pk_doc_time(od), tn = pk_doc_time(nd);
    double elapsed = to >= 0 && tn >= 0 ? tn - to : 0;
    json_object_set_new(d, "elapsed_seconds",
                        to >= 0 && tn >= 0 ? json_real(pk_round_scaled(elapsed, 1e6))
                                           : json_null());
    json_t *warn = json_array();
    add_warnings(warn, od, nd, elapsed);
    json_object_set_new(d, "warnings", warn);
    static const char *const obj_skip[] = {"types", NULL};
    json_t *objects =
        diff_tree(json_object_get(od, "objects"), json_object_get(nd, "objects"), 0, obj_skip);
    json_object_set_new(d, "objects", objects ? objects : json_object());
    json_object_set_new(d, "types",
                        types_diff(json_object_get(json_object_get(od, "objects"), "types"),
                                   json_object_get(json_object_get(nd, "objects"), "types"), top, d,
                                   "types_unchanged"));
    const json_t *og = json_object_get(od, "gc"), *ng = json_object_get(nd, "gc");
    if (json_is_object(og) && json_is_object(ng)) {
        static const char *const skip[] = {"unreachable", NULL};
        json_t *g = diff_tree(og, ng, 0, skip);
        json_object_set_new(d, "gc", g ? g : json_object());
    }
    const json_t *ou = json_object_get(og, "unreachable"), *nu = json_object_get(ng, "unreachable");
    if (json_is_true(json_object_get(ou, "available")) &&
        json_is_true(json_object_get(nu, "available"))) {
        static const char *const skip[] = {"types", "untraversed_types", "examples", NULL};
        json_t *u = diff_tree(ou, nu, 0, skip);
        if (!u) u = json_object();
        json_object_set_new(u, "types",
                            types_diff(json_object_get(ou, "types"), json_object_get(nu, "types"),
                                       top, u, "types_unchanged"));
        json_object_set_new(d, "unreachable", u);
    }
    const json_t *oga = json_object_get(od, "garbage"), *nga = json_object_get(nd, "garbage");
    if (json_is_object(oga) && json_is_object(nga)) {
        static const char *const skip[] = {"types", NULL};
        json_t *g = diff_tree(oga, nga, 0, skip);
        if (!g) g = json_object();
        json_object_set_new(g, "types",
                            types_diff(json_object_get(oga, "types"), json_object_get(nga, "types"),
                                       top, g, "types_unchanged"));
        json_object_set_new(d, "garbage", g);
    }
    const json_t *om = json_object_get(od, "memory"), *nm = json_object_get(nd, "memory");
    if (json_is_object(om) && json_is_object(nm)) {
        json_t *m = diff_tree(om, nm, 0, NULL);
        json_object_set_new(d, "memory", m ? m : json_object());
    }
    const json_t *of = json_object_get(od, "fds"), *nf = json_object_get(nd, "fds");
    if (json_is_object(of) && json_is_object(nf))
        json_object_set_new(d, "fds", fds_diff(of, nf, top));
    return d;
}

/* ---- text ---- */

static void fmt_delta(json_int_t d, int bytes, char *buf, size_t cap)
{
    char tmp[40];
    uint64_t mag = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
    if (bytes)
        pk_fmt_bytes(mag, tmp, sizeof tmp);
    else
        pk_fmt_count(mag, tmp, sizeof tmp);
    snprintf(buf, cap, "%s%s", d < 0 ? "-" : d > 0 ? "+" : "", tmp);
}

static void fmt_value(json_int_t v, int bytes, char *buf, size_t cap)
{
    if (v < 0)
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, v);
    else if (bytes)
        pk_fmt_bytes((uint64_t)v, buf, cap);
    else
        pk_fmt_count((uint64_t)v, buf, cap);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* One line per changed number of a diff tree: "  gc.generations[0].collections  3 -> 5 (+2)". */
static int print_tree(FILE *f, const json_t *t, const char *path, int bytes)
{
    char sub[256];
    int lines = 0;
    if (json_is_object(t) && json_object_get(t, "old") && json_object_get(t, "new")) {
        const json_t *o = json_object_get(t, "old"), *n = json_object_get(t, "new");
        if (json_equal(o, n)) return 0;
        fputs("  ", f);
        pk_fputs_escaped(f, path, 200);
        if (json_is_integer(o) && json_is_integer(n)) {
            char a[48], b[48], c[48];
            fmt_value(json_integer_value(o), bytes, a, sizeof a);
            fmt_value(json_integer_value(n), bytes, b, sizeof b);
            fmt_delta(json_integer_value(json_object_get(t, "delta")), bytes, c, sizeof c);
            fprintf(f, ": %s -> %s (%s)\n", a, b, c);
        } else if (json_is_number(o) && json_is_number(n)) {
            fprintf(f, ": %g -> %g\n", json_number_value(o), json_number_value(n));
        } else {
            fprintf(f, ": %s -> %s\n", json_is_true(o) ? "true" : "false",
                    json_is_true(n) ? "true" : "false");
        }
        return 1;
    }
    if (json_is_object(t)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)t, k, v)
        {
            if (json_is_array(v) && strcmp(k, "types") == 0) continue;
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            lines += print_tree(f, v, sub, bytes || ends_with(k, "bytes"));
        }
    } else if (json_is_array(t)) {
        size_t i;
        const json_t *v;
        json_array_foreach(t, i, v)
        {
            if (!json_is_object(v) || json_object_get(v, "old_count")) continue; /* row lists */
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            lines += print_tree(f, v, sub, bytes);
        }
    }
    return lines;
}

static void print_rows(FILE *f, const json_t *rows, const char *label, int with_bytes, int growing,
                       size_t top)
{
    size_t shown = 0, n = json_array_size(rows);
    for (size_t k = 0; k < n; k++) {
        /* rows are sorted by growth: the most shrunk are last */
        const json_t *r = json_array_get(rows, growing ? k : n - 1 - k);
        json_int_t d = json_integer_value(json_object_get(r, "count_delta"));
        json_int_t bd = json_integer_value(json_object_get(r, "bytes_delta"));
        int grew = d > 0 || (d == 0 && bd > 0);
        if (grew != growing) continue;
        if (shown == top) break;
        char name[NAME_COLS * 6 + 8], oc[48], nc[48], dc[48], db[48];
        const char *kind = json_string_value(json_object_get(r, "kind"));
        const char *nm = json_string_value(json_object_get(r, label));
        char joined[PK_DOC_KEY_MAX];
        snprintf(joined, sizeof joined, "%s%s%s", kind && nm && strcmp(label, "kind") ? kind : "",
                 kind && nm && strcmp(label, "kind") ? " " : "",
                 nm     ? nm
                 : kind ? kind
                        : "");
        size_t w = pk_escape(joined, name, NAME_COLS + 4);
        fmt_value(json_integer_value(json_object_get(r, "old_count")), 0, oc, sizeof oc);
        fmt_value(json_integer_value(json_object_get(r, "new_count")), 0, nc, sizeof nc);
        fmt_delta(d, 0, dc, sizeof dc);
        fprintf(f, "  %s%*s %12s %12s %10s", name, w < NAME_COLS ? (int)(NAME_COLS - w) : 0, "", oc,
                nc, dc);
        if (with_bytes) {
            fmt_delta(bd, 1, db, sizeof db);
            fprintf(f, " %12s", db);
        }
        fputc('\n', f);
        shown++;
    }
    if (!shown) fputs("  (none)\n", f);
}

static void rows_section(FILE *f, const char *title, const json_t *rows, const char *label,
                         int with_bytes, size_t top)
{
    int any[2] = {0, 0};
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_int_t d = json_integer_value(json_object_get(r, "count_delta"));
        json_int_t bd = json_integer_value(json_object_get(r, "bytes_delta"));
        any[d > 0 || (d == 0 && bd > 0)] = 1;
    }
    for (int growing = 1; growing >= 0; growing--) {
        if (!any[growing]) continue;
        fprintf(f, "\n%s that %s%*s %12s %12s %10s%s\n", title, growing ? "grew" : "shrank",
                (int)(NAME_COLS - strlen(title) - (growing ? 9 : 11)), "", "old", "new", "delta",
                with_bytes ? "  bytes delta" : "");
        print_rows(f, rows, label, with_bytes, growing, top);
    }
}

static void side_line(FILE *f, const char *what, const json_t *side, const char *file)
{
    fprintf(f, "  %s: ", what);
    if (file) {
        pk_fputs_escaped(f, file, 300);
        fputs(", ", f);
    }
    fprintf(f, "pid %" JSON_INTEGER_FORMAT " (", pk_doc_int(side, "pid", 0));
    pk_fputs_escaped(f, pk_doc_str(side, "exe", ""), 300);
    fputs("), taken ", f);
    pk_fputs_escaped(f, pk_doc_str(side, "taken_at", "?"), 64);
    fputc('\n', f);
}

int pk_diff_print_text(FILE *f, const json_t *d, size_t top, struct pk_err *e)
{
    if (!top) top = 20;
    fputs("pypeek diff\n", f);
    side_line(f, "old", json_object_get(d, "old"), pk_doc_str(d, "old.file", NULL));
    side_line(f, "new", json_object_get(d, "new"), pk_doc_str(d, "new.file", NULL));
    const json_t *el = json_object_get(d, "elapsed_seconds");
    if (json_is_number(el)) fprintf(f, "  %.1f s apart\n", json_number_value(el));
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(d, "warnings"), i, w)
    {
        fputs("warning: ", f);
        pk_fputs_escaped(f, json_string_value(w), 500);
        fputc('\n', f);
    }
    char a[48], b[48], c[48], x[48], y[48], z[48];
    const json_t *obj = json_object_get(d, "objects");
    fmt_value(pk_doc_int(obj, "total.old", 0), 0, a, sizeof a);
    fmt_value(pk_doc_int(obj, "total.new", 0), 0, b, sizeof b);
    fmt_delta(pk_doc_int(obj, "total.delta", 0), 0, c, sizeof c);
    fmt_value(pk_doc_int(obj, "bytes.old", 0), 1, x, sizeof x);
    fmt_value(pk_doc_int(obj, "bytes.new", 0), 1, y, sizeof y);
    fmt_delta(pk_doc_int(obj, "bytes.delta", 0), 1, z, sizeof z);
    fprintf(f, "\nGC-tracked objects: %s -> %s (%s); %s -> %s (%s)", a, b, c, x, y, z);
    if (pk_doc_int(obj, "frozen.new", 0) || pk_doc_int(obj, "frozen.old", 0)) {
        fmt_value(pk_doc_int(obj, "frozen.old", 0), 0, a, sizeof a);
        fmt_value(pk_doc_int(obj, "frozen.new", 0), 0, b, sizeof b);
        fprintf(f, "; frozen (gc.freeze) %s -> %s", a, b);
    }
    fputc('\n', f);
    rows_section(f, "Types", json_object_get(d, "types"), "type", 1, top);
    fprintf(f, "(%" JSON_INTEGER_FORMAT " types unchanged)\n", pk_doc_int(d, "types_unchanged", 0));
    const json_t *gc = json_object_get(d, "gc");
    if (gc) {
        fputs("\nGC (changed numbers)\n", f);
        if (!print_tree(f, gc, "gc", 0)) fputs("  (no change)\n", f);
    }
    const json_t *ur = json_object_get(d, "unreachable");
    if (ur) {
        fputs("\nUnreachable cycles awaiting collection (gc.unreachable)\n", f);
        if (!print_tree(f, ur, "unreachable", 0)) fputs("  (no change)\n", f);
        if (json_array_size(json_object_get(ur, "types")))
            rows_section(f, "Unreachable types", json_object_get(ur, "types"), "type", 1, top);
    }
    const json_t *ga = json_object_get(d, "garbage");
    if (ga) {
        fputs("\nUncollectable garbage (gc.garbage)\n", f);
        if (!print_tree(f, ga, "garbage", 0)) fputs("  (no change)\n", f);
        if (json_array_size(json_object_get(ga, "types")))
            rows_section(f, "Garbage types", json_object_get(ga, "types"), "type", 1, top);
    }
    const json_t *mem = json_object_get(d, "memory");
    if (mem) {
        fputs("\nMemory (changed numbers)\n", f);
        if (!print_tree(f, mem, "memory", 0)) fputs("  (no change)\n", f);
    }
    const json_t *fds = json_object_get(d, "fds");
    if (fds) {
        fputs("\nFile descriptors (changed numbers)\n", f);
        if (!print_tree(f, fds, "fds", 0)) fputs("  (no change)\n", f);
        rows_section(f, "fd kinds", json_object_get(fds, "by_kind"), "kind", 0, top);
        if (json_object_get(fds, "targets"))
            rows_section(f, "fd targets", json_object_get(fds, "targets"), "target", 0, top);
    }
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing the diff failed");
    return 0;
}
