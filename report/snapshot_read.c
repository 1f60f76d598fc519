/* Reading saved snapshot files: bounded size, strict JSON (jansson rejects invalid UTF-8, NUL
   and duplicate keys), then a check of the shape diff and watch rely on. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpython/snapshot.h"
#include "report/snapshot_file.h"

/* What a check failure names: "objects.types[3].count". */
struct where {
    char path[160];
};

static const char *at(struct where *w, const char *base, const char *key, long idx)
{
    if (idx >= 0)
        snprintf(w->path, sizeof w->path, "%s[%ld]%s%s", base, idx, key ? "." : "", key ? key : "");
    else
        snprintf(w->path, sizeof w->path, "%s%s%s", base, *base ? "." : "", key);
    return w->path;
}

static int bad(struct pk_err *e, const char *path, const char *what)
{
    return pk_fail(e, PK_E_BAD_FILE, "%s %s", path, what);
}

/* A non-negative integer (JSON numbers with a fraction or exponent are not counts). */
static int want_count(const json_t *o, const char *base, const char *key, int required,
                      struct pk_err *e)
{
    struct where w;
    const json_t *v = json_object_get(o, key);
    if (!v) return required ? bad(e, at(&w, base, key, -1), "is missing") : 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(e, at(&w, base, key, -1), "is not a non-negative integer");
    return 0;
}

static int want_string(const json_t *o, const char *base, const char *key, int required,
                       struct pk_err *e)
{
    struct where w;
    const json_t *v = json_object_get(o, key);
    if (!v) return required ? bad(e, at(&w, base, key, -1), "is missing") : 0;
    if (!json_is_string(v)) return bad(e, at(&w, base, key, -1), "is not a string");
    if (json_string_length(v) > PK_SNAPSHOT_MAX_STRING)
        return bad(e, at(&w, base, key, -1), "is longer than pypeek accepts");
    return 0;
}

/* An optional object member: absent is fine, anything but an object (or null) is not. */
static const json_t *want_object(const json_t *o, const char *base, const char *key, int required,
                                 int *r, struct pk_err *e)
{
    struct where w;
    const json_t *v = json_object_get(o, key);
    if ((!v || json_is_null(v)) && !required) return NULL;
    if (!v)
        *r = bad(e, at(&w, base, key, -1), "is missing");
    else if (!json_is_object(v))
        *r = bad(e, at(&w, base, key, -1), "is not an object");
    return *r < 0 ? NULL : v;
}

static const json_t *want_array(const json_t *o, const char *base, const char *key, int required,
                                int *r, struct pk_err *e)
{
    struct where w;
    const json_t *v = json_object_get(o, key);
    if (!v && !required) return NULL;
    if (!v)
        *r = bad(e, at(&w, base, key, -1), "is missing");
    else if (!json_is_array(v))
        *r = bad(e, at(&w, base, key, -1), "is not an array");
    else if (json_array_size(v) > PK_SNAPSHOT_MAX_ITEMS)
        *r = bad(e, at(&w, base, key, -1), "has more entries than pypeek accepts");
    return *r < 0 ? NULL : v;
}

/* [{type, count, bytes}] as in objects.types and garbage.types. */
static int check_type_stats(const json_t *arr, const char *base, struct pk_err *e)
{
    struct where w;
    size_t i;
    const json_t *t;
    json_array_foreach(arr, i, t)
    {
        at(&w, base, NULL, (long)i);
        if (!json_is_object(t)) return bad(e, w.path, "is not an object");
        char item[sizeof w.path];
        snprintf(item, sizeof item, "%s", w.path);
        int r = want_string(t, item, "type", 1, e);
        if (r == 0) r = want_count(t, item, "count", 1, e);
        if (r == 0) r = want_count(t, item, "bytes", 0, e);
        if (r < 0) return r;
    }
    return 0;
}

/* Every number of an object of numbers (fds.by_kind, memory.pymalloc) is a count. */
static int check_counts_object(const json_t *o, const char *base, struct pk_err *e)
{
    const char *k;
    const json_t *v;
    struct where w;
    if (json_object_size(o) > 256) return bad(e, base, "has more keys than pypeek accepts");
    json_object_foreach((json_t *)o, k, v)
    {
        if (json_is_number(v) && (!json_is_integer(v) || json_integer_value(v) < 0))
            return bad(e, at(&w, base, k, -1), "is not a non-negative integer");
    }
    return 0;
}

static int check_gc(const json_t *gc, struct pk_err *e)
{
    int r = 0;
    const json_t *gens = want_array(gc, "gc", "generations", 0, &r, e);
    if (r < 0) return r;
    if (gens && json_array_size(gens) > 16) return bad(e, "gc.generations", "has too many entries");
    size_t i;
    const json_t *g;
    struct where w;
    json_array_foreach(gens, i, g)
    {
        at(&w, "gc.generations", NULL, (long)i);
        if (!json_is_object(g)) return bad(e, w.path, "is not an object");
        char item[sizeof w.path];
        snprintf(item, sizeof item, "%s", w.path);
        if ((r = want_count(g, item, "objects", 0, e)) < 0) return r;
    }
    if ((r = want_count(gc, "gc", "permanent_objects", 0, e)) < 0) return r;
    /* gc.unreachable: counts, and its types as diff and watch tally them */
    const json_t *u = want_object(gc, "gc", "unreachable", 0, &r, e);
    if (r < 0 || !u) return r;
    static const char *const counts[] = {"objects", "bytes", "retained_bytes", "finalizers"};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++)
        if ((r = want_count(u, "gc.unreachable", counts[k], 0, e)) < 0) return r;
    const json_t *ut = want_array(u, "gc.unreachable", "types", 0, &r, e);
    if (r == 0 && ut) r = check_type_stats(ut, "gc.unreachable.types", e);
    return r;
}

static int check_fds(const json_t *fds, struct pk_err *e)
{
    int r = want_count(fds, "fds", "count", 0, e);
    if (r < 0) return r;
    const json_t *kinds = want_object(fds, "fds", "by_kind", 0, &r, e);
    if (r == 0 && kinds) r = check_counts_object(kinds, "fds.by_kind", e);
    const json_t *items = r == 0 ? want_array(fds, "fds", "items", 0, &r, e) : NULL;
    size_t i;
    const json_t *it;
    struct where w;
    json_array_foreach(items, i, it)
    {
        if (r < 0) break;
        at(&w, "fds.items", NULL, (long)i);
        if (!json_is_object(it)) return bad(e, w.path, "is not an object");
        char item[sizeof w.path];
        snprintf(item, sizeof item, "%s", w.path);
        r = want_count(it, item, "fd", 0, e);
        if (r == 0) r = want_string(it, item, "kind", 0, e);
        if (r == 0) r = want_string(it, item, "target", 0, e);
    }
    return r;
}

int pk_snapshot_doc_check(const json_t *doc, struct pk_err *e)
{
    if (!json_is_object(doc))
        return pk_fail(e, PK_E_BAD_FILE, "not a JSON object: not a pypeek snapshot");
    const json_t *schema = json_object_get(doc, "schema");
    if (!json_is_string(schema))
        return pk_fail(e, PK_E_BAD_FILE, "no \"schema\" string: not a pypeek snapshot");
    if (strcmp(json_string_value(schema), PK_SNAPSHOT_SCHEMA) != 0) {
        char shown[64];
        snprintf(shown, sizeof shown, "%.60s", json_string_value(schema));
        for (char *c = shown; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
        return pk_fail(e, PK_E_BAD_FILE, "schema is \"%s\", not %s: a foreign file", shown,
                       PK_SNAPSHOT_SCHEMA);
    }
    int r = want_string(doc, "", "taken_at", 1, e);
    const json_t *target = r == 0 ? want_object(doc, "", "target", 1, &r, e) : NULL;
    if (r == 0) r = want_count(target, "target", "pid", 1, e);
    if (r == 0) r = want_string(target, "target", "exe", 0, e);
    if (r == 0) r = want_string(target, "target", "python_version", 0, e);
    if (r == 0) r = want_string(target, "target", "layout_source", 0, e);
    const json_t *attach = r == 0 ? want_object(doc, "", "attach", 0, &r, e) : NULL;
    if (r == 0 && attach) r = want_count(attach, "attach", "pause_us", 0, e);
    const json_t *objects = r == 0 ? want_object(doc, "", "objects", 1, &r, e) : NULL;
    if (r == 0) r = want_count(objects, "objects", "total", 1, e);
    if (r == 0) r = want_count(objects, "objects", "bytes", 0, e);
    const json_t *types = r == 0 ? want_array(objects, "objects", "types", 1, &r, e) : NULL;
    if (r == 0) r = check_type_stats(types, "objects.types", e);
    const json_t *gc = r == 0 ? want_object(doc, "", "gc", 0, &r, e) : NULL;
    if (r == 0 && gc) r = check_gc(gc, e);
    const json_t *garbage = r == 0 ? want_object(doc, "", "garbage", 0, &r, e) : NULL;
    if (r == 0 && garbage) {
        r = want_count(garbage, "garbage", "count", 0, e);
        const json_t *gt = r == 0 ? want_array(garbage, "garbage", "types", 0, &r, e) : NULL;
        if (r == 0 && gt) r = check_type_stats(gt, "garbage.types", e);
    }
    const json_t *memory = r == 0 ? want_object(doc, "", "memory", 0, &r, e) : NULL;
    if (r == 0 && memory) {
        r = check_counts_object(memory, "memory", e);
        const json_t *pm = r == 0 ? want_object(memory, "memory", "pymalloc", 0, &r, e) : NULL;
        if (r == 0 && pm) r = check_counts_object(pm, "memory.pymalloc", e);
    }
    const json_t *fds = r == 0 ? want_object(doc, "", "fds", 0, &r, e) : NULL;
    if (r == 0 && fds) r = check_fds(fds, e);
    return r;
}

/* Reads at most PK_SNAPSHOT_FILE_MAX + 1 bytes of a regular file into a malloc'd buffer. */
static int read_bounded(const char *path, char **buf, size_t *len, struct pk_err *e)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return pk_fail(e, PK_E_BAD_FILE, "%s: %s", path, strerror(errno));
    struct stat st;
    int r = 0;
    if (fstat(fd, &st) < 0)
        r = pk_fail(e, PK_E_BAD_FILE, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        r = pk_fail(e, PK_E_BAD_FILE, "%s is not a regular file", path);
    else if ((uint64_t)st.st_size > PK_SNAPSHOT_FILE_MAX)
        r = pk_fail(e, PK_E_BAD_FILE, "%s is %lld bytes; snapshot files over %u MiB are refused",
                    path, (long long)st.st_size, PK_SNAPSHOT_FILE_MAX >> 20);
    if (r < 0) {
        close(fd);
        return r;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = malloc(cap);
    if (!b) {
        close(fd);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    /* The file may change while read: stop at the size seen, plus one byte to notice growth. */
    while (n < cap) {
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            r = pk_fail(e, PK_E_BAD_FILE, "%s: %s", path, strerror(errno));
            break;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    if (r == 0 && n == cap) r = pk_fail(e, PK_E_BAD_FILE, "%s changed while it was read", path);
    if (r < 0) {
        free(b);
        return r;
    }
    *buf = b;
    *len = n;
    return 0;
}

int pk_snapshot_read_file(const char *path, json_t **out, struct pk_err *e)
{
    char *buf = NULL;
    size_t len = 0;
    int r = read_bounded(path, &buf, &len, e);
    if (r < 0) return r;
    if (len == 0) {
        free(buf);
        return pk_fail(e, PK_E_BAD_FILE, "%s is empty", path);
    }
    if (memchr(buf, '\0', len)) {
        free(buf);
        return pk_fail(e, PK_E_BAD_FILE, "%s contains NUL bytes: not a JSON text file", path);
    }
    json_error_t je;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!doc) {
        /* jansson reports the position after the token it stopped at */
        int eof = je.position >= 0 && (size_t)je.position >= len && strstr(je.text, "end of file");
        return pk_fail(e, PK_E_BAD_FILE, "%s is not %s JSON (%s at line %d, column %d)", path,
                       eof ? "complete" : "valid", je.text, je.line, je.column);
    }
    struct pk_err ce = {0};
    if ((r = pk_snapshot_doc_check(doc, &ce)) < 0) {
        json_decref(doc);
        return pk_fail(e, PK_E_BAD_FILE, "%s: %s", path, ce.msg);
    }
    *out = doc;
    return 0;
}
