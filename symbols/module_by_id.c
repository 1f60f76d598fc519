/* Finding an executable or shared object by build-id (see module_by_id.h). */
#include "symbols/module_by_id.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/debuginfod.h"
#include "symbols/elf_file.h"

/* A whole ELF image (its loaded bytes and PROGBITS .text) with this build-id. */
static int whole_file(const char *path, const unsigned char *id, size_t len)
{
    struct pk_elf *f;
    struct pk_err ignore = {0};
    if (pk_elf_open(path, &f, &ignore) < 0) return 0;
    unsigned char got[64];
    size_t n = pk_elf_build_id(f, got, sizeof got);
    int ok = n == len && memcmp(got, id, len) == 0 && pk_elf_has_contents(f);
    pk_elf_close(f);
    return ok;
}

int pk_module_by_build_id(struct pk_module_finder *f, const unsigned char *id, size_t len,
                          char *out, size_t cap, char *how, size_t howcap)
{
    if (len < 2 || len > 64) return -1;
    char rel[160];
    int p = snprintf(rel, sizeof rel, ".build-id/%02x/", id[0]);
    for (size_t i = 1; i < len; i++)
        p += snprintf(rel + p, sizeof rel - (size_t)p, "%02x", id[i]);
    /* A build-id directory may link the file itself (xx/rest, beside xx/rest.debug) */
    char roots[3][PATH_MAX];
    int nroots = 0;
    if (f->debug_dir) snprintf(roots[nroots++], PATH_MAX, "%s", f->debug_dir);
    if (f->root && *f->root) snprintf(roots[nroots++], PATH_MAX, "%.4000s/usr/lib/debug", f->root);
    snprintf(roots[nroots++], PATH_MAX, "/usr/lib/debug");
    for (int i = 0; i < nroots; i++) {
        char path[PATH_MAX + 200];
        snprintf(path, sizeof path, "%.4000s/%s", roots[i], rel);
        if (whole_file(path, id, len)) {
            snprintf(out, cap, "%s", path);
            snprintf(how, howcap, "%s", roots[i]);
            return 0;
        }
    }
    if (f->servers_down) return -1;
    char why[1024];
    int r = pk_debuginfod_fetch_executable(id, len, f->quiet, out, cap, why, sizeof why);
    if (r == 0) {
        const char *urls = getenv("DEBUGINFOD_URLS");
        snprintf(how, howcap, "debuginfod %.200s", urls ? urls : "");
        return 0;
    }
    if (why[0]) snprintf(f->why, sizeof f->why, "%.500s", why);
    if (why[0] && r != -ENOENT) f->servers_down = 1;
    return -1;
}
