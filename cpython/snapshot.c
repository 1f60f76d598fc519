/* The snapshot: plain data, freed and annotated here. */
#include "cpython/snapshot.h"

#include "cpython/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pk_graph_snap_free_retainers(struct pk_graph_snap *h)
{
    for (size_t i = 0; i < h->nretainers; i++) {
        free(h->retainers[i].root);
        free(h->retainers[i].type);
        for (size_t k = 0; k < h->retainers[i].ntypes; k++)
            free(h->retainers[i].types[k].name);
        free(h->retainers[i].types);
    }
    free(h->retainers);
    h->retainers = NULL;
    h->nretainers = 0;
}

void pk_graph_snap_clear(struct pk_graph_snap *h)
{
    for (size_t k = 0; k < h->nuntraversed_types; k++)
        free(h->untraversed_types[k].name);
    free(h->untraversed_types);
    for (size_t k = 0; k < h->nunreachable_types; k++)
        free(h->unreachable_types[k].name);
    free(h->unreachable_types);
    pk_graph_snap_free_retainers(h);
    for (size_t i = 0; i < h->nholders; i++) {
        free(h->holders[i].name);
        free(h->holders[i].type);
    }
    free(h->holders);
    for (size_t i = 0; i < h->nsuspects; i++) {
        for (size_t k = 0; k < h->suspects[i].ntypes; k++)
            free(h->suspects[i].types[k].name);
        free(h->suspects[i].types);
    }
    free(h->suspects);
    memset(h, 0, sizeof *h);
}

void pk_unreachable_snap_clear(struct pk_unreachable_snap *u)
{
    for (size_t k = 0; k < u->ntypes; k++)
        free(u->types[k].name);
    free(u->types);
    for (size_t k = 0; k < u->nuntraversed_types; k++)
        free(u->untraversed_types[k].name);
    free(u->untraversed_types);
    for (size_t i = 0; i < u->nexamples; i++) {
        free(u->examples[i].type);
        for (size_t k = 0; k < u->examples[i].nhops; k++)
            free(u->examples[i].hops[k]);
        free(u->examples[i].hops);
    }
    free(u->examples);
    memset(u, 0, sizeof *u);
}

void pk_interp_snap_clear(struct pk_interp_snap *is)
{
    for (size_t k = 0; k < is->ntypes; k++)
        free(is->types[k].name);
    free(is->types);
    for (size_t k = 0; k < is->ngarbage_types; k++)
        free(is->garbage_types[k].name);
    free(is->garbage_types);
    pk_graph_snap_clear(&is->graph);
    pk_unreachable_snap_clear(&is->unreachable);
    memset(is, 0, sizeof *is);
}

void pk_thread_snap_clear(struct pk_thread_snap *t)
{
    for (size_t k = 0; k < t->nframes; k++) {
        free(t->frames[k].function);
        free(t->frames[k].file);
        for (size_t j = 0; j < t->frames[k].nlocals; j++) {
            free(t->frames[k].locals[j].name);
            free(t->frames[k].locals[j].repr);
        }
        free(t->frames[k].locals);
    }
    for (size_t k = 0; k < t->nnative; k++) {
        free(t->native[k].function);
        free(t->native[k].module);
    }
    free(t->frames);
    free(t->native);
    free(t->truncated);
    free(t->native_truncated);
    memset(t, 0, sizeof *t);
}

void pk_threads_snap_free(struct pk_snapshot *s)
{
    for (size_t i = 0; i < s->nthreads; i++)
        pk_thread_snap_clear(&s->threads[i]);
    free(s->threads);
    s->threads = NULL;
    s->nthreads = 0;
    s->threads_available = 0;
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
    pk_threads_snap_free(s);
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
