/* Error codes and the error-message channel shared by every module. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const int exit_codes[] = {
#define PK_X(name, code, text) code,
    PK_ERRORS(PK_X)
#undef PK_X
};

static int vfail(struct pk_err *e, int code, const char *fmt, va_list ap)
{
    if (code <= 0 || code >= PK_E_COUNT) code = PK_E_INTERNAL;
    if (e) {
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    }
    return -code;
}

int pk_fail(struct pk_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    if (e && e->code != PK_E_OK) return -e->code;
    va_start(ap, fmt);
    int r = vfail(e, code, fmt, ap);
    va_end(ap);
    return r;
}

int pk_refail(struct pk_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfail(e, code, fmt, ap);
    va_end(ap);
    return r;
}

void pk_err_clear(struct pk_err *e)
{
    e->code = PK_E_OK;
    e->msg[0] = '\0';
}

int pk_exit_code(int code)
{
    if (code < 0) code = -code;
    if (code >= PK_E_COUNT) return exit_codes[PK_E_INTERNAL];
    return exit_codes[code];
}
