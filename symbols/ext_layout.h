/* Layout rows that live in an extension module rather than the interpreter: in pyenv-style
   builds _socket is lib-dynload/_socket.*.so with its own DWARF, so PySocketSockObject is
   resolved from that module when it is mapped in the target. */
#ifndef PK_EXT_LAYOUT_H
#define PK_EXT_LAYOUT_H

#include <stddef.h>
#include <sys/types.h>

#include "attach/maps.h"
#include "symbols/layout.h"
#include "symbols/target.h"

/* Fills the PySocketSockObject rows of l that the interpreter's DWARF lacked, from the DWARF
   of a mapped _socket.*.so. Returns 1 when they were filled, 0 when not needed or not possible
   (module not loaded, no debug info): the caller then reports socket owners unavailable. */
int pk_ext_layout_socket(const struct pk_target_where *w, const struct pk_maps *maps,
                         const char *debug_dir, struct pk_layout *l);

#endif
