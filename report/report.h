/* Turning a snapshot into output: the text report for people and JSON (pypeek.snapshot/1). */
#ifndef PK_REPORT_H
#define PK_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "cpython/snapshot.h"
#include "util/error.h"

struct pk_report_opts {
    size_t top; /* types listed; 0 = all (JSON) */
};

/* The snapshot as a jansson document (new reference; NULL on out-of-memory). Its inverse is
   pk_snapshot_from_json (report/snapshot_file.h). */
struct json_t;
struct json_t *pk_snapshot_to_json(const struct pk_snapshot *s, const struct pk_report_opts *o);
/* The "target" section alone (new reference). */
struct json_t *pk_snapshot_target_json(const struct pk_snapshot *s);
/* Writes the snapshot as one JSON document and a newline. */
int pk_report_json(FILE *f, const struct pk_snapshot *s, const struct pk_report_opts *o,
                   struct pk_err *e);
/* Writes the human-readable report. */
int pk_report_text(FILE *f, const struct pk_snapshot *s, const struct pk_report_opts *o,
                   struct pk_err *e);

/* "1,234,567" */
void pk_fmt_count(uint64_t v, char *buf, size_t cap);
/* "1.5 MiB", "312 B" */
void pk_fmt_bytes(uint64_t v, char *buf, size_t cap);

#endif
