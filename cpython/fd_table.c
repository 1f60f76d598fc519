/* The fd section of the snapshot: /proc facts joined with the owners found in the heap. */
#include "cpython/fd_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/fds.h"
#include "attach/net.h"

int pk_fd_table_read(int procfd, struct pk_fd_list *list, struct pk_snapshot *s)
{
    struct pk_err e = {0};
    memset(list, 0, sizeof *list);
    s->fds.limit_soft = s->fds.limit_hard = -2;
    if (pk_fds_read(procfd, list, &e) < 0) {
        pk_snapshot_warn(s, "open fds unavailable: %s", e.msg);
        return -1;
    }
    return 0;
}

void pk_fd_table_collect(int procfd, struct pk_snapshot *s)
{
    struct pk_fd_list list;
    if (pk_fd_table_read(procfd, &list, s) == 0) pk_fd_table_join(&list, s);
}

void pk_fd_table_join(struct pk_fd_list *owned, struct pk_snapshot *s)
{
    struct pk_fds_snap *f = &s->fds;
    struct pk_fd_list list = *owned;
    memset(owned, 0, sizeof *owned);
    f->items = calloc(list.n ? list.n : 1, sizeof *f->items);
    if (!f->items) {
        pk_fds_free(&list);
        pk_snapshot_warn(s, "open fds unavailable: out of memory");
        return;
    }
    f->available = 1;
    f->truncated = list.truncated;
    if (list.truncated)
        pk_snapshot_warn(s, "more than %u open fds: only the first %u are listed", PK_FDS_MAX,
                         PK_FDS_MAX);
    size_t k = 0; /* owners and items are both sorted by fd: merge */
    for (size_t i = 0; i < list.n; i++) {
        struct pk_fd_entry *src = &list.v[i];
        struct pk_fd_item *it = &f->items[f->nitems++];
        it->fd = src->fd;
        snprintf(it->kind, sizeof it->kind, "%s", pk_fd_kind_name(src->kind));
        it->target = src->target;
        src->target = NULL;
        it->inode = src->inode;
        it->have_fdinfo = src->have_fdinfo;
        it->flags = src->flags;
        it->pos = src->pos;
        while (k < f->nowners && f->owners[k].fd < it->fd)
            k++;
        it->owner_first = k;
        while (k < f->nowners && f->owners[k].fd == it->fd)
            k++;
        it->nowners = k - it->owner_first;
    }
    pk_fds_free(&list);
    /* Owners whose fd is not open: the fd was closed behind the object's back (os.close). */
    size_t stale = 0;
    for (size_t i = 0, j = 0; i < f->nowners; i++) {
        while (j < f->nitems && f->items[j].fd < f->owners[i].fd)
            j++;
        stale += j == f->nitems || f->items[j].fd != f->owners[i].fd;
    }
    if (stale && !f->truncated)
        pk_snapshot_warn(s,
                         "%zu file or socket objects hold an fd number that is not open "
                         "(closed behind their back)",
                         stale);
}

static enum pk_fd_kind kind_of(const char *name)
{
    for (int k = 0; k < PK_FD_KIND_COUNT; k++)
        if (!strcmp(pk_fd_kind_name((enum pk_fd_kind)k), name)) return (enum pk_fd_kind)k;
    return PK_FD_KIND_COUNT;
}

void pk_fd_table_finish(int procfd, struct pk_snapshot *s)
{
    struct pk_fds_snap *f = &s->fds;
    if (!f->available) return;
    struct pk_err e = {0};
    if (pk_fds_read_limits(procfd, &f->limit_soft, &f->limit_hard, &e) < 0) {
        f->limit_soft = f->limit_hard = -2;
        pk_snapshot_warn(s, "fd limits unavailable: %s", e.msg);
    }
    size_t n = 0;
    for (size_t i = 0; i < f->nitems; i++)
        n += kind_of(f->items[i].kind) == PK_FD_SOCKET;
    if (!n) return;
    struct pk_net_query *q = calloc(n, sizeof *q);
    if (!q) {
        pk_snapshot_warn(s, "socket endpoints unavailable: out of memory");
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < f->nitems; i++)
        if (kind_of(f->items[i].kind) == PK_FD_SOCKET)
            q[k++] = (struct pk_net_query){.inode = f->items[i].inode, .fd = f->items[i].fd};
    pk_err_clear(&e);
    if (pk_net_lookup(procfd, q, n, &e) < 0) {
        pk_snapshot_warn(s, "socket endpoints unavailable: %s", e.msg);
        free(q);
        return;
    }
    /* q is sorted by inode now; match each socket item back by fd */
    for (size_t j = 0; j < n; j++) {
        struct pk_fd_item *it = NULL;
        size_t lo = 0, hi = f->nitems;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (f->items[mid].fd < q[j].fd)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < f->nitems && f->items[lo].fd == q[j].fd) it = &f->items[lo];
        if (!it) continue;
        snprintf(it->kind, sizeof it->kind, "%s", pk_fd_kind_name(q[j].sock.kind));
        if (!q[j].found) continue;
        it->state = q[j].sock.state;
        it->local = q[j].sock.local[0] ? strdup(q[j].sock.local) : NULL;
        it->remote = q[j].sock.remote[0] ? strdup(q[j].sock.remote) : NULL;
    }
    free(q);
}
