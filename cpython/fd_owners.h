/* The Python objects that hold file descriptors: _io.FileIO (reported through the
   Buffered or TextIOWrapper that wraps it) and socket objects. Candidates are noted during the
   census walk (no second walk of the heap) and read while the target is still frozen. */
#ifndef PK_FD_OWNERS_H
#define PK_FD_OWNERS_H

#include <stdint.h>

#include "attach/mem.h"
#include "cpython/snapshot.h"
#include "cpython/types.h"
#include "symbols/layout.h"

enum pk_fd_role {
    PK_FD_ROLE_NONE,
    PK_FD_ROLE_FILEIO,   /* _io.FileIO or a subclass */
    PK_FD_ROLE_BUFFERED, /* _io.BufferedReader / BufferedWriter / BufferedRandom */
    PK_FD_ROLE_TEXTIO,   /* _io.TextIOWrapper */
    PK_FD_ROLE_SOCKET,   /* _socket.socket, socket.socket and other subclasses */
};

/* The role of instances of the type at addr: the first type on its tp_base chain whose tp_name
   is one of the _io / _socket names above. Called once per type (cpython/types.c). */
enum pk_fd_role pk_fd_role_of_type(struct pk_mem *m, const struct pk_layout *l, uint64_t type);

struct pk_fd_owners;

/* NULL on out-of-memory (the census then runs without owners). */
struct pk_fd_owners *pk_fd_owners_new(struct pk_mem *m, const struct pk_layout *l,
                                      struct pk_types *types);
void pk_fd_owners_free(struct pk_fd_owners *o); /* NULL is a no-op */

/* Census hook: records obj when its type has a role. Cheap; reads nothing. */
void pk_fd_owners_note(struct pk_fd_owners *o, uint64_t obj, const struct pk_type_info *ti);

/* Reads the noted objects (still frozen), resolves wrappers to their FileIO and fills
   s->fds.owners, owners_available and sockets_available. Problems become warnings in s.
   Returns 0, or -PK_E_NO_PROCESS / -PK_E_INTERNAL. */
int pk_fd_owners_resolve(struct pk_fd_owners *o, struct pk_snapshot *s);

#endif
