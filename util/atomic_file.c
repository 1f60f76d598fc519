/* Replacing a file atomically: temporary file in the same directory, fsync, rename, fsync of
   the directory, so a crash or a full disk never leaves a truncated file under the name. */
#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

int pk_atomic_begin(const char *path, struct pk_atomic_file *a, struct pk_err *e)
{
    memset(a, 0, sizeof *a);
    char *copy = strdup(path), *dir = dir_of(path);
    if (!copy || !dir || !(a->path = strdup(path))) {
        free(copy);
        free(dir);
        free(a->path);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    const char *base = basename(copy);
    size_t cap = strlen(dir) + strlen(base) + 16;
    a->tmp = malloc(cap);
    if (a->tmp) snprintf(a->tmp, cap, "%s/.%s.XXXXXX", dir, base);
    free(copy);
    free(dir);
    if (!a->tmp) {
        free(a->path);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    int fd = mkostemp(a->tmp, O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        free(a->tmp);
        free(a->path);
        a->tmp = a->path = NULL;
        return pk_fail(e, PK_E_INTERNAL, "cannot create a file next to %s: %s", path,
                       strerror(err));
    }
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) < 0 || !(a->f = fdopen(fd, "w"))) {
        int err = errno;
        close(fd);
        pk_atomic_abort(a);
        return pk_fail(e, PK_E_INTERNAL, "cannot write %s: %s", path, strerror(err));
    }
    return 0;
}

int pk_atomic_commit(struct pk_atomic_file *a, struct pk_err *e)
{
    int err = 0;
    if (fflush(a->f) != 0 || ferror(a->f)) err = errno ? errno : EIO;
    if (!err && fsync(fileno(a->f)) < 0) err = errno;
    if (fclose(a->f) != 0 && !err) err = errno;
    a->f = NULL;
    if (!err && rename(a->tmp, a->path) < 0) err = errno;
    if (err) {
        int r = pk_fail(e, PK_E_INTERNAL, "writing %s failed: %s", a->path, strerror(err));
        pk_atomic_abort(a);
        return r;
    }
    /* The rename is durable once the directory is on disk too. */
    char *dir = dir_of(a->path);
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
    return 0;
}

void pk_atomic_abort(struct pk_atomic_file *a)
{
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    memset(a, 0, sizeof *a);
}
