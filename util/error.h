/* Error codes and the error-message channel shared by every module.
   Functions return 0 or -PK_E_*, and fill a struct pk_err the caller prints. */
#ifndef PK_ERROR_H
#define PK_ERROR_H

#include <stddef.h>

/* X(name, exit code, description). The exit codes are the CLI's contract (README, --help). */
#define PK_ERRORS(X)                                                                               \
    X(OK, 0, "ok")                                                                                 \
    X(USAGE, 1, "usage error")                                                                     \
    X(NO_PROCESS, 2, "no such process, or it exited")                                              \
    X(PERMISSION, 3, "permission denied")                                                          \
    X(NOT_PYTHON, 4, "not a CPython process, or unsupported version")                              \
    X(NO_LAYOUT, 5, "interpreter layout unavailable (no debug info)")                              \
    X(INCONSISTENT, 6, "target memory inconsistent after retries")                                 \
    X(BAD_FILE, 7, "snapshot or core file unreadable")                                             \
    X(INTERNAL, 8, "internal error (out of memory, output failed, bug)")                           \
    X(UNMAPPED, 6, "target address not mapped")                                                    \
    X(PAUSE_EXCEEDED, 6, "the pause would exceed --max-pause")                                     \
    X(INTERRUPTED, 130, "interrupted by a signal")

enum pk_errcode {
#define PK_X(name, code, text) PK_E_##name,
    PK_ERRORS(PK_X)
#undef PK_X
        PK_E_COUNT
};

struct pk_err {
    int code;       /* enum pk_errcode, PK_E_OK when nothing failed */
    char msg[2048]; /* one line, no trailing newline (permission errors add indented
                       "cause:" lines, attach/eperm.h) */
};

/* Records the first failure (later ones are kept only if none was recorded) and returns -code. */
int pk_fail(struct pk_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like pk_fail but always overwrites: for adding context to a lower layer's message. */
int pk_refail(struct pk_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pk_err_clear(struct pk_err *e);
int pk_exit_code(int code);

#endif
