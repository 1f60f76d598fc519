/* The resolved layout cached per build-id under $XDG_CACHE_HOME/pypeek (default
   ~/.cache/pypeek), in the layout record format: a warm run reads no DWARF at all. */
#ifndef PK_LAYOUT_CACHE_H
#define PK_LAYOUT_CACHE_H

#include <stddef.h>

#include "symbols/layout_record.h"

/* The entry's path for a build-id; -1 when there is no build-id or no cache directory. */
int pk_layout_cache_path(const char *build_id, char *out, size_t cap);
/* 1: loaded (format, checksum, values and build-id checked); 0: no entry; -1: the entry is
   unusable (why says so: the caller warns and resolves from DWARF, then replaces it). */
int pk_layout_cache_load(const char *path, const char *build_id, struct pk_layout_record *r,
                         char *why, size_t cap);
/* Writes the entry atomically (creating the directory); 0 or -1 with why. */
int pk_layout_cache_store(const char *path, const struct pk_layout_record *r, char *why,
                          size_t cap);

#endif
