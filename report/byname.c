/* Name-keyed tallies of a snapshot's types and fds, and the small conversions the comparers
   share. */
#include "report/byname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/text.h"

json_int_t pk_jint(uint64_t v)
{
    return (json_int_t)(v > (uint64_t)INT64_MAX ? INT64_MAX : v);
}

double pk_round_scaled(double v, double scale)
{
    double x = v * scale;
    if (!(x > -9e15 && x < 9e15)) return v; /* NaN, or too large to need rounding */
    return (double)(long long)(x + (x < 0 ? -0.5 : 0.5)) / scale;
}

double pk_snapshot_time(const struct pk_snapshot *snap)
{
    const char *s = snap->taken_at;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int us = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &used) != 6)
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

void pk_byname_add(json_t *tally, const char *name, uint64_t count, uint64_t bytes)
{
    char small[512], *key = small;
    size_t cap = strlen(name) * 3 + 1;
    if (cap > sizeof small && !(key = malloc(cap))) return;
    pk_utf8_sanitize(name, key, cap > sizeof small ? cap : sizeof small);
    json_int_t c = pk_jint(count), b = pk_jint(bytes);
    json_t *v = json_object_get(tally, key);
    if (!v)
        json_object_set_new(tally, key, json_pack("[I, I]", c, b));
    else {
        json_array_set_new(v, 0,
                           json_integer(sat_add(json_integer_value(json_array_get(v, 0)), c)));
        json_array_set_new(v, 1,
                           json_integer(sat_add(json_integer_value(json_array_get(v, 1)), b)));
    }
    if (key != small) free(key);
}

json_t *pk_byname_types(const struct pk_type_stat *v, size_t n)
{
    json_t *tally = json_object();
    for (size_t i = 0; tally && i < n; i++)
        pk_byname_add(tally, v[i].name, v[i].count, v[i].bytes);
    return tally;
}

json_t *pk_byname_unreachable(const struct pk_unreachable_snap *u)
{
    json_t *tally = json_object();
    for (size_t i = 0; tally && i < u->ntypes; i++)
        pk_byname_add(tally, u->types[i].name, u->types[i].count, u->types[i].bytes);
    return tally;
}

json_t *pk_byname_fd_kinds(const struct pk_fds_snap *f)
{
    json_t *tally = json_object();
    for (size_t i = 0; tally && i < f->nitems; i++)
        pk_byname_add(tally, f->items[i].kind, 1, 0);
    return tally;
}

json_t *pk_byname_fd_targets(const struct pk_fds_snap *f)
{
    json_t *tally = json_object();
    char key[PK_BYNAME_KEY_MAX];
    for (size_t i = 0; tally && i < f->nitems; i++) {
        const struct pk_fd_item *it = &f->items[i];
        /* sockets: the endpoint (a leak of connections to one server shows as one growing
           key), else the path or "socket:[inode]"; endpoints as the JSON output has them */
        int endpoints = it->inode && strcmp(it->kind, "pipe") != 0;
        const char *target = endpoints && it->remote && *it->remote ? it->remote
                             : endpoints && it->local && *it->local ? it->local
                             : it->target                           ? it->target
                                                                    : "";
        snprintf(key, sizeof key, "%s %s", it->kind, target);
        pk_byname_add(tally, key, 1, 0);
    }
    return tally;
}

void pk_byname_get(const json_t *tally, const char *name, json_int_t *count, json_int_t *bytes)
{
    const json_t *v = json_object_get(tally, name);
    *count = v ? json_integer_value(json_array_get(v, 0)) : 0;
    if (bytes) *bytes = v ? json_integer_value(json_array_get(v, 1)) : 0;
}
