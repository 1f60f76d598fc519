/* Parser for /proc/PID/maps: the target's address space as sorted, non-overlapping regions.
   Example line:
   7f2c1a000000-7f2c1a021000 r-xp 00002000 08:01 1234567   /usr/lib/libpython3.11.so.1.0 */
#ifndef PK_MAPS_H
#define PK_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum { PK_MAP_R = 1, PK_MAP_W = 2, PK_MAP_X = 4, PK_MAP_P = 8 };

struct pk_map {
    uint64_t start, end; /* [start, end) */
    uint64_t offset;     /* file offset of start */
    uint64_t inode;
    unsigned dev_major, dev_minor;
    unsigned perms; /* PK_MAP_* bits */
    char *path;     /* "" for anonymous; may be "[heap]", "/x (deleted)" */
};

struct pk_maps {
    struct pk_map *v;
    size_t n;
};

/* Parses maps text. Malformed lines, unsorted or overlapping regions are an error
   (PK_E_INCONSISTENT) naming the line. */
int pk_maps_parse(const char *text, struct pk_maps *out, struct pk_err *e);
int pk_maps_read(int procfd, struct pk_maps *out, struct pk_err *e);
void pk_maps_free(struct pk_maps *m);
/* The region containing addr, or NULL. Binary search. */
const struct pk_map *pk_maps_find(const struct pk_maps *m, uint64_t addr);
/* Bytes of all writable mappings: a bound on what the target's heap can hold. */
uint64_t pk_maps_writable_bytes(const struct pk_maps *m);

#endif
