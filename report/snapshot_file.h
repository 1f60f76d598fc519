/* Saved snapshot files (pypeek.snapshot/1) as input: bounded reading, then the document into
   struct pk_snapshot, checked in that one place, so every renderer and comparer takes the
   same struct whether the snapshot was taken live or read from a file. Snapshot files are
   hostile input. */
#ifndef PK_SNAPSHOT_FILE_H
#define PK_SNAPSHOT_FILE_H

#include <jansson.h>

#include "cpython/snapshot.h"
#include "util/error.h"

#define PK_SNAPSHOT_FILE_MAX (64u << 20) /* bytes; larger files are refused */
#define PK_SNAPSHOT_MAX_ITEMS (1u << 20) /* entries in any one list (types, fd items) */
#define PK_SNAPSHOT_MAX_STRING 8192      /* bytes of any one string */

/* Loads a snapshot file into *out (free with pk_snapshot_free). Fails with -PK_E_BAD_FILE and
   a message that names the file and says what is wrong (missing, not a regular file, too
   large, truncated, not JSON, foreign, a member of the wrong type or size), *out then empty. */
int pk_snapshot_read_file(const char *path, struct pk_snapshot *out, struct pk_err *e);

/* A pypeek.snapshot/1 document into *out: the inverse of pk_snapshot_to_json for every
   section (json_out(from_json(json_out(S))) == json_out(S)); the frames' entry flags, which
   the document does not carry, come from each thread's merged view. Required: schema,
   taken_at, target.pid, objects.total and objects.types; other members default to zero when
   absent (or null where pypeek writes null). Each value read is checked for type, sign and
   size; strings are valid UTF-8 without NUL (jansson), fixed-size fields are cut at a
   character boundary. */
int pk_snapshot_from_json(const json_t *doc, struct pk_snapshot *out, struct pk_err *e);

#endif
