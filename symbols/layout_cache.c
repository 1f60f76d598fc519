/* The per-build-id layout cache (see layout_cache.h). */
#include "symbols/layout_cache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/atomic_file.h"

int pk_layout_cache_path(const char *build_id, char *out, size_t cap)
{
    if (!build_id || !build_id[0]) return -1;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, cap, "%s/pypeek/layout-%s.layout", xdg, build_id);
    else if (home && home[0] == '/')
        n = snprintf(out, cap, "%s/.cache/pypeek/layout-%s.layout", home, build_id);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int pk_layout_cache_load(const char *path, const char *build_id, struct pk_layout_record *r,
                         char *why, size_t cap)
{
    struct stat st;
    if (stat(path, &st) < 0 && errno == ENOENT) return 0;
    struct pk_err e = {0};
    if (pk_record_load(path, r, &e) < 0) {
        snprintf(why, cap, "%s", e.msg);
        return -1;
    }
    if (strcmp(r->build_id, build_id) != 0) {
        snprintf(why, cap, "it is for build-id %s", r->build_id[0] ? r->build_id : "(none)");
        return -1;
    }
    return 1;
}

/* mkdir -p of the entry's directory (two levels at most: .../pypeek under the cache root). */
static int make_dirs(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return -1;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int pk_layout_cache_store(const char *path, const struct pk_layout_record *r, char *why, size_t cap)
{
    if (make_dirs(path) < 0) {
        snprintf(why, cap, "cannot create the directory of %s: %s", path, strerror(errno));
        return -1;
    }
    struct pk_atomic_file a;
    struct pk_err e = {0};
    if (pk_atomic_begin(path, &a, &e) < 0) {
        snprintf(why, cap, "%s", e.msg);
        return -1;
    }
    if (pk_record_write(a.f, r) < 0) {
        pk_atomic_abort(&a);
        snprintf(why, cap, "writing %s failed", path);
        return -1;
    }
    if (pk_atomic_commit(&a, &e) < 0) {
        snprintf(why, cap, "%s", e.msg);
        return -1;
    }
    return 0;
}
