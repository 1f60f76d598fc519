/* Checked member access for the snapshot reader: every value's type, sign, range and size is
   checked here, so the sections only say which members they want. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/snapshot_file.h"
#include "report/snapshot_parse.h"

/* Appends text to a path, cut at its size. */
static void append(struct pk_jpath *out, const char *text)
{
    size_t o = strlen(out->s), n = strlen(text);
    if (n > sizeof out->s - 1 - o) n = sizeof out->s - 1 - o;
    memcpy(out->s + o, text, n);
    out->s[o + n] = '\0';
}

void pk_jpath_key(struct pk_jpath *out, const struct pk_jpath *base, const char *key)
{
    struct pk_jpath p = *base;
    if (p.s[0]) append(&p, ".");
    append(&p, key);
    *out = p;
}

void pk_jpath_idx(struct pk_jpath *out, const struct pk_jpath *base, size_t idx)
{
    char num[32];
    struct pk_jpath p = *base;
    snprintf(num, sizeof num, "[%zu]", idx);
    append(&p, num);
    *out = p;
}

int pk_jbad(struct pk_err *e, const struct pk_jpath *p, const char *key, const char *what)
{
    struct pk_jpath at;
    if (key)
        pk_jpath_key(&at, p, key);
    else
        at = *p;
    return pk_fail(e, PK_E_BAD_FILE, "%s %s", at.s, what);
}

/* Whether pypeek writes null for a member of this name (or an optional section may be null):
   elsewhere null is as wrong as any other type. */
static int nullable(const char *key)
{
    static const char *const keys[] = {"pymalloc",   "graph",       "holders",   "len",
                                       "parent",     "flags",       "pos",       "tid",
                                       "ident",      "interpreter", "line",      "partial_reason",
                                       "limit_soft", "limit_hard",  "function",  "file",
                                       "native",     "merged",      "truncated", "native_truncated",
                                       "name",       "untracked",   "gc",        "garbage",
                                       "memory",     "fds",         "attach",    "unreachable",
                                       "module",     "core"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(key, keys[i]) == 0) return 1;
    return 0;
}

/* The member, NULL when absent or a null pypeek may write; a missing required one fails. */
static int member(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                  const json_t **v, struct pk_err *e)
{
    *v = json_object_get(o, key);
    if (*v && json_is_null(*v)) {
        if (!nullable(key)) return pk_jbad(e, p, key, "is null");
        *v = NULL;
    }
    if (!*v && required) return pk_jbad(e, p, key, "is missing");
    return 0;
}

int pk_jcheck_counts(const json_t *o, const struct pk_jpath *p, struct pk_err *e)
{
    const char *k;
    const json_t *v;
    if (json_object_size(o) > 256) return pk_jbad(e, p, NULL, "has more keys than pypeek accepts");
    json_object_foreach((json_t *)o, k, v)
    {
        if (json_is_number(v) && (!json_is_integer(v) || json_integer_value(v) < 0))
            return pk_jbad(e, p, k, "is not a non-negative integer");
    }
    return 0;
}

int pk_jget_u64(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                uint64_t *out, struct pk_err *e)
{
    const json_t *v;
    int r = member(o, p, key, required, &v, e);
    if (r < 0 || !v) return r;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return pk_jbad(e, p, key, "is not a non-negative integer");
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int pk_jget_i64(const json_t *o, const struct pk_jpath *p, const char *key, int64_t *out,
                struct pk_err *e)
{
    const json_t *v;
    int r = member(o, p, key, 0, &v, e);
    if (r < 0 || !v) return r;
    if (!json_is_integer(v)) return pk_jbad(e, p, key, "is not an integer");
    *out = (int64_t)json_integer_value(v);
    return 0;
}

int pk_jget_int(const json_t *o, const struct pk_jpath *p, const char *key, int64_t lo, int64_t hi,
                int *out, struct pk_err *e)
{
    int64_t v = lo;
    const json_t *j = json_object_get(o, key);
    int r = pk_jget_i64(o, p, key, &v, e);
    if (r < 0 || !j || json_is_null(j)) return r;
    if (v < lo || v > hi) return pk_jbad(e, p, key, "is out of range");
    *out = (int)v;
    return 0;
}

int pk_jget_bool(const json_t *o, const struct pk_jpath *p, const char *key, int *out,
                 struct pk_err *e)
{
    const json_t *v;
    int r = member(o, p, key, 0, &v, e);
    if (r < 0 || !v) return r;
    if (!json_is_boolean(v)) return pk_jbad(e, p, key, "is not a boolean");
    *out = json_is_true(v);
    return 0;
}

int pk_jget_real(const json_t *o, const struct pk_jpath *p, const char *key, double *out,
                 struct pk_err *e)
{
    const json_t *v;
    int r = member(o, p, key, 0, &v, e);
    if (r < 0 || !v) return r;
    if (!json_is_number(v)) return pk_jbad(e, p, key, "is not a number");
    *out = json_number_value(v);
    return 0;
}

int pk_jget_str(const json_t *o, const struct pk_jpath *p, const char *key, const char **out,
                struct pk_err *e)
{
    const json_t *v;
    int r = member(o, p, key, 0, &v, e);
    *out = NULL;
    if (r < 0 || !v) return r;
    if (!json_is_string(v)) return pk_jbad(e, p, key, "is not a string");
    if (json_string_length(v) > PK_SNAPSHOT_MAX_STRING)
        return pk_jbad(e, p, key, "is longer than pypeek accepts");
    /* jansson refuses invalid UTF-8 and \u0000 when loading: the text is clean UTF-8 */
    *out = json_string_value(v);
    return 0;
}

int pk_jget_buf(const json_t *o, const struct pk_jpath *p, const char *key, int required, char *buf,
                size_t cap, struct pk_err *e)
{
    const json_t *v;
    const char *s;
    int r = member(o, p, key, required, &v, e);
    if (r == 0 && v) r = pk_jget_str(o, p, key, &s, e);
    if (r < 0 || !v) return r;
    /* longer than the field (a name made longer by U+FFFD replacements, or a hostile file):
       cut at a character boundary */
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int pk_jget_dup(const json_t *o, const struct pk_jpath *p, const char *key, const char *def,
                char **out, struct pk_err *e)
{
    const char *s;
    int r = pk_jget_str(o, p, key, &s, e);
    *out = NULL;
    if (r < 0) return r;
    if (!s) s = def;
    if (s && !(*out = strdup(s))) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    return 0;
}

int pk_jget_obj(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                const json_t **out, struct pk_err *e)
{
    int r = member(o, p, key, required, out, e);
    if (r < 0 || !*out) return r;
    if (!json_is_object(*out)) return pk_jbad(e, p, key, "is not an object");
    return 0;
}

int pk_jget_arr(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                const json_t **out, struct pk_err *e)
{
    int r = member(o, p, key, required, out, e);
    if (r < 0 || !*out) return r;
    if (!json_is_array(*out)) return pk_jbad(e, p, key, "is not an array");
    if (json_array_size(*out) > PK_SNAPSHOT_MAX_ITEMS)
        return pk_jbad(e, p, key, "has more entries than pypeek accepts");
    return 0;
}

int pk_jalloc(size_t n, size_t size, void **out, struct pk_err *e)
{
    *out = calloc(n ? n : 1, size);
    return *out ? 0 : pk_fail(e, PK_E_INTERNAL, "out of memory");
}

int pk_jget_type_stats(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                       struct pk_type_stat **out, size_t *n, struct pk_err *e)
{
    const json_t *arr, *t;
    struct pk_jpath at, item;
    int r = pk_jget_arr(o, p, key, required, &arr, e);
    if (r < 0 || !arr) return r;
    struct pk_type_stat *v;
    if ((r = pk_jalloc(json_array_size(arr), sizeof *v, (void **)&v, e)) < 0) return r;
    *out = v;
    *n = 0;
    pk_jpath_key(&at, p, key);
    size_t i;
    json_array_foreach(arr, i, t)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(t)) return pk_jbad(e, &item, NULL, "is not an object");
        struct pk_type_stat *s = &v[(*n)++];
        if ((r = pk_jget_dup(t, &item, "type", NULL, &s->name, e)) < 0) return r;
        if (!s->name) return pk_jbad(e, &item, "type", "is missing");
        if ((r = pk_jget_u64(t, &item, "count", 1, &s->count, e)) < 0 ||
            (r = pk_jget_u64(t, &item, "bytes", 0, &s->bytes, e)) < 0)
            return r;
        if (((r = pk_jget_bool(t, &item, "bytes_exact", &s->size_exact, e)) < 0 ||
             (r = pk_jget_u64(t, &item, "untracked_count", 0, &s->untracked_count, e)) < 0 ||
             (r = pk_jget_u64(t, &item, "untracked_bytes", 0, &s->untracked_bytes, e)) < 0 ||
             (r = pk_jget_u64(t, &item, "frozen", 0, &s->frozen, e)) < 0))
            return r;
    }
    return 0;
}
