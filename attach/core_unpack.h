/* Compressed core files (systemd-coredump stores them as .zst, .xz or .lz4): recognised by
   their magic bytes and streamed into a temporary file that pypeek then reads like any core. */
#ifndef PK_CORE_UNPACK_H
#define PK_CORE_UNPACK_H

#include "util/error.h"

/* in: the opened file. 0 when it is not compressed (*out = -1: read in itself); 1 with *out an
   fd of an unnamed temporary file (in $TMPDIR, default /var/tmp; gone when closed) holding the
   unpacked bytes; or -PK_E_BAD_FILE (corrupt or truncated stream, no room: name says which
   file). */
int pk_core_unpack(int in, const char *name, int *out, struct pk_err *e);

#endif
