/* Locating the DWARF for a module: in the file itself, the separate debug file by build-id
   (under --debug-dir, the target's root and ours), or by .gnu_debuglink. */
#ifndef PK_DEBUGINFO_H
#define PK_DEBUGINFO_H

#include <stddef.h>

#include "symbols/elf_file.h"

/* Writes the path of a file with DWARF for mod into out. Returns 0 or -1 (nothing found).
   root prefixes the target's own /usr/lib/debug ("/proc/PID/root", a --sysroot; NULL or "":
   only ours). */
int pk_debuginfo_find(struct pk_elf *mod, const char *root, const char *debug_dir, char *out,
                      size_t cap);

#endif
