/* Open file descriptors of a target from /proc/PID/fd and fdinfo, and its fd limits. */
#include "attach/fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/proc.h"

#define LINK_MAX_BYTES 4096
#define FDINFO_MAX_BYTES (64u << 10) /* epoll/inotify fdinfo lists one line per watch */
#define LIMITS_MAX_BYTES (16u << 10)

static const char *const kind_names[PK_FD_KIND_COUNT] = {
    "file",     "directory", "pipe",       "fifo",   "tcp",     "tcp6",  "udp",
    "udp6",     "unix",      "netlink",    "socket", "eventfd", "epoll", "timerfd",
    "signalfd", "inotify",   "anon_inode", "memfd",  "device",
};

const char *pk_fd_kind_name(enum pk_fd_kind k)
{
    return (unsigned)k < PK_FD_KIND_COUNT ? kind_names[k] : "?";
}

int pk_parse_fd(const char *s)
{
    return (int)pk_parse_decimal(s, INT_MAX);
}

/* "socket:[123]" -> 123. Returns 0 or -1. */
static int bracket_inode(const char *p, uint64_t *inode)
{
    if (*p++ != '[') return -1;
    uint64_t v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 19) return -1;
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    if (!digits || p[0] != ']' || p[1] != '\0') return -1;
    *inode = v;
    return 0;
}

enum pk_fd_kind pk_fd_kind_from_link(const char *t, uint64_t *inode)
{
    *inode = 0;
    if (!strncmp(t, "socket:", 7)) {
        bracket_inode(t + 7, inode);
        return PK_FD_SOCKET; /* refined from the network tables */
    }
    if (!strncmp(t, "pipe:", 5)) {
        bracket_inode(t + 5, inode);
        return PK_FD_PIPE;
    }
    if (!strncmp(t, "/memfd:", 7)) return PK_FD_MEMFD;
    if (t[0] == '/') return PK_FD_KIND_COUNT; /* a path: stat decides */
    if (!strcmp(t, "anon_inode:[eventfd]")) return PK_FD_EVENTFD;
    if (!strcmp(t, "anon_inode:[eventpoll]")) return PK_FD_EPOLL;
    if (!strcmp(t, "anon_inode:[timerfd]")) return PK_FD_TIMERFD;
    if (!strcmp(t, "anon_inode:[signalfd]")) return PK_FD_SIGNALFD;
    if (!strcmp(t, "anon_inode:inotify")) return PK_FD_INOTIFY;
    return PK_FD_ANON_INODE;
}

/* Example: "pos:\t0\nflags:\t02100002\nmnt_id:\t24\n" (flags are octal). */
int pk_fdinfo_parse(const char *text, uint32_t *flags, int64_t *pos)
{
    int have_pos = 0, have_flags = 0;
    const char *line = text;
    for (int n = 0; line && *line && n < 64; n++) { /* both lines come first */
        const char *nl = strchr(line, '\n');
        if (!strncmp(line, "pos:", 4) && !have_pos) {
            const char *p = line + 4;
            while (*p == ' ' || *p == '\t')
                p++;
            int neg = *p == '-';
            if (neg) p++;
            uint64_t v = 0;
            int digits = 0;
            while (*p >= '0' && *p <= '9' && digits < 19)
                v = v * 10 + (uint64_t)(*p++ - '0'), digits++;
            if (digits && (*p == '\n' || *p == '\0') && v <= (uint64_t)INT64_MAX) {
                *pos = neg ? -(int64_t)v : (int64_t)v;
                have_pos = 1;
            }
        } else if (!strncmp(line, "flags:", 6) && !have_flags) {
            const char *p = line + 6;
            while (*p == ' ' || *p == '\t')
                p++;
            uint64_t v = 0;
            int digits = 0;
            while (*p >= '0' && *p <= '7' && digits < 12)
                v = v * 8 + (uint64_t)(*p++ - '0'), digits++;
            if (digits && (*p == '\n' || *p == '\0') && v <= UINT32_MAX) {
                *flags = (uint32_t)v;
                have_flags = 1;
            }
        }
        if (have_pos && have_flags) return 0;
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

static int parse_limit(const char **pp, int64_t *out)
{
    const char *p = *pp;
    while (*p == ' ')
        p++;
    if (!strncmp(p, "unlimited", 9)) {
        *out = -1;
        *pp = p + 9;
        return 0;
    }
    uint64_t v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 19) return -1;
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    if (!digits || v > (uint64_t)INT64_MAX || (*p != ' ' && *p != '\n' && *p != '\0')) return -1;
    *out = (int64_t)v;
    *pp = p;
    return 0;
}

int pk_fds_limits_parse(const char *text, int64_t *soft, int64_t *hard)
{
    static const char key[] = "Max open files";
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (!strncmp(line, key, sizeof key - 1)) {
            const char *p = line + sizeof key - 1;
            if (*p != ' ') return -1;
            return parse_limit(&p, soft) < 0 || parse_limit(&p, hard) < 0 ? -1 : 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

int pk_fds_read_limits(int procfd, int64_t *soft, int64_t *hard, struct pk_err *e)
{
    char *text;
    int r = pk_proc_read_file(procfd, "limits", LIMITS_MAX_BYTES, &text, NULL, e);
    if (r < 0) return r;
    r = pk_fds_limits_parse(text, soft, hard);
    free(text);
    if (r < 0)
        return pk_fail(e, PK_E_INCONSISTENT,
                       "/proc/PID/limits has no valid \"Max open files\" line");
    return 0;
}

static int cmp_fd(const void *a, const void *b)
{
    const struct pk_fd_entry *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Reads and classifies one fd. Returns 1 on success, 0 when the fd is gone, -PK_E_*. */
static int read_one(int procfd, int fd, struct pk_fd_entry *ent, struct pk_err *e)
{
    char name[48], link[LINK_MAX_BYTES];
    memset(ent, 0, sizeof *ent);
    ent->fd = fd;
    snprintf(name, sizeof name, "fd/%d", fd);
    ssize_t n = readlinkat(procfd, name, link, sizeof link - 1);
    if (n < 0) {
        if (errno == ENOENT) return 0; /* closed while we looked */
        if (errno == EACCES || errno == EPERM)
            return pk_fail(e, PK_E_PERMISSION, "cannot read /proc/PID/%s: %s", name,
                           strerror(errno));
        if (errno == ESRCH) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
        return 0;
    }
    link[n] = '\0';
    ent->kind = pk_fd_kind_from_link(link, &ent->inode);
    if (ent->kind == PK_FD_KIND_COUNT) {
        struct statx st;
        ent->kind = PK_FD_FILE;
        if (statx(procfd, name, AT_STATX_DONT_SYNC, STATX_TYPE, &st) == 0) {
            mode_t m = st.stx_mode & S_IFMT;
            if (m == S_IFDIR)
                ent->kind = PK_FD_DIRECTORY;
            else if (m == S_IFIFO)
                ent->kind = PK_FD_FIFO;
            else if (m == S_IFCHR || m == S_IFBLK)
                ent->kind = PK_FD_DEVICE;
            else if (m == S_IFSOCK)
                ent->kind = PK_FD_SOCKET;
        } else if (errno == ENOENT) {
            return 0;
        }
    }
    snprintf(name, sizeof name, "fdinfo/%d", fd);
    char *info;
    struct pk_err ignore = {0};
    if (pk_proc_read_file(procfd, name, FDINFO_MAX_BYTES, &info, NULL, &ignore) == 0) {
        ent->have_fdinfo = pk_fdinfo_parse(info, &ent->flags, &ent->pos) == 0;
        free(info);
    } else if (ignore.code == PK_E_NO_PROCESS && faccessat(procfd, "fd", F_OK, 0) == 0) {
        return 0; /* fdinfo/N vanished but the process lives: the fd was closed */
    }
    if (!(ent->target = strdup(link))) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    return 1;
}

int pk_fds_read(int procfd, struct pk_fd_list *out, struct pk_err *e)
{
    memset(out, 0, sizeof *out);
    int dfd = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == EACCES || errno == EPERM)
            return pk_fail(e, PK_E_PERMISSION, "cannot list /proc/PID/fd: %s", strerror(errno));
        return pk_fail(e, PK_E_NO_PROCESS, "cannot list /proc/PID/fd: %s", strerror(errno));
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return pk_fail(e, PK_E_INTERNAL, "fdopendir: %s", strerror(errno));
    }
    size_t cap = 64;
    int rc = 0;
    out->v = malloc(cap * sizeof *out->v);
    if (!out->v) rc = pk_fail(e, PK_E_INTERNAL, "out of memory");
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        int fd = pk_parse_fd(de->d_name);
        if (fd < 0) continue;
        if (out->n >= PK_FDS_MAX) {
            out->truncated = 1;
            break;
        }
        if (out->n == cap) {
            struct pk_fd_entry *nv = realloc(out->v, cap * 2 * sizeof *nv);
            if (!nv) {
                rc = pk_fail(e, PK_E_INTERNAL, "out of memory");
                break;
            }
            out->v = nv;
            cap *= 2;
        }
        int r = read_one(procfd, fd, &out->v[out->n], e);
        if (r < 0)
            rc = r;
        else if (r > 0)
            out->n++;
    }
    closedir(d);
    if (rc < 0) {
        pk_fds_free(out);
        return rc;
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_fd);
    return 0;
}

void pk_fds_free(struct pk_fd_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].target);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}
