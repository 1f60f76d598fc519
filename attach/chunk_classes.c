/* Chunk classes: runs of chunks (sorted once sealed) with one class mask per chunk. */
#include "attach/chunk_classes.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

#define NOTE_LOOKBACK 64 /* runs searched, newest first, for the run of a note */

void pk_chunk_classes_init(struct pk_chunk_classes *cc, unsigned shift)
{
    memset(cc, 0, sizeof *cc);
    cc->shift = shift;
}

void pk_chunk_classes_free(struct pk_chunk_classes *cc)
{
    free(cc->runs);
    free(cc->mask);
    pk_chunk_classes_init(cc, cc->shift);
}

void pk_chunk_classes_note_run(struct pk_chunk_classes *cc, uint64_t start, uint64_t len)
{
    uint64_t cs = (uint64_t)1 << cc->shift;
    uint64_t s = start & ~(cs - 1), e = start + len;
    if (cc->sealed || cc->full || len == 0 || e < start || e > UINT64_MAX - cs) return;
    e = (e + cs - 1) & ~(cs - 1);
    size_t n = (size_t)((e - s) >> cc->shift);
    if (cc->nmask + n > PK_CHUNK_CLASSES_MAX ||
        pk_grow((void **)&cc->mask, &cc->mask_cap, cc->nmask + n, sizeof *cc->mask) < 0 ||
        pk_grow((void **)&cc->runs, &cc->runs_cap, cc->nruns + 1, sizeof *cc->runs) < 0) {
        cc->full = 1;
        return;
    }
    memset(cc->mask + cc->nmask, 0, n * sizeof *cc->mask);
    cc->runs[cc->nruns++] = (struct pk_chunk_run){s, e, cc->nmask};
    cc->nmask += n;
}

void pk_chunk_classes_note(struct pk_chunk_classes *cc, uint64_t addr, uint64_t len, uint64_t mask)
{
    if (cc->sealed || cc->full || len == 0 || addr + len < addr) return;
    /* One of the last few runs: notes follow their runs closely. */
    const struct pk_chunk_run *r = NULL;
    for (size_t i = cc->nruns, k = 0; i > 0 && k < NOTE_LOOKBACK && !r; i--, k++)
        if (addr >= cc->runs[i - 1].start && addr < cc->runs[i - 1].end) r = &cc->runs[i - 1];
    if (!r) return;
    uint64_t hi = addr + len < r->end ? addr + len : r->end;
    for (uint64_t c = addr; c < hi; c = ((c >> cc->shift) + 1) << cc->shift)
        cc->mask[r->first + ((c - r->start) >> cc->shift)] |= mask;
}

static int cmp_start(const void *x, const void *y)
{
    const struct pk_chunk_run *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

void pk_chunk_classes_seal(struct pk_chunk_classes *cc)
{
    if (cc->sealed) return;
    cc->sealed = 1;
    if (cc->nruns) qsort(cc->runs, cc->nruns, sizeof *cc->runs, cmp_start);
    size_t out = 0;
    for (size_t i = 0; i < cc->nruns; i++)
        if (!out || cc->runs[i].start >= cc->runs[out - 1].end) cc->runs[out++] = cc->runs[i];
    cc->nruns = out;
}

/* Index of the first run whose end is above addr. */
static size_t upper(const struct pk_chunk_classes *cc, uint64_t addr)
{
    size_t lo = 0, hi = cc->sealed ? cc->nruns : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cc->runs[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct pk_chunk_run *pk_chunk_classes_run(const struct pk_chunk_classes *cc, uint64_t addr)
{
    size_t i = upper(cc, addr);
    return i < cc->nruns && cc->runs[i].start <= addr ? &cc->runs[i] : NULL;
}

const struct pk_chunk_run *pk_chunk_classes_next_run(const struct pk_chunk_classes *cc,
                                                     uint64_t addr)
{
    size_t i = upper(cc, addr);
    if (i < cc->nruns && cc->runs[i].start <= addr) i++;
    return i < cc->nruns ? &cc->runs[i] : NULL;
}
