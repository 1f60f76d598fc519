/* Sockets of a target as its own network namespace shows them (/proc/PID/net/tcp, tcp6, udp,
   udp6, unix, netlink), matched to its socket fds by inode. Example lines:
     tcp:     "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0
   12345 1 ..." unix:    "0000000091a5a37f: 00000003 00000000 00010000 0001 01 12345 /run/app.sock"
     netlink: "0000000081002edf 0   4242       00000000 0        0        0     2        0 565" */
#ifndef PK_NET_H
#define PK_NET_H

#include <stdint.h>

#include "attach/fds.h"
#include "util/error.h"

struct pk_net_sock {
    enum pk_fd_kind kind;
    uint64_t inode;
    char local[256];   /* "127.0.0.1:8080", "[::1]:443", a unix path ("@name" when abstract) */
    char remote[64];   /* "" when not connected or unknown (unix peers are not in the table) */
    const char *state; /* static text, or NULL */
};

/* One data line of net/tcp, tcp6, udp or udp6 (kind says which). 0, or -1 for the header or
   a malformed line. */
int pk_net_parse_inet(const char *line, enum pk_fd_kind kind, struct pk_net_sock *out);
/* One data line of net/unix. 0 or -1. */
int pk_net_parse_unix(const char *line, struct pk_net_sock *out);
/* One data line of net/netlink. 0 or -1. */
int pk_net_parse_netlink(const char *line, struct pk_net_sock *out);

/* One socket to look up by inode. */
struct pk_net_query {
    uint64_t inode;
    int fd;                  /* for the sockprotoname fallback */
    int found;               /* 1: found in a table, sock is complete */
    struct pk_net_sock sock; /* when not found: kind from sockprotoname, no endpoints */
};

/* Looks every query up in the target's tables, streamed line by line. Sockets missing from them
   (another namespace, another family) get their protocol from the socket's
   "system.sockprotoname" attribute. A missing table is not an error. */
int pk_net_lookup(int procfd, struct pk_net_query *q, size_t n, struct pk_err *e);

#endif
