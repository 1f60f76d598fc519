/* Comparing two snapshots (pypeek diff): per-type deltas sorted by growth, and a generic
   old/new/delta tree of the numbers in objects, gc, garbage, memory and fds as the JSON output
   renders them from the struct, so numbers other modules add to those sections flow through
   without changes here. */
#include "report/diff.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/byname.h"
#include "report/json_util.h"
#include "report/report.h"
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
        pk_byname_get(old_t, k, &r.oc, &r.ob);
        pk_byname_get(new_t, k, &r.nc, &r.nb);
        if (r.oc == r.nc && (!with_bytes || r.ob == r.nb))
            same++;
        else
            rows[n++] = r;
    }
    json_object_foreach((json_t *)old_t, k, v)
    {
        if (json_object_get(new_t, k)) continue;
        struct row r = {k, 0, 0, 0, 0};
        pk_byname_get(old_t, k, &r.oc, &r.ob);
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

static json_t *side_json(const struct pk_snapshot *s)
{
    return json_pack("{s:o, s:i, s:o, s:o, s:b}", "taken_at", pk_json_str(s->taken_at), "pid",
                     (int)s->target.pid, "exe", pk_json_str(s->target.exe), "python_version",
                     pk_json_str(s->target.python_version), "consistent", s->attach.consistent);
}

/* Sum of the counts a types list names, to tell a list cut by --top from a full one. */
static json_int_t listed_count(const struct pk_interp_snap *is)
{
    json_int_t sum = 0;
    for (size_t i = 0; i < is->ntypes; i++) {
        json_int_t c = pk_jint(is->types[i].count);
        sum = sum > PK_JSON_INT_MAX - c ? PK_JSON_INT_MAX : sum + c;
    }
    return sum;
}

static const struct pk_interp_snap no_interp;

static const struct pk_interp_snap *main_or_none(const struct pk_snapshot *s)
{
    const struct pk_interp_snap *m = pk_snapshot_main(s);
    return m ? m : &no_interp;
}

/* Whether the JSON output has the section: gc, garbage and memory with a main interpreter,
   fds unless read from a core. */
static int has_section(const struct pk_snapshot *s, size_t which)
{
    return which < 3 ? pk_snapshot_main(s) != NULL : !pk_snapshot_from_core(s);
}

static void add_warnings(json_t *warn, const struct pk_snapshot *od, const struct pk_snapshot *nd,
                         double elapsed)
{
    if (od->target.pid != nd->target.pid || strcmp(od->target.exe, nd->target.exe) != 0)
        json_array_append_new(warn, json_string("the snapshots are of different processes"));
    if (strcmp(od->target.python_version, nd->target.python_version) != 0)
        json_array_append_new(warn, json_string("the snapshots are of different Python versions"));
    if (elapsed < 0)
        json_array_append_new(warn, json_string("NEW was taken before OLD: deltas are reversed"));
    const struct pk_snapshot *snaps[2] = {od, nd};
    const char *names[2] = {"OLD", "NEW"};
    for (int i = 0; i < 2; i++) {
        const struct pk_interp_snap *m = main_or_none(snaps[i]);
        json_int_t listed = listed_count(m), total = pk_jint(m->total_objects);
        if (listed < total)
            json_array_append_new(
                warn, json_sprintf("%s lists the types of %" JSON_INTEGER_FORMAT
                                   " of its %" JSON_INTEGER_FORMAT
                                   " objects (saved with --top?): types it leaves out count as 0",
                                   names[i], listed, total));
        if (!snaps[i]->attach.consistent)
            json_array_append_new(warn, json_sprintf("%s was not read consistently", names[i]));
    }
    int uo = main_or_none(od)->unreachable.available, un = main_or_none(nd)->unreachable.available;
    if (uo != un)
        json_array_append_new(warn, json_sprintf("unreachable cycles (gc.unreachable) were only "
                                                 "computed for %s: not compared",
                                                 uo ? "OLD" : "NEW"));
    static const char *const sections[] = {"gc", "garbage", "memory", "fds"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        int in_o = has_section(od, i), in_n = has_section(nd, i);
        if (in_o != in_n)
            json_array_append_new(warn, json_sprintf("%s is only in %s: not compared", sections[i],
                                                     in_o ? "OLD" : "NEW"));
    }
}

/* The rows of two tallies (consumed) into a list; its unchanged count into into[key]. */
static json_t *types_diff(json_t *ot, json_t *nt, size_t top, json_t *into,
                          const char *unchanged_key)
{
    json_int_t same = 0;
    json_t *d = ot && nt ? diff_tallies(ot, nt, "type", 1, 0, top, &same) : NULL;
    json_decref(ot);
    json_decref(nt);
    json_object_set_new(into, unchanged_key, json_integer(same));
    return d;
}

static json_t *fds_diff(const json_t *of, const json_t *nf, const struct pk_fds_snap *ofs,
                        const struct pk_fds_snap *nfs, size_t top)
{
    static const char *const skip[] = {"items", "by_kind", NULL};
    json_t *out = diff_tree(of, nf, 0, skip);
    if (!out) out = json_object();
    json_t *ok = pk_byname_fd_kinds(ofs), *nk = pk_byname_fd_kinds(nfs);
    json_object_set_new(out, "by_kind", diff_tallies(ok, nk, "kind", 0, 0, top, NULL));
    json_decref(ok);
    json_decref(nk);
    json_t *ot = pk_byname_fd_targets(ofs), *nt = pk_byname_fd_targets(nfs);
    json_object_set_new(out, "targets", diff_tallies(ot, nt, "target", 0, 1, top, NULL));
    json_decref(ot);
    json_decref(nt);
    return out;
}

/* The sections whose numbers are diffed as a tree, from the one JSON rendering. */
static json_t *section(const json_t *doc, const char *name)
{
    return json_object_get(doc, name);
}

static void diff_sections(json_t *d, const struct pk_snapshot *os, const struct pk_snapshot *ns,
                          const json_t *od, const json_t *nd, size_t top)
{
    const struct pk_interp_snap *om = main_or_none(os), *nm = main_or_none(ns);
    static const char *const obj_skip[] = {"types", NULL};
    json_t *objects = diff_tree(section(od, "objects"), section(nd, "objects"), 0, obj_skip);
    json_object_set_new(d, "objects", objects ? objects : json_object());
    json_object_set_new(d, "types",
                        types_diff(pk_byname_types(om->types, om->ntypes),
                                   pk_byname_types(nm->types, nm->ntypes), top, d,
                                   "types_unchanged"));
    const json_t *og = section(od, "gc"), *ng = section(nd, "gc");
    if (json_is_object(og) && json_is_object(ng)) {
        static const char *const skip[] = {"unreachable", NULL};
        json_t *g = diff_tree(og, ng, 0, skip);
        json_object_set_new(d, "gc", g ? g : json_object());
    }
    if (om->unreachable.available && nm->unreachable.available) {
        static const char *const skip[] = {"types", "untraversed_types", "examples", NULL};
        json_t *u = diff_tree(json_object_get(og, "unreachable"),
                              json_object_get(ng, "unreachable"), 0, skip);
        if (!u) u = json_object();
        json_object_set_new(u, "types",
                            types_diff(pk_byname_unreachable(&om->unreachable),
                                       pk_byname_unreachable(&nm->unreachable), top, u,
                                       "types_unchanged"));
        json_object_set_new(d, "unreachable", u);
    }
    const json_t *oga = section(od, "garbage"), *nga = section(nd, "garbage");
    if (json_is_object(oga) && json_is_object(nga)) {
        static const char *const skip[] = {"types", NULL};
        json_t *g = diff_tree(oga, nga, 0, skip);
        if (!g) g = json_object();
        json_object_set_new(g, "types",
                            types_diff(pk_byname_types(om->garbage_types, om->ngarbage_types),
                                       pk_byname_types(nm->garbage_types, nm->ngarbage_types), top,
                                       g, "types_unchanged"));
        json_object_set_new(d, "garbage", g);
    }
    const json_t *omem = section(od, "memory"), *nmem = section(nd, "memory");
    if (json_is_object(omem) && json_is_object(nmem)) {
        json_t *m = diff_tree(omem, nmem, 0, NULL);
        json_object_set_new(d, "memory", m ? m : json_object());
    }
    const json_t *of = section(od, "fds"), *nf = section(nd, "fds");
    if (json_is_object(of) && json_is_object(nf))
        json_object_set_new(d, "fds", fds_diff(of, nf, &os->fds, &ns->fds, top));
}

json_t *pk_diff_snapshots(const struct pk_snapshot *os, const struct pk_snapshot *ns, size_t top)
{
    struct pk_report_opts all = {0};
    json_t *od = pk_snapshot_to_json(os, &all), *nd = pk_snapshot_to_json(ns, &all);
    json_t *d = od && nd ? json_object() : NULL;
    if (d) {
        json_object_set_new(d, "schema", json_string(PK_DIFF_SCHEMA));
        json_object_set_new(d, "old", side_json(os));
        json_object_set_new(d, "new", side_json(ns));
        double to = pk_snapshot_time(os), tn = pk_snapshot_time(ns);
        double elapsed = to >= 0 && tn >= 0 ? tn - to : 0;
        json_object_set_new(d, "elapsed_seconds",
                            to >= 0 && tn >= 0 ? json_real(pk_round_scaled(elapsed, 1e6))
                                               : json_null());
        json_t *warn = json_array();
        add_warnings(warn, os, ns, elapsed);
        json_object_set_new(d, "warnings", warn);
        diff_sections(d, os, ns, od, nd, top);
    }
    json_decref(od);
    json_decref(nd);
    return d;
}

/* Lookups in the diff document itself (its own output, pypeek.diff/1). */
static json_int_t dint(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b) v = json_object_get(v, b);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static const char *dstr(const json_t *o, const char *a, const char *b, const char *def)
{
    const json_t *v = json_object_get(o, a);
    if (b) v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : def;
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
        char joined[PK_BYNAME_KEY_MAX];
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
    fprintf(f, "pid %" JSON_INTEGER_FORMAT " (", dint(side, "pid", NULL));
    pk_fputs_escaped(f, dstr(side, "exe", NULL, ""), 300);
    fputs("), taken ", f);
    pk_fputs_escaped(f, dstr(side, "taken_at", NULL, "?"), 64);
    fputc('\n', f);
}

int pk_diff_print_text(FILE *f, const json_t *d, size_t top, struct pk_err *e)
{
    if (!top) top = 20;
    fputs("pypeek diff\n", f);
    side_line(f, "old", json_object_get(d, "old"), dstr(d, "old", "file", NULL));
    side_line(f, "new", json_object_get(d, "new"), dstr(d, "new", "file", NULL));
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
    fmt_value(dint(obj, "total", "old"), 0, a, sizeof a);
    fmt_value(dint(obj, "total", "new"), 0, b, sizeof b);
    fmt_delta(dint(obj, "total", "delta"), 0, c, sizeof c);
    fmt_value(dint(obj, "bytes", "old"), 1, x, sizeof x);
    fmt_value(dint(obj, "bytes", "new"), 1, y, sizeof y);
    fmt_delta(dint(obj, "bytes", "delta"), 1, z, sizeof z);
    fprintf(f, "\nGC-tracked objects: %s -> %s (%s); %s -> %s (%s)", a, b, c, x, y, z);
    if (dint(obj, "frozen", "new") || dint(obj, "frozen", "old")) {
        fmt_value(dint(obj, "frozen", "old"), 0, a, sizeof a);
        fmt_value(dint(obj, "frozen", "new"), 0, b, sizeof b);
        fprintf(f, "; frozen (gc.freeze) %s -> %s", a, b);
    }
    fputc('\n', f);
    rows_section(f, "Types", json_object_get(d, "types"), "type", 1, top);
    fprintf(f, "(%" JSON_INTEGER_FORMAT " types unchanged)\n", dint(d, "types_unchanged", NULL));
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
