/* Socket endpoints and states from the target's network namespace, matched by inode. */
#include "attach/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "attach/proc.h"

#define NET_MAX_LINE 4096
#define NET_MAX_LINES (1u << 24) /* a table longer than this is not read further */
#define NET_CHUNK (64u << 10)

static const char *const tcp_states[] = {
    NULL,    "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV",
};

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static const char *skip_token(const char *p)
{
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    return p;
}

static int dec_u64(const char **pp, uint64_t *v)
{
    const char *p = *pp;
    uint64_t x = 0;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
        if (++n > 19) return -1;
        x = x * 10 + (uint64_t)(*p++ - '0');
    }
    if (!n) return -1;
    *pp = p;
    *v = x;
    return 0;
}

/* "0100007F:1F90" (v4) or 32 hex digits ":PORT" (v6). The kernel prints each 32-bit word of
   the address as a host-order integer, so copying the words back gives network order. */
static int parse_endpoint(const char **pp, int v6, char *out, size_t cap)
{
    const char *p = *pp;
    uint32_t words[4];
    int nwords = v6 ? 4 : 1;
    for (int i = 0; i < nwords; i++) {
        char tmp[9];
        if (strnlen(p, 8) < 8) return -1;
        memcpy(tmp, p, 8);
        tmp[8] = '\0';
        const char *t = tmp;
        uint64_t w;
        if (pk_parse_hex(&t, 8, &w) < 0) return -1;
        words[i] = (uint32_t)w;
        p += 8;
    }
    uint64_t port;
    if (*p++ != ':' || pk_parse_hex(&p, 4, &port) < 0) return -1;
    char addr[INET6_ADDRSTRLEN];
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, words, addr, sizeof addr)) return -1;
    if (v6)
        snprintf(out, cap, "[%s]:%u", addr, (unsigned)port);
    else
        snprintf(out, cap, "%s:%u", addr, (unsigned)port);
    *pp = p;
    return 0;
}

static int is_zero_endpoint(const char *s)
{
    return !strcmp(s, "0.0.0.0:0") || !strcmp(s, "[::]:0");
}

int pk_net_parse_inet(const char *line, enum pk_fd_kind kind, struct pk_net_sock *out)
{
    int v6 = kind == PK_FD_TCP6 || kind == PK_FD_UDP6;
    int tcp = kind == PK_FD_TCP || kind == PK_FD_TCP6;
    memset(out, 0, sizeof *out);
    out->kind = kind;
    const char *p = skip_spaces(line);
    uint64_t v;
    if (dec_u64(&p, &v) < 0 || *p++ != ':') return -1; /* "sl" column; the header fails here */
    p = skip_spaces(p);
    if (parse_endpoint(&p, v6, out->local, sizeof out->local) < 0) return -1;
    p = skip_spaces(p);
    if (parse_endpoint(&p, v6, out->remote, sizeof out->remote) < 0) return -1;
    if (is_zero_endpoint(out->remote)) out->remote[0] = '\0';
    p = skip_spaces(p);
    uint64_t st;
    if (pk_parse_hex(&p, 2, &st) < 0) return -1;
    /* tx:rx queues, tr:when, retrnsmt, uid, timeout, then inode */
    for (int i = 0; i < 5; i++) {
        p = skip_spaces(p);
        if (!*p || *p == '\n') return -1;
        p = skip_token(p);
    }
    p = skip_spaces(p);
    if (dec_u64(&p, &out->inode) < 0) return -1;
    if (tcp)
        out->state = st < sizeof tcp_states / sizeof *tcp_states ? tcp_states[st] : NULL;
    else
        out->state = st == 1 ? "ESTABLISHED" : st == 7 ? "UNCONN" : NULL;
    return 0;
}

int pk_net_parse_unix(const char *line, struct pk_net_sock *out)
{
    memset(out, 0, sizeof *out);
    out->kind = PK_FD_UNIX;
    const char *p = line;
    uint64_t v, flags, type, st;
    if (pk_parse_hex(&p, 0, &v) < 0 || *p++ != ':') return -1; /* kernel address; header fails */
    p = skip_spaces(p);
    if (pk_parse_hex(&p, 0, &v) < 0) return -1; /* refcount */
    p = skip_spaces(p);
    if (pk_parse_hex(&p, 0, &v) < 0) return -1; /* protocol */
    p = skip_spaces(p);
    if (pk_parse_hex(&p, 0, &flags) < 0) return -1;
    p = skip_spaces(p);
    if (pk_parse_hex(&p, 0, &type) < 0) return -1;
    p = skip_spaces(p);
    if (pk_parse_hex(&p, 0, &st) < 0) return -1;
    p = skip_spaces(p);
    if (dec_u64(&p, &out->inode) < 0) return -1;
    if (*p == ' ') {
        p++;
        size_t n = strcspn(p, "\n");
        if (n >= sizeof out->local) n = sizeof out->local - 1;
        memcpy(out->local, p, n);
        out->local[n] = '\0';
    } else if (*p && *p != '\n') {
        return -1;
    }
    (void)type;
    if (flags & 0x10000)
        out->state = "LISTEN"; /* __SO_ACCEPTCON */
    else if (st == 3)
        out->state = "CONNECTED";
    else if (st == 1)
        out->state = "UNCONNECTED";
    else if (st == 2)
        out->state = "CONNECTING";
    else if (st == 4)
        out->state = "DISCONNECTING";
    return 0;
}

int pk_net_parse_netlink(const char *line, struct pk_net_sock *out)
{
    memset(out, 0, sizeof *out);
    out->kind = PK_FD_NETLINK;
    const char *p = line;
    uint64_t v, proto, portid;
    if (pk_parse_hex(&p, 16, &v) < 0) return -1; /* sk; the header fails here */
    p = skip_spaces(p);
    if (dec_u64(&p, &proto) < 0) return -1;
    p = skip_spaces(p);
    if (dec_u64(&p, &portid) < 0) return -1;
    /* Groups Rmem Wmem Dump Locks Drops, then Inode */
    for (int i = 0; i < 6; i++) {
        p = skip_spaces(p);
        if (!*p || *p == '\n') return -1;
        p = skip_token(p);
    }
    p = skip_spaces(p);
    if (dec_u64(&p, &out->inode) < 0) return -1;
    snprintf(out->local, sizeof out->local, "protocol %u portid %u", (unsigned)proto,
             (unsigned)portid);
    return 0;
}

static int cmp_query(const void *a, const void *b)
{
    const struct pk_net_query *x = a, *y = b;
    return (x->inode > y->inode) - (x->inode < y->inode);
}

struct matcher {
    struct pk_net_query *q; /* sorted by inode */
    size_t n, left;
    int oom;
};

static void apply(struct matcher *mt, const struct pk_net_sock *s)
{
    struct pk_net_query key = {.inode = s->inode};
    struct pk_net_query *hit = bsearch(&key, mt->q, mt->n, sizeof *mt->q, cmp_query);
    if (!hit) return;
    /* several fds can share one socket (dup): every one of them is answered */
    while (hit > mt->q && hit[-1].inode == s->inode)
        hit--;
    for (; hit < mt->q + mt->n && hit->inode == s->inode; hit++) {
        if (hit->found) continue; /* first table wins */
        hit->found = 1;
        hit->sock = *s;
        if (mt->left) mt->left--;
    }
}

/* Streams one table line by line (no whole-file buffer); over-long lines are skipped. */
static void scan_table(int procfd, const char *name, enum pk_fd_kind kind, struct matcher *mt)
{
    int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return; /* no IPv6, or the family is not built in */
    char *buf = malloc(NET_CHUNK + NET_MAX_LINE + 1);
    if (!buf) {
        close(fd);
        mt->oom = 1;
        return;
    }
    size_t have = 0, lines = 0;
    int skipping = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, NET_CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = '\0';
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
            *nl = '\0';
            if (!skipping && lines++ > 0 && mt->left) { /* line 0 is the header */
                struct pk_net_sock s;
                int ok = kind == PK_FD_UNIX      ? pk_net_parse_unix(line, &s)
                         : kind == PK_FD_NETLINK ? pk_net_parse_netlink(line, &s)
                                                 : pk_net_parse_inet(line, kind, &s);
                if (ok == 0) apply(mt, &s);
            }
            skipping = 0;
            line = nl + 1;
        }
        size_t rest = have - (size_t)(line - buf);
        if (rest > NET_MAX_LINE) { /* a line longer than any the kernel writes: drop it */
            rest = 0;
            skipping = 1;
        }
        memmove(buf, line, rest);
        have = rest;
        if (lines > NET_MAX_LINES || !mt->left) break;
    }
    free(buf);
    close(fd);
}

/* The protocol name sockfs reports for the socket behind fd ("TCP", "UNIXv6"...). */
static enum pk_fd_kind kind_from_xattr(int procfd, int fd)
{
    char path[96], name[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d/fd/%d", procfd, fd);
    ssize_t n = getxattr(path, "system.sockprotoname", name, sizeof name - 1);
    if (n <= 0) return PK_FD_SOCKET;
    name[n] = '\0';
    static const struct {
        const char *name;
        enum pk_fd_kind kind;
    } map[] = {{"TCP", PK_FD_TCP},    {"TCPv6", PK_FD_TCP6}, {"UDP", PK_FD_UDP},
               {"UDPv6", PK_FD_UDP6}, {"UNIX", PK_FD_UNIX},  {"NETLINK", PK_FD_NETLINK}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(name, map[i].name)) return map[i].kind;
    return PK_FD_SOCKET;
}

int pk_net_lookup(int procfd, struct pk_net_query *q, size_t n, struct pk_err *e)
{
    for (size_t i = 0; i < n; i++)
        q[i].found = 0;
    if (!n) return 0;
    qsort(q, n, sizeof *q, cmp_query);
    struct matcher mt = {q, n, n, 0};
    static const struct {
        const char *name;
        enum pk_fd_kind kind;
    } tables[] = {{"net/tcp", PK_FD_TCP},   {"net/tcp6", PK_FD_TCP6},
                  {"net/udp", PK_FD_UDP},   {"net/udp6", PK_FD_UDP6},
                  {"net/unix", PK_FD_UNIX}, {"net/netlink", PK_FD_NETLINK}};
    for (size_t i = 0; i < sizeof tables / sizeof *tables && mt.left && !mt.oom; i++)
        scan_table(procfd, tables[i].name, tables[i].kind, &mt);
    if (mt.oom) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (q[i].found) continue;
        memset(&q[i].sock, 0, sizeof q[i].sock);
        q[i].sock.inode = q[i].inode;
        q[i].sock.kind = kind_from_xattr(procfd, q[i].fd);
    }
    return 0;
}
