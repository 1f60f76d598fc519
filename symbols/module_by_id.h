/* Finding an executable or shared object by its build-id, for a core whose mapped files are
   not on this machine: the build-id directories (--debug-dir, the sysroot's and our
   /usr/lib/debug) when they hold the whole file, then debuginfod. */
#ifndef PK_MODULE_BY_ID_H
#define PK_MODULE_BY_ID_H

#include <stddef.h>

struct pk_module_finder {
    const char *root;      /* a --sysroot, or NULL */
    const char *debug_dir; /* --debug-dir, or NULL */
    int quiet;             /* no debuginfod progress line */
    int servers_down;      /* set once debuginfod could not be asked: not asked again */
    char why[512];         /* the last debuginfod failure, or "" */
};

/* Writes the path of a whole ELF file (not a debug-only one) with this build-id into out and
   where it came from into how ("/usr/lib/debug", "debuginfod <url>"); 0, or -1 when none. */
int pk_module_by_build_id(struct pk_module_finder *f, const unsigned char *id, size_t len,
                          char *out, size_t cap, char *how, size_t howcap);

#endif
