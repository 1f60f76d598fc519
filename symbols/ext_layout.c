/* Socket layout rows from a mapped _socket extension module's own DWARF. */
#include "symbols/ext_layout.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "symbols/debuginfo.h"
#include "symbols/dwarf_types.h"
#include "symbols/elf_file.h"

static const enum pk_layout_field socket_fields[] = {
    PK_L_sock_size, PK_L_sock_fd, PK_L_sock_family, PK_L_sock_type, PK_L_sock_proto,
};
#define NSOCK (sizeof socket_fields / sizeof *socket_fields)

static int is_socket_module(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    return !strncmp(base, "_socket.", 8) && n > 11 && !strcmp(base + n - 3, ".so");
}

int pk_ext_layout_socket(const struct pk_target_where *w, const struct pk_maps *maps,
                         const char *debug_dir, struct pk_layout *l)
{
    if (PK_HAS(l, sock_fd)) return 0;
    const struct pk_map *m = NULL;
    for (size_t i = 0; i < maps->n && !m; i++)
        if (maps->v[i].path[0] == '/' && maps->v[i].inode && is_socket_module(maps->v[i].path))
            m = &maps->v[i];
    if (!m) return 0;
    char path[PATH_MAX + 64], debug_path[PATH_MAX];
    struct pk_err ignore = {0};
    struct pk_elf *f = NULL;
    snprintf(path, sizeof path, "%.4000s%s", w->root, m->path);
    if (pk_elf_open(path, &f, &ignore) < 0) {
        if (!w->live) return 0;
        snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", (int)w->pid,
                 (unsigned long long)m->start, (unsigned long long)m->end);
        if (pk_elf_open(path, &f, &ignore) < 0) return 0;
    }
    int found = pk_debuginfo_find(f, w->root, debug_dir, debug_path, sizeof debug_path) == 0;
    pk_elf_close(f);
    if (!found) return 0;
    struct pk_dwarf *d;
    if (pk_dwarf_open(debug_path, &d, &ignore) < 0) return 0;
    struct pk_dwarf_query q[NSOCK];
    struct pk_field out[NSOCK];
    for (size_t i = 0; i < NSOCK; i++)
        q[i] = pk_layout_query(socket_fields[i]);
    int r = pk_dwarf_resolve(d, q, NSOCK, out, &ignore);
    pk_dwarf_close(d);
    if (r != (int)NSOCK) return 0; /* all or nothing */
    for (size_t i = 0; i < NSOCK; i++)
        l->f[socket_fields[i]] = out[i];
    return 1;
}
