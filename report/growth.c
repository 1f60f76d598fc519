/* Leak suspects from repeated snapshots: running sums per series (type, garbage type,
   unreachable type, fd kind, fd target, totals), so memory does not grow with the number of samples
   beyond a short per-sample timeline. The statistic is documented in growth.h. */
#include "report/growth.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/byname.h"
#include "report/json_util.h"
#include "report/report.h"
#include "util/text.h"

enum family {
    FAM_TYPE,
    FAM_GARBAGE,
    FAM_UNREACHABLE,
    FAM_FD_KIND,
    FAM_FD_TARGET,
    FAM_HOLDER,
    FAM_TOTAL,
    FAM_COUNT
};
static const char *const family_names[FAM_COUNT] = {
    "type", "garbage", "unreachable", "fd_kind", "fd_target", "holder", "total"};

struct series {
    int family;
    char *name;
    json_int_t first, prev, last;
    json_int_t first_bytes, last_bytes;
    uint64_t ups; /* intervals in which the count rose */
    double sum_c, sum_tc, sum_b, sum_tb;
};

struct pk_growth {
    struct pk_growth_rules rules;
    size_t n;
    double t_first, t_last, sum_t, sum_tt;
    json_t *index; /* "F:name" -> index into s */
    struct series *s;
    size_t ns, cap;
    json_t *target;   /* the first sample's target section */
    json_t *timeline; /* per-sample totals */
};

struct pk_growth *pk_growth_new(const struct pk_growth_rules *rules)
{
    struct pk_growth *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->rules = *rules;
    g->index = json_object();
    g->timeline = json_array();
    if (!g->index || !g->timeline) {
        pk_growth_free(g);
        return NULL;
    }
    return g;
}

void pk_growth_free(struct pk_growth *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->ns; i++)
        free(g->s[i].name);
    free(g->s);
    json_decref(g->index);
    json_decref(g->target);
    json_decref(g->timeline);
    free(g);
}

size_t pk_growth_samples(const struct pk_growth *g)
{
    return g->n;
}

/* The series of (family, name), created with zeros for the samples before this one. */
static int series_get(struct pk_growth *g, int fam, const char *name, struct pk_err *e)
{
    char key[PK_BYNAME_KEY_MAX + 4];
    snprintf(key, sizeof key, "%d:%s", fam, name);
    const json_t *ix = json_object_get(g->index, key);
    if (ix) return 0;
    if (g->ns >= PK_GROWTH_MAX_SERIES)
        return pk_fail(e, PK_E_INTERNAL, "more than %u distinct types and fd targets",
                       PK_GROWTH_MAX_SERIES);
    if (g->ns == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        struct series *s = realloc(g->s, cap * sizeof *s);
        if (!s) return pk_fail(e, PK_E_INTERNAL, "out of memory");
        g->s = s;
        g->cap = cap;
    }
    struct series *s = &g->s[g->ns];
    memset(s, 0, sizeof *s);
    s->family = fam;
    if (!(s->name = strdup(name)) ||
        json_object_set_new(g->index, key, json_integer((json_int_t)g->ns)) < 0) {
        free(s->name);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    g->ns++;
    return 0;
}

/* The level-0 holders (global, frame local, module, shared object): name -> [objects retained,
   bytes retained]; of holders with the same name, the last. */
static json_t *holders_tally(const struct pk_interp_snap *m)
{
    json_t *t = json_object();
    for (size_t i = 0; t && i < m->graph.nholders; i++) {
        const struct pk_holder *h = &m->graph.holders[i];
        if (h->parent >= 0) continue;
        json_t *name = pk_json_str(h->name);
        if (name)
            json_object_set_new(
                t, json_string_value(name),
                json_pack("[I, I]", pk_jint(h->retained_count), pk_jint(h->retained_bytes)));
        json_decref(name);
    }
    return t;
}

/* Totals as one-entry tallies, so they are tracked like any other series; a total the
   snapshot does not have (fds of a core, unreachable not computed) is left out. */
static json_t *totals_tally(const struct pk_snapshot *s, const struct pk_interp_snap *m, int main)
{
    json_t *t = json_object();
    int core = pk_snapshot_from_core(s);
    json_object_set_new(t, "objects",
                        json_pack("[I, I]", pk_jint(m->total_objects), pk_jint(m->total_bytes)));
    if (!core) json_object_set_new(t, "fds", json_pack("[I, I]", pk_jint(s->fds.nitems), 0));
    if (main) json_object_set_new(t, "garbage", json_pack("[I, I]", pk_jint(m->garbage_count), 0));
    if (m->unreachable.available)
        json_object_set_new(t, "unreachable",
                            json_pack("[I, I]", pk_jint(m->unreachable.objects), 0));
    if (main && !core)
        json_object_set_new(t, "rss_bytes", json_pack("[I, I]", pk_jint(s->memory.rss_bytes), 0));
    return t;
}

static const struct pk_interp_snap no_interp;

static json_t *timeline_entry(const struct pk_snapshot *s, const struct pk_interp_snap *m, int main,
                              double tr)
{
    json_t *entry =
        json_pack("{s:o, s:f, s:I, s:I, s:I}", "taken_at", pk_json_str(s->taken_at), "seconds",
                  pk_round_scaled(tr, 1e3), "objects", pk_jint(m->total_objects), "bytes",
                  pk_jint(m->total_bytes), "pause_us", pk_jint(s->attach.pause_us));
    if (entry && main) json_object_set_new(entry, "frozen", pk_json_u64(m->frozen_objects));
    if (entry && m->unreachable.available)
        json_object_set_new(entry, "unreachable", pk_json_u64(m->unreachable.objects));
    if (entry && !pk_snapshot_from_core(s))
        json_object_set_new(entry, "fds", pk_json_u64(s->fds.nitems));
    return entry;
}

int pk_growth_add(struct pk_growth *g, const struct pk_snapshot *snap, double t, struct pk_err *e)
{
    json_t *tallies[FAM_COUNT];
    const struct pk_interp_snap *main = pk_snapshot_main(snap);
    const struct pk_interp_snap *m = main ? main : &no_interp;
    static const struct pk_fds_snap no_fds;
    const struct pk_fds_snap *fds = pk_snapshot_from_core(snap) ? &no_fds : &snap->fds;
    tallies[FAM_TYPE] = pk_byname_types(m->types, m->ntypes);
    tallies[FAM_GARBAGE] = pk_byname_types(m->garbage_types, m->ngarbage_types);
    tallies[FAM_UNREACHABLE] = pk_byname_unreachable(&m->unreachable);
    tallies[FAM_FD_KIND] = pk_byname_fd_kinds(fds);
    tallies[FAM_FD_TARGET] = pk_byname_fd_targets(fds);
    tallies[FAM_HOLDER] = holders_tally(m);
    tallies[FAM_TOTAL] = totals_tally(snap, m, main != NULL);
    int r = 0;
    for (int f = 0; f < FAM_COUNT && r == 0; f++) {
        if (!tallies[f]) r = pk_fail(e, PK_E_INTERNAL, "out of memory");
        const char *k;
        json_t *v;
        json_object_foreach(tallies[f], k, v)
        {
            if ((r = series_get(g, f, k, e)) < 0) break;
        }
    }
    if (r == 0) {
        if (g->n == 0) {
            g->t_first = t;
            g->target = pk_snapshot_target_json(snap);
        }
        double tr = t - g->t_first;
        for (size_t i = 0; i < g->ns; i++) {
            struct series *s = &g->s[i];
            json_int_t c, b;
            pk_byname_get(tallies[s->family], s->name, &c, &b);
            if (g->n == 0)
                s->first = c, s->first_bytes = b;
            else if (c > s->prev)
                s->ups++;
            s->prev = s->last = c;
            s->last_bytes = b;
            s->sum_c += (double)c;
            s->sum_tc += tr * (double)c;
            s->sum_b += (double)b;
            s->sum_tb += tr * (double)b;
        }
        g->n++;
        g->t_last = t;
        g->sum_t += tr;
        g->sum_tt += tr * tr;
        json_array_append_new(g->timeline, timeline_entry(snap, m, main != NULL, tr));
    }
    for (int f = 0; f < FAM_COUNT; f++)
        json_decref(tallies[f]);
    return r;
}

/* Least-squares slope of the series over the sample times, per minute. */
static double slope_per_minute(const struct pk_growth *g, double sum_v, double sum_tv)
{
    double n = (double)g->n, den = n * g->sum_tt - g->sum_t * g->sum_t;
    if (g->n < 2 || den <= 0) return 0;
    return (n * sum_tv - g->sum_t * sum_v) / den * 60.0;
}

static int is_suspect(const struct pk_growth *g, const struct series *s)
{
    json_int_t net = s->last - s->first;
    if (s->family == FAM_TOTAL || net <= 0) return 0;
    if (s->family == FAM_GARBAGE) return g->n >= 2;
    size_t intervals = g->n - 1;
    if (g->n < 3 || s->ups * 100 < (uint64_t)g->rules.min_grow_percent * intervals) return 0;
    int fd = s->family == FAM_FD_KIND || s->family == FAM_FD_TARGET;
    return (uint64_t)net >= (fd ? g->rules.min_fd_growth : g->rules.min_growth);
}

size_t pk_growth_suspect_count(const struct pk_growth *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->ns; i++)
        n += is_suspect(g, &g->s[i]);
    return n;
}

static double round3(double v)
{
    return pk_round_scaled(v, 1e3);
}

static json_t *series_json(const struct pk_growth *g, const struct series *s)
{
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string(family_names[s->family]));
    if (s->family == FAM_FD_TARGET) {
        size_t kl = strcspn(s->name, " ");
        json_object_set_new(j, "fd_kind", json_stringn(s->name, kl));
        json_object_set_new(j, "name", json_string(s->name + kl + (s->name[kl] ? 1 : 0)));
    } else {
        json_object_set_new(j, "name", json_string(s->name));
    }
    json_object_set_new(j, "first", json_integer(s->first));
    json_object_set_new(j, "last", json_integer(s->last));
    json_object_set_new(j, "delta", json_integer(s->last - s->first));
    json_object_set_new(j, "grew_intervals", json_integer((json_int_t)s->ups));
    json_object_set_new(j, "intervals", json_integer(g->n ? (json_int_t)g->n - 1 : 0));
    json_object_set_new(j, "per_minute",
                        json_real(round3(slope_per_minute(g, s->sum_c, s->sum_tc))));
    if (s->family == FAM_TYPE || s->family == FAM_GARBAGE || s->family == FAM_HOLDER ||
        s->family == FAM_UNREACHABLE ||
        (s->family == FAM_TOTAL && strcmp(s->name, "objects") == 0)) {
        json_object_set_new(j, "first_bytes", json_integer(s->first_bytes));
        json_object_set_new(j, "last_bytes", json_integer(s->last_bytes));
        json_object_set_new(j, "bytes_per_minute",
                            json_real(round3(slope_per_minute(g, s->sum_b, s->sum_tb))));
    }
    return j;
}

static int cmp_rate(const void *x, const void *y)
{
    const json_t *a = *(const json_t *const *)x, *b = *(const json_t *const *)y;
    double ra = json_real_value(json_object_get(a, "per_minute"));
    double rb = json_real_value(json_object_get(b, "per_minute"));
    if (ra != rb) return ra < rb ? 1 : -1;
    return strcmp(json_string_value(json_object_get(a, "name")),
                  json_string_value(json_object_get(b, "name")));
}

json_t *pk_growth_summary(const struct pk_growth *g, size_t top)
{
    json_t *sum = json_object();
    json_object_set_new(sum, "schema", json_string(PK_WATCH_SCHEMA));
    json_object_set_new(sum, "target", g->target ? json_deep_copy(g->target) : json_object());
    json_object_set_new(sum, "samples", json_integer((json_int_t)g->n));
    json_object_set_new(sum, "elapsed_seconds", json_real(round3(g->t_last - g->t_first)));
    json_object_set_new(
        sum, "rule",
        json_pack("{s:I, s:I, s:I, s:s}", "min_grow_percent", (json_int_t)g->rules.min_grow_percent,
                  "min_growth", (json_int_t)g->rules.min_growth, "min_fd_growth",
                  (json_int_t)g->rules.min_fd_growth, "description",
                  "a type, fd kind or fd target is a suspect when at least 3 samples were taken, "
                  "its count rose in at least min_grow_percent% of the intervals and its net "
                  "growth is at least min_growth objects (min_fd_growth fds); an unreachable "
                  "type (gc.unreachable: cycles awaiting collection) by the same rule; a holder "
                  "(a level-0 holder of the heap: global, frame local, module or shared object) "
                  "by the same rule on the objects it retains; a garbage type is a suspect when "
                  "its count in gc.garbage grew at all; per_minute is the least-squares slope"));
    json_t *totals = json_object();
    json_t **sus = malloc((g->ns ? g->ns : 1) * sizeof *sus);
    size_t nsus = 0;
    for (size_t i = 0; i < g->ns; i++) {
        const struct series *s = &g->s[i];
        if (s->family == FAM_TOTAL) {
            json_t *t = series_json(g, s);
            json_object_del(t, "kind");
            json_object_del(t, "name");
            json_object_del(t, "grew_intervals");
            json_object_del(t, "intervals");
            json_object_set_new(totals, s->name, t);
        } else if (sus && is_suspect(g, s)) {
            sus[nsus++] = series_json(g, s);
        }
    }
    json_object_set_new(sum, "totals", totals);
    json_t *arr = json_array();
    if (sus) {
        qsort(sus, nsus, sizeof *sus, cmp_rate);
        for (size_t i = 0; i < nsus; i++) {
            if (!top || i < top) json_array_append(arr, sus[i]);
            json_decref(sus[i]);
        }
    }
    free(sus);
    json_object_set_new(sum, "suspect_count", json_integer((json_int_t)nsus));
    json_object_set_new(sum, "suspects", arr);
    json_object_set_new(sum, "timeline", json_deep_copy(g->timeline));
    return sum;
}

/* ---- text ---- */

/* Lookups in the summary document itself (its own output, pypeek.watch/1). */
static json_int_t sint(const json_t *o, const char *key, json_int_t def)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

static const char *sstr(const json_t *o, const char *key, const char *def)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : def;
}

static void fmt_signed(double v, int bytes, char *buf, size_t cap)
{
    char tmp[40];
    double mag = v < 0 ? -v : v;
    uint64_t m = !(mag < 1.8e19) ? UINT64_MAX : (uint64_t)(mag + 0.5);
    if (bytes)
        pk_fmt_bytes(m, tmp, sizeof tmp);
    else
        pk_fmt_count(m, tmp, sizeof tmp);
    snprintf(buf, cap, "%s%s", m == 0 ? "" : v < 0 ? "-" : "+", tmp);
}

static void total_line(FILE *f, const char *label, const json_t *t, int bytes)
{
    if (!t) return;
    char a[48], b[48], d[48], r[48];
    json_int_t first = sint(t, "first", 0), last = sint(t, "last", 0);
    if (bytes) {
        pk_fmt_bytes((uint64_t)first, a, sizeof a);
        pk_fmt_bytes((uint64_t)last, b, sizeof b);
    } else {
        pk_fmt_count((uint64_t)first, a, sizeof a);
        pk_fmt_count((uint64_t)last, b, sizeof b);
    }
    fmt_signed((double)(last - first), bytes, d, sizeof d);
    fmt_signed(json_real_value(json_object_get(t, "per_minute")), bytes, r, sizeof r);
    fprintf(f, "  %-12s %14s -> %-14s (%s, %s/min)\n", label, a, b, d, r);
}

int pk_growth_print_text(FILE *f, const json_t *sum, size_t top, struct pk_err *e)
{
    const json_t *target = json_object_get(sum, "target");
    fprintf(f, "pypeek watch: pid %" JSON_INTEGER_FORMAT " (", sint(target, "pid", 0));
    pk_fputs_escaped(f, sstr(target, "exe", "?"), 300);
    fprintf(f, "), %" JSON_INTEGER_FORMAT " samples over %.1f s%s\n", sint(sum, "samples", 0),
            json_real_value(json_object_get(sum, "elapsed_seconds")),
            json_is_true(json_object_get(sum, "interrupted")) ? " (interrupted)" : "");
    const json_t *totals = json_object_get(sum, "totals");
    total_line(f, "objects", json_object_get(totals, "objects"), 0);
    const json_t *ob = json_object_get(totals, "objects");
    if (ob) {
        char a[48], b[48], r[48];
        pk_fmt_bytes((uint64_t)sint(ob, "first_bytes", 0), a, sizeof a);
        pk_fmt_bytes((uint64_t)sint(ob, "last_bytes", 0), b, sizeof b);
        fmt_signed(json_real_value(json_object_get(ob, "bytes_per_minute")), 1, r, sizeof r);
        fprintf(f, "  %-12s %14s -> %-14s (%s/min)\n", "object bytes", a, b, r);
    }
    total_line(f, "garbage", json_object_get(totals, "garbage"), 0);
    total_line(f, "unreachable", json_object_get(totals, "unreachable"), 0);
    total_line(f, "fds", json_object_get(totals, "fds"), 0);
    total_line(f, "rss", json_object_get(totals, "rss_bytes"), 1);
    const json_t *rule = json_object_get(sum, "rule");
    json_int_t nsus = sint(sum, "suspect_count", 0);
    if (sint(sum, "samples", 0) < 3)
        fputs("\nToo few samples to name leak suspects (3 are needed).\n", f);
    else if (nsus == 0)
        fprintf(f,
                "\nNo leak suspects: nothing rose in %" JSON_INTEGER_FORMAT
                "%% of the intervals by at least %" JSON_INTEGER_FORMAT
                " objects (or %" JSON_INTEGER_FORMAT " fds), and gc.garbage did not grow.\n",
                sint(rule, "min_grow_percent", 0), sint(rule, "min_growth", 0),
                sint(rule, "min_fd_growth", 0));
    else
        fprintf(f,
                "\n%" JSON_INTEGER_FORMAT " leak suspect%s (rose in >= %" JSON_INTEGER_FORMAT
                "%% of intervals, net growth >= %" JSON_INTEGER_FORMAT
                " objects or %" JSON_INTEGER_FORMAT " fds; any growth of gc.garbage):\n"
                "  %-9s %-40s %12s %12s %7s %14s\n",
                nsus, nsus == 1 ? "" : "s", sint(rule, "min_grow_percent", 0),
                sint(rule, "min_growth", 0), sint(rule, "min_fd_growth", 0), "kind", "name",
                "first", "last", "rose", "per minute");
    size_t i, shown = 0;
    const json_t *s;
    json_array_foreach(json_object_get(sum, "suspects"), i, s)
    {
        if (top && shown++ >= top) break;
        char name[40 * 6 + 8], a[48], b[48], r[48], rb[48], full[PK_BYNAME_KEY_MAX];
        const char *fk = sstr(s, "fd_kind", NULL);
        snprintf(full, sizeof full, "%s%s%s", fk ? fk : "", fk ? " " : "", sstr(s, "name", ""));
        size_t w = pk_escape(full, name, 44);
        pk_fmt_count((uint64_t)sint(s, "first", 0), a, sizeof a);
        pk_fmt_count((uint64_t)sint(s, "last", 0), b, sizeof b);
        fmt_signed(json_real_value(json_object_get(s, "per_minute")), 0, r, sizeof r);
        fprintf(f,
                "  %-9s %s%*s %12s %12s %3" JSON_INTEGER_FORMAT "/%-3" JSON_INTEGER_FORMAT " %14s",
                sstr(s, "kind", ""), name, w < 40 ? (int)(40 - w) : 0, "", a, b,
                sint(s, "grew_intervals", 0), sint(s, "intervals", 0), r);
        if (json_object_get(s, "bytes_per_minute")) {
            fmt_signed(json_real_value(json_object_get(s, "bytes_per_minute")), 1, rb, sizeof rb);
            fprintf(f, "  (%s/min)", rb);
        }
        fputc('\n', f);
    }
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing the summary failed");
    return 0;
}
