/* The snapshot: plain data, freed and annotated here. */
#include "cpython/snapshot.h"

#include "cpython/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pk_heap_snap_clear(struct pk_heap_snap *h)
{
    for (size_t k = 0; k < h->nuntraversed_types; k++)
        free(h->untraversed_types[k].name);
    free(h->untraversed_types);
    for (size_t i = 0; i < h->nretainers; i++) {
        free(h->retainers[i].root);
        free(h->retainers[i].type);
        for (size_t k = 0; k < h->retainers[i].ntypes; k++)
            free(h->retainers[i].types[k].name);
        free(h->retainers[i].types);
    }
    free(h->retainers);
    memset(h, 0, sizeof *h);
}

void pk_interp_snap_clear(struct pk_interp_snap *is)
{
    for (size_t k = 0; k < is->ntypes; k++)
        free(is->types[k].name);
    free(is->types);
    for (size_t k = 0; k < is->ngarbage_types; k++)
        free(is->garbage_types[k].name);
    free(is->garbage_types);
    pk_heap_snap_clear(&is->heap);
    memset(is, 0, sizeof *is);
}

void pk_snapshot_free(struct pk_snapshot *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->ninterps; i++) {
        pk_interp_snap_clear(&s->interps[i]);
    }
    free(s->interps);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    pk_fds_snap_free(&s->fds);
    pk_graph_free(s->graph);
    memset(s, 0, sizeof *s);
}

void pk_fds_snap_free(struct pk_fds_snap *f)
{
    for (size_t i = 0; i < f->nitems; i++) {
        free(f->items[i].target);
        free(f->items[i].local);
        free(f->items[i].remote);
    }
    for (size_t i = 0; i < f->nowners; i++) {
        free(f->owners[i].type);
        free(f->owners[i].chain);
        free(f->owners[i].name);
    }
    free(f->items);
    free(f->owners);
    memset(f, 0, sizeof *f);
}

void pk_snapshot_warn(struct pk_snapshot *s, const char *fmt, ...)
{
    if (s->nwarnings >= PK_MAX_WARNINGS) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *w = strdup(buf);
    if (w) s->warnings[s->nwarnings++] = w;
}

const struct pk_interp_snap *pk_snapshot_main(const struct pk_snapshot *s)
{
    return s->ninterps ? &s->interps[0] : NULL;
}

int pk_snapshot_from_core(const struct pk_snapshot *s)
{
    return s->target.source && strcmp(s->target.source, "core") == 0;
}
