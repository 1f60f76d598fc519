/* Every thread's Python stack, matched to the OS threads, with the GIL holder and the
   collecting thread. */
#include "cpython/stacks.h"

#include <stdlib.h>
#include <string.h>

#include "cpython/frames.h"
#include "cpython/value_repr.h"
#include "symbols/unwind.h"
#include "util/grow.h"

struct builder {
    struct pk_mem *m;
    const struct pk_target *t;
    int locals;
    size_t locals_cap, locals_n, locals_bytes; /* of the current frame; the thread's totals */
    struct pk_thread_snap *v;                  /* Python thread states, in walk order */
    size_t n, cap;
    size_t frames_cap; /* of v[n - 1].frames */
    int64_t interp_id;
    int gil_locked, collecting;
    uint64_t gil_holder;
};

/* The interpreter's GIL: its own (3.12+: interp->ceval.gil) or the runtime's (to 3.11). */
static void read_gil(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                     struct builder *b)
{
    const struct pk_layout *l = &t->layout;
    uint64_t locked_at = 0, holder_at = 0;
    b->gil_locked = 0;
    b->gil_holder = 0;
    if (PK_HAS(l, interp_gil) && PK_HAS(l, gil_locked) && PK_HAS(l, gil_last_holder)) {
        uint64_t gil = 0;
        if (pk_mem_read_u64(m, interp + PK_OFF(l, interp_gil), &gil) < 0 || !gil || (gil & 7))
            return;
        locked_at = gil + PK_OFF(l, gil_locked);
        holder_at = gil + PK_OFF(l, gil_last_holder);
    } else if (PK_HAS(l, runtime_gil_locked) && PK_HAS(l, runtime_gil_last_holder)) {
        locked_at = t->runtime_addr + PK_OFF(l, runtime_gil_locked);
        holder_at = t->runtime_addr + PK_OFF(l, runtime_gil_last_holder);
    } else {
        return;
    }
    int32_t locked = 0; /* -1 before the GIL was created (3.9) */
    if (pk_mem_read(m, locked_at, &locked, 4) == 0 && locked > 0 &&
        pk_mem_read_u64(m, holder_at, &b->gil_holder) == 0)
        b->gil_locked = 1;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A bound local of the thread's innermost frame so far, within the thread's budget. */
static int add_local(struct builder *b, const struct pk_frame_visit *v)
{
    if (!b->locals || !v->name || !b->n) return 0;
    struct pk_thread_snap *th = &b->v[b->n - 1];
    if (!th->nframes) return 0;
    struct pk_pyframe *f = &th->frames[th->nframes - 1];
    char repr[PK_REPR_MAX];
    pk_value_repr(b->m, b->t, v->value, repr, sizeof repr);
    size_t bytes = strlen(v->name) + strlen(repr);
    if (b->locals_n >= PK_STACKS_LOCALS_PER_THREAD ||
        b->locals_bytes + bytes > PK_STACKS_LOCALS_BYTES) {
        th->locals_truncated = 1;
        return 0;
    }
    if (pk_grow((void **)&f->locals, &b->locals_cap, f->nlocals + 1, sizeof *f->locals) < 0)
        return -PK_E_INTERNAL;
    struct pk_local *lv = &f->locals[f->nlocals];
    lv->name = strdup(v->name);
    lv->repr = strdup(repr);
    if (!lv->name || !lv->repr) {
        free(lv->name);
        free(lv->repr);
        return -PK_E_INTERNAL;
    }
    f->nlocals++;
    b->locals_n++;
    b->locals_bytes += bytes;
    return 0;
}

static int on_event(const struct pk_frame_visit *v, void *arg)
{
    struct builder *b = arg;
    switch (v->kind) {
    case PK_FE_THREAD: {
        if (pk_grow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v) < 0) return -PK_E_INTERNAL;
        struct pk_thread_snap *th = &b->v[b->n++];
        memset(th, 0, sizeof *th);
        th->tid = v->native_tid ? (int64_t)v->native_tid : -1;
        th->has_ident = 1;
        th->ident = v->ident;
        th->interp_id = b->interp_id;
        th->state = '?';
        th->holds_gil = b->gil_locked && b->gil_holder == v->tstate;
        /* The GIL build collects with the GIL held: the holder is the collecting thread. */
        th->gc_running = th->holds_gil && b->collecting;
        b->frames_cap = 0;
        b->locals_n = b->locals_bytes = 0;
        th->locals_read = b->locals;
        return 0;
    }
    case PK_FE_FRAME: {
        if (!b->n) return 0;
        struct pk_thread_snap *th = &b->v[b->n - 1];
        if (pk_grow((void **)&th->frames, &b->frames_cap, th->nframes + 1, sizeof *th->frames) < 0)
            return -PK_E_INTERNAL;
        struct pk_pyframe *f = &th->frames[th->nframes];
        f->function = dup_or_null(v->func);
        f->file = dup_or_null(v->file);
        f->line = v->line;
        f->entry = v->entry;
        if ((v->func && !f->function) || (v->file && !f->file)) {
            free(f->function);
            free(f->file);
            return -PK_E_INTERNAL;
        }
        f->locals = NULL;
        f->nlocals = 0;
        b->locals_cap = 0;
        th->nframes++;
        return 0;
    }
    case PK_FE_THREAD_END:
        if (b->n && v->truncated && !(b->v[b->n - 1].truncated = strdup(v->truncated)))
            return -PK_E_INTERNAL;
        return 0;
    case PK_FE_LOCAL:
        return add_local(b, v);
    }
    return 0;
}

/* Moves the frames of thread state from after those of into (an OS thread running a
   subinterpreter has a thread state in each: the subinterpreter's runs innermost). */
static int append_frames(struct pk_thread_snap *into, struct pk_thread_snap *from)
{
    if (!from->nframes) return 0;
    struct pk_pyframe *nf =
        realloc(into->frames, (into->nframes + from->nframes) * sizeof *into->frames);
    if (!nf) return -PK_E_INTERNAL;
    memcpy(nf + into->nframes, from->frames, from->nframes * sizeof *nf);
    into->frames = nf;
    into->nframes += from->nframes;
    free(from->frames);
    from->frames = NULL;
    from->nframes = 0;
    if (!into->truncated) {
        into->truncated = from->truncated;
        from->truncated = NULL;
    }
    into->holds_gil |= from->holds_gil;
    into->gc_running |= from->gc_running;
    return 0;
}

/* The Python thread state of OS thread os: by native id (3.11+; the tid in the thread's own
   PID namespace, a container's), else by ident, which is
   pthread_self(), the thread's fs base on x86-64 glibc. With thread states in several
   interpreters, the last walked (a subinterpreter: interpreters after the main one) is the
   thread's, the others' frames follow its own. */
static struct pk_thread_snap *match(struct builder *b, const struct pk_thread_regs *os)
{
    struct pk_thread_snap *found = NULL;
    for (size_t i = b->n; i-- > 0;)
        if (b->v[i].tid == os->ns_tid) {
            if (!found)
                found = &b->v[i];
            else if (append_frames(found, &b->v[i]) == 0)
                b->v[i].tid = -2; /* merged into found */
        }
    if (found) return found;
    if (!os->have_regs) return NULL;
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].tid < 0 && b->v[i].has_ident && b->v[i].ident == os->regs.fs_base)
            return &b->v[i];
    return NULL;
}

static int cmp_thread(const void *a, const void *b, void *pid)
{
    const struct pk_thread_snap *x = a, *y = b;
    int64_t p = *(const pid_t *)pid;
    if ((x->tid == p) != (y->tid == p)) return x->tid == p ? -1 : 1;
    if ((x->tid < 0) != (y->tid < 0)) return x->tid < 0 ? 1 : -1;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

int pk_stacks_collect(struct pk_mem *m, const struct pk_target *t, const struct pk_threads *os,
                      int locals, struct pk_snapshot *s)
{
    struct builder b = {.m = m, .t = t, .locals = locals};
    int rc = 0;
    for (size_t i = 0; i < s->ninterps && rc == 0; i++) {
        const struct pk_interp_snap *is = &s->interps[i];
        b.interp_id = is->id;
        b.collecting = is->gc_collecting;
        read_gil(m, t, is->addr, &b);
        rc = pk_frames_walk_ex(m, t, is->addr, PK_FW_LINES | (locals ? PK_FW_LOCALS : 0), on_event,
                               &b);
        if (rc > 0) rc = 0;
    }
    size_t nos = os ? os->n : 0;
    struct pk_thread_snap *out = rc == 0 ? calloc(nos + b.n + 1, sizeof *out) : NULL;
    if (!out) {
        for (size_t i = 0; i < b.n; i++)
            pk_thread_snap_clear(&b.v[i]);
        free(b.v);
        return rc < 0 ? rc : -PK_E_INTERNAL;
    }
    size_t n = 0;
    for (size_t i = 0; i < nos; i++) {
        const struct pk_thread_regs *o = &os->v[i];
        struct pk_thread_snap *py = match(&b, o);
        if (py) {
            out[n] = *py;
            memset(py, 0, sizeof *py); /* moved */
            py->tid = -2;              /* taken */
        } else {
            out[n].interp_id = -1;
        }
        out[n].tid = o->tid;
        memcpy(out[n].name, o->name, sizeof out[n].name);
        out[n].state = o->state;
        n++;
    }
    for (size_t i = 0; i < b.n; i++) {
        if (b.v[i].tid == -2) { /* moved or merged: what is left of it */
            pk_thread_snap_clear(&b.v[i]);
            continue;
        }
        out[n] = b.v[i]; /* a thread state no OS thread was found for */
        out[n].tid = -1;
        out[n++].state = '?';
    }
    free(b.v);
    pid_t pid = t->pid;
    qsort_r(out, n, sizeof *out, cmp_thread, &pid);
    s->threads = out;
    s->nthreads = n;
    s->threads_available = 1;
    return 0;
}

int pk_stacks_add_native(struct pk_mem *m, const struct pk_threads *os, pid_t pid, int live,
                         const char *debug_dir, struct pk_snapshot *s)
{
    if (!os || !os->n) return 0;
    struct pk_unwound_stack *u = calloc(os->n, sizeof *u);
    if (!u) return -PK_E_INTERNAL;
    int r = pk_unwind_threads(pid, live, m, os, debug_dir, u);
    for (size_t i = 0; i < os->n; i++) {
        struct pk_thread_snap *th = NULL;
        for (size_t k = 0; k < s->nthreads && !th; k++)
            if (s->threads[k].tid == os->v[i].tid) th = &s->threads[k];
        if (r == 0 && th && u[i].available) {
            th->native_available = 1;
            th->native = calloc(u[i].n ? u[i].n : 1, sizeof *th->native);
            if (th->native) {
                for (size_t k = 0; k < u[i].n; k++) {
                    th->native[k].address = u[i].v[k].address;
                    th->native[k].offset = u[i].v[k].offset;
                    th->native[k].function = u[i].v[k].function; /* moved */
                    th->native[k].module = u[i].v[k].module;
                    u[i].v[k].function = u[i].v[k].module = NULL;
                }
                th->nnative = u[i].n;
            }
            if (u[i].truncated) th->native_truncated = strdup(u[i].truncated);
        }
        pk_unwound_stack_free(&u[i]);
    }
    free(u);
    return r;
}

static int is_eval_loop(const char *fn)
{
    static const char name[] = "_PyEval_EvalFrameDefault";
    return fn && strncmp(fn, name, sizeof name - 1) == 0 &&
           (fn[sizeof name - 1] == 0 || fn[sizeof name - 1] == '.');
}

size_t pk_stacks_merge(const struct pk_thread_snap *t, struct pk_merged *out)
{
    size_t n = 0, p = 0;
    for (size_t k = 0; k < t->nnative; k++) {
        if (!is_eval_loop(t->native[k].function) || p >= t->nframes) {
            out[n++] = (struct pk_merged){0, k};
            continue;
        }
        while (p < t->nframes) {
            out[n++] = (struct pk_merged){1, p};
            if (t->frames[p++].entry) break;
        }
    }
    while (p < t->nframes)
        out[n++] = (struct pk_merged){1, p++};
    return n;
}
