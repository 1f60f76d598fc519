/* Payload pages: runs of a target's resident anonymous memory in which no aligned word points
   into its readable mappings (bytearray, bytes and str data, array buffers, numpy arrays).
   Object headers, pointer arrays (list items, dict entries, tuples) and allocator metadata all
   hold pointers, so the walk never needs a payload page; the image leaves them out and
   counts any read that lands in one (the snapshot is then read again while stopped). */
#ifndef PK_PAYLOAD_H
#define PK_PAYLOAD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/maps.h"

struct pk_range {
    uint64_t start, end;
};

struct pk_payload {
    struct pk_range *v; /* sorted, disjoint, page-aligned */
    size_t n, cap;
    uint64_t bytes;   /* their total */
    uint64_t scanned; /* resident bytes looked at */
};

/* Scans the resident pages of the private anonymous writable regions of maps (pagemap), read
   while pid runs: only hints. Runs shorter than 64 KiB are not kept. 0, or -1 (nothing kept)
   when pagemap or the memory cannot be read, out of memory, or cancelled. */
int pk_payload_scan(pid_t pid, int procfd, const struct pk_maps *maps,
                    const volatile sig_atomic_t *cancel, struct pk_payload *out);
/* The first range that ends after addr, or NULL. */
const struct pk_range *pk_payload_next(const struct pk_payload *p, uint64_t addr);
void pk_payload_free(struct pk_payload *p);

#endif
