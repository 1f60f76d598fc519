/* pypeek watch PID: resolve the target once, then freeze and read it once per interval, feed
   each snapshot document to the growth tracker, and end with the leak-suspect summary (also
   on Ctrl-C, for the samples taken so far). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "cli/signals.h"
#include "report/growth.h"
#include "report/html_out.h"
#include "report/report.h"
#include "report/snapdoc.h"
#include "util/clock.h"
#include "util/text.h"

/* Sleeps until the monotonic time at_us; returns early (non-zero) when a signal set cancel. */
static int sleep_until(uint64_t at_us, const volatile sig_atomic_t *cancel)
{
    struct timespec ts = {(time_t)(at_us / 1000000u), (long)(at_us % 1000000u) * 1000L};
    while (!*cancel) {
        int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (r == 0) return 0;
        if (r != EINTR) return 0;
    }
    return 1;
}

static void progress_line(unsigned i, unsigned count, const json_t *doc, json_int_t first_total,
                          size_t suspects)
{
    char total[32], delta[40], pause[32];
    json_int_t t = pk_doc_int(doc, "objects.total", 0);
    pk_fmt_count((uint64_t)t, total, sizeof total);
    json_int_t d = t - first_total;
    pk_fmt_count((uint64_t)(d < 0 ? -d : d), delta + 1, sizeof delta - 1);
    delta[0] = d < 0 ? '-' : '+';
    snprintf(pause, sizeof pause, "%.1f ms",
             (double)pk_doc_int(doc, "attach.pause_us", 0) / 1000.0);
    fprintf(stderr, "pypeek watch: sample %u", i + 1);
    if (count) fprintf(stderr, "/%u", count);
    fprintf(stderr, "  %.8s  %s objects (%s)  paused %s  %zu suspect%s",
            pk_doc_str(doc, "taken_at", "?????????????") + 11, total, delta, pause, suspects,
            suspects == 1 ? "" : "s");
    /* what the GIL holder was running: where the time of a busy service goes */
    size_t k;
    const json_t *th;
    json_array_foreach(json_object_get(doc, "threads"), k, th)
    {
        const json_t *top = json_array_get(json_object_get(th, "frames"), 0);
        if (!json_is_true(json_object_get(th, "holds_gil")) || !top) continue;
        fputs("  GIL: ", stderr);
        pk_fputs_escaped(stderr, pk_doc_str(top, "function", "?"), 80);
        fputs(" (", stderr);
        pk_fputs_escaped(stderr, pk_doc_str(top, "file", "?"), 120);
        json_int_t line = pk_doc_int(top, "line", -1);
        if (line >= 0) fprintf(stderr, ":%" JSON_INTEGER_FORMAT, line);
        fputc(')', stderr);
        break;
    }
    fputc('\n', stderr);
}

/* The samples kept for --html: the newest whole, the older ones without what the report
   draws from the newest only (fd items, retainers, per-interpreter copies); at most
   PK_HTML_MAX_SAMPLES, the oldest dropped first. */
struct kept_docs {
    json_t **v;
    size_t n, cap;
};

static int keep_doc(struct kept_docs *k, json_t *doc)
{
    if (k->n) {
        json_t *prev = k->v[k->n - 1];
        json_object_del(prev, "retainers");
        json_object_del(prev, "interpreters");
        json_object_del(json_object_get(prev, "fds"), "items");
    }
    if (k->n == PK_HTML_MAX_SAMPLES) {
        json_decref(k->v[0]);
        memmove(k->v, k->v + 1, (k->n - 1) * sizeof *k->v);
        k->n--;
    }
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 64;
        json_t **nv = realloc(k->v, nc * sizeof *nv);
        if (!nv) return -1;
        k->v = nv;
        k->cap = nc;
    }
    k->v[k->n++] = json_incref(doc);
    return 0;
}

int pk_cmd_watch(const struct pk_opts *o)
{
    struct kept_docs kept = {0};
    const volatile sig_atomic_t *cancel = pk_signals_install();
    struct pk_err e = {0};
    struct pk_growth_rules rules = {80, o->min_growth, 1};
    struct pk_growth *g = pk_growth_new(&rules);
    struct pk_capture_opts co;
    pk_cli_capture_opts(o, &co);
    struct pk_capture_live *l = NULL;
    int r = g ? pk_capture_live_open(&co, &l, &e) : pk_fail(&e, PK_E_INTERNAL, "out of memory");
    int progress = !o->quiet && isatty(STDERR_FILENO);
    uint64_t start = pk_monotonic_us();
    unsigned skipped = 0;
    json_int_t first_total = 0;
    for (unsigned i = 0; r == 0 && (o->count == 0 || i < o->count); i++) {
        if (i > 0 && sleep_until(start + (uint64_t)i * o->interval_ms * 1000u, cancel)) break;
        if (*cancel) break;
        double t = (double)(pk_monotonic_us() - start) / 1e6;
        struct pk_snapshot s;
        struct pk_err se = {0};
        int sr = pk_capture_live_take(l, cancel, &s, &se);
        if (sr == 0) {
            struct pk_report_opts all = {0};
            json_t *doc = pk_snapshot_to_json(&s, &all);
            r = doc ? pk_growth_add(g, doc, t, &e) : pk_fail(&e, PK_E_INTERNAL, "out of memory");
            if (r == 0 && o->html_path && keep_doc(&kept, doc) < 0)
                r = pk_fail(&e, PK_E_INTERNAL, "out of memory");
            if (r == 0 && pk_growth_samples(g) == 1)
                first_total = pk_doc_int(doc, "objects.total", 0);
            if (r == 0 && progress)
                progress_line(i, o->count, doc, first_total, pk_growth_suspect_count(g));
            json_decref(doc);
        } else if (pk_exit_code(se.code) == pk_exit_code(PK_E_INCONSISTENT) && !*cancel) {
            /* One unsettled read is not the end of a watch: skip the sample, say so. */
            skipped++;
            if (!o->quiet) fprintf(stderr, "pypeek: sample %u skipped: %s\n", i + 1, se.msg);
        } else if (!*cancel) {
            r = pk_refail(&e, se.code, "%s", se.msg);
        }
        pk_snapshot_free(&s);
    }
    /* The summary of what was sampled, also when interrupted or the target went away. */
    if (g && pk_growth_samples(g) > 0) {
        struct pk_err oe = {0};
        json_t *sum = pk_growth_summary(g, o->json ? o->top : 0);
        int wr = sum ? 0 : pk_fail(&oe, PK_E_INTERNAL, "out of memory");
        if (wr == 0) {
            json_object_set_new(sum, "interval_seconds", json_real(o->interval_ms / 1000.0));
            json_object_set_new(sum, "interrupted", json_boolean(*cancel != 0));
            json_object_set_new(sum, "skipped_samples", json_integer(skipped));
            if (o->json) {
                if (json_dumpf(sum, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
                    fputc('\n', stdout) == EOF)
                    wr = pk_fail(&oe, PK_E_INTERNAL, "writing JSON failed");
            } else {
                wr = pk_growth_print_text(stdout, sum, o->top ? o->top : 20, &oe);
            }
            if (wr == 0) wr = pk_cli_flush_stdout(&oe);
        }
        json_decref(sum);
        if (wr == 0 && o->html_path) {
            wr = pk_html_write_file(o->html_path, kept.v, kept.n, o->min_growth, &oe);
            if (wr == 0 && !o->quiet)
                fprintf(stderr, "pypeek watch: HTML report of %zu samples written to %s\n", kept.n,
                        o->html_path);
        }
        if (wr < 0 && r == 0) r = wr, e = oe;
    } else if (r == 0 && !*cancel) {
        r = pk_fail(&e, PK_E_INCONSISTENT, "no sample could be read consistently");
    }
    for (size_t i = 0; i < kept.n; i++)
        json_decref(kept.v[i]);
    free(kept.v);
    pk_capture_live_close(l);
    pk_growth_free(g);
    return pk_cli_finish(r, &e, cancel);
}
