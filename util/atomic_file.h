/* Replacing a file atomically: readers see the old content or the whole new one, never a
   partial file (a temporary file in the same directory, fsync, rename, fsync of the directory). */
#ifndef PK_ATOMIC_FILE_H
#define PK_ATOMIC_FILE_H

#include <stdio.h>

#include "util/error.h"

struct pk_atomic_file {
    FILE *f;    /* write here between begin and commit */
    char *path; /* the file to replace */
    char *tmp;  /* ".NAME.XXXXXX" next to it */
};

/* Creates the temporary file (mode 0666 minus the umask, like a plain create). */
int pk_atomic_begin(const char *path, struct pk_atomic_file *a, struct pk_err *e);
/* Flushes, fsyncs, renames over path and fsyncs the directory. On failure the temporary
   file is removed and path is left as it was. */
int pk_atomic_commit(struct pk_atomic_file *a, struct pk_err *e);
/* Removes the temporary file; a no-op after commit. */
void pk_atomic_abort(struct pk_atomic_file *a);

#endif
