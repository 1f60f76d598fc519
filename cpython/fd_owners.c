/* The Python objects that hold file descriptors, noted during the census walk and read while
   frozen: TextIOWrapper.buffer -> Buffered*.raw -> FileIO.fd, and socket.sock_fd. */
#include "cpython/fd_owners.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/pydict.h"
#include "cpython/pystr.h"

#define MAX_BASE_DEPTH 64
#define MAX_CANDIDATES (1u << 24) /* more fd-holding objects than any process can have fds */
#define MAX_STRUCT 512            /* local copy of one object's struct */
#define MAX_NAME_BYTES 4096

static const struct {
    const char *tp_name;
    enum pk_fd_role role;
} role_names[] = {
    {"_io.FileIO", PK_FD_ROLE_FILEIO},           {"_io.BufferedReader", PK_FD_ROLE_BUFFERED},
    {"_io.BufferedWriter", PK_FD_ROLE_BUFFERED}, {"_io.BufferedRandom", PK_FD_ROLE_BUFFERED},
    {"_io.TextIOWrapper", PK_FD_ROLE_TEXTIO},    {"_socket.socket", PK_FD_ROLE_SOCKET},
};

/* sizeof the C struct behind a role, or 0 when the layout lacks it. */
static uint32_t role_struct_size(const struct pk_layout *l, enum pk_fd_role role)
{
    switch (role) {
    case PK_FD_ROLE_FILEIO:
        return PK_HAS(l, fileio_size) ? PK_F(l, fileio_size).size : 0;
    case PK_FD_ROLE_BUFFERED:
        return PK_HAS(l, buffered_size) ? PK_F(l, buffered_size).size : 0;
    case PK_FD_ROLE_TEXTIO:
        return PK_HAS(l, textio_size) ? PK_F(l, textio_size).size : 0;
    case PK_FD_ROLE_SOCKET:
        return PK_HAS(l, sock_size) ? PK_F(l, sock_size).size : 0;
    default:
        return 0;
    }
}

enum pk_fd_role pk_fd_role_of_type(struct pk_mem *m, const struct pk_layout *l, uint64_t type)
{
    uint64_t cur = type;
    for (int depth = 0; cur && depth < MAX_BASE_DEPTH; depth++) {
        uint64_t np;
        char name[24];
        if (pk_mem_read_u64(m, cur + PK_OFF(l, type_name), &np) < 0 || !np) return PK_FD_ROLE_NONE;
        long n = pk_mem_read_upto(m, np, name, sizeof name - 1);
        if (n > 0) {
            name[n] = '\0';
            for (size_t i = 0; i < sizeof role_names / sizeof *role_names; i++) {
                if (strcmp(name, role_names[i].tp_name) != 0) continue;
                /* A Python class may call itself "_io.FileIO"; the real one has the C struct's
                   size (checked when the layout knows it). */
                int64_t basicsize;
                uint32_t want = role_struct_size(l, role_names[i].role);
                if (want && (pk_mem_read(m, cur + PK_OFF(l, type_basicsize), &basicsize, 8) < 0 ||
                             basicsize != (int64_t)want))
                    return PK_FD_ROLE_NONE;
                return role_names[i].role;
            }
        }
        if (pk_mem_read_u64(m, cur + PK_OFF(l, type_base), &cur) < 0) return PK_FD_ROLE_NONE;
    }
    return PK_FD_ROLE_NONE;
}

struct cand {
    uint64_t addr;
    const struct pk_type_info *ti;
    enum pk_fd_role role;
    int wrapped;  /* another candidate holds this one */
    size_t inner; /* index of the wrapped candidate, or SIZE_MAX */
};

struct pk_fd_owners {
    struct pk_mem *m;
    const struct pk_layout *l;
    struct pk_types *types;
    struct cand *v;
    size_t n, cap;
    int overflow, oom;
    size_t per_role[PK_FD_ROLE_SOCKET + 1];
};

struct pk_fd_owners *pk_fd_owners_new(struct pk_mem *m, const struct pk_layout *l,
                                      struct pk_types *types)
{
    struct pk_fd_owners *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->m = m;
    o->l = l;
    o->types = types;
    return o;
}

void pk_fd_owners_free(struct pk_fd_owners *o)
{
    if (!o) return;
    free(o->v);
    free(o);
}

void pk_fd_owners_note(struct pk_fd_owners *o, uint64_t obj, const struct pk_type_info *ti)
{
    if (!o || ti->fd_role == PK_FD_ROLE_NONE || ti->fd_role > PK_FD_ROLE_SOCKET) return;
    if (o->n >= MAX_CANDIDATES) {
        o->overflow = 1;
        return;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 256;
        struct cand *nv = realloc(o->v, nc * sizeof *nv);
        if (!nv) {
            o->oom = 1;
            return;
        }
        o->v = nv;
        o->cap = nc;
    }
    o->v[o->n++] = (struct cand){obj, ti, (enum pk_fd_role)ti->fd_role, 0, SIZE_MAX};
    o->per_role[ti->fd_role]++;
}

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return (x->addr > y->addr) - (x->addr < y->addr);
}

static struct cand *find_cand(struct pk_fd_owners *o, uint64_t addr)
{
    struct cand key = {.addr = addr};
    return addr ? bsearch(&key, o->v, o->n, sizeof *o->v, cmp_cand) : NULL;
}

/* Typed reads from a local copy of a struct, bounds-checked against the copy. */
static int get_ptr(const unsigned char *buf, uint32_t size, struct pk_field f, uint64_t *v)
{
    if (!pk_field_ok(f) || (uint64_t)f.off + 8 > size) return -1;
    memcpy(v, buf + f.off, 8);
    return 0;
}

static int get_int(const unsigned char *buf, uint32_t size, struct pk_field f, int32_t *v)
{
    if (!pk_field_ok(f) || (uint64_t)f.off + 4 > size) return -1;
    memcpy(v, buf + f.off, 4);
    return 0;
}

static int get_bit(const unsigned char *buf, uint32_t size, struct pk_field f)
{
    uint32_t word;
    if (!pk_field_ok(f) || (uint64_t)f.off + 4 > size) return 0;
    memcpy(&word, buf + f.off, 4);
    if (f.bit_size <= 0) return word != 0;
    return (word >> f.bit_off) & 1u;
}

/* Copies the object's C struct (size bytes) into buf. */
static int read_struct(struct pk_fd_owners *o, uint64_t addr, enum pk_fd_role role,
                       unsigned char *buf, uint32_t *size)
{
    *size = role_struct_size(o->l, role);
    if (!*size || *size > MAX_STRUCT) return -PK_E_INCONSISTENT;
    return pk_mem_read(o->m, addr, buf, *size);
}

/* FileIO.mode (Modules/_io/fileio.c mode_string) from the flag bits. */
static void fileio_mode(const unsigned char *buf, uint32_t size, const struct pk_layout *l,
                        char *mode, size_t cap)
{
    int created = get_bit(buf, size, PK_F(l, fileio_created));
    int readable = get_bit(buf, size, PK_F(l, fileio_readable));
    int writable = get_bit(buf, size, PK_F(l, fileio_writable));
    int appending = get_bit(buf, size, PK_F(l, fileio_appending));
    const char *s;
    if (created)
        s = readable ? "xb+" : "xb";
    else if (appending)
        s = readable ? "ab+" : "ab";
    else if (readable)
        s = writable ? "rb+" : "rb";
    else
        s = "wb";
    snprintf(mode, cap, "%s", s);
}

/* FileIO's name attribute (instance dict) when it is a str or bytes; NULL otherwise. */
static char *fileio_name(struct pk_fd_owners *o, uint64_t dict)
{
    const struct pk_layout *l = o->l;
    uint64_t v, type;
    if (!dict || pk_pydict_get_str(o->m, l, dict, "name", &v) != 1) return NULL;
    if (pk_mem_read_u64(o->m, v + PK_OFF(l, object_type), &type) < 0) return NULL;
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(o->types, type, &rc);
    if (!ti) return NULL;
    char *buf = malloc(MAX_NAME_BYTES * 4 + 8);
    if (!buf) return NULL;
    if (!strcmp(ti->name, "str")) {
        if (pk_pystr_read(o->m, l, v, buf, MAX_NAME_BYTES * 4 + 8) >= 0) return buf;
    } else if (!strcmp(ti->name, "bytes") && PK_HAS(l, bytes_sval)) {
        int64_t len;
        if (pk_mem_read(o->m, v + PK_OFF(l, varobject_size), &len, 8) == 0 && len >= 0) {
            size_t n = len > MAX_NAME_BYTES ? MAX_NAME_BYTES : (size_t)len;
            if (pk_mem_read(o->m, v + PK_OFF(l, bytes_sval), buf, n) == 0) {
                buf[n] = '\0';
                return buf; /* raw bytes: sanitised when printed */
            }
        }
    }
    free(buf);
    return NULL;
}

static int cmp_owner(const void *a, const void *b)
{
    const struct pk_fd_owner *x = a, *y = b;
    if (x->fd != y->fd) return (x->fd > y->fd) - (x->fd < y->fd);
    return (x->address > y->address) - (x->address < y->address);
}

/* Builds the owner for top-level candidate c, or returns 0 when it holds no fd. */
static int owner_of(struct pk_fd_owners *o, const struct cand *c, struct pk_fd_owner *out)
{
    const struct pk_layout *l = o->l;
    unsigned char buf[MAX_STRUCT];
    uint32_t size;
    memset(out, 0, sizeof *out);
    int r;
    if (c->role == PK_FD_ROLE_SOCKET) {
        if ((r = read_struct(o, c->addr, c->role, buf, &size)) < 0) return r;
        int32_t fd, fam = 0, typ = 0, proto = 0;
        if (get_int(buf, size, PK_F(l, sock_fd), &fd) < 0 || fd < 0) return 0;
        get_int(buf, size, PK_F(l, sock_family), &fam);
        get_int(buf, size, PK_F(l, sock_type), &typ);
        get_int(buf, size, PK_F(l, sock_proto), &proto);
        out->fd = fd;
        out->is_socket = 1;
        out->family = fam;
        out->socktype = typ;
        out->proto = proto;
        out->type = strdup(c->ti->name);
        out->chain = strdup(c->ti->name);
        out->address = c->addr;
        return out->type && out->chain ? 1 : -PK_E_INTERNAL;
    }
    /* Follow the wrappers down to the FileIO (at most two hops). */
    const struct cand *path[3] = {c, NULL, NULL};
    int depth = 0;
    while (path[depth]->role != PK_FD_ROLE_FILEIO) {
        if (path[depth]->inner == SIZE_MAX || depth == 2) return 0;
        path[depth + 1] = &o->v[path[depth]->inner];
        depth++;
    }
    const struct cand *raw = path[depth];
    if ((r = read_struct(o, raw->addr, PK_FD_ROLE_FILEIO, buf, &size)) < 0) return r;
    int32_t fd;
    if (get_int(buf, size, PK_F(l, fileio_fd), &fd) < 0 || fd < 0) return 0; /* closed */
    out->fd = fd;
    out->address = c->addr;
    out->fileio = raw->addr;
    out->closefd = get_bit(buf, size, PK_F(l, fileio_closefd));
    fileio_mode(buf, size, l, out->mode, sizeof out->mode);
    uint64_t dict = 0;
    get_ptr(buf, size, PK_F(l, fileio_dict), &dict);
    out->name = fileio_name(o, dict);
    size_t clen = 1;
    for (int i = 0; i <= depth; i++)
        clen += strlen(path[i]->ti->name) + 3;
    out->type = strdup(c->ti->name);
    out->chain = malloc(clen);
    if (!out->type || !out->chain) return -PK_E_INTERNAL;
    out->chain[0] = '\0';
    for (int i = 0; i <= depth; i++) {
        if (i) strcat(out->chain, " > ");
        strcat(out->chain, path[i]->ti->name);
    }
    return 1;
}

static int files_layout_ok(const struct pk_layout *l)
{
    return PK_HAS(l, fileio_size) && PK_HAS(l, fileio_fd) && PK_HAS(l, fileio_readable) &&
           PK_HAS(l, fileio_writable) && PK_HAS(l, fileio_created) && PK_HAS(l, fileio_appending) &&
           PK_HAS(l, fileio_closefd) && PK_HAS(l, fileio_dict) && PK_HAS(l, buffered_size) &&
           PK_HAS(l, buffered_raw) && PK_HAS(l, textio_size) && PK_HAS(l, textio_buffer);
}

static int sockets_layout_ok(const struct pk_layout *l)
{
    return PK_HAS(l, sock_size) && PK_HAS(l, sock_fd) && PK_HAS(l, sock_family) &&
           PK_HAS(l, sock_type) && PK_HAS(l, sock_proto);
}

int pk_fd_owners_resolve(struct pk_fd_owners *o, struct pk_snapshot *s)
{
    struct pk_fds_snap *f = &s->fds;
    const struct pk_layout *l = o->l;
    f->owners_available = files_layout_ok(l);
    f->sockets_available = sockets_layout_ok(l);
    if (!f->owners_available)
        pk_snapshot_warn(s, "fd owners unavailable: the debug info lacks the _io structs "
                            "(fileio, buffered, textio)");
    if (!f->sockets_available && o->per_role[PK_FD_ROLE_SOCKET])
        pk_snapshot_warn(s,
                         "%zu socket objects found, but their owners are unavailable: no "
                         "PySocketSockObject in the debug info of the interpreter or _socket",
                         o->per_role[PK_FD_ROLE_SOCKET]);
    if (o->oom) return -PK_E_INTERNAL;
    if (o->overflow)
        pk_snapshot_warn(s, "more than %u fd-holding objects: the rest are not reported as owners",
                         MAX_CANDIDATES);
    if (o->n) qsort(o->v, o->n, sizeof *o->v, cmp_cand); /* qsort(NULL, 0) is UB */
    /* Who wraps whom: TextIOWrapper.buffer and Buffered*.raw, only ever pointing at another
       candidate seen in the walk (never at arbitrary memory). */
    for (size_t i = 0; i < o->n && f->owners_available; i++) {
        struct cand *c = &o->v[i];
        if (c->role != PK_FD_ROLE_TEXTIO && c->role != PK_FD_ROLE_BUFFERED) continue;
        uint64_t inner;
        uint64_t off =
            c->role == PK_FD_ROLE_TEXTIO ? PK_OFF(l, textio_buffer) : PK_OFF(l, buffered_raw);
        int r = pk_mem_read_u64(o->m, c->addr + off, &inner);
        if (r == -PK_E_NO_PROCESS) return r;
        if (r < 0) continue;
        struct cand *in = find_cand(o, inner);
        if (!in || in == c) continue;
        int fits = c->role == PK_FD_ROLE_TEXTIO
                       ? in->role == PK_FD_ROLE_BUFFERED || in->role == PK_FD_ROLE_FILEIO
                       : in->role == PK_FD_ROLE_FILEIO;
        if (!fits) continue;
        c->inner = (size_t)(in - o->v);
        in->wrapped = 1;
    }
    size_t cap = 0;
    for (size_t i = 0; i < o->n; i++)
        cap += !o->v[i].wrapped;
    f->owners = calloc(cap ? cap : 1, sizeof *f->owners);
    if (!f->owners) return -PK_E_INTERNAL;
    f->nowners = 0;
    for (size_t i = 0; i < o->n; i++) {
        const struct cand *c = &o->v[i];
        if (c->wrapped) continue;
        if (c->role == PK_FD_ROLE_SOCKET ? !f->sockets_available : !f->owners_available) continue;
        int r = owner_of(o, c, &f->owners[f->nowners]);
        if (r == -PK_E_NO_PROCESS || r == -PK_E_INTERNAL) {
            f->nowners++; /* freed with the snapshot */
            return r;
        }
        if (r == 1)
            f->nowners++;
        else {
            struct pk_fd_owner *w = &f->owners[f->nowners];
            free(w->type);
            free(w->chain);
            free(w->name);
        }
    }
    qsort(f->owners, f->nowners, sizeof *f->owners, cmp_owner);
    return 0;
}
