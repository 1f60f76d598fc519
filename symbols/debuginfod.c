/* Debug files from debuginfod servers, by build-id (see debuginfod.h). */
#include "symbols/debuginfod.h"

#include <elfutils/debuginfod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int progress(debuginfod_client *c, long a, long b)
{
    (void)c;
    if (b > 0)
        fprintf(stderr, "\rpypeek: fetching debug info: %ld/%ld KiB ", a >> 10, b >> 10);
    else
        fprintf(stderr, "\rpypeek: fetching debug info: %ld KiB ", a >> 10);
    return 0;
}

int pk_debuginfod_fetch(const unsigned char *build_id, size_t len, int quiet, char *out, size_t cap,
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
    int fd = debuginfod_find_debuginfo(c, build_id, (int)len, &path);
    if (tty) fprintf(stderr, "\r\033[K");
    debuginfod_end(c);
    if (fd < 0) {
        snprintf(why, whycap, "debuginfod_find_debuginfo (DEBUGINFOD_URLS=%s): %s", urls,
                 strerror(-fd));
        free(path);
        return -1;
    }
    close(fd);
    snprintf(out, cap, "%s", path);
    free(path);
    return 0;
}
