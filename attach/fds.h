/* Open file descriptors of a target from /proc/PID/fd and /proc/PID/fdinfo, and its fd limits
   from /proc/PID/limits. Knows nothing of CPython. Examples of what the kernel prints:
     readlink fd/3 -> "socket:[123456]", "pipe:[7890]", "/var/log/app.log (deleted)",
                      "anon_inode:[eventfd]", "/memfd:buf (deleted)"
     fdinfo/3      -> "pos:\t0\nflags:\t02100002\nmnt_id:\t24\nino:\t123456\n"
     limits        -> "Max open files            1024                 524288               files" */
#ifndef PK_FDS_H
#define PK_FDS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define PK_FDS_MAX (1u << 22) /* more open fds than the kernel's nr_open allows by default */

/* One flat word per fd, as the JSON schema names them (pk_fd_kind_name). */
enum pk_fd_kind {
    PK_FD_FILE,
    PK_FD_DIRECTORY,
    PK_FD_PIPE,
    PK_FD_FIFO,
    PK_FD_TCP,
    PK_FD_TCP6,
    PK_FD_UDP,
    PK_FD_UDP6,
    PK_FD_UNIX,
    PK_FD_NETLINK,
    PK_FD_SOCKET, /* another family, or not in the target's network namespace tables */
    PK_FD_EVENTFD,
    PK_FD_EPOLL,
    PK_FD_TIMERFD,
    PK_FD_SIGNALFD,
    PK_FD_INOTIFY,
    PK_FD_ANON_INODE, /* any other anon_inode or pseudo file (pidfd, io_uring, nsfs ...) */
    PK_FD_MEMFD,
    PK_FD_DEVICE,
    PK_FD_KIND_COUNT
};

struct pk_fd_entry {
    int fd;
    enum pk_fd_kind kind; /* PK_FD_SOCKET for every socket until attach/net.h says more */
    char *target;         /* the link text as read (bounded, NUL-terminated, untrusted bytes) */
    uint64_t inode;       /* socket:[N] / pipe:[N] inode, else 0 */
    int have_fdinfo;      /* flags and pos are valid */
    uint32_t flags;       /* f_flags, octal in fdinfo (O_CLOEXEC included) */
    int64_t pos;
};

struct pk_fd_list {
    struct pk_fd_entry *v; /* sorted by fd */
    size_t n;
    int truncated; /* more than PK_FDS_MAX fds: the rest were not listed */
};

/* Lists every open fd of the target with its link, kind and fdinfo, through procfd (/proc/PID).
   An fd that disappears while being read (closed meanwhile) is left out. Paths are classified
   with statx(AT_STATX_DONT_SYNC) on the fd link, which opens nothing and waits on no server. */
int pk_fds_read(int procfd, struct pk_fd_list *out, struct pk_err *e);
void pk_fds_free(struct pk_fd_list *l); /* frees the contents; NULL-safe */

/* "Max open files" soft and hard limits: -1 for "unlimited". Returns 0, or -1 if the line is
   missing or malformed. */
int pk_fds_limits_parse(const char *text, int64_t *soft, int64_t *hard);
int pk_fds_read_limits(int procfd, int64_t *soft, int64_t *hard, struct pk_err *e);

/* Parses fdinfo text. Returns 0 when both pos and flags were found and valid, else -1. */
int pk_fdinfo_parse(const char *text, uint32_t *flags, int64_t *pos);

/* The kind a link names, before any stat: PK_FD_KIND_COUNT when it is a path that needs a stat.
   Sets *inode for "socket:[N]" and "pipe:[N]". */
enum pk_fd_kind pk_fd_kind_from_link(const char *target, uint64_t *inode);
const char *pk_fd_kind_name(enum pk_fd_kind k);
/* Parses a decimal fd number in [0, INT_MAX]: the whole string must be digits. -1 if invalid. */
int pk_parse_fd(const char *s);

#endif
