/* Prometheus text exposition format of a snapshot. Each family is written whole (HELP, TYPE,
   samples); label values are made valid UTF-8 and escaped (\\, \", \n). */
#include "report/prom.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/byname.h"
#include "util/text.h"

#define OTHER "(other)"

struct prom {
    FILE *f;
    char base[PK_BYNAME_KEY_MAX * 2]; /* pid="..",exe=".." */
};

/* Appends name="value" (valid UTF-8, escaped) to buf. */
static void label(char *buf, size_t cap, const char *name, const char *raw)
{
    char value[PK_BYNAME_KEY_MAX];
    pk_utf8_sanitize(raw, value, sizeof value);
    size_t o = strlen(buf);
    if (o + strlen(name) + 4 >= cap) return;
    o += (size_t)snprintf(buf + o, cap - o, "%s%s=\"", o ? "," : "", name);
    for (const char *p = value; *p && o + 4 < cap; p++) {
        if (*p == '\\' || *p == '"')
            buf[o++] = '\\', buf[o++] = *p;
        else if (*p == '\n')
            buf[o++] = '\\', buf[o++] = 'n';
        else
            buf[o++] = *p;
    }
    /* never end inside an escape or a UTF-8 sequence when cut short */
    while (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0x80)
        o--;
    if (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0xC0) o--;
    size_t bs = 0;
    while (bs < o && buf[o - 1 - bs] == '\\')
        bs++;
    if (bs % 2) o--;
    buf[o++] = '"';
    buf[o] = '\0';
}

static void family(struct prom *p, const char *name, const char *type, const char *help)
{
    fprintf(p->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample; extra is "" or a ready label list (name="value"). */
static void sample_int(struct prom *p, const char *name, const char *extra, json_int_t v)
{
    fprintf(p->f, "%s{%s%s%s} %" JSON_INTEGER_FORMAT "\n", name, p->base, *extra ? "," : "", extra,
            v);
}

static void sample_real(struct prom *p, const char *name, const char *extra, double v)
{
    fprintf(p->f, "%s{%s%s%s} %.9g\n", name, p->base, *extra ? "," : "", extra, v);
}

/* A gauge of one value; a negative one is not known and not written. */
static void gauge(struct prom *p, json_int_t v, const char *name, const char *help)
{
    if (v < 0) return;
    family(p, name, "gauge", help);
    sample_int(p, name, "", v);
}

static void bool_gauge(struct prom *p, int v, const char *name, const char *help)
{
    family(p, name, "gauge", help);
    sample_int(p, name, "", v != 0);
}

static void info_metrics(struct prom *p, const struct pk_snapshot *s)
{
    char lab[PK_BYNAME_KEY_MAX * 2] = "";
    label(lab, sizeof lab, "python_version", s->target.python_version);
    label(lab, sizeof lab, "build_id", s->target.build_id);
    family(p, "pypeek_target_info", "gauge", "The target's interpreter (value is always 1).");
    sample_int(p, "pypeek_target_info", lab, 1);
    /* "dwarf:/usr/lib/debug/...": the method, then where it came from */
    const char *src = s->target.layout_source;
    size_t k = strcspn(src, ":");
    char method[32] = "";
    snprintf(method, sizeof method, "%.*s", (int)(k < 31 ? k : 31), src);
    lab[0] = '\0';
    label(lab, sizeof lab, "source", method);
    label(lab, sizeof lab, "path", src[k] ? src + k + 1 : "");
    family(p, "pypeek_layout_info", "gauge",
           "Where the interpreter's struct layout came from (value is always 1).");
    sample_int(p, "pypeek_layout_info", lab, 1);
}

static void attach_metrics(struct prom *p, const struct pk_snapshot *s)
{
    family(p, "pypeek_pause_seconds", "gauge",
           "How long the target's threads were stopped for this snapshot.");
    sample_real(p, "pypeek_pause_seconds", "", (double)pk_jint(s->attach.pause_us) / 1e6);
    family(p, "pypeek_duration_seconds", "gauge",
           "How long pypeek took for this snapshot, resolving the layout included.");
    sample_real(p, "pypeek_duration_seconds", "", (double)pk_jint(s->attach.wall_us) / 1e6);
    gauge(p, s->attach.retries, "pypeek_read_retries",
          "Times pypeek read the heap again because a collection was running.");
    gauge(p, s->attach.threads, "pypeek_threads_stopped", "OS threads stopped while reading.");
    bool_gauge(p, s->attach.consistent, "pypeek_snapshot_consistent",
               "1 when the heap was read consistently, 0 when checks failed.");
}

struct trow {
    const char *name;
    json_int_t count, bytes;
};

static int cmp_count(const void *x, const void *y)
{
    const struct trow *a = x, *b = y;
    if (a->count != b->count) return a->count < b->count ? 1 : -1;
    return strcmp(a->name, b->name);
}

/* Per-type gauges of a tally (consumed): the top types by count, the rest summed as
   type="(other)". */
static int type_metrics(struct prom *p, json_t *tally, size_t top, const char *count_name,
                        const char *count_help, const char *bytes_name, const char *bytes_help)
{
    size_t n = 0, cap = json_object_size(tally);
    struct trow *rows = malloc((cap ? cap : 1) * sizeof *rows);
    if (!tally || !rows) {
        json_decref(tally);
        free(rows);
        return -1;
    }
    struct trow other = {OTHER, 0, 0};
    const char *k;
    json_t *v;
    json_object_foreach(tally, k, v)
    {
        struct trow r = {k, 0, 0};
        pk_byname_get(tally, k, &r.count, &r.bytes);
        if (strcmp(k, OTHER) == 0)
            other.count += r.count, other.bytes += r.bytes;
        else
            rows[n++] = r;
    }
    qsort(rows, n, sizeof *rows, cmp_count);
    size_t shown = n < top ? n : top;
    for (size_t i = shown; i < n; i++) {
        other.count = other.count > PK_JSON_INT_MAX - rows[i].count ? PK_JSON_INT_MAX
                                                                    : other.count + rows[i].count;
        other.bytes = other.bytes > PK_JSON_INT_MAX - rows[i].bytes ? PK_JSON_INT_MAX
                                                                    : other.bytes + rows[i].bytes;
    }
    int with_other = shown < n || other.count || other.bytes;
    for (int pass = 0; pass < (bytes_name ? 2 : 1); pass++) {
        const char *name = pass ? bytes_name : count_name;
        family(p, name, "gauge", pass ? bytes_help : count_help);
        char lab[PK_BYNAME_KEY_MAX + 64];
        for (size_t i = 0; i <= shown; i++) {
            const struct trow *r = i < shown ? &rows[i] : &other;
            if (i == shown && !with_other) break;
            lab[0] = '\0';
            label(lab, sizeof lab, "type", r->name);
            sample_int(p, name, lab, pass ? r->bytes : r->count);
        }
    }
    free(rows);
    json_decref(tally);
    return 0;
}

enum gen_field {
    GEN_OBJECTS,
    GEN_THRESHOLD,
    GEN_COUNT,
    GEN_COLLECTIONS,
    GEN_COLLECTED,
    GEN_UNCOLL
};

static json_int_t gen_value(const struct pk_gen_snap *g, enum gen_field f)
{
    switch (f) {
    case GEN_OBJECTS:
        return pk_jint(g->objects);
    case GEN_THRESHOLD:
        return g->threshold;
    case GEN_COUNT:
        return g->count;
    case GEN_COLLECTIONS:
        return g->collections;
    case GEN_COLLECTED:
        return g->collected;
    default:
        return g->uncollectable;
    }
}

/* A per-generation family of one field of the three generations. */
static void generation_family(struct prom *p, const struct pk_interp_snap *is, enum gen_field f,
                              const char *name, const char *type, const char *help)
{
    family(p, name, type, help);
    for (size_t i = 0; i < 3; i++) {
        char lab[48];
        snprintf(lab, sizeof lab, "generation=\"%zu\"", i);
        sample_int(p, name, lab, gen_value(&is->generations[i], f));
    }
}

static void gc_metrics(struct prom *p, const struct pk_interp_snap *is)
{
    bool_gauge(p, is->gc_enabled, "pypeek_gc_enabled",
               "1 when automatic garbage collection is enabled (gc.isenabled()).");
    gauge(p, is->gc_debug, "pypeek_gc_debug_flags", "gc.get_debug() flags.");
    generation_family(p, is, GEN_OBJECTS, "pypeek_gc_generation_objects", "gauge",
                      "Objects in each GC generation (len(gc.get_objects(generation))).");
    generation_family(p, is, GEN_THRESHOLD, "pypeek_gc_threshold", "gauge",
                      "Collection threshold of each generation (gc.get_threshold()).");
    generation_family(p, is, GEN_COUNT, "pypeek_gc_pending", "gauge",
                      "gc.get_count(): allocations (generation 0) or younger collections "
                      "since the generation was last collected.");
    generation_family(p, is, GEN_COLLECTIONS, "pypeek_gc_collections_total", "counter",
                      "Collections of each generation (gc.get_stats()).");
    generation_family(p, is, GEN_COLLECTED, "pypeek_gc_collected_objects_total", "counter",
                      "Objects collected by collections of each generation (gc.get_stats()).");
    generation_family(p, is, GEN_UNCOLL, "pypeek_gc_uncollectable_objects_total", "counter",
                      "Objects found uncollectable by collections of each generation.");
    gauge(p, pk_jint(is->permanent_objects), "pypeek_gc_permanent_objects",
          "Objects frozen with gc.freeze() (gc.get_freeze_count()).");
}

/* gc.unreachable: by type (the top ones; the rest, and what the list left out, as
   type="(other)"), the finalizers, the retained bytes and whether the answer is whole. */
static int unreachable_metrics(struct prom *p, const struct pk_unreachable_snap *u, size_t top)
{
    if (!u->available) return 0;
    json_t *tally = pk_byname_unreachable(u);
    json_int_t objects = pk_jint(u->objects), bytes = pk_jint(u->bytes);
    json_int_t listed = 0, listed_bytes = 0;
    for (size_t i = 0; i < u->ntypes; i++) {
        json_int_t c = pk_jint(u->types[i].count), b = pk_jint(u->types[i].bytes);
        listed = c > PK_JSON_INT_MAX - listed ? PK_JSON_INT_MAX : listed + c;
        listed_bytes = b > PK_JSON_INT_MAX - listed_bytes ? PK_JSON_INT_MAX : listed_bytes + b;
    }
    if (tally && objects > listed)
        pk_byname_add(tally, OTHER, (uint64_t)(objects - listed),
                      bytes > listed_bytes ? (uint64_t)(bytes - listed_bytes) : 0);
    int r = type_metrics(p, tally, top, "pypeek_gc_unreachable_objects",
                         "Unreachable objects the next full collection would free, by type "
                         "(top types by count, the rest as type=\"(other)\").",
                         "pypeek_gc_unreachable_bytes",
                         "sys.getsizeof() bytes of the unreachable objects, by type.");
    gauge(p, pk_jint(u->finalizers), "pypeek_gc_unreachable_finalizers",
          "Unreachable objects whose type has __del__ (tp_finalize) or a legacy tp_del.");
    gauge(p, pk_jint(u->retained_bytes), "pypeek_gc_unreachable_retained_bytes",
          "Bytes the next full collection would free: the unreachable objects and the "
          "untracked objects only they hold.");
    bool_gauge(p, u->complete, "pypeek_gc_unreachable_complete",
               "1 when every candidate's references were read (the figures are exact), 0 when "
               "they are a lower bound.");
    return r;
}

static void memory_metrics(struct prom *p, const struct pk_snapshot *s,
                           const struct pk_pymalloc_snap *pm)
{
    if (!pk_snapshot_from_core(s)) { /* a core has no live counters */
        gauge(p, pk_jint(s->memory.rss_bytes), "pypeek_memory_rss_bytes",
              "Resident set size (VmRSS).");
        gauge(p, pk_jint(s->memory.hwm_bytes), "pypeek_memory_hwm_bytes",
              "Peak resident set size (VmHWM).");
        gauge(p, pk_jint(s->memory.swap_bytes), "pypeek_memory_swap_bytes",
              "Swapped-out memory (VmSwap).");
    }
    if (!pm->available) return;
    gauge(p, pk_jint(pm->arenas), "pypeek_pymalloc_arenas", "pymalloc arenas allocated.");
    gauge(p, pk_jint(pm->arena_bytes), "pypeek_pymalloc_arena_bytes",
          "Bytes of the arenas pymalloc holds.");
    gauge(p, pk_jint(pm->pools), "pypeek_pymalloc_pools", "pymalloc pools in use.");
    gauge(p, pk_jint(pm->allocated_blocks), "pypeek_pymalloc_allocated_blocks",
          "Allocated memory blocks (sys.getallocatedblocks()).");
    gauge(p, pk_jint(pm->used_bytes), "pypeek_pymalloc_used_bytes",
          "Bytes of the blocks pymalloc has handed out.");
}

static void fd_metrics(struct prom *p, const struct pk_fds_snap *f)
{
    gauge(p, pk_jint(f->nitems), "pypeek_fds_open", "Open file descriptors.");
    int64_t soft = f->limit_soft, hard = f->limit_hard;
    if (soft >= 0 || hard >= 0) {
        family(p, "pypeek_fds_limit", "gauge", "RLIMIT_NOFILE of the target (soft and hard).");
        if (soft >= 0) sample_int(p, "pypeek_fds_limit", "limit=\"soft\"", soft);
        if (hard >= 0) sample_int(p, "pypeek_fds_limit", "limit=\"hard\"", hard);
    }
    json_t *kinds = pk_byname_fd_kinds(f);
    if (json_object_size(kinds)) {
        family(p, "pypeek_fds_by_kind", "gauge", "Open file descriptors by kind.");
        const char *k;
        json_t *v;
        json_object_foreach(kinds, k, v)
        {
            char lab[256] = "";
            label(lab, sizeof lab, "kind", k);
            sample_int(p, "pypeek_fds_by_kind", lab, json_integer_value(json_array_get(v, 0)));
        }
    }
    json_decref(kinds);
}

/* Threads: how many, and which Python thread holds the GIL (one sample per thread state). */
static void thread_metrics(struct prom *p, const struct pk_snapshot *s)
{
    if (!s->threads_available) return;
    family(p, "pypeek_threads", "gauge", "OS threads of the target at the freeze.");
    json_int_t os = 0;
    for (size_t i = 0; i < s->nthreads; i++)
        os += s->threads[i].tid >= 0;
    sample_int(p, "pypeek_threads", "", os);
    family(p, "pypeek_thread_holds_gil", "gauge",
           "1 for the thread holding its interpreter's GIL, per Python thread state.");
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct pk_thread_snap *t = &s->threads[i];
        if (!t->has_ident) continue;
        char id[32], lab[128] = "";
        snprintf(id, sizeof id, "%" PRId64, t->tid >= 0 ? t->tid : (int64_t)-1);
        label(lab, sizeof lab, "tid", id);
        sample_int(p, "pypeek_thread_holds_gil", lab, t->holds_gil != 0);
    }
}

int pk_report_prometheus(FILE *f, const struct pk_snapshot *s, size_t top, struct pk_err *e)
{
    struct prom p = {f, ""};
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)s->target.pid);
    label(p.base, sizeof p.base, "pid", pid);
    label(p.base, sizeof p.base, "exe", s->target.exe);
    if (!top) top = PK_PROM_DEFAULT_TOP;
    info_metrics(&p, s);
    attach_metrics(&p, s);
    const struct pk_interp_snap *main = pk_snapshot_main(s);
    static const struct pk_interp_snap none;
    const struct pk_interp_snap *is = main ? main : &none;
    if (main) {
        gauge(&p, pk_jint(is->total_objects), "pypeek_tracked_objects",
              "Objects tracked by the garbage collector (len(gc.get_objects()) plus those "
              "frozen with gc.freeze()).");
        gauge(&p, pk_jint(is->total_bytes), "pypeek_tracked_objects_bytes",
              "sys.getsizeof() bytes of the GC-tracked objects.");
        gauge(&p, pk_jint(is->frozen_objects), "pypeek_frozen_objects",
              "Of pypeek_tracked_objects: those in the permanent generation (gc.freeze()).");
        gauge(&p, pk_jint(is->frozen_bytes), "pypeek_frozen_objects_bytes",
              "Of pypeek_tracked_objects_bytes: the permanent generation's.");
    }
    int r = type_metrics(&p, pk_byname_types(is->types, is->ntypes), top, "pypeek_type_objects",
                         "GC-tracked objects by type, gc.freeze()d ones included (top types by "
                         "count, the rest as type=\"(other)\").",
                         "pypeek_type_objects_bytes",
                         "sys.getsizeof() bytes of the GC-tracked objects by type.");
    if (main) {
        gc_metrics(&p, is);
        gauge(&p, pk_jint(is->garbage_count), "pypeek_gc_garbage_objects",
              "Objects in gc.garbage (uncollectable, or saved by DEBUG_SAVEALL).");
        if (r == 0 && is->ngarbage_types)
            r = type_metrics(&p, pk_byname_types(is->garbage_types, is->ngarbage_types), top,
                             "pypeek_gc_garbage_type_objects",
                             "Objects in gc.garbage by type (top types, the rest as "
                             "type=\"(other)\").",
                             NULL, NULL);
        if (r == 0) r = unreachable_metrics(&p, &is->unreachable, top);
        memory_metrics(&p, s, &is->pymalloc);
    }
    if (!pk_snapshot_from_core(s)) fd_metrics(&p, &s->fds);
    thread_metrics(&p, s);
    if (r < 0) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing the metrics failed");
    return 0;
}
