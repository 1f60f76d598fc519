/* The fd section of the snapshot: the target's open fds from /proc (attach/fds.h, attach/net.h)
   joined with the Python objects that own them (cpython/fd_owners.h). Never fails the snapshot:
   what cannot be read becomes a warning. */
#ifndef PK_FD_TABLE_H
#define PK_FD_TABLE_H

#include "attach/fds.h"
#include "cpython/snapshot.h"

/* While the target is frozen, after pk_collect_interpreters: lists the fds with their fdinfo
   and attaches s->fds.owners to them. */
void pk_fd_table_collect(int procfd, struct pk_snapshot *s);
/* pk_fd_table_collect in two steps, for a heap read after the target is resumed: the fds
   listed while frozen (0, or -1 with a warning), then joined with s->fds.owners (list is
   consumed). */
int pk_fd_table_read(int procfd, struct pk_fd_list *list, struct pk_snapshot *s);
void pk_fd_table_join(struct pk_fd_list *list, struct pk_snapshot *s);
/* After the target is resumed: fd limits and socket endpoints (kernel state that does not stop
   with the target, so read outside the pause). */
void pk_fd_table_finish(int procfd, struct pk_snapshot *s);

#endif
