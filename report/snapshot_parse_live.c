/* The snapshot reader's live-process sections: fds (items and their owners) and threads (with
   the frames' entry flags recovered from the merged view). */
#include <stdlib.h>
#include <string.h>

#include "cpython/stacks.h"
#include "report/byname.h"
#include "report/fds_report.h"
#include "report/snapshot_file.h"
#include "report/snapshot_parse.h"

/* The socket states pypeek writes are static text (attach/net.c): the same pointer back. */
static const char *known_state(const char *s)
{
    static const char *const states[] = {"ESTABLISHED", "SYN_SENT",  "SYN_RECV",   "FIN_WAIT1",
                                         "FIN_WAIT2",   "TIME_WAIT", "CLOSE",      "CLOSE_WAIT",
                                         "LAST_ACK",    "LISTEN",    "CLOSING",    "NEW_SYN_RECV",
                                         "UNCONN",      "CONNECTED", "UNCONNECTED"};
    for (size_t i = 0; s && i < sizeof states / sizeof *states; i++)
        if (strcmp(s, states[i]) == 0) return states[i];
    return NULL;
}

static int parse_addr(const json_t *o, const struct pk_jpath *p, const char *key, uint64_t *out,
                      struct pk_err *e)
{
    const char *s;
    int r = pk_jget_str(o, p, key, &s, e);
    if (r < 0 || !s) return r;
    char *end;
    if (strncmp(s, "0x", 2) != 0 || !s[2]) return pk_jbad(e, p, key, "is not an address");
    *out = strtoull(s + 2, &end, 16);
    if (*end || strlen(s) > 18) return pk_jbad(e, p, key, "is not an address");
    return 0;
}

static int parse_owner(const json_t *o, const struct pk_jpath *p, struct pk_fd_owner *w, int fd,
                       struct pk_err *e)
{
    const char *family, *socktype;
    int r;
    w->fd = fd;
    if ((r = pk_jget_dup(o, p, "type", "", &w->type, e)) < 0 ||
        (r = parse_addr(o, p, "address", &w->address, e)) < 0 ||
        (r = pk_jget_dup(o, p, "chain", "", &w->chain, e)) < 0 ||
        (r = pk_jget_str(o, p, "family", &family, e)) < 0 ||
        (r = pk_jget_str(o, p, "socktype", &socktype, e)) < 0)
        return r;
    if (family || socktype) {
        w->is_socket = 1;
        if ((family && pk_sock_family_parse(family, &w->family) < 0))
            return pk_jbad(e, p, "family", "is not a socket family");
        if ((socktype && pk_sock_type_parse(socktype, &w->socktype) < 0))
            return pk_jbad(e, p, "socktype", "is not a socket type");
        return pk_jget_int(o, p, "proto", INT32_MIN, INT32_MAX, &w->proto, e);
    }
    if ((r = parse_addr(o, p, "fileio", &w->fileio, e)) < 0 ||
        (r = pk_jget_dup(o, p, "name", NULL, &w->name, e)) < 0 ||
        (r = pk_jget_buf(o, p, "mode", 0, w->mode, sizeof w->mode, e)) < 0)
        return r;
    return pk_jget_bool(o, p, "closefd", &w->closefd, e);
}

static int parse_item(const json_t *o, const struct pk_jpath *p, struct pk_fds_snap *f,
                      struct pk_err *e)
{
    struct pk_fd_item *it = &f->items[f->nitems++];
    const char *flags, *state;
    const json_t *owners, *ow;
    uint64_t inode = 0;
    int r;
    it->fd = -1;
    it->owner_first = f->nowners;
    if ((r = pk_jget_int(o, p, "fd", -1, INT32_MAX, &it->fd, e)) < 0 ||
        (r = pk_jget_buf(o, p, "kind", 0, it->kind, sizeof it->kind, e)) < 0 ||
        (r = pk_jget_dup(o, p, "target", "", &it->target, e)) < 0 ||
        (r = pk_jget_str(o, p, "flags", &flags, e)) < 0 ||
        (r = pk_jget_i64(o, p, "pos", &it->pos, e)) < 0 ||
        (r = pk_jget_u64(o, p, "inode", 0, &inode, e)) < 0 ||
        (r = pk_jget_dup(o, p, "local", NULL, &it->local, e)) < 0 ||
        (r = pk_jget_dup(o, p, "remote", NULL, &it->remote, e)) < 0 ||
        (r = pk_jget_str(o, p, "state", &state, e)) < 0 ||
        (r = pk_jget_arr(o, p, "owners", 0, &owners, e)) < 0)
        return r;
    if (flags) {
        if (pk_fd_flags_parse(flags, &it->flags) < 0)
            return pk_jbad(e, p, "flags", "are not open(2) flags");
        it->have_fdinfo = 1;
    }
    it->inode = inode;
    it->state = known_state(state);
    size_t k;
    struct pk_jpath op, wp;
    pk_jpath_key(&op, p, "owners");
    json_array_foreach(owners, k, ow)
    {
        pk_jpath_idx(&wp, &op, k);
        if (!json_is_object(ow)) return pk_jbad(e, &wp, NULL, "is not an object");
        if (f->nowners >= PK_SNAPSHOT_MAX_ITEMS)
            return pk_jbad(e, &wp, NULL, "is more fd owners than pypeek accepts");
        if (f->nowners % 64 == 0) {
            struct pk_fd_owner *nw = realloc(f->owners, (f->nowners + 64) * sizeof *nw);
            if (!nw) return pk_fail(e, PK_E_INTERNAL, "out of memory");
            f->owners = nw;
        }
        struct pk_fd_owner *w = &f->owners[f->nowners++];
        memset(w, 0, sizeof *w);
        it->nowners++;
        if ((r = parse_owner(ow, &wp, w, it->fd, e)) < 0) return r;
    }
    return 0;
}

int pk_parse_fds(const json_t *fds, struct pk_fds_snap *f, struct pk_err *e)
{
    const struct pk_jpath p = {"fds"};
    struct pk_jpath at, item;
    const struct pk_jpath kp = {"fds.by_kind"};
    const json_t *items, *it, *kinds;
    int r;
    f->limit_soft = f->limit_hard = -1;
    if ((r = pk_jget_obj(fds, &p, "by_kind", 0, &kinds, e)) < 0 ||
        (kinds && (r = pk_jcheck_counts(kinds, &kp, e)) < 0))
        return r;
    if ((r = pk_jget_bool(fds, &p, "available", &f->available, e)) < 0 ||
        (r = pk_jget_i64(fds, &p, "limit_soft", &f->limit_soft, e)) < 0 ||
        (r = pk_jget_i64(fds, &p, "limit_hard", &f->limit_hard, e)) < 0 ||
        (r = pk_jget_bool(fds, &p, "truncated", &f->truncated, e)) < 0 ||
        (r = pk_jget_bool(fds, &p, "owners_available", &f->owners_available, e)) < 0 ||
        (r = pk_jget_bool(fds, &p, "socket_owners_available", &f->sockets_available, e)) < 0 ||
        (r = pk_jget_arr(fds, &p, "items", 0, &items, e)) < 0)
        return r;
    /* count, unowned and by_kind are the items' sums: computed, not read */
    if (!items) return 0;
    if ((r = pk_jalloc(json_array_size(items), sizeof *f->items, (void **)&f->items, e)) < 0)
        return r;
    pk_jpath_key(&at, &p, "items");
    size_t i;
    json_array_foreach(items, i, it)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(it)) return pk_jbad(e, &item, NULL, "is not an object");
        if ((r = parse_item(it, &item, f, e)) < 0) return r;
    }
    return 0;
}

static int parse_frames(const json_t *t, const struct pk_jpath *p, struct pk_thread_snap *th,
                        struct pk_err *e)
{
    struct pk_jpath at, item, lp, li;
    const json_t *arr, *o, *locals, *l;
    int r = pk_jget_arr(t, p, "frames", 0, &arr, e);
    if (r < 0 || !arr) return r;
    if ((r = pk_jalloc(json_array_size(arr), sizeof *th->frames, (void **)&th->frames, e)) < 0)
        return r;
    pk_jpath_key(&at, p, "frames");
    size_t i, k;
    json_array_foreach(arr, i, o)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(o)) return pk_jbad(e, &item, NULL, "is not an object");
        struct pk_pyframe *f = &th->frames[th->nframes++];
        f->line = -1;
        if ((r = pk_jget_dup(o, &item, "function", NULL, &f->function, e)) < 0 ||
            (r = pk_jget_dup(o, &item, "file", NULL, &f->file, e)) < 0 ||
            (r = pk_jget_int(o, &item, "line", -1, INT32_MAX, &f->line, e)) < 0 ||
            (r = pk_jget_arr(o, &item, "locals", 0, &locals, e)) < 0)
            return r;
        if (!locals) continue;
        if ((r = pk_jalloc(json_array_size(locals), sizeof *f->locals, (void **)&f->locals, e)) < 0)
            return r;
        pk_jpath_key(&lp, &item, "locals");
        json_array_foreach(locals, k, l)
        {
            pk_jpath_idx(&li, &lp, k);
            if (!json_is_object(l)) return pk_jbad(e, &li, NULL, "is not an object");
            struct pk_local *v = &f->locals[f->nlocals++];
            if ((r = pk_jget_dup(l, &li, "name", "", &v->name, e)) < 0 ||
                (r = pk_jget_dup(l, &li, "repr", "", &v->repr, e)) < 0)
                return r;
        }
    }
    return 0;
}

static int parse_native(const json_t *t, const struct pk_jpath *p, struct pk_thread_snap *th,
                        struct pk_err *e)
{
    struct pk_jpath at, item;
    const json_t *arr, *o;
    int r = pk_jget_arr(t, p, "native", 0, &arr, e);
    if (r < 0 || !arr) return r;
    th->native_available = 1;
    if ((r = pk_jalloc(json_array_size(arr), sizeof *th->native, (void **)&th->native, e)) < 0)
        return r;
    pk_jpath_key(&at, p, "native");
    size_t i;
    json_array_foreach(arr, i, o)
    {
        pk_jpath_idx(&item, &at, i);
        if (!json_is_object(o)) return pk_jbad(e, &item, NULL, "is not an object");
        struct pk_native_frame *n = &th->native[th->nnative++];
        if ((r = pk_jget_u64(o, &item, "address", 0, &n->address, e)) < 0 ||
            (r = pk_jget_dup(o, &item, "function", NULL, &n->function, e)) < 0 ||
            (r = pk_jget_u64(o, &item, "offset", 0, &n->offset, e)) < 0 ||
            (r = pk_jget_dup(o, &item, "module", NULL, &n->module, e)) < 0)
            return r;
    }
    return 0;
}

/* Whether a merged-view item is native frame n (the fields the writer puts in both). */
static int same_native(const json_t *m, const struct pk_native_frame *n)
{
    const char *fn = json_string_value(json_object_get(m, "function"));
    const char *mod = json_string_value(json_object_get(m, "module"));
    return json_integer_value(json_object_get(m, "address")) == pk_jint(n->address) &&
           json_integer_value(json_object_get(m, "offset")) == pk_jint(n->offset) &&
           (fn && n->function ? strcmp(fn, n->function) == 0 : !fn && !n->function) &&
           (mod && n->module ? strcmp(mod, n->module) == 0 : !mod && !n->module);
}

/* Marks the frame ending each of c runs that share the Python frames [p, p + len): one frame
   each, the last run the rest. */
static void mark_runs(struct pk_thread_snap *th, size_t p, size_t len, size_t c)
{
    for (size_t i = 0; i < c && i < len; i++)
        th->frames[i + 1 < c ? p + i : p + len - 1].entry = 1;
}

/* The frames' entry flags, which the document does not carry, from its merged view: between
   two natives the merged view shows, the natives it leaves out are eval loops, each replaced
   by a run of Python frames ending at an entry frame. Any flags giving the same merged view
   will do; kept only when pk_stacks_merge then gives exactly that view (else none). */
static void entries_from_merged(const json_t *merged, struct pk_thread_snap *th)
{
    size_t n = json_array_size(merged), k = 0, p = 0, block = 0, i;
    if (!n || n > th->nframes + th->nnative) return;
    struct pk_merged *want = calloc(n, sizeof *want),
                     *got = calloc(th->nframes + th->nnative + 1, sizeof *got);
    const json_t *m;
    int ok = want && got;
    json_array_foreach(merged, i, m)
    {
        if (!ok) break;
        const char *kind = json_string_value(json_object_get(m, "kind"));
        if (kind && strcmp(kind, "python") == 0) {
            ok = p + block < th->nframes;
            want[i] = (struct pk_merged){1, p + block++};
            continue;
        }
        size_t j = k;
        while (j < th->nnative && !same_native(m, &th->native[j]))
            j++;
        ok = j < th->nnative && (block == 0 || j > k);
        if (!ok) break;
        mark_runs(th, p, block, j - k);
        p += block, block = 0;
        want[i] = (struct pk_merged){0, j};
        k = j + 1;
    }
    if (ok) mark_runs(th, p, block, th->nnative - k);
    ok = ok && pk_stacks_merge(th, got) == n;
    for (i = 0; ok && i < n; i++)
        ok = want[i].python == got[i].python && want[i].index == got[i].index;
    for (size_t f = 0; !ok && f < th->nframes; f++)
        th->frames[f].entry = 0;
    free(want);
    free(got);
}

static int parse_thread(const json_t *t, const struct pk_jpath *p, struct pk_thread_snap *th,
                        struct pk_err *e)
{
    const char *state;
    int64_t tid = -1, interp = -1;
    const json_t *ident = json_object_get(t, "ident");
    int r;
    th->state = '?';
    if ((r = pk_jget_i64(t, p, "tid", &tid, e)) < 0 ||
        (r = pk_jget_u64(t, p, "ident", 0, &th->ident, e)) < 0 ||
        (r = pk_jget_buf(t, p, "name", 0, th->name, sizeof th->name, e)) < 0 ||
        (r = pk_jget_str(t, p, "state", &state, e)) < 0 ||
        (r = pk_jget_i64(t, p, "interpreter", &interp, e)) < 0 ||
        (r = pk_jget_bool(t, p, "holds_gil", &th->holds_gil, e)) < 0 ||
        (r = pk_jget_bool(t, p, "gc_running", &th->gc_running, e)) < 0 ||
        (r = pk_jget_dup(t, p, "truncated", NULL, &th->truncated, e)) < 0 ||
        (r = pk_jget_dup(t, p, "native_truncated", NULL, &th->native_truncated, e)) < 0 ||
        (r = pk_jget_bool(t, p, "locals_truncated", &th->locals_truncated, e)) < 0)
        return r;
    if (tid < -1) return pk_jbad(e, p, "tid", "is out of range");
    th->tid = tid;
    th->interp_id = interp < -1 ? -1 : interp;
    th->has_ident = ident && !json_is_null(ident);
    if (state && strlen(state) == 1) th->state = state[0];
    /* locals_truncated is written exactly when the locals were read */
    const json_t *lt = json_object_get(t, "locals_truncated");
    th->locals_read = lt && !json_is_null(lt);
    const json_t *merged;
    if ((r = parse_frames(t, p, th, e)) < 0 || (r = parse_native(t, p, th, e)) < 0 ||
        (r = pk_jget_arr(t, p, "merged", 0, &merged, e)) < 0)
        return r;
    entries_from_merged(merged, th);
    return 0;
}

int pk_parse_threads(const json_t *threads, struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_jpath p = {"threads"};
    struct pk_jpath item;
    const json_t *t;
    int r;
    s->threads_available = 1;
    if ((r = pk_jalloc(json_array_size(threads), sizeof *s->threads, (void **)&s->threads, e)) < 0)
        return r;
    size_t i;
    json_array_foreach(threads, i, t)
    {
        pk_jpath_idx(&item, &p, i);
        if (!json_is_object(t)) return pk_jbad(e, &item, NULL, "is not an object");
        if ((r = parse_thread(t, &item, &s->threads[s->nthreads++], e)) < 0) return r;
    }
    return 0;
}
