/* The "fds" section of the JSON snapshot: counts, limits, kinds, and every fd with its owners.
   Strings from the target (paths, names) are made valid UTF-8 before jansson sees them. */
#include "report/json_util.h"
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report/fds_report.h"
#include "util/text.h"

/* fdinfo shows the kernel's f_flags, which keep O_LARGEFILE even where glibc defines it as 0
   (64-bit): the kernel's value, from asm-generic/fcntl.h (x86-64, arm64, riscv, ...). */
#if defined(__x86_64__) || defined(__aarch64__) || defined(__riscv) || defined(__i386__)
#define KERNEL_O_LARGEFILE 0100000u
#else
#define KERNEL_O_LARGEFILE ((uint32_t)O_LARGEFILE)
#endif

static const struct {
    uint32_t bit;
    const char *name;
} flag_bits[] = {
    {O_APPEND, "O_APPEND"},
    {O_NONBLOCK, "O_NONBLOCK"},
    {O_SYNC, "O_SYNC"},
    {O_DSYNC, "O_DSYNC"},
    {O_DIRECT, "O_DIRECT"},
    {KERNEL_O_LARGEFILE, "O_LARGEFILE"},
    {O_DIRECTORY, "O_DIRECTORY"},
    {O_NOFOLLOW, "O_NOFOLLOW"},
    {O_NOATIME, "O_NOATIME"},
    {O_CLOEXEC, "O_CLOEXEC"},
    {O_PATH, "O_PATH"},
    {O_ASYNC, "O_ASYNC"},
    {O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE"},
};
#define NFLAG_BITS (sizeof flag_bits / sizeof *flag_bits)

void pk_fd_flags_text(uint32_t flags, char *buf, size_t cap)
{
    uint32_t acc = flags & O_ACCMODE;
    size_t o = (size_t)snprintf(buf, cap, "%s",
                                acc == O_RDONLY   ? "O_RDONLY"
                                : acc == O_WRONLY ? "O_WRONLY"
                                : acc == O_RDWR   ? "O_RDWR"
                                                  : "O_ACCMODE");
    uint32_t rest = flags & ~(uint32_t)O_ACCMODE;
    for (size_t i = 0; i < NFLAG_BITS && o < cap; i++) {
        if (!flag_bits[i].bit || (rest & flag_bits[i].bit) != flag_bits[i].bit) continue;
        rest &= ~flag_bits[i].bit;
        o += (size_t)snprintf(buf + o, cap - o, "|%s", flag_bits[i].name);
    }
    if (rest && o < cap) snprintf(buf + o, cap - o, "|0%o", rest);
}

int pk_fd_flags_parse(const char *text, uint32_t *flags)
{
    static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
    static const uint32_t acc_bits[] = {O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE};
    uint32_t f = 0;
    size_t n = strcspn(text, "|"), k = 0;
    for (; k < 4; k++)
        if (strlen(acc[k]) == n && strncmp(text, acc[k], n) == 0) break;
    if (k == 4) return -1;
    f = acc_bits[k];
    for (const char *p = text + n; *p == '|';) {
        p++;
        n = strcspn(p, "|");
        size_t i = 0;
        for (; i < NFLAG_BITS; i++)
            if (strlen(flag_bits[i].name) == n && strncmp(p, flag_bits[i].name, n) == 0) break;
        if (i < NFLAG_BITS) {
            f |= flag_bits[i].bit;
        } else {
            char *end;
            unsigned long v = p[0] == '0' ? strtoul(p, &end, 8) : 0;
            if (p[0] != '0' || end != p + n || v > UINT32_MAX) return -1;
            f |= (uint32_t)v;
        }
        p += n;
    }
    *flags = f;
    return 0;
}

static const int families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_VSOCK};
static const int socktypes[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_RDM};

/* The number a text names: one of the known values' text, else a decimal int. */
static int parse_named(const char *text, const int *known, size_t n,
                       void (*fmt)(int, char *, size_t), int *out)
{
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        fmt(known[i], buf, sizeof buf);
        if (strcmp(buf, text) == 0) return *out = known[i], 0;
    }
    char *end;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < INT_MIN || v > INT_MAX) return -1;
    *out = (int)v;
    return 0;
}

int pk_sock_family_parse(const char *text, int *family)
{
    return parse_named(text, families, sizeof families / sizeof *families, pk_sock_family_text,
                       family);
}

int pk_sock_type_parse(const char *text, int *type)
{
    return parse_named(text, socktypes, sizeof socktypes / sizeof *socktypes, pk_sock_type_text,
                       type);
}

void pk_sock_family_text(int family, char *buf, size_t cap)
{
    const char *n = family == AF_UNIX      ? "AF_UNIX"
                    : family == AF_INET    ? "AF_INET"
                    : family == AF_INET6   ? "AF_INET6"
                    : family == AF_NETLINK ? "AF_NETLINK"
                    : family == AF_PACKET  ? "AF_PACKET"
                    : family == AF_VSOCK   ? "AF_VSOCK"
                                           : NULL;
    if (n)
        snprintf(buf, cap, "%s", n);
    else
        snprintf(buf, cap, "%d", family);
}

void pk_sock_type_text(int type, char *buf, size_t cap)
{
    int t = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    const char *n = t == SOCK_STREAM      ? "SOCK_STREAM"
                    : t == SOCK_DGRAM     ? "SOCK_DGRAM"
                    : t == SOCK_RAW       ? "SOCK_RAW"
                    : t == SOCK_SEQPACKET ? "SOCK_SEQPACKET"
                    : t == SOCK_RDM       ? "SOCK_RDM"
                                          : NULL;
    if (n)
        snprintf(buf, cap, "%s", n);
    else
        snprintf(buf, cap, "%d", type);
}

static json_t *jaddr(uint64_t a)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)a);
    return json_string(buf);
}

static json_t *jlimit(int64_t v)
{
    return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *owner_json(const struct pk_fd_owner *w)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", pk_json_str(w->type));
    json_object_set_new(o, "address", jaddr(w->address));
    json_object_set_new(o, "chain", pk_json_str(w->chain));
    if (w->is_socket) {
        char fam[32], typ[32];
        pk_sock_family_text(w->family, fam, sizeof fam);
        pk_sock_type_text(w->socktype, typ, sizeof typ);
        json_object_set_new(o, "family", json_string(fam));
        json_object_set_new(o, "socktype", json_string(typ));
        json_object_set_new(o, "proto", json_integer(w->proto));
    } else {
        json_object_set_new(o, "fileio", jaddr(w->fileio));
        json_object_set_new(o, "name", w->name ? pk_json_str(w->name) : json_null());
        json_object_set_new(o, "mode", json_string(w->mode));
        json_object_set_new(o, "closefd", json_boolean(w->closefd));
    }
    return o;
}

static json_t *item_json(const struct pk_fds_snap *f, const struct pk_fd_item *it)
{
    json_t *o = json_object();
    json_object_set_new(o, "fd", json_integer(it->fd));
    json_object_set_new(o, "kind", json_string(it->kind));
    json_object_set_new(o, "target", pk_json_str(it->target ? it->target : ""));
    if (it->have_fdinfo) {
        char flags[256];
        pk_fd_flags_text(it->flags, flags, sizeof flags);
        json_object_set_new(o, "flags", json_string(flags));
        json_object_set_new(o, "pos", json_integer((json_int_t)it->pos));
    } else {
        json_object_set_new(o, "flags", json_null());
        json_object_set_new(o, "pos", json_null());
    }
    if (it->inode && strcmp(it->kind, "pipe") != 0) {
        json_object_set_new(o, "inode", json_integer((json_int_t)it->inode));
        if (it->local) json_object_set_new(o, "local", pk_json_str(it->local));
        if (it->remote) json_object_set_new(o, "remote", pk_json_str(it->remote));
        if (it->state) json_object_set_new(o, "state", json_string(it->state));
    }
    json_t *owners = json_array();
    for (size_t k = 0; k < it->nowners && it->owner_first + k < f->nowners; k++)
        json_array_append_new(owners, owner_json(&f->owners[it->owner_first + k]));
    json_object_set_new(o, "owners", owners);
    return o;
}

json_t *pk_fds_to_json(const struct pk_fds_snap *f)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "available", json_boolean(f->available));
    json_object_set_new(o, "count", json_integer((json_int_t)f->nitems));
    json_object_set_new(o, "limit_soft", jlimit(f->limit_soft));
    json_object_set_new(o, "limit_hard", jlimit(f->limit_hard));
    json_object_set_new(o, "truncated", json_boolean(f->truncated));
    json_object_set_new(o, "owners_available", json_boolean(f->owners_available));
    json_object_set_new(o, "socket_owners_available", json_boolean(f->sockets_available));
    size_t unowned = 0;
    for (size_t i = 0; i < f->nitems; i++)
        unowned += f->items[i].nowners == 0;
    json_object_set_new(o, "unowned", json_integer((json_int_t)unowned));
    json_t *by_kind = json_object();
    for (size_t i = 0; i < f->nitems; i++) {
        json_t *c = json_object_get(by_kind, f->items[i].kind);
        json_object_set_new(by_kind, f->items[i].kind,
                            json_integer(c ? json_integer_value(c) + 1 : 1));
    }
    json_object_set_new(o, "by_kind", by_kind);
    json_t *items = json_array();
    for (size_t i = 0; i < f->nitems; i++)
        json_array_append_new(items, item_json(f, &f->items[i]));
    json_object_set_new(o, "items", items);
    return o;
}
