/* Debug files and executables from debuginfod servers, by build-id (see debuginfod.h). */
#include "symbols/debuginfod.h"

#include <elfutils/debuginfod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*find_fn)(debuginfod_client *, const unsigned char *, int, char **);

/* The progress line; the client's user data names what is fetched. */
static int progress(debuginfod_client *c, long a, long b)
{
    const char *what = debuginfod_get_user_data(c);
    if (b > 0)
        fprintf(stderr, "\rpypeek: fetching %s: %ld/%ld KiB ", what, a >> 10, b >> 10);
    else
        fprintf(stderr, "\rpypeek: fetching %s: %ld KiB ", what, a >> 10);
    return 0;
}

/* One query: only when DEBUGINFOD_URLS names servers; the progress line on a TTY. */
static int fetch(find_fn find, const char *find_name, const char *what,
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
    if (tty) {
        debuginfod_set_user_data(c, (void *)what);
        debuginfod_set_progressfn(c, progress);
    }
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
    return fetch(debuginfod_find_debuginfo, "debuginfod_find_debuginfo", "debug info", build_id,
                 len, quiet, out, cap, why, whycap) < 0
               ? -1
               : 0;
}

int pk_debuginfod_fetch_executable(const unsigned char *build_id, size_t len, int quiet, char *out,
                                   size_t cap, char *why, size_t whycap)
{
    return fetch(debuginfod_find_executable, "debuginfod_find_executable", "an executable",
                 build_id, len, quiet, out, cap, why, whycap);
}
