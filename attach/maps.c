/* Parser for /proc/PID/maps: the target's address space as sorted, non-overlapping regions. */
#include "attach/maps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/proc.h"

#define MAPS_MAX_BYTES (64u << 20) /* far more than any real process prints */
#define MAPS_MAX_LINE 8192

static int parse_line(const char *line, size_t len, struct pk_map *m)
{
    const char *p = line, *end = line + len;
    uint64_t v;
    memset(m, 0, sizeof *m);
    if (pk_parse_hex(&p, 0, &m->start) < 0 || *p++ != '-') return -1;
    if (pk_parse_hex(&p, 0, &m->end) < 0 || *p++ != ' ') return -1;
    if (m->end <= m->start) return -1;
    if (end - p < 5) return -1;
    if (p[0] == 'r')
        m->perms |= PK_MAP_R;
    else if (p[0] != '-')
        return -1;
    if (p[1] == 'w')
        m->perms |= PK_MAP_W;
    else if (p[1] != '-')
        return -1;
    if (p[2] == 'x')
        m->perms |= PK_MAP_X;
    else if (p[2] != '-')
        return -1;
    if (p[3] == 'p')
        m->perms |= PK_MAP_P;
    else if (p[3] != 's')
        return -1;
    p += 4;
    if (*p++ != ' ') return -1;
    if (pk_parse_hex(&p, 0, &m->offset) < 0 || *p++ != ' ') return -1;
    if (pk_parse_hex(&p, 0, &v) < 0 || *p++ != ':') return -1;
    m->dev_major = (unsigned)v;
    if (pk_parse_hex(&p, 0, &v) < 0 || *p++ != ' ') return -1;
    m->dev_minor = (unsigned)v;
    m->inode = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (++digits > 20) return -1;
        m->inode = m->inode * 10 + (uint64_t)(*p++ - '0');
    }
    if (digits == 0 || (p < end && *p != ' ')) return -1;
    while (p < end && *p == ' ')
        p++;
    size_t plen = (size_t)(end - p);
    m->path = malloc(plen + 1);
    if (!m->path) return -2;
    memcpy(m->path, p, plen);
    m->path[plen] = '\0';
    return 0;
}

int pk_maps_parse(const char *text, struct pk_maps *out, struct pk_err *e)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0, lineno = 0;
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        lineno++;
        if (len == 0) goto next;
        if (len > MAPS_MAX_LINE) {
            pk_maps_free(out);
            return pk_fail(e, PK_E_INCONSISTENT, "maps: line %zu is too long", lineno);
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            struct pk_map *nv = realloc(out->v, ncap * sizeof *nv);
            if (!nv) {
                pk_maps_free(out);
                return pk_fail(e, PK_E_INTERNAL, "out of memory");
            }
            out->v = nv;
            cap = ncap;
        }
        struct pk_map *m = &out->v[out->n];
        int r = parse_line(line, len, m);
        if (r == -2) {
            pk_maps_free(out);
            return pk_fail(e, PK_E_INTERNAL, "out of memory");
        }
        if (r < 0) {
            pk_maps_free(out);
            return pk_fail(e, PK_E_INCONSISTENT, "maps: line %zu is malformed", lineno);
        }
        if (out->n > 0 && m->start < out->v[out->n - 1].end) {
            free(m->path);
            pk_maps_free(out);
            return pk_fail(e, PK_E_INCONSISTENT, "maps: line %zu overlaps or is out of order",
                           lineno);
        }
        out->n++;
    next:
        if (!nl) break;
        line = nl + 1;
    }
    return 0;
}

int pk_maps_read(int procfd, struct pk_maps *out, struct pk_err *e)
{
    char *text;
    int r = pk_proc_read_file(procfd, "maps", MAPS_MAX_BYTES, &text, NULL, e);
    if (r < 0) return r;
    r = pk_maps_parse(text, out, e);
    free(text);
    return r;
}

void pk_maps_free(struct pk_maps *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].path);
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

const struct pk_map *pk_maps_find(const struct pk_maps *m, uint64_t addr)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pk_map *r = &m->v[mid];
        if (addr < r->start)
            hi = mid;
        else if (addr >= r->end)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

uint64_t pk_maps_writable_bytes(const struct pk_maps *m)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].perms & PK_MAP_W) bytes += m->v[i].end - m->v[i].start;
    return bytes;
}
