/* /proc facts about a target: one directory fd, bounded file reads, thread ids, status fields.
   Everything read here is untrusted and validated before use. */
#ifndef PK_PROC_H
#define PK_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Opens /proc/PID as a directory fd (O_DIRECTORY|O_NOFOLLOW). Returns fd or -PK_E_*. */
int pk_proc_open(pid_t pid, struct pk_err *e);

/* Reads a whole /proc file (relative to procfd) into a NUL-terminated malloc'd buffer of at
   most max bytes. Returns 0 or -PK_E_*; *out must be freed by the caller. */
int pk_proc_read_file(int procfd, const char *name, size_t max, char **out, size_t *len,
                      struct pk_err *e);

/* Thread ids from /proc/PID/task, sorted ascending. *tids is malloc'd. */
int pk_proc_list_tasks(int procfd, pid_t **tids, size_t *n, struct pk_err *e);

/* Selected lines of /proc/PID/status. Sizes are bytes (the file says kB). */
struct pk_proc_status {
    char state; /* first letter of State:, '?' if absent */
    pid_t tgid;
    pid_t tracer; /* TracerPid */
    uid_t uid_real, uid_effective;
    int threads;
    uint64_t rss_bytes, hwm_bytes, swap_bytes;
    int have_rss; /* 0 for kernel threads and zombies, which have no VmRSS line */
    /* Signals pending for the whole process (ShdPnd) and those the main thread blocks
       (SigBlk: /proc/PID/status speaks for the thread-group leader); bit n-1 is signal n. */
    uint64_t shared_pending, main_blocked;
};
int pk_proc_status_parse(const char *text, struct pk_proc_status *st);
int pk_proc_read_status(int procfd, struct pk_proc_status *st, struct pk_err *e);

/* The command name of process pid (/proc/PID/comm, without its newline); "" if unreadable. */
void pk_proc_comm(pid_t pid, char *buf, size_t cap);

/* Parses a decimal number in [0, max]: the whole string must be digits. -1 if invalid. */
long pk_parse_decimal(const char *s, long max);
/* The same in [1, max], for ids (pids, counts). */
long pk_parse_id(const char *s, long max);

/* Parses exactly ndigits hex digits (ndigits 0: 1 to 16) at *pp into *v and advances *pp.
   Returns 0 or -1 (no digit, too many, or not exactly ndigits). */
int pk_parse_hex(const char **pp, int ndigits, uint64_t *v);

#endif
