/* pypeek watch PID: resolve the target once, then freeze and read it once per interval, feed
   each snapshot to the growth tracker, and end with the leak-suspect summary (also
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
#include "cpython/graph.h"
#include "report/growth.h"
#include "report/html_out.h"
#include "report/report.h"
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

/* A string from the target as the JSON output has it (valid UTF-8), then escaped. */
static void put_escaped(const char *s, size_t max)
{
    char clean[512];
    pk_utf8_sanitize(s, clean, sizeof clean);
    pk_fputs_escaped(stderr, clean, max);
}

static void progress_line(unsigned i, unsigned count, const struct pk_snapshot *s,
                          uint64_t first_total, size_t suspects)
{
    char total[32], delta[40], pause[32];
    const struct pk_interp_snap *m = pk_snapshot_main(s);
    uint64_t t = m ? m->total_objects : 0;
    pk_fmt_count(t, total, sizeof total);
    pk_fmt_count(t >= first_total ? t - first_total : first_total - t, delta + 1, sizeof delta - 1);
    delta[0] = t < first_total ? '-' : '+';
    snprintf(pause, sizeof pause, "%.1f ms", (double)s->attach.pause_us / 1000.0);
    fprintf(stderr, "pypeek watch: sample %u", i + 1);
    if (count) fprintf(stderr, "/%u", count);
    fprintf(stderr, "  %.8s  %s objects (%s)  paused %s  %zu suspect%s",
            strlen(s->taken_at) > 11 ? s->taken_at + 11 : "??", total, delta, pause, suspects,
            suspects == 1 ? "" : "s");
    /* what the GIL holder was running: where the time of a busy service goes */
    for (size_t k = 0; s->threads_available && k < s->nthreads; k++) {
        const struct pk_thread_snap *th = &s->threads[k];
        if (!th->holds_gil || !th->nframes) continue;
        const struct pk_pyframe *top = &th->frames[0];
        fputs("  GIL: ", stderr);
        put_escaped(top->function ? top->function : "?", 80);
        fputs(" (", stderr);
        put_escaped(top->file ? top->file : "?", 120);
        if (top->line >= 0) fprintf(stderr, ":%d", top->line);
        fputc(')', stderr);
        break;
    }
    fputc('\n', stderr);
}

/* The samples kept for --html: the newest whole, the older ones without what the report
   draws from the newest only (fd items, retainers, other interpreters, the object graph); at
   most PK_HTML_MAX_SAMPLES, the oldest dropped first. */
struct kept_snaps {
    struct pk_snapshot *v;
    size_t n, cap;
};

static void trim_older(struct pk_snapshot *s)
{
    for (size_t i = 1; i < s->ninterps; i++)
        pk_interp_snap_clear(&s->interps[i]);
    if (s->ninterps > 1) s->ninterps = 1;
    if (s->ninterps) pk_graph_snap_free_retainers(&s->interps[0].graph);
    /* fd kinds stay (the growth of fds by kind), their targets and owners go */
    for (size_t i = 0; i < s->fds.nitems; i++) {
        struct pk_fd_item *it = &s->fds.items[i];
        free(it->target);
        free(it->local);
        free(it->remote);
        it->target = it->local = it->remote = NULL;
        it->inode = 0;
        it->owner_first = it->nowners = 0;
    }
    for (size_t i = 0; i < s->fds.nowners; i++) {
        free(s->fds.owners[i].type);
        free(s->fds.owners[i].chain);
        free(s->fds.owners[i].name);
    }
    free(s->fds.owners);
    s->fds.owners = NULL;
    s->fds.nowners = 0;
}

/* Takes s over (it is left empty). */
static int keep_snapshot(struct kept_snaps *k, struct pk_snapshot *s)
{
    if (k->n) trim_older(&k->v[k->n - 1]);
    if (k->n == PK_HTML_MAX_SAMPLES) {
        pk_snapshot_free(&k->v[0]);
        memmove(k->v, k->v + 1, (k->n - 1) * sizeof *k->v);
        k->n--;
    }
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 64;
        struct pk_snapshot *nv = realloc(k->v, nc * sizeof *nv);
        if (!nv) return -1;
        k->v = nv;
        k->cap = nc;
    }
    pk_graph_free(s->graph); /* the report draws from the summaries, not the graph */
    s->graph = NULL;
    k->v[k->n++] = *s;
    memset(s, 0, sizeof *s);
    return 0;
}

static int write_html(const char *path, const struct kept_snaps *k, uint64_t min_growth,
                      struct pk_err *e)
{
    const struct pk_snapshot **order = calloc(k->n ? k->n : 1, sizeof *order);
    if (!order) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < k->n; i++)
        order[i] = &k->v[i];
    int r = pk_html_write_file(path, order, k->n, min_growth, e);
    free(order);
    return r;
}

int pk_cmd_watch(const struct pk_opts *o)
{
    struct kept_snaps kept = {0};
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
    uint64_t first_total = 0;
    for (unsigned i = 0; r == 0 && (o->count == 0 || i < o->count); i++) {
        if (i > 0 && sleep_until(start + (uint64_t)i * o->interval_ms * 1000u, cancel)) break;
        if (*cancel) break;
        double t = (double)(pk_monotonic_us() - start) / 1e6;
        struct pk_snapshot s;
        struct pk_err se = {0};
        int sr = pk_capture_live_take(l, cancel, &s, &se);
        if (sr == 0) {
            r = pk_growth_add(g, &s, t, &e);
            if (r == 0 && pk_growth_samples(g) == 1 && pk_snapshot_main(&s))
                first_total = pk_snapshot_main(&s)->total_objects;
            if (r == 0 && progress)
                progress_line(i, o->count, &s, first_total, pk_growth_suspect_count(g));
            if (r == 0 && o->html_path && keep_snapshot(&kept, &s) < 0)
                r = pk_fail(&e, PK_E_INTERNAL, "out of memory");
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
            wr = write_html(o->html_path, &kept, o->min_growth, &oe);
            if (wr == 0 && !o->quiet)
                fprintf(stderr, "pypeek watch: HTML report of %zu samples written to %s\n", kept.n,
                        o->html_path);
        }
        if (wr < 0 && r == 0) r = wr, e = oe;
    } else if (r == 0 && !*cancel) {
        r = pk_fail(&e, PK_E_INCONSISTENT, "no sample could be read consistently");
    }
    for (size_t i = 0; i < kept.n; i++)
        pk_snapshot_free(&kept.v[i]);
    free(kept.v);
    pk_capture_live_close(l);
    pk_growth_free(g);
    return pk_cli_finish(r, &e, cancel);
}
