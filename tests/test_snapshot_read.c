/* Reading saved snapshots (report/snapshot_file.h): a hand-made snapshot with every section
   written as JSON and read back gives the same JSON (the round trip), and the renderers and
   comparers give the same output for the snapshot and for what was read back; hostile
   documents are refused with PK_E_BAD_FILE and the path of what is wrong. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report/diff.h"
#include "report/folded_out.h"
#include "report/growth.h"
#include "report/html_out.h"
#include "report/prom.h"
#include "report/report.h"
#include "report/snapshot_file.h"

static struct pk_type_stat *stats(size_t n, const char *prefix, uint64_t base)
{
    struct pk_type_stat *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%zu", prefix, i);
        v[i].name = strdup(name);
        v[i].count = base * (n - i);
        v[i].bytes = 48 * base * (n - i);
        v[i].frozen = i == 0;
        v[i].size_exact = (int)(i % 2);
        v[i].untracked_count = i;
        v[i].untracked_bytes = 24 * i;
    }
    return v;
}

static void fill_interp(struct pk_interp_snap *is, int64_t id, int main)
{
    is->id = id;
    is->is_main = main;
    for (int g = 0; g < 3; g++)
        is->generations[g] =
            (struct pk_gen_snap){100u + (uint64_t)g, 700 - g, 3 + g, 50 + g, 1000 + g, g};
    is->permanent_objects = 5;
    is->ntypes = 30; /* more than Prometheus' default top: "(other)" is summed */
    is->types = stats(is->ntypes, main ? "mod.T" : "sub.T", 7);
    for (size_t i = 0; i < is->ntypes; i++)
        is->total_objects += is->types[i].count, is->total_bytes += is->types[i].bytes;
    is->frozen_objects = 1;
    is->frozen_bytes = 48;
    is->gc_enabled = 1;
    is->gc_debug = 0;
    is->garbage_count = 9;
    is->ngarbage_types = 2;
    is->garbage_types = stats(2, "garbage.G", 3);
    is->pymalloc = (struct pk_pymalloc_snap){1, 4, 1 << 20, 60, 9000, 500000};
}

static void fill_heap(struct pk_graph_snap *h)
{
    h->available = 1;
    h->nodes = 5000, h->edges = 9000, h->untracked_count = 300, h->untracked_bytes = 9600;
    h->tracked_traversed = 4000, h->tracked_untraversed = 10, h->unreadable = 1;
    h->nuntraversed_types = 2;
    h->untraversed_types = stats(2, "opaque.O", 5);
    h->unreachable_tracked = 4;
    h->nunreachable_types = 1;
    h->unreachable_types = stats(1, "lost.L", 4);
    h->graph_bytes = 1 << 20, h->frozen_us = 10, h->analysis_us = 2000;
    h->reachable_count = 4500, h->reachable_tracked = 3900, h->reachable_bytes = 400000;
    h->held_from_c_count = 20, h->held_from_c_bytes = 3000;
    h->globals_bytes = 300000, h->frames_bytes = 60000, h->shared_bytes = 40000;
    h->nretainers = 3;
    h->retainers = calloc(3, sizeof *h->retainers);
    const char *roots[] = {"__main__._cache", "thread 7 frame main local x", "a container"};
    for (size_t i = 0; i < 3; i++) {
        struct pk_retainer *r = &h->retainers[i];
        r->root = strdup(roots[i]);
        r->type = strdup(i == 2 ? "list" : "dict");
        r->len = i == 1 ? -1 : (int64_t)(10 * i + 1);
        r->retained_bytes = 100000 / (i + 1);
        r->retained_count = 1000 / (i + 1);
        r->is_global = i == 0, r->is_frame_local = i == 1;
        r->ntypes = 3;
        r->types = stats(3, "ret.R", 100);
    }
    h->nholders = 3;
    h->holders = calloc(3, sizeof *h->holders);
    h->holders[0] = (struct pk_holder){
        strdup("__main__._cache"), strdup("dict"), PK_HK_GLOBAL, -1, 0, 3, 300000, 3000, 0, 0};
    h->holders[1] = (struct pk_holder){
        strdup("['k']"), strdup("list"), PK_HK_OBJECT, 0, 1, -1, 200000, 2000, 0, 0};
    h->holders[2] = (struct pk_holder){
        strdup("mod.shared \xff"), strdup("Node"), PK_HK_OBJECT, -1, 0, -1, 50000, 500, 7, 1};
    h->level0_total = 2;
    h->nsuspects = 1;
    h->suspects = calloc(1, sizeof *h->suspects);
    h->suspects[0].holder = 0;
    h->suspects[0].share = 0.75;
    h->suspects[0].ntypes = 2;
    h->suspects[0].types = stats(2, "sus.S", 10);
}

static void fill_unreachable(struct pk_unreachable_snap *u)
{
    u->available = 1;
    u->objects = 40, u->bytes = 4000, u->finalizers = 2, u->retained_bytes = 5000;
    u->complete = 1;
    u->ntypes = 2;
    u->types = calloc(2, sizeof *u->types);
    u->types[0] = (struct pk_unreachable_type){strdup("__main__.Node"), 30, 3000, 2};
    u->types[1] = (struct pk_unreachable_type){strdup("dict"), 5, 500, 0};
    u->nuntraversed_types = 1;
    u->untraversed_types = stats(1, "opaque.U", 1);
    u->nexamples = 1;
    u->examples = calloc(1, sizeof *u->examples);
    u->examples[0].type = strdup("__main__.Node");
    u->examples[0].nhops = 2;
    u->examples[0].hops = calloc(2, sizeof(char *));
    u->examples[0].hops[0] = strdup("__main__.Node.other");
    u->examples[0].hops[1] = strdup("__main__.Node.back");
    u->analysis_us = 77;
}

static void fill_fds(struct pk_fds_snap *f)
{
    f->available = f->owners_available = f->sockets_available = 1;
    f->limit_soft = 1024, f->limit_hard = -1;
    f->nitems = 3;
    f->items = calloc(3, sizeof *f->items);
    f->items[0] = (struct pk_fd_item){.fd = 0, .kind = "file", .target = strdup("/dev/null")};
    f->items[0].have_fdinfo = 1;
    f->items[0].flags = O_RDWR | O_APPEND | O_CLOEXEC | 040000000u;
    f->items[0].pos = 12;
    f->items[0].nowners = 1;
    f->items[1] = (struct pk_fd_item){.fd = 3, .kind = "tcp", .target = strdup("socket:[99]")};
    f->items[1].inode = 99;
    f->items[1].local = strdup("127.0.0.1:5000");
    f->items[1].remote = strdup("127.0.0.1:40000");
    f->items[1].state = "ESTABLISHED";
    f->items[1].owner_first = 1, f->items[1].nowners = 1;
    f->items[2] = (struct pk_fd_item){.fd = 4, .kind = "pipe", .target = strdup("pipe:[5]")};
    f->items[2].inode = 5;
    f->items[2].owner_first = 2;
    f->nowners = 2;
    f->owners = calloc(2, sizeof *f->owners);
    f->owners[0] = (struct pk_fd_owner){.fd = 0,
                                        .type = strdup("_io.TextIOWrapper"),
                                        .address = 0x7f0011223344,
                                        .chain = strdup("a > b"),
                                        .fileio = 0x7f0055667788,
                                        .name = strdup("/dev/null"),
                                        .mode = "rb+",
                                        .closefd = 1};
    f->owners[1] = (struct pk_fd_owner){.fd = 3,
                                        .type = strdup("socket.socket"),
                                        .address = 0x10,
                                        .chain = strdup("socket.socket"),
                                        .is_socket = 1,
                                        .family = AF_INET,
                                        .socktype = SOCK_STREAM,
                                        .proto = 6};
}

static void fill_threads(struct pk_snapshot *s)
{
    s->threads_available = 1;
    s->nthreads = 2;
    s->threads = calloc(2, sizeof *s->threads);
    struct pk_thread_snap *t = &s->threads[0];
    t->tid = 100, t->has_ident = 1, t->ident = 0x7fff0000, t->interp_id = 0;
    snprintf(t->name, sizeof t->name, "python3");
    t->state = 'S', t->holds_gil = 1;
    t->nframes = 3;
    t->frames = calloc(3, sizeof *t->frames);
    t->frames[0] = (struct pk_pyframe){strdup("work"), strdup("/app/w.py"), 12, 0, NULL, 0};
    t->frames[1] = (struct pk_pyframe){strdup("run"), strdup("/app/w.py"), 30, 1, NULL, 0};
    t->frames[2] = (struct pk_pyframe){strdup("<module>"), strdup("/app/w.py"), -1, 1, NULL, 0};
    t->locals_read = 1;
    t->frames[0].nlocals = 1;
    t->frames[0].locals = calloc(1, sizeof *t->frames[0].locals);
    t->frames[0].locals[0] = (struct pk_local){strdup("x"), strdup("[1, 2]")};
    t->native_available = 1;
    /* two eval loops: run's call ends at its entry frame, then <module>'s */
    static const char *const natives[] = {"epoll_wait", "_PyEval_EvalFrameDefault",
                                          "_PyEval_EvalFrameDefault", "main"};
    t->nnative = 4;
    t->native = calloc(4, sizeof *t->native);
    for (size_t k = 0; k < 4; k++)
        t->native[k] = (struct pk_native_frame){0x401000 + 64 * k, strdup(natives[k]), 16,
                                                strdup(k ? "libpython3.11.so" : "libc.so")};
    t->truncated = strdup("frame budget");
    struct pk_thread_snap *u = &s->threads[1];
    u->tid = -1, u->interp_id = -1, u->state = '?';
}

static void make_snapshot(struct pk_snapshot *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->taken_at, sizeof s->taken_at, "2026-01-02T03:04:05.123456Z");
    s->target.pid = 4242;
    snprintf(s->target.exe, sizeof s->target.exe, "/usr/bin/python3.11");
    snprintf(s->target.module, sizeof s->target.module, "/usr/lib/libpython3.11.so");
    snprintf(s->target.python_version, sizeof s->target.python_version, "3.11.2");
    snprintf(s->target.build_id, sizeof s->target.build_id, "abcdef0123");
    snprintf(s->target.layout_source, sizeof s->target.layout_source, "dwarf:/usr/lib/debug/x");
    s->target.source = "process";
    s->attach.mode = "frozen";
    s->attach.pause_us = 1500, s->attach.wall_us = 9000, s->attach.retries = 1;
    s->attach.consistent = 1, s->attach.threads = 2;
    s->attach.bytes_read = 1 << 20, s->attach.read_calls = 40;
    s->attach.read = "image", s->attach.image_bytes = 1 << 22;
    s->memory.rss_bytes = 50 << 20, s->memory.hwm_bytes = 60 << 20, s->memory.swap_bytes = 0;
    s->ninterps = 2;
    s->interps = calloc(2, sizeof *s->interps);
    fill_interp(&s->interps[0], 0, 1);
    fill_interp(&s->interps[1], 1, 0);
    fill_heap(&s->interps[0].graph);
    fill_unreachable(&s->interps[0].unreachable);
    fill_fds(&s->fds);
    fill_threads(s);
    pk_snapshot_warn(s, "a warning with a \"quote\"");
}

static json_t *comparable(const struct pk_snapshot *s)
{
    struct pk_report_opts all = {0};
    return pk_snapshot_to_json(s, &all);
}

static void read_back(const struct pk_snapshot *s, struct pk_snapshot *out)
{
    struct pk_report_opts all = {0};
    json_t *doc = pk_snapshot_to_json(s, &all);
    struct pk_err e = {0};
    int r = pk_snapshot_from_json(doc, out, &e);
    cr_assert_eq(r, 0, "reading back failed: %s", e.msg);
    json_decref(doc);
}

static void assert_same_json(const json_t *a, const json_t *b)
{
    if (json_equal(a, b)) return;
    char *x = json_dumps(a, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    char *y = json_dumps(b, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    /* the first differing line, to say where */
    size_t k = 0, line = 1;
    while (x[k] && x[k] == y[k])
        line += x[k++] == '\n';
    cr_assert_fail("JSON differs at line %zu:\n%.200s\n---\n%.200s", line, x + k, y + k);
}

Test(snapshot_read, round_trip_of_every_section)
{
    struct pk_snapshot s, back, again;
    make_snapshot(&s);
    read_back(&s, &back);
    json_t *a = comparable(&s), *b = comparable(&back);
    assert_same_json(a, b);
    /* the merged view: epoll_wait, work, run, <module>, main */
    cr_assert_eq(json_array_size(
                     json_object_get(json_array_get(json_object_get(a, "threads"), 0), "merged")),
                 5);
    read_back(&back, &again); /* and once more: reading is stable */
    json_t *c = comparable(&again);
    assert_same_json(b, c);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    pk_snapshot_free(&s);
    pk_snapshot_free(&back);
    pk_snapshot_free(&again);
}

Test(snapshot_read, round_trip_of_a_core_snapshot)
{
    struct pk_snapshot s, back;
    make_snapshot(&s);
    s.target.source = "core";
    snprintf(s.core.path, sizeof s.core.path, "/tmp/core.1");
    s.core.size = 123456, s.core.signal = 11;
    pk_fds_snap_free(&s.fds);
    read_back(&s, &back);
    cr_assert(pk_snapshot_from_core(&back));
    json_t *a = comparable(&s), *b = comparable(&back);
    assert_same_json(a, b);
    json_decref(a);
    json_decref(b);
    pk_snapshot_free(&s);
    pk_snapshot_free(&back);
}

/* What a function writes for a snapshot, as text. */
static char *render(int (*fn)(FILE *, const struct pk_snapshot *, const void *),
                    const struct pk_snapshot *s, const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(fn(f, s, arg), 0);
    fclose(f);
    return buf;
}

static int prom(FILE *f, const struct pk_snapshot *s, const void *arg)
{
    struct pk_err e = {0};
    (void)arg;
    return pk_report_prometheus(f, s, 0, &e);
}

static int folded(FILE *f, const struct pk_snapshot *s, const void *arg)
{
    struct pk_err e = {0};
    (void)arg;
    return pk_folded_write(f, s, &e);
}

static int diff_text(FILE *f, const struct pk_snapshot *s, const void *arg)
{
    struct pk_err e = {0};
    json_t *d = pk_diff_snapshots(arg, s, 0);
    char *j = json_dumps(d, JSON_PRESERVE_ORDER | JSON_INDENT(1));
    fputs(j, f);
    free(j);
    int r = pk_diff_print_text(f, d, 0, &e);
    json_decref(d);
    return r;
}

static int html(FILE *f, const struct pk_snapshot *s, const void *arg)
{
    struct pk_err e = {0};
    const struct pk_snapshot *pair[2] = {arg, s};
    return pk_html_write(f, pair, 2, 20, &e);
}

static int watch(FILE *f, const struct pk_snapshot *s, const void *arg)
{
    struct pk_growth_rules rules = {80, 1, 1};
    struct pk_growth *g = pk_growth_new(&rules);
    struct pk_err e = {0};
    int r = pk_growth_add(g, arg, 0, &e);
    if (r == 0) r = pk_growth_add(g, s, 10, &e);
    if (r == 0) r = pk_growth_add(g, s, 20, &e);
    json_t *sum = pk_growth_summary(g, 0);
    char *j = json_dumps(sum, JSON_PRESERVE_ORDER | JSON_INDENT(1));
    fputs(j, f);
    free(j);
    if (r == 0) r = pk_growth_print_text(f, sum, 0, &e);
    json_decref(sum);
    pk_growth_free(g);
    return r;
}

Test(snapshot_read, renderers_and_comparers_give_the_same_output_for_a_file)
{
    struct pk_snapshot s, back, older;
    make_snapshot(&s);
    make_snapshot(&older);
    older.interps[0].types[3].count = 1; /* something to diff */
    snprintf(older.taken_at, sizeof older.taken_at, "2026-01-02T03:03:05Z");
    read_back(&s, &back);
    int (*fns[])(FILE *, const struct pk_snapshot *, const void *) = {prom, folded, diff_text, html,
                                                                      watch};
    const char *names[] = {"prometheus", "folded", "diff", "html", "watch"};
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        char *a = render(fns[i], &s, &older), *b = render(fns[i], &back, &older);
        cr_assert(strlen(a) > 100, "%s wrote little: %s", names[i], a);
        cr_assert_str_eq(a, b, "%s differs for the snapshot read back", names[i]);
        free(a);
        free(b);
    }
    /* the (other) series of Prometheus: 30 types, 20 shown */
    char *p = render(prom, &back, NULL);
    cr_assert(strstr(p, "pypeek_type_objects{pid=\"4242\",exe=\"/usr/bin/python3.11\","
                        "type=\"(other)\"}"));
    free(p);
    pk_snapshot_free(&s);
    pk_snapshot_free(&back);
    pk_snapshot_free(&older);
}

/* A hostile variant of a good document: the error names the member. */
static void assert_refused(void (*edit)(json_t *), const char *path)
{
    struct pk_snapshot s, back;
    struct pk_report_opts all = {0};
    make_snapshot(&s);
    json_t *doc = pk_snapshot_to_json(&s, &all);
    edit(doc);
    struct pk_err e = {0};
    int r = pk_snapshot_from_json(doc, &back, &e);
    cr_assert_eq(r, -PK_E_BAD_FILE, "accepted (want %s)", path);
    cr_assert(strstr(e.msg, path), "message %s does not name %s", e.msg, path);
    json_decref(doc);
    pk_snapshot_free(&s);
}

static void negative_count(json_t *d)
{
    json_object_set_new(json_array_get(json_object_get(json_object_get(d, "objects"), "types"), 2),
                        "count", json_integer(-1));
}
static void parent_ahead(json_t *d)
{
    json_object_set_new(json_array_get(json_object_get(d, "holders"), 0), "parent",
                        json_integer(2));
}
static void suspect_past_end(json_t *d)
{
    json_object_set_new(json_array_get(json_object_get(d, "leak_suspects"), 0), "holder",
                        json_integer(3));
}
static void bad_flags(json_t *d)
{
    json_object_set_new(json_array_get(json_object_get(json_object_get(d, "fds"), "items"), 0),
                        "flags", json_string("O_RDWR|O_EVIL"));
}
static void long_string(json_t *d)
{
    char *big = malloc(PK_SNAPSHOT_MAX_STRING + 2);
    memset(big, 'a', PK_SNAPSHOT_MAX_STRING + 1);
    big[PK_SNAPSHOT_MAX_STRING + 1] = '\0';
    json_object_set_new(json_array_get(json_object_get(d, "threads"), 0), "truncated",
                        json_string(big));
    free(big);
}
static void frames_object(json_t *d)
{
    json_object_set_new(json_array_get(json_object_get(d, "threads"), 0), "frames", json_object());
}
static void real_generation(json_t *d)
{
    json_object_set_new(json_array_get(json_object_get(json_object_get(d, "gc"), "generations"), 1),
                        "objects", json_real(1.5));
}
static void hop_number(json_t *d)
{
    json_t *ex = json_array_get(
        json_object_get(json_object_get(json_object_get(d, "gc"), "unreachable"), "examples"), 0);
    json_array_set_new(json_object_get(ex, "cycle"), 1, json_integer(1));
}
static void no_pid(json_t *d)
{
    json_object_del(json_object_get(d, "target"), "pid");
}

Test(snapshot_read, hostile_members_are_refused_by_path)
{
    assert_refused(negative_count, "objects.types[2].count");
    assert_refused(parent_ahead, "holders[0].parent");
    assert_refused(suspect_past_end, "leak_suspects[0].holder");
    assert_refused(bad_flags, "fds.items[0].flags");
    assert_refused(long_string, "threads[0].truncated");
    assert_refused(frames_object, "threads[0].frames");
    assert_refused(real_generation, "gc.generations[1].objects");
    assert_refused(hop_number, "gc.unreachable.examples[0].cycle[1]");
    assert_refused(no_pid, "target.pid");
}

Test(snapshot_read, optional_sections_default)
{
    static const char doc_text[] =
        "{\"schema\":\"pypeek.snapshot/1\",\"taken_at\":\"2024-01-01T00:00:00Z\","
        "\"target\":{\"pid\":1},\"objects\":{\"total\":2,\"types\":[{\"type\":\"dict\","
        "\"count\":2}]}}";
    json_t *doc = json_loads(doc_text, 0, NULL);
    struct pk_snapshot s;
    struct pk_err e = {0};
    cr_assert_eq(pk_snapshot_from_json(doc, &s, &e), 0, "%s", e.msg);
    cr_assert_eq(s.ninterps, 1);
    cr_assert_eq(s.interps[0].total_objects, 2);
    cr_assert_eq(s.attach.consistent, 1);
    cr_assert_eq(s.fds.limit_soft, -1);
    cr_assert(!s.threads_available);
    json_decref(doc);
    pk_snapshot_free(&s);
}
