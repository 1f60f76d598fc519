/* The memory reader's insides, shared by its cache (attach/mem.c) and its read-ahead
   (attach/mem_ahead.c); nothing else includes this. */
#ifndef PK_MEM_INTERNAL_H
#define PK_MEM_INTERNAL_H

#include <stdint.h>

#include "attach/chunk_classes.h"
#include "attach/mem.h"
#include "attach/prefetch.h"

#define CHUNK_SHIFT 14 /* 16 KiB: one pymalloc pool (3.10+) per chunk */
#define CHUNK_SIZE ((uint64_t)1 << CHUNK_SHIFT)
#define WAYS 8 /* chunks per set: heaps walked in a few interleaved sweeps rarely collide */
#define DEFAULT_CACHE_BYTES ((size_t)64 << 20)
#define MAX_CACHE_BYTES ((size_t)160 << 20) /* keeps pypeek's RSS bounded on any heap */
#define SCATTER_BATCH 1024                  /* iovecs per vector source call (IOV_MAX) */
#define NO_FRAME UINT32_MAX
#define BG_JOBS 128        /* batches of a background scatter read handed to the fetcher */
#define READ_AHEAD 16      /* reads queued per batch: the GC lists run forward through pools */
#define READ_AHEAD_SCAN 32 /* chunks a batch looks at, skipping classes the walk never needed */

struct chunk {
    uint64_t base;       /* chunk-aligned address; UINT64_MAX when empty */
    uint64_t stamp;      /* last use, for LRU within the set */
    uint32_t lo, hi;     /* valid bytes are [base+lo, base+hi) */
    uint32_t frame;      /* index of the chunk's 16 KiB in buf, NO_FRAME before first use */
    uint8_t pending;     /* read ahead and not yet taken in: job holds the result */
    uint64_t classes;    /* its class mask when read ahead (0: unknown) */
    uint8_t ahead;       /* read ahead, not used yet: its first use counts it and queues the
                            next batch */
    uint64_t ahead_next; /* where that next batch starts */
    struct pk_fetch_job job;
};

struct pk_mem {
    pk_mem_source_fn fn;
    pk_mem_vsource_fn vfn;
    void *ctx;
    pk_mem_ctx_free_fn ctx_free;
    const struct pk_maps *maps;
    struct chunk *slots;
    size_t nslots, nsets;
    unsigned char *buf; /* nslots frames, handed out in first-use order */
    size_t buf_bytes;
    uint32_t frames_used;
    int direct;                      /* no cache: reads go to the source */
    pk_mem_view_fn view;             /* the source's bytes in memory, or NULL */
    pk_fetch_fn fetch_fn;            /* thread-safe source for the fetcher; NULL: no read-ahead */
    struct pk_fetcher *fetcher;      /* running while read-ahead is on */
    int ahead_paused;                /* no new reads ahead (pk_mem_pause_read_ahead) */
    struct pk_chunk_classes classes; /* what each chunk holds, when the caller said */
    uint64_t wanted;                 /* classes of the chunks the walk has missed on */
    uint32_t class_ahead[64], class_used[64]; /* chunks of each class read ahead / then used */
    uint64_t batch_from[16];                  /* where recent batches started: queued once */
    unsigned nbatch;
    struct pk_fetch_job scatter_job;      /* the fetcher's half of a scatter batch */
    struct pk_fetch_job bg_jobs[BG_JOBS]; /* a background scatter read's batches */
    int bg_busy;
    uint64_t clock;
    struct chunk *last, *prev; /* chunks of the two previous reads: most reads hit one */
    struct pk_mem_stats stats;
};

static inline unsigned char *frame_data(const struct pk_mem *m, const struct chunk *c)
{
    return m->buf + (size_t)c->frame * CHUNK_SIZE;
}

static inline const struct pk_map *readable_region(const struct pk_mem *m, uint64_t addr)
{
    const struct pk_map *r = pk_maps_find(m->maps, addr);
    return r && (r->perms & PK_MAP_R) ? r : NULL;
}

/* The first of the WAYS chunks of the set that base maps to. */
static inline struct chunk *set_of(const struct pk_mem *m, uint64_t base)
{
    uint64_t k = base >> CHUNK_SHIFT;
    k ^= k >> 17;
    k *= 0x9E3779B97F4A7C15ull;
    return &m->slots[(size_t)(k >> 20) % m->nsets * WAYS];
}

/* Read-ahead (attach/mem_ahead.c), called by the cache: */
/* A chunk read ahead is wanted: wait for its read and make its bytes valid (or empty it). */
void pk_mem_take_in(struct pk_mem *m, struct chunk *c);
/* Waits for every read in flight and takes its chunk in; no-op without read-ahead. */
void pk_mem_settle(struct pk_mem *m);
/* The walk used chunk c, read ahead and not used before: counts it and queues the next
   batch. */
void pk_mem_ahead_hit(struct pk_mem *m, struct chunk *c);
/* The walk missed on the chunk at base and read it: learns its classes, reads on past it. */
void pk_mem_ahead_miss(struct pk_mem *m, uint64_t base);

#endif
