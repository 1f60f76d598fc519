/* Debug files and executables from debuginfod servers, by build-id (see debuginfod.h). */
#include "symbols/debuginfod.h"

#include <elfutils/debuginfod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*find_fn)(debuginfod_client *, const unsigned char *, int, char **);

static int progress_debuginfo(debuginfod_client *c, long a, long b)
{
    (void)c;
    if (b > 0)
        fprintf(stderr, "\rpypeek: fetching debug info: %ld/%ld KiB ", a >> 10, b >> 10);
    else
        fprintf(stderr, "\rpypeek: fetching debug info: %ld KiB ", a >> 10);
    return 0;
}

static int progress_executable(debuginfod_client *c, long a, long b)
{
    (void)c;
    if (b > 0)
        fprintf(stderr, "\rpypeek: fetching an executable: %ld/%ld KiB ", a >> 10, b >> 10);
    else
        fprintf(stderr, "\rpypeek: fetching an executable: %ld KiB ", a >> 10);
    return 0;
}

/* One query: only when DEBUGINFOD_URLS names servers; the progress line on a TTY. */
static int fetch(find_fn find, const char *find_name, debuginfod_progressfn_t progress,
                 const unsigned char *build_id, size_t len, int quiet, char *out, size_t cap,
                 char *why, size_t whycap)
{
    why[0] = '\0';
    const char *urls = getenv("DEBUGINFOD_URLS");
    if (!urls || !*urls || !len) return -1;
    debuginfod_client *c = debuginfod_begin();
    if (!c) {
        snprintf(why, whycap, "debuginfod_begin failed");
        return -1;
    }
    int tty = !quiet && isatty(STDERR_FILENO);
    if (tty) debuginfod_set_progressfn(c, progress);
    char *path = NULL;
    int fd = find(c, build_id, (int)len, &path);
    if (tty) fprintf(stderr, "\r\033[K");
    debuginfod_end(c);
    if (fd < 0) {
        snprintf(why, whycap, "%s (DEBUGINFOD_URLS=%s): %s", find_name, urls, strerror(-fd));
        free(path);
        return fd;
    }
    close(fd);
    snprintf(out, cap, "%s", path);
    free(path);
    return 0;
}

int pk_debuginfod_fetch(const unsigned char *build_id, size_t len, int quiet, char *out, size_t cap,
                        char *why, size_t whycap)
{
    return fetch(debuginfod_find_debuginfo, "debuginfod_find_debuginfo", progress_debuginfo,
                 build_id, len, quiet, out, cap, why, whycap) < 0
               ? -1
               : 0;
}

int pk_debuginfod_fetch_executable(const unsigned char *build_id, size_t len, int quiet, char *out,
                                   size_t cap, char *why, size_t whycap)
{
    return fetch(debuginfod_find_executable, "debuginfod_find_executable", progress_executable,
                 build_id, len, quiet, out, cap, why, whycap);
}
