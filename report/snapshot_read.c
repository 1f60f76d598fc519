/* Reading saved snapshot files: bounded size, strict JSON (jansson rejects invalid UTF-8, NUL
   and duplicate keys), then the document into struct pk_snapshot (snapshot_parse.c), which
   checks its shape as it reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpython/snapshot.h"
#include "report/snapshot_file.h"

/* Reads at most PK_SNAPSHOT_FILE_MAX + 1 bytes of a regular file into a malloc'd buffer. */
static int read_bounded(const char *path, char **buf, size_t *len, struct pk_err *e)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return pk_fail(e, PK_E_BAD_FILE, "%s: %s", path, strerror(errno));
    struct stat st;
    int r = 0;
    if (fstat(fd, &st) < 0)
        r = pk_fail(e, PK_E_BAD_FILE, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        r = pk_fail(e, PK_E_BAD_FILE, "%s is not a regular file", path);
    else if ((uint64_t)st.st_size > PK_SNAPSHOT_FILE_MAX)
        r = pk_fail(e, PK_E_BAD_FILE, "%s is %lld bytes; snapshot files over %u MiB are refused",
                    path, (long long)st.st_size, PK_SNAPSHOT_FILE_MAX >> 20);
    if (r < 0) {
        close(fd);
        return r;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = malloc(cap);
    if (!b) {
        close(fd);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    /* The file may change while read: stop at the size seen, plus one byte to notice growth. */
    while (n < cap) {
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            r = pk_fail(e, PK_E_BAD_FILE, "%s: %s", path, strerror(errno));
            break;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    if (r == 0 && n == cap) r = pk_fail(e, PK_E_BAD_FILE, "%s changed while it was read", path);
    if (r < 0) {
        free(b);
        return r;
    }
    *buf = b;
    *len = n;
    return 0;
}

int pk_snapshot_read_file(const char *path, struct pk_snapshot *out, struct pk_err *e)
{
    char *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int r = read_bounded(path, &buf, &len, e);
    if (r < 0) return r;
    if (len == 0) {
        free(buf);
        return pk_fail(e, PK_E_BAD_FILE, "%s is empty", path);
    }
    if (memchr(buf, '\0', len)) {
        free(buf);
        return pk_fail(e, PK_E_BAD_FILE, "%s contains NUL bytes: not a JSON text file", path);
    }
    json_error_t je;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!doc) {
        /* jansson reports the position after the token it stopped at */
        int eof = je.position >= 0 && (size_t)je.position >= len && strstr(je.text, "end of file");
        return pk_fail(e, PK_E_BAD_FILE, "%s is not %s JSON (%s at line %d, column %d)", path,
                       eof ? "complete" : "valid", je.text, je.line, je.column);
    }
    struct pk_err ce = {0};
    r = pk_snapshot_from_json(doc, out, &ce);
    json_decref(doc);
    if (r < 0) return pk_fail(e, ce.code, "%s: %s", path, ce.msg);
    return 0;
}
