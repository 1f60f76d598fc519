/* Checked access to one member of a snapshot document, for the reader (snapshot_parse*.c):
   absent or null leaves the default, a value of the wrong type, out of range or too long
   fails with -PK_E_BAD_FILE naming its path ("objects.types[3].count"). Internal to report/. */
#ifndef PK_SNAPSHOT_PARSE_H
#define PK_SNAPSHOT_PARSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cpython/snapshot.h"
#include "util/error.h"

/* Where a value is, for messages. */
struct pk_jpath {
    char s[160];
};

void pk_jpath_key(struct pk_jpath *out, const struct pk_jpath *base, const char *key);
void pk_jpath_idx(struct pk_jpath *out, const struct pk_jpath *base, size_t idx);
int pk_jbad(struct pk_err *e, const struct pk_jpath *p, const char *key, const char *what);

/* Each returns 0 (absent or null: *out untouched) or 0 after storing, or a failure. */
int pk_jget_u64(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                uint64_t *out, struct pk_err *e);
int pk_jget_i64(const json_t *o, const struct pk_jpath *p, const char *key, int64_t *out,
                struct pk_err *e);
/* An integer in [lo, hi]. */
int pk_jget_int(const json_t *o, const struct pk_jpath *p, const char *key, int64_t lo, int64_t hi,
                int *out, struct pk_err *e);
int pk_jget_bool(const json_t *o, const struct pk_jpath *p, const char *key, int *out,
                 struct pk_err *e);
int pk_jget_real(const json_t *o, const struct pk_jpath *p, const char *key, double *out,
                 struct pk_err *e);
/* A string into buf, cut at a character boundary when longer. */
int pk_jget_buf(const json_t *o, const struct pk_jpath *p, const char *key, int required, char *buf,
                size_t cap, struct pk_err *e);
/* A string, malloc'd; absent or null: a copy of def (NULL def: *out = NULL). */
int pk_jget_dup(const json_t *o, const struct pk_jpath *p, const char *key, const char *def,
                char **out, struct pk_err *e);
/* The string itself (valid while the document lives), or NULL when absent or null. */
int pk_jget_str(const json_t *o, const struct pk_jpath *p, const char *key, const char **out,
                struct pk_err *e);
/* An object or array member (NULL when absent or null); arrays bounded in size. */
int pk_jget_obj(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                const json_t **out, struct pk_err *e);
int pk_jget_arr(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                const json_t **out, struct pk_err *e);
/* Every number of an object of numbers (memory, fds.by_kind) is a count, and there are at
   most 256: checked though not all are read. */
int pk_jcheck_counts(const json_t *o, const struct pk_jpath *p, struct pk_err *e);
/* calloc of n elements (at least one), or a failure. */
int pk_jalloc(size_t n, size_t size, void **out, struct pk_err *e);

/* A [{type, count[, bytes, bytes_exact, untracked_count, untracked_bytes, frozen]}] list
   into a new type_stat array. */
int pk_jget_type_stats(const json_t *o, const struct pk_jpath *p, const char *key, int required,
                       struct pk_type_stat **out, size_t *n, struct pk_err *e);

/* The sections (snapshot_parse_graph.c, snapshot_parse_live.c). */
int pk_parse_graph(const json_t *doc, struct pk_interp_snap *main, struct pk_err *e);
int pk_parse_unreachable(const json_t *u, struct pk_unreachable_snap *out, struct pk_err *e);
int pk_parse_fds(const json_t *fds, struct pk_fds_snap *out, struct pk_err *e);
int pk_parse_threads(const json_t *threads, struct pk_snapshot *s, struct pk_err *e);

#endif
