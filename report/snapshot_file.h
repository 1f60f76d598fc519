/* Saved snapshot files (pypeek.snapshot/1) as input: bounded reading and a shape check, so diff
   and watch can trust the documents they are given. Snapshot files are hostile input. */
#ifndef PK_SNAPSHOT_FILE_H
#define PK_SNAPSHOT_FILE_H

#include <jansson.h>

#include "util/error.h"

#define PK_SNAPSHOT_FILE_MAX (64u << 20) /* bytes; larger files are refused */
#define PK_SNAPSHOT_MAX_ITEMS (1u << 20) /* entries in any one list (types, fd items) */
#define PK_SNAPSHOT_MAX_STRING 8192      /* bytes of any one string */

/* Loads and checks a snapshot file. On success *out is a new reference the caller releases
   with json_decref. Fails with -PK_E_BAD_FILE and a message that names the file and says
   what is wrong (missing, not a regular file, too large, truncated, not JSON, foreign). */
int pk_snapshot_read_file(const char *path, json_t **out, struct pk_err *e);

/* Checks that doc has the shape of pypeek.snapshot/1 as far as pypeek's readers use it:
   schema string, required keys, value types, non-negative counts, bounded list and string
   sizes. Optional sections (gc, garbage, memory, fds) are checked when present. */
int pk_snapshot_doc_check(const json_t *doc, struct pk_err *e);

#endif
