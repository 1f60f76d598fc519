/* The human-readable report: header, totals, generations, top types by count and by bytes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/fds_report.h"
#include "report/graph_report.h"
#include "report/report.h"
#include "report/stacks_report.h"
#include "report/unreachable_report.h"
#include "util/text.h"

#define NAME_COLS 48

void pk_fmt_count(uint64_t v, char *buf, size_t cap)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

void pk_fmt_bytes(uint64_t v, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024 && u < 4)
        d /= 1024, u++;
    if (u == 0)
        snprintf(buf, cap, "%" PRIu64 " B", v);
    else
        snprintf(buf, cap, "%.1f %s", d, units[u]);
}

static int cmp_bytes(const void *x, const void *y)
{
    const struct pk_type_stat *a = *(const struct pk_type_stat *const *)x;
    const struct pk_type_stat *b = *(const struct pk_type_stat *const *)y;
    if (a->bytes != b->bytes) return a->bytes < b->bytes ? 1 : -1;
    return strcmp(a->name, b->name);
}

static void type_row(FILE *f, const struct pk_type_stat *t)
{
    char name[NAME_COLS * 6 + 8], c[32], b[32];
    size_t w = pk_escape(t->name, name, NAME_COLS + 4);
    pk_fmt_count(t->count, c, sizeof c);
    pk_fmt_bytes(t->bytes, b, sizeof b);
    fprintf(f, "  %s%*s %14s %12s%s", name, w < NAME_COLS ? (int)(NAME_COLS - w) : 0, "", c, b,
            t->size_exact ? "" : "  ~");
    if (t->frozen) {
        pk_fmt_count(t->frozen, c, sizeof c);
        fprintf(f, "  (%s frozen)", c);
    }
    fputc('\n', f);
}

static void memory_section(FILE *f, const struct pk_snapshot *s, const struct pk_interp_snap *is)
{
    char rss[32], hwm[32], swap[32];
    pk_fmt_bytes(s->memory.rss_bytes, rss, sizeof rss);
    pk_fmt_bytes(s->memory.hwm_bytes, hwm, sizeof hwm);
    pk_fmt_bytes(s->memory.swap_bytes, swap, sizeof swap);
    if (pk_snapshot_from_core(s))
        fputs("\nMemory: (a core file has no RSS, peak or swap figures)\n", f);
    else
        fprintf(f, "\nMemory: RSS %s (peak %s, swap %s)\n", rss, hwm, swap);
    pk_graph_split_text(f, is);
    const struct pk_pymalloc_snap *p = &is->pymalloc;
    if (!p->available) {
        fputs("  pymalloc: arena state not found in this build\n", f);
        return;
    }
    char held[32], used[32], blocks[32], arenas[32];
    pk_fmt_bytes(p->arena_bytes, held, sizeof held);
    pk_fmt_bytes(p->used_bytes, used, sizeof used);
    pk_fmt_count(p->allocated_blocks, blocks, sizeof blocks);
    pk_fmt_count(p->arenas, arenas, sizeof arenas);
    fprintf(f, "  pymalloc holds %s in %s arenas and uses %s of it (%s blocks)", held, arenas, used,
            blocks);
    if (p->arena_bytes > 2 * p->used_bytes && p->arena_bytes >= (8u << 20))
        fputs(": most of it is free but not returned to the OS (fragmented arenas)", f);
    fputc('\n', f);
}

static void gc_section(FILE *f, const struct pk_interp_snap *is, size_t top)
{
    const struct pk_gen_snap *g = is->generations;
    fprintf(f, "\nGC: %s, thresholds %lld/%lld/%lld, counts %lld/%lld/%lld\n",
            is->gc_enabled ? "enabled" : "DISABLED", (long long)g[0].threshold,
            (long long)g[1].threshold, (long long)g[2].threshold, (long long)g[0].count,
            (long long)g[1].count, (long long)g[2].count);
    fprintf(
        f, "  collections %lld/%lld/%lld, collected %lld/%lld/%lld, uncollectable %lld/%lld/%lld\n",
        (long long)g[0].collections, (long long)g[1].collections, (long long)g[2].collections,
        (long long)g[0].collected, (long long)g[1].collected, (long long)g[2].collected,
        (long long)g[0].uncollectable, (long long)g[1].uncollectable,
        (long long)g[2].uncollectable);
    if (!is->gc_enabled)
        fputs("  warning: the garbage collector is disabled (gc.disable()): reference cycles are "
              "never freed\n",
              f);
    if (is->gc_debug) {
        fprintf(f, "  debug flags: 0x%llx", (unsigned long long)is->gc_debug);
        if (is->gc_debug & (1 << 5))
            fputs(" (DEBUG_SAVEALL: every unreachable object is kept in gc.garbage)", f);
        fputc('\n', f);
    }
    if (is->gc_collecting) fputs("  a collection was running when the target was read\n", f);
    pk_unreachable_text(f, is, top);
    if (is->garbage_count) {
        char c[32];
        pk_fmt_count(is->garbage_count, c, sizeof c);
        fprintf(f, "  warning: gc.garbage holds %s objects that will never be freed:\n", c);
        size_t n = top && top < is->ngarbage_types ? top : is->ngarbage_types;
        for (size_t i = 0; i < n; i++)
            type_row(f, &is->garbage_types[i]);
    }
}

static void interp_section(FILE *f, const struct pk_interp_snap *is, size_t top, int many)
{
    char c[32], b[32], g0[32], g1[32], g2[32], p[32];
    pk_fmt_count(is->total_objects, c, sizeof c);
    pk_fmt_bytes(is->total_bytes, b, sizeof b);
    pk_fmt_count(is->generations[0].objects, g0, sizeof g0);
    pk_fmt_count(is->generations[1].objects, g1, sizeof g1);
    pk_fmt_count(is->generations[2].objects, g2, sizeof g2);
    pk_fmt_count(is->permanent_objects, p, sizeof p);
    if (many)
        fprintf(f, "\n== interpreter %lld%s ==\n", (long long)is->id, is->is_main ? " (main)" : "");
    gc_section(f, is, top);
    fprintf(f, "\nGC-tracked objects: %s (%s)\n", c, b);
    fprintf(f, "  generations 0/1/2: %s / %s / %s    frozen (gc.freeze): %s", g0, g1, g2, p);
    if (is->frozen_objects) {
        char fb[32];
        pk_fmt_bytes(is->frozen_bytes, fb, sizeof fb);
        fprintf(f, " (%s, counted in the types below)", fb);
    }
    fputc('\n', f);
    size_t n = top && top < is->ntypes ? top : is->ntypes;
    fprintf(f, "\nTop %zu types by count%*s %14s %12s\n", n, NAME_COLS - 18, "", "count", "bytes");
    for (size_t i = 0; i < n; i++)
        type_row(f, &is->types[i]);
    const struct pk_type_stat **by = malloc((is->ntypes ? is->ntypes : 1) * sizeof *by);
    if (!by) return;
    for (size_t i = 0; i < is->ntypes; i++)
        by[i] = &is->types[i];
    qsort(by, is->ntypes, sizeof *by, cmp_bytes);
    fprintf(f, "\nTop %zu types by bytes%*s %14s %12s\n", n, NAME_COLS - 18, "", "count", "bytes");
    for (size_t i = 0; i < n; i++)
        type_row(f, by[i]);
    free(by);
    pk_graph_report_text(f, is, top);
}

/* A core's header: which file, which process, what killed it. */
static void core_header(FILE *f, const struct pk_snapshot *s, const char *exe, const char *ver,
                        const char *read)
{
    char path[1024], size[32], sig[48] = "";
    pk_escape(s->core.path, path, sizeof path);
    pk_fmt_bytes(s->core.size, size, sizeof size);
    if (s->core.signal > 0 && s->core.signal < 65) {
        const char *name = sigabbrev_np(s->core.signal);
        snprintf(sig, sizeof sig, ", dumped on SIG%s", name ? name : "?");
    }
    fprintf(f, "pypeek %s: core file %s (%s), pid %d (%s)%s, CPython %s\n", PYPEEK_VERSION, path,
            size, (int)s->target.pid, exe, sig, ver);
    fprintf(f, "read %s from the core and its mapped files, %d threads\n", read, s->attach.threads);
}

int pk_report_text(FILE *f, const struct pk_snapshot *s, const struct pk_report_opts *o,
                   struct pk_err *e)
{
    char exe[1024], src[1024], ver[64], rb[32], calls[32];
    pk_escape(s->target.exe, exe, sizeof exe);
    pk_escape(s->target.layout_source, src, sizeof src);
    pk_escape(s->target.python_version, ver, sizeof ver);
    pk_fmt_bytes(s->attach.bytes_read, rb, sizeof rb);
    pk_fmt_count(s->attach.read_calls, calls, sizeof calls);
    if (pk_snapshot_from_core(s))
        core_header(f, s, exe, ver, rb);
    else
        fprintf(f, "pypeek %s: pid %d (%s), CPython %s\n", PYPEEK_VERSION, (int)s->target.pid, exe,
                ver);
    fprintf(f, "layout: %s\n", src);
    char how[64] = "";
    if (s->attach.read && !strcmp(s->attach.read, "image")) {
        char ib[32];
        pk_fmt_bytes(s->attach.image_bytes, ib, sizeof ib);
        snprintf(how, sizeof how, " (image copy of %s, read resumed)", ib);
    } else if (s->attach.read) {
        snprintf(how, sizeof how, " (%s)", s->attach.read);
    }
    if (!pk_snapshot_from_core(s))
        fprintf(f, "paused %" PRIu64 " us (%d threads stopped%s), read %s in %s calls%s, %s\n",
                s->attach.pause_us, s->attach.threads,
                s->attach.retries ? ", retried while GC ran" : "", rb, calls, how,
                s->attach.consistent ? "consistent" : "INCONSISTENT");
    for (size_t i = 0; i < s->nwarnings; i++) {
        fputs("warning: ", f);
        pk_fputs_escaped(f, s->warnings[i], 1000);
        fputc('\n', f);
    }
    size_t top = o->top ? o->top : 20;
    if (s->ninterps) pk_graph_suspects_text(f, &s->interps[0]);
    if (s->ninterps) memory_section(f, s, &s->interps[0]);
    for (size_t i = 0; i < s->ninterps; i++)
        interp_section(f, &s->interps[i], top, s->ninterps > 1);
    if (pk_snapshot_from_core(s))
        fputs("\nOpen file descriptors: not recorded in a core file\n", f);
    else
        pk_fds_report_text(f, &s->fds, o->top ? o->top : 10);
    pk_threads_section(f, s);
    fputs(
        "\n(~ marks sizes estimated as basicsize + items for C types with their own __sizeof__)\n",
        f);
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing the report failed");
    return 0;
}
