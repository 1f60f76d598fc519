/* The fd section of the reports: JSON ("fds" in pypeek.snapshot/1) and the text summary.
   Called with one line each from json_out.c and text_out.c. */
#ifndef PK_FDS_REPORT_H
#define PK_FDS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpython/snapshot.h"

struct json_t;
/* The "fds" object (new reference; NULL on out-of-memory). */
struct json_t *pk_fds_to_json(const struct pk_fds_snap *f);
/* Count vs limit, counts by kind, the paths/endpoints held most often and their owners. */
void pk_fds_report_text(FILE *out, const struct pk_fds_snap *f, size_t top);

/* "O_WRONLY|O_APPEND|O_CLOEXEC"; unknown bits as octal. */
void pk_fd_flags_text(uint32_t flags, char *buf, size_t cap);
/* "AF_INET", "SOCK_STREAM"; the decimal number when unknown. */
void pk_sock_family_text(int family, char *buf, size_t cap);
void pk_sock_type_text(int type, char *buf, size_t cap);
/* The inverses, for saved snapshots: 0, or -1 when the text is not one pypeek writes. */
int pk_fd_flags_parse(const char *text, uint32_t *flags);
int pk_sock_family_parse(const char *text, int *family);
int pk_sock_type_parse(const char *text, int *type);

#endif
