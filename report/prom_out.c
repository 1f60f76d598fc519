/* Prometheus text exposition format of a snapshot document. Each family is written whole
   (HELP, TYPE, samples); label values are escaped (\\, \", \n) and come from valid UTF-8. */
#include "report/prom.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/snapdoc.h"

#define OTHER "(other)"

struct prom {
    FILE *f;
    char base[PK_DOC_KEY_MAX * 2]; /* pid="..",exe=".." */
};

/* Appends name="value" (escaped) to buf. */
static void label(char *buf, size_t cap, const char *name, const char *value)
{
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

/* A gauge from an integer at a dotted path, when present. */
static void gauge_at(struct prom *p, const json_t *doc, const char *path, const char *name,
                     const char *help)
{
    json_int_t v = pk_doc_int(doc, path, -1);
    if (v < 0) return;
    family(p, name, "gauge", help);
    sample_int(p, name, "", v);
}

static void bool_gauge(struct prom *p, const json_t *v, const char *name, const char *help)
{
    if (!json_is_boolean(v)) return;
    family(p, name, "gauge", help);
    sample_int(p, name, "", json_is_true(v));
}

static void info_metrics(struct prom *p, const json_t *doc)
{
    char lab[PK_DOC_KEY_MAX * 2] = "";
    label(lab, sizeof lab, "python_version", pk_doc_str(doc, "target.python_version", ""));
    label(lab, sizeof lab, "build_id", pk_doc_str(doc, "target.build_id", ""));
    family(p, "pypeek_target_info", "gauge", "The target's interpreter (value is always 1).");
    sample_int(p, "pypeek_target_info", lab, 1);
    const char *src = pk_doc_str(doc, "target.layout_source", NULL);
    if (src) {
        /* "dwarf:/usr/lib/debug/...": the method, then where it came from */
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
}

static void attach_metrics(struct prom *p, const json_t *doc)
{
    const json_t *a = json_object_get(doc, "attach");
    if (!a) return;
    json_int_t pause = pk_doc_int(a, "pause_us", -1), wall = pk_doc_int(a, "wall_us", -1);
    if (pause >= 0) {
        family(p, "pypeek_pause_seconds", "gauge",
               "How long the target's threads were stopped for this snapshot.");
        sample_real(p, "pypeek_pause_seconds", "", (double)pause / 1e6);
    }
    if (wall >= 0) {
        family(p, "pypeek_duration_seconds", "gauge",
               "How long pypeek took for this snapshot, resolving the layout included.");
        sample_real(p, "pypeek_duration_seconds", "", (double)wall / 1e6);
    }
    gauge_at(p, a, "retries", "pypeek_read_retries",
             "Times pypeek read the heap again because a collection was running.");
    gauge_at(p, a, "threads", "pypeek_threads_stopped", "OS threads stopped while reading.");
    bool_gauge(p, json_object_get(a, "consistent"), "pypeek_snapshot_consistent",
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

/* Per-type gauges: the top types by count, the rest summed as type="(other)". */
static int type_metrics(struct prom *p, const json_t *list, size_t top, const char *count_name,
                        const char *count_help, const char *bytes_name, const char *bytes_help)
{
    json_t *tally = pk_doc_tally_types(list);
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
        pk_doc_tally_get(tally, k, &r.count, &r.bytes);
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
        char lab[PK_DOC_KEY_MAX + 64];
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

/* A per-generation family from the integer key of each gc.generations[] entry. */
static void generation_family(struct prom *p, const json_t *gens, const char *key, const char *name,
                              const char *type, const char *help)
{
    size_t i;
    const json_t *g;
    int any = 0;
    json_array_foreach(gens, i, g) any |= json_is_integer(json_object_get(g, key));
    if (!any) return;
    family(p, name, type, help);
    json_array_foreach(gens, i, g)
    {
        const json_t *v = json_object_get(g, key);
        if (!json_is_integer(v)) continue;
        char lab[48];
        snprintf(lab, sizeof lab, "generation=\"%zu\"", i);
        sample_int(p, name, lab, json_integer_value(v));
    }
}

static void gc_metrics(struct prom *p, const json_t *gc)
{
    if (!json_is_object(gc)) return;
    bool_gauge(p, json_object_get(gc, "enabled"), "pypeek_gc_enabled",
               "1 when automatic garbage collection is enabled (gc.isenabled()).");
    gauge_at(p, gc, "debug_flags", "pypeek_gc_debug_flags", "gc.get_debug() flags.");
    const json_t *gens = json_object_get(gc, "generations");
    generation_family(p, gens, "objects", "pypeek_gc_generation_objects", "gauge",
                      "Objects in each GC generation (len(gc.get_objects(generation))).");
    generation_family(p, gens, "threshold", "pypeek_gc_threshold", "gauge",
                      "Collection threshold of each generation (gc.get_threshold()).");
    generation_family(p, gens, "count", "pypeek_gc_pending", "gauge",
                      "gc.get_count(): allocations (generation 0) or younger collections "
                      "since the generation was last collected.");
    generation_family(p, gens, "collections", "pypeek_gc_collections_total", "counter",
                      "Collections of each generation (gc.get_stats()).");
    generation_family(p, gens, "collected", "pypeek_gc_collected_objects_total", "counter",
                      "Objects collected by collections of each generation (gc.get_stats()).");
    generation_family(p, gens, "uncollectable", "pypeek_gc_uncollectable_objects_total", "counter",
                      "Objects found uncollectable by collections of each generation.");
    gauge_at(p, gc, "permanent_objects", "pypeek_gc_permanent_objects",
             "Objects frozen with gc.freeze() (gc.get_freeze_count()).");
}

/* gc.unreachable: by type (the top ones; the rest, and what the document's list left out,
   as type="(other)"), the finalizers, the retained bytes and whether the answer is whole. */
static int unreachable_metrics(struct prom *p, const json_t *u, size_t top)
{
    if (!json_is_object(u) || !json_is_true(json_object_get(u, "available"))) return 0;
    const json_t *types = json_object_get(u, "types");
    json_t *list = json_is_array(types) ? json_deep_copy(types) : json_array();
    if (!list) return -1;
    json_int_t objects = pk_doc_int(u, "objects", 0), bytes = pk_doc_int(u, "bytes", 0);
    json_int_t listed = 0, listed_bytes = 0;
    size_t i;
    const json_t *t;
    json_array_foreach(list, i, t)
    {
        json_int_t c = pk_doc_int(t, "count", 0), b = pk_doc_int(t, "bytes", 0);
        listed = c > PK_JSON_INT_MAX - listed ? PK_JSON_INT_MAX : listed + c;
        listed_bytes = b > PK_JSON_INT_MAX - listed_bytes ? PK_JSON_INT_MAX : listed_bytes + b;
    }
    if (objects > listed)
        json_array_append_new(list,
                              json_pack("{s:s, s:I, s:I}", "type", OTHER, "count", objects - listed,
                                        "bytes", bytes > listed_bytes ? bytes - listed_bytes : 0));
    int r = type_metrics(p, list, top, "pypeek_gc_unreachable_objects",
                         "Unreachable objects the next full collection would free, by type "
                         "(top types by count, the rest as type=\"(other)\").",
                         "pypeek_gc_unreachable_bytes",
                         "sys.getsizeof() bytes of the unreachable objects, by type.");
    json_decref(list);
    gauge_at(p, u, "finalizers", "pypeek_gc_unreachable_finalizers",
             "Unreachable objects whose type has __del__ (tp_finalize) or a legacy tp_del.");
    gauge_at(p, u, "retained_bytes", "pypeek_gc_unreachable_retained_bytes",
             "Bytes the next full collection would free: the unreachable objects and the "
             "untracked objects only they hold.");
    bool_gauge(p, json_object_get(u, "complete"), "pypeek_gc_unreachable_complete",
               "1 when every candidate's references were read (the figures are exact), 0 when "
               "they are a lower bound.");
    return r;
}

static void memory_metrics(struct prom *p, const json_t *m)
{
    if (!json_is_object(m)) return;
    gauge_at(p, m, "rss_bytes", "pypeek_memory_rss_bytes", "Resident set size (VmRSS).");
    gauge_at(p, m, "hwm_bytes", "pypeek_memory_hwm_bytes", "Peak resident set size (VmHWM).");
    gauge_at(p, m, "swap_bytes", "pypeek_memory_swap_bytes", "Swapped-out memory (VmSwap).");
    const json_t *pm = json_object_get(m, "pymalloc");
    gauge_at(p, pm, "arenas", "pypeek_pymalloc_arenas", "pymalloc arenas allocated.");
    gauge_at(p, pm, "arena_bytes", "pypeek_pymalloc_arena_bytes",
             "Bytes of the arenas pymalloc holds.");
    gauge_at(p, pm, "pools", "pypeek_pymalloc_pools", "pymalloc pools in use.");
    gauge_at(p, pm, "allocated_blocks", "pypeek_pymalloc_allocated_blocks",
             "Allocated memory blocks (sys.getallocatedblocks()).");
    gauge_at(p, pm, "used_bytes", "pypeek_pymalloc_used_bytes",
             "Bytes of the blocks pymalloc has handed out.");
}

static void fd_metrics(struct prom *p, const json_t *fds)
{
    if (!json_is_object(fds)) return;
    gauge_at(p, fds, "count", "pypeek_fds_open", "Open file descriptors.");
    json_int_t soft = pk_doc_int(fds, "limit_soft", -1), hard = pk_doc_int(fds, "limit_hard", -1);
    if (soft >= 0 || hard >= 0) {
        family(p, "pypeek_fds_limit", "gauge", "RLIMIT_NOFILE of the target (soft and hard).");
        if (soft >= 0) sample_int(p, "pypeek_fds_limit", "limit=\"soft\"", soft);
        if (hard >= 0) sample_int(p, "pypeek_fds_limit", "limit=\"hard\"", hard);
    }
    json_t *kinds = pk_doc_tally_fd_kinds(fds);
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
static void thread_metrics(struct prom *p, const json_t *threads)
{
    if (!json_is_array(threads)) return;
    family(p, "pypeek_threads", "gauge", "OS threads of the target at the freeze.");
    json_int_t os = 0;
    size_t i;
    const json_t *th;
    json_array_foreach(threads, i, th) os += json_is_integer(json_object_get(th, "tid"));
    sample_int(p, "pypeek_threads", "", os);
    family(p, "pypeek_thread_holds_gil", "gauge",
           "1 for the thread holding its interpreter's GIL, per Python thread state.");
    json_array_foreach(threads, i, th)
    {
        if (!json_is_integer(json_object_get(th, "ident"))) continue;
        char id[32], lab[128] = "";
        const json_t *tid = json_object_get(th, "tid");
        snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT,
                 json_is_integer(tid) ? json_integer_value(tid) : (json_int_t)-1);
        label(lab, sizeof lab, "tid", id);
        sample_int(p, "pypeek_thread_holds_gil", lab,
                   json_is_true(json_object_get(th, "holds_gil")));
    }
}

int pk_report_prometheus(FILE *f, const json_t *doc, size_t top, struct pk_err *e)
{
    struct prom p = {f, ""};
    char pid[32];
    snprintf(pid, sizeof pid, "%" JSON_INTEGER_FORMAT, pk_doc_int(doc, "target.pid", 0));
    label(p.base, sizeof p.base, "pid", pid);
    label(p.base, sizeof p.base, "exe", pk_doc_str(doc, "target.exe", ""));
    if (!top) top = PK_PROM_DEFAULT_TOP;
    info_metrics(&p, doc);
    attach_metrics(&p, doc);
    const json_t *objects = json_object_get(doc, "objects");
    gauge_at(&p, objects, "total", "pypeek_tracked_objects",
             "Objects tracked by the garbage collector (len(gc.get_objects()) plus those frozen "
             "with gc.freeze()).");
    gauge_at(&p, objects, "bytes", "pypeek_tracked_objects_bytes",
             "sys.getsizeof() bytes of the GC-tracked objects.");
    gauge_at(&p, objects, "frozen", "pypeek_frozen_objects",
             "Of pypeek_tracked_objects: those in the permanent generation (gc.freeze()).");
    gauge_at(&p, objects, "frozen_bytes", "pypeek_frozen_objects_bytes",
             "Of pypeek_tracked_objects_bytes: the permanent generation's.");
    int r = type_metrics(&p, json_object_get(objects, "types"), top, "pypeek_type_objects",
                         "GC-tracked objects by type, gc.freeze()d ones included (top types by "
                         "count, the rest as type=\"(other)\").",
                         "pypeek_type_objects_bytes",
                         "sys.getsizeof() bytes of the GC-tracked objects by type.");
    gc_metrics(&p, json_object_get(doc, "gc"));
    const json_t *garbage = json_object_get(doc, "garbage");
    if (json_is_object(garbage)) {
        gauge_at(&p, garbage, "count", "pypeek_gc_garbage_objects",
                 "Objects in gc.garbage (uncollectable, or saved by DEBUG_SAVEALL).");
        if (r == 0 && json_array_size(json_object_get(garbage, "types")))
            r = type_metrics(&p, json_object_get(garbage, "types"), top,
                             "pypeek_gc_garbage_type_objects",
                             "Objects in gc.garbage by type (top types, the rest as "
                             "type=\"(other)\").",
                             NULL, NULL);
    }
    if (r == 0)
        r = unreachable_metrics(&p, json_object_get(json_object_get(doc, "gc"), "unreachable"),
                                top);
    memory_metrics(&p, json_object_get(doc, "memory"));
    fd_metrics(&p, json_object_get(doc, "fds"));
    thread_metrics(&p, json_object_get(doc, "threads"));
    if (r < 0) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing the metrics failed");
    return 0;
}
