/* Reading snapshot documents: dotted-path lookups and name-keyed tallies of types and fds,
   shared by diff, watch and the Prometheus output. */
#include "report/snapdoc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const json_t *lookup(const json_t *doc, const char *path)
{
    char key[64];
    const json_t *v = doc;
    while (v && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        v = json_is_object(v) ? json_object_get(v, key) : NULL;
        path += n + (path[n] == '.');
    }
    return v;
}

json_int_t pk_doc_int(const json_t *doc, const char *path, json_int_t def)
{
    const json_t *v = lookup(doc, path);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

const char *pk_doc_str(const json_t *doc, const char *path, const char *def)
{
    const json_t *v = lookup(doc, path);
    return json_is_string(v) ? json_string_value(v) : def;
}

double pk_round_scaled(double v, double scale)
{
    double x = v * scale;
    if (!(x > -9e15 && x < 9e15)) return v; /* NaN, or too large to need rounding */
    return (double)(long long)(x + (x < 0 ? -0.5 : 0.5)) / scale;
}

double pk_doc_time(const json_t *doc)
{
    const char *s = pk_doc_str(doc, "taken_at", NULL);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int us = 0, used = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return -1;
    const char *p = s + used;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 6) us = us * 10 + (*p - '0');
        for (; digits < 6; digits++)
            us *= 10;
    }
    if (strcmp(p, "Z") != 0) return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (double)t + us / 1e6;
}

static json_int_t sat_add(json_int_t a, json_int_t b)
{
    return a > PK_JSON_INT_MAX - b ? PK_JSON_INT_MAX : a + b;
}

static void tally_add(json_t *tally, const char *name, json_int_t count, json_int_t bytes)
{
    json_t *v = json_object_get(tally, name);
    if (count < 0) count = 0;
    if (bytes < 0) bytes = 0;
    if (!v) {
        json_object_set_new(tally, name, json_pack("[I, I]", count, bytes));
        return;
    }
    json_array_set_new(v, 0,
                       json_integer(sat_add(json_integer_value(json_array_get(v, 0)), count)));
    json_array_set_new(v, 1,
                       json_integer(sat_add(json_integer_value(json_array_get(v, 1)), bytes)));
}

json_t *pk_doc_tally_types(const json_t *list)
{
    json_t *tally = json_object();
    size_t i;
    const json_t *t;
    json_array_foreach(list, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "type"));
        if (name)
            tally_add(tally, name, json_integer_value(json_object_get(t, "count")),
                      json_integer_value(json_object_get(t, "bytes")));
    }
    return tally;
}

json_t *pk_doc_tally_fd_kinds(const json_t *fds)
{
    json_t *tally = json_object();
    const json_t *by_kind = json_object_get(fds, "by_kind");
    if (json_is_object(by_kind)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)by_kind, k, v) if (json_is_integer(v))
            tally_add(tally, k, json_integer_value(v), 0);
        return tally;
    }
    size_t i;
    const json_t *it;
    json_array_foreach(json_object_get(fds, "items"), i, it)
    {
        const char *kind = json_string_value(json_object_get(it, "kind"));
        tally_add(tally, kind ? kind : "unknown", 1, 0);
    }
    return tally;
}

json_t *pk_doc_tally_fd_targets(const json_t *fds)
{
    json_t *tally = json_object();
    size_t i;
    const json_t *it;
    char key[PK_DOC_KEY_MAX];
    json_array_foreach(json_object_get(fds, "items"), i, it)
    {
        const char *kind = json_string_value(json_object_get(it, "kind"));
        /* sockets: the endpoint (a leak of connections to one server shows as one
           growing key), else the path or "socket:[inode]" */
        const char *target = NULL;
        static const char *const keys[] = {"remote", "local", "target"};
        for (size_t k = 0; k < 3 && !(target && *target); k++)
            target = json_string_value(json_object_get(it, keys[k]));
        snprintf(key, sizeof key, "%s%s%s", kind ? kind : "unknown", target ? " " : "",
                 target ? target : "");
        tally_add(tally, key, 1, 0);
    }
    return tally;
}

void pk_doc_tally_get(const json_t *tally, const char *name, json_int_t *count, json_int_t *bytes)
{
    const json_t *v = json_object_get(tally, name);
    *count = v ? json_integer_value(json_array_get(v, 0)) : 0;
    if (bytes) *bytes = v ? json_integer_value(json_array_get(v, 1)) : 0;
}
