/* The memory reader's read-ahead: a second thread (attach/prefetch.h) copies the chunks a walk
   is about to need, chosen by where the allocator keeps what (attach/chunk_classes.h), and
   copies scatter reads beside the caller. */
#include <stdlib.h>
#include <sys/uio.h>

#include "attach/mem_internal.h"

/* Takes in a chunk read ahead: waits for its read (or makes it here), then its bytes are valid
   or, when the read failed, the chunk is empty again and a later read retries synchronously
   (where errors are told apart). */
void pk_mem_take_in(struct pk_mem *m, struct chunk *c)
{
    pk_fetch_wait(m->fetcher, &c->job);
    c->pending = 0;
    m->stats.source_calls++;
    if (c->job.got > 0) {
        m->stats.source_bytes += (uint64_t)c->job.got;
        c->hi = c->lo + (uint32_t)c->job.got;
    } else {
        c->base = UINT64_MAX;
        c->ahead = 0;
    }
}

/* Waits for every read in flight and takes its chunk in. */
void pk_mem_settle(struct pk_mem *m)
{
    if (!m->fetcher) return;
    pk_fetch_drain(m->fetcher);
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].pending) pk_mem_take_in(m, &m->slots[i]);
}

void pk_mem_set_fetch(struct pk_mem *m, pk_fetch_fn fn)
{
    m->fetch_fn = fn;
}

int pk_mem_start_read_ahead(struct pk_mem *m)
{
    if (m->fetcher) return 0;
    if (!m->fetch_fn || m->direct) return -1;
    m->fetcher = pk_fetcher_start(m->fetch_fn, m->ctx);
    return m->fetcher ? 0 : -1;
}

void pk_mem_note_chunk_class(struct pk_mem *m, uint64_t addr, uint64_t len, uint64_t mask)
{
    if (m->fetcher) /* only read-ahead asks */
        pk_chunk_classes_note(&m->classes, addr, len, mask);
}

void pk_mem_note_chunk_run(struct pk_mem *m, uint64_t start, uint64_t len)
{
    if (m->fetcher) pk_chunk_classes_note_run(&m->classes, start, len);
}

void pk_mem_seal_chunk_classes(struct pk_mem *m)
{
    pk_chunk_classes_seal(&m->classes);
}

void pk_mem_pause_read_ahead(struct pk_mem *m, int paused)
{
    if (m) m->ahead_paused = paused;
}

void pk_mem_stop_read_ahead(struct pk_mem *m)
{
    if (!m || !m->fetcher) return;
    pk_mem_settle(m);
    pk_fetcher_stop(m->fetcher);
    m->fetcher = NULL;
}

/* Whether chunks of these classes are worth reading ahead: the walk has missed on one of them,
   and of a class's chunks read ahead so far (after the first 64) at least a quarter were used:
   pools of a size class can hold GC objects in one part of the heap and only ints or item
   arrays in another. */
static int worth_reading(const struct pk_mem *m, uint64_t mask)
{
    mask &= m->wanted;
    while (mask) {
        int c = __builtin_ctzll(mask);
        if (m->class_ahead[c] < 64 || m->class_used[c] * 4 >= m->class_ahead[c]) return 1;
        mask &= mask - 1;
    }
    return 0;
}

static void count_classes(uint32_t *counts, uint64_t mask)
{
    for (; mask; mask &= mask - 1)
        counts[__builtin_ctzll(mask)]++;
}

/* Queues reads of the chunks from `from` on that are not cached and are of a class the walk has
   wanted (or of no known class), into the least recently used ways of their sets (never a chunk
   in use or in flight): at most READ_AHEAD reads among READ_AHEAD_SCAN chunks. Each chunk
   queued remembers where the next batch starts, for when the walk reaches it. Reads stay in
   the run (arena) of the chunk at `at`, or outside every run stop where the next begins. */
static void read_ahead(struct pk_mem *m, uint64_t at, uint64_t from)
{
    for (unsigned i = 0; i < 16; i++)
        if (m->batch_from[i] == from) return;
    m->batch_from[m->nbatch++ % 16] = from;
    const struct pk_chunk_run *run = pk_chunk_classes_run(&m->classes, at), *next;
    uint64_t stop = UINT64_MAX;
    if (run)
        stop = run->end;
    else if ((next = pk_chunk_classes_next_run(&m->classes, at)))
        stop = next->start;
    struct chunk *queued[READ_AHEAD];
    int nq = 0;
    uint64_t b = from;
    for (int k = 0; k < READ_AHEAD_SCAN && nq < READ_AHEAD && b < stop; k++, b += CHUNK_SIZE) {
        const struct pk_map *r = b >= from ? readable_region(m, b) : NULL;
        if (!r) break;
        uint64_t mask = run ? pk_chunk_classes_mask(&m->classes, run, b) : 0;
        if (run && !worth_reading(m, mask)) continue;
        struct chunk *set = set_of(m, b), *v = NULL;
        int cached = 0;
        for (int w = 0; w < WAYS && !cached; w++)
            cached = set[w].base == b;
        if (cached) continue;
        for (int w = 0; w < WAYS; w++) {
            struct chunk *c = &set[w];
            if (c->pending || c == m->last || c == m->prev) continue;
            if (c->base == UINT64_MAX) {
                v = c;
                break;
            }
            if (!v || c->stamp < v->stamp) v = c;
        }
        if (!v) continue;
        if (v->frame == NO_FRAME) v->frame = m->frames_used++;
        v->base = b;
        v->lo = v->hi = 0;
        v->stamp = ++m->clock;
        v->job.addr = b;
        v->job.buf = frame_data(m, v);
        v->job.len = (size_t)((r->end < b + CHUNK_SIZE ? r->end : b + CHUNK_SIZE) - b);
        if (pk_fetch_submit(m->fetcher, &v->job) < 0) {
            v->base = UINT64_MAX;
            v->ahead = 0;
            break;
        }
        v->pending = v->ahead = 1;
        v->classes = mask & m->wanted;
        count_classes(m->class_ahead, v->classes);
        m->stats.ahead_reads++;
        queued[nq++] = v;
    }
    for (int i = 0; i < nq; i++)
        queued[i]->ahead_next = b;
    if (nq) pk_fetch_kick(m->fetcher);
}

void pk_mem_ahead_hit(struct pk_mem *m, struct chunk *c)
{
    c->ahead = 0;
    count_classes(m->class_used, c->classes);
    m->stats.ahead_used++;
    if (m->fetcher && !m->ahead_paused) read_ahead(m, c->base, c->ahead_next);
}

void pk_mem_ahead_miss(struct pk_mem *m, uint64_t base)
{
    if (!m->fetcher || m->ahead_paused) return;
    const struct pk_chunk_run *run = pk_chunk_classes_run(&m->classes, base);
    if (run) { /* the walk needed this chunk: its classes are worth reading ahead */
        uint64_t mask = pk_chunk_classes_mask(&m->classes, run, base);
        m->wanted |= mask;
        count_classes(m->class_used, mask);
    }
    read_ahead(m, base, base + CHUNK_SIZE);
}

struct pk_mem_bg {
    const uint64_t *addrs;
    size_t n, len;
    unsigned char *out;
    struct iovec *local, *remote;
    size_t njobs; /* job k copies spans [k * SCATTER_BATCH, ...) */
};

int pk_mem_scatter_begin(struct pk_mem *m, const uint64_t *addrs, size_t n, size_t len, void *out,
                         struct pk_mem_bg **bgp)
{
    *bgp = NULL;
    if (len == 0 || len > CHUNK_SIZE) return len == 0 ? 0 : -PK_E_INTERNAL;
    for (size_t i = 0; i < n; i++)
        if (addrs[i] + len < addrs[i] || !pk_mem_is_mapped(m, addrs[i], len)) return -PK_E_UNMAPPED;
    struct pk_mem_bg *bg = NULL;
    if (m->fetcher && !m->bg_busy && n && (bg = calloc(1, sizeof *bg))) {
        bg->local = malloc(n * sizeof *bg->local);
        bg->remote = malloc(n * sizeof *bg->remote);
        if (!bg->local || !bg->remote) {
            free(bg->local);
            free(bg->remote);
            free(bg);
            bg = NULL;
        }
    }
    if (!bg) return pk_mem_read_scatter(m, addrs, n, len, out); /* now, on this thread */
    bg->addrs = addrs;
    bg->n = n;
    bg->len = len;
    bg->out = out;
    for (size_t i = 0; i < n; i++) {
        bg->local[i] = (struct iovec){bg->out + i * len, len};
        bg->remote[i] = (struct iovec){(void *)(uintptr_t)addrs[i], len};
    }
    for (size_t first = 0; first < n && bg->njobs < BG_JOBS; first += SCATTER_BATCH) {
        struct pk_fetch_job *j = &m->bg_jobs[bg->njobs];
        j->liov = bg->local + first;
        j->riov = bg->remote + first;
        j->niov = n - first < SCATTER_BATCH ? n - first : SCATTER_BATCH;
        if (pk_fetch_submit(m->fetcher, j) < 0) break;
        bg->njobs++;
    }
    pk_fetch_kick(m->fetcher);
    m->bg_busy = 1;
    *bgp = bg;
    return 0;
}

int pk_mem_scatter_end(struct pk_mem *m, struct pk_mem_bg *bg)
{
    if (!bg) return 0;
    int r = 0;
    size_t done = 0;
    for (size_t k = 0; k < bg->njobs; k++) {
        struct pk_fetch_job *j = &m->bg_jobs[k];
        pk_fetch_wait(m->fetcher, j);
        m->stats.source_calls++;
        if (j->got > 0) m->stats.source_bytes += (uint64_t)j->got;
        size_t first = k * SCATTER_BATCH;
        /* a short copy is made again here, where errors are told apart */
        if (r == 0 && (uint64_t)j->got != (uint64_t)j->niov * bg->len)
            r = pk_mem_read_scatter(m, bg->addrs + first, j->niov, bg->len,
                                    bg->out + first * bg->len);
        done = first + j->niov;
    }
    if (r == 0 && done < bg->n) /* the batches the queue had no room for */
        r = pk_mem_read_scatter(m, bg->addrs + done, bg->n - done, bg->len,
                                bg->out + done * bg->len);
    m->bg_busy = 0;
    free(bg->local);
    free(bg->remote);
    free(bg);
    return r;
}
