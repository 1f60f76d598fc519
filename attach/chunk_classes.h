/* What the target's allocator keeps in each chunk of memory, as a bit mask of classes
   (pymalloc's size classes): read-ahead copies only chunks of a class the walk has needed, and
   does not run on from one run of chunks (an arena) into the next, which the walk reaches at
   another time. Runs are noted one after the other, their chunks' classes soon after. */
#ifndef PK_CHUNK_CLASSES_H
#define PK_CHUNK_CLASSES_H

#include <stddef.h>
#include <stdint.h>

#define PK_CHUNK_CLASSES_MAX (1u << 21) /* chunks described at most (16 MiB of masks) */

struct pk_chunk_run {
    uint64_t start, end; /* chunk-aligned */
    size_t first;        /* index of its first chunk's mask */
};

struct pk_chunk_classes {
    struct pk_chunk_run *runs; /* ascending by start once sealed, never overlapping */
    size_t nruns, runs_cap;
    uint64_t *mask; /* one per chunk of the runs; 0 until noted (nothing worth reading) */
    size_t nmask, mask_cap;
    unsigned shift; /* log2 of the chunk size */
    int sealed, full;
};

void pk_chunk_classes_init(struct pk_chunk_classes *cc, unsigned shift);
void pk_chunk_classes_free(struct pk_chunk_classes *cc);
/* Starts a run covering [start, start+len). Beyond PK_CHUNK_CLASSES_MAX chunks, or out of
   memory, the rest stays unknown. */
void pk_chunk_classes_note_run(struct pk_chunk_classes *cc, uint64_t start, uint64_t len);
/* Adds mask to the chunks that overlap [addr, addr+len) of the run holding addr, one of the
   64 runs noted last (else the note is dropped). */
void pk_chunk_classes_note(struct pk_chunk_classes *cc, uint64_t addr, uint64_t len, uint64_t mask);
/* Sorts the runs (dropping any that overlap another: hostile tables); lookups need it. Notes
   after sealing are ignored. */
void pk_chunk_classes_seal(struct pk_chunk_classes *cc);
/* The run holding addr, or NULL. */
const struct pk_chunk_run *pk_chunk_classes_run(const struct pk_chunk_classes *cc, uint64_t addr);
/* The first run starting after addr, or NULL. */
const struct pk_chunk_run *pk_chunk_classes_next_run(const struct pk_chunk_classes *cc,
                                                     uint64_t addr);
/* The class mask of the chunk at base inside run r. */
static inline uint64_t pk_chunk_classes_mask(const struct pk_chunk_classes *cc,
                                             const struct pk_chunk_run *r, uint64_t base)
{
    return cc->mask[r->first + ((base - r->start) >> cc->shift)];
}

#endif
