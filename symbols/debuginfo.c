/* Locating the DWARF for a module: the file itself, build-id paths, .gnu_debuglink. */
#include "symbols/debuginfo.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The candidate must have DWARF and, when both carry one, the same build-id. */
static int usable(const char *path, const unsigned char *id, size_t idlen)
{
    struct pk_elf *f;
    struct pk_err ignore = {0};
    if (pk_elf_open(path, &f, &ignore) < 0) return 0;
    int ok = pk_elf_has_dwarf(f);
    if (ok && idlen) {
        unsigned char other[64];
        size_t n = pk_elf_build_id(f, other, sizeof other);
        ok = n == idlen && !memcmp(other, id, n);
    }
    pk_elf_close(f);
    return ok;
}

static int try_path(const char *path, const unsigned char *id, size_t idlen, char *out, size_t cap)
{
    if (!usable(path, id, idlen)) return 0;
    snprintf(out, cap, "%s", path);
    return 1;
}

int pk_debuginfo_find(struct pk_elf *mod, const char *root, const char *debug_dir, char *out,
                      size_t cap)
{
    if (pk_elf_has_dwarf(mod)) {
        snprintf(out, cap, "%s", pk_elf_path(mod));
        return 0;
    }
    unsigned char id[64];
    size_t idlen = pk_elf_build_id(mod, id, sizeof id);
    char rel[3 * sizeof id + 32] = "";
    if (idlen >= 2) {
        int p = snprintf(rel, sizeof rel, ".build-id/%02x/", id[0]);
        for (size_t i = 1; i < idlen; i++)
            p += snprintf(rel + p, sizeof rel - (size_t)p, "%02x", id[i]);
        snprintf(rel + p, sizeof rel - (size_t)p, ".debug");
    }
    char roots[4][PATH_MAX];
    int nroots = 0;
    if (debug_dir) snprintf(roots[nroots++], PATH_MAX, "%s", debug_dir);
    if (root && *root) snprintf(roots[nroots++], PATH_MAX, "%.4000s/usr/lib/debug", root);
    snprintf(roots[nroots++], PATH_MAX, "/usr/lib/debug");
    /* A system tree unpacked somewhere (dpkg -x, a chroot seen from outside): the module is
       SYSROOT/usr/{bin,lib}/..., its debug files are under SYSROOT/usr/lib/debug. */
    const char *mpath = pk_elf_path(mod), *usr = NULL;
    for (const char *p = strstr(mpath, "/usr/"); p; p = strstr(p + 1, "/usr/"))
        usr = p;
    if (usr && usr > mpath && (size_t)(usr - mpath) + 16 < PATH_MAX) {
        memcpy(roots[nroots], mpath, (size_t)(usr - mpath));
        strcpy(roots[nroots] + (usr - mpath), "/usr/lib/debug");
        nroots++;
    }
    char path[5 * PATH_MAX];
    if (rel[0]) {
        for (int i = 0; i < nroots; i++) {
            snprintf(path, sizeof path, "%s/%s", roots[i], rel);
            if (try_path(path, id, idlen, out, cap)) return 0;
        }
    }
    char link[256];
    if (pk_elf_debuglink(mod, link, sizeof link)) {
        char dir[PATH_MAX];
        _Static_assert(sizeof path > sizeof dir + 256 + 16, "path buffer");
        snprintf(dir, sizeof dir, "%s", pk_elf_path(mod));
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        if (debug_dir) {
            snprintf(path, sizeof path, "%s/%s", debug_dir, link);
            if (try_path(path, id, idlen, out, cap)) return 0;
        }
        snprintf(path, sizeof path, "%s/%s", dir, link);
        if (try_path(path, id, idlen, out, cap)) return 0;
        snprintf(path, sizeof path, "%s/.debug/%s", dir, link);
        if (try_path(path, id, idlen, out, cap)) return 0;
    }
    return -1;
}
