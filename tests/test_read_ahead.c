/* Read-ahead: the fetcher thread runs every job exactly once, chunk classes describe runs, and
   a reader copying ahead on a second thread returns the same bytes as the source, whatever the
   order of reads and whatever the fetcher's copies fail on. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "attach/chunk_classes.h"
#include "attach/mem.h"
#include "attach/prefetch.h"

#define BASE UINT64_C(0x7f0000000000)
#define SIZE ((size_t)8 << 20)
#define CHUNK ((uint64_t)16384)

/* A fake target: SIZE pseudo-random bytes at BASE; the fetcher's copies fail for addresses in
   [fail_lo, fail_hi) (the reader must then read them itself). */
struct fake {
    unsigned char *buf;
    uint64_t fail_lo, fail_hi;
    _Atomic unsigned long fetches;
    struct pk_maps maps;
};

static long fake_read(void *ctx, uint64_t addr, void *out, size_t len)
{
    struct fake *f = ctx;
    if (addr < BASE || addr >= BASE + SIZE) return 0;
    size_t n = BASE + SIZE - addr < len ? (size_t)(BASE + SIZE - addr) : len;
    memcpy(out, f->buf + (addr - BASE), n);
    return (long)n;
}

static long fake_readv(void *ctx, const struct iovec *local, const struct iovec *remote, size_t n)
{
    return pk_mem_readv_spans(fake_read, ctx, local, remote, n);
}

static long fake_fetch(void *ctx, const struct iovec *local, const struct iovec *remote, size_t n)
{
    struct fake *f = ctx;
    atomic_fetch_add(&f->fetches, 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t a = (uint64_t)(uintptr_t)remote[i].iov_base;
        if (a + remote[i].iov_len > f->fail_lo && a < f->fail_hi) return 0;
    }
    return fake_readv(ctx, local, remote, n);
}

static struct fake *fake_new(void)
{
    struct fake *f = calloc(1, sizeof *f);
    cr_assert(f);
    f->buf = malloc(SIZE);
    cr_assert(f->buf);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < SIZE; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        f->buf[i] = (unsigned char)x;
    }
    char text[128];
    snprintf(text, sizeof text, "%llx-%llx rw-p 00000000 00:00 0 \n", (unsigned long long)BASE,
             (unsigned long long)(BASE + SIZE));
    struct pk_err e = {0};
    cr_assert_eq(pk_maps_parse(text, &f->maps, &e), 0, "%s", e.msg);
    return f;
}

static void fake_free(struct fake *f)
{
    pk_maps_free(&f->maps);
    free(f->buf);
    free(f);
}

/* A reader with a small cache and read-ahead on. */
static struct pk_mem *reader(struct fake *f)
{
    struct pk_mem *m = pk_mem_new(fake_read, f, NULL, &f->maps, 256 << 10);
    cr_assert(m);
    pk_mem_set_vsource(m, fake_readv);
    pk_mem_set_fetch(m, fake_fetch);
    cr_assert_eq(pk_mem_start_read_ahead(m), 0);
    return m;
}

static void check_range(struct pk_mem *m, struct fake *f, uint64_t addr, size_t len)
{
    unsigned char got[4096];
    cr_assert(len <= sizeof got);
    cr_assert_eq(pk_mem_read(m, addr, got, len), 0, "read at 0x%llx", (unsigned long long)addr);
    cr_assert(memcmp(got, f->buf + (addr - BASE), len) == 0, "bytes at 0x%llx differ",
              (unsigned long long)addr);
}

Test(read_ahead, forward_walk_reads_the_source_bytes_and_copies_ahead)
{
    struct fake *f = fake_new();
    struct pk_mem *m = reader(f);
    /* Two interleaved forward streams, like a GC list through two size classes. */
    for (uint64_t off = 0; off + 64 <= SIZE / 2; off += 48) {
        check_range(m, f, BASE + off, 32);
        check_range(m, f, BASE + SIZE / 2 + off, 24);
    }
    struct pk_mem_stats st;
    pk_mem_get_stats(m, &st);
    cr_assert_gt(st.ahead_reads, 100, "read-ahead queued %llu chunks",
                 (unsigned long long)st.ahead_reads);
    cr_assert_gt(st.ahead_used, st.ahead_reads / 2, "most chunks read ahead are used");
    cr_assert_gt(atomic_load(&f->fetches), 0);
    pk_mem_free(m);
    fake_free(f);
}

Test(read_ahead, random_reads_and_invalidation_stay_exact)
{
    struct fake *f = fake_new();
    struct pk_mem *m = reader(f);
    uint64_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = 1 + (size_t)(x >> 40) % 600;
        uint64_t off = (x % (SIZE - len));
        if (i % 3 == 0) off = (off & ~(CHUNK - 1)) + (uint64_t)(i % 97) * 8; /* nearby chunks */
        if (off + len > SIZE) continue;
        check_range(m, f, BASE + off, len);
        if (i % 50000 == 0) pk_mem_invalidate(m);
    }
    pk_mem_stop_read_ahead(m);
    check_range(m, f, BASE + 100, 100); /* still a working reader without the thread */
    pk_mem_free(m);
    fake_free(f);
}

Test(read_ahead, failed_copies_are_read_again_by_the_reader)
{
    struct fake *f = fake_new();
    f->fail_lo = BASE + SIZE / 4;
    f->fail_hi = BASE + SIZE / 2;
    struct pk_mem *m = reader(f);
    for (uint64_t off = 0; off + 64 <= SIZE; off += 40)
        check_range(m, f, BASE + off, 40);
    pk_mem_free(m);
    fake_free(f);
}

Test(read_ahead, classes_keep_reads_to_wanted_chunks_of_the_run)
{
    struct fake *f = fake_new();
    struct pk_mem *m = reader(f);
    /* One run of 64 chunks: even chunks class 1, odd chunks class 2. The walk reads only even
       chunks, so after learning, odd ones are not read ahead. */
    pk_mem_note_chunk_run(m, BASE, 64 * CHUNK);
    for (uint64_t c = 0; c < 64; c++)
        pk_mem_note_chunk_class(m, BASE + c * CHUNK, CHUNK, c % 2 ? 2 : 1);
    pk_mem_seal_chunk_classes(m);
    for (uint64_t c = 0; c < 64; c += 2)
        for (uint64_t off = 0; off < CHUNK; off += 512)
            check_range(m, f, BASE + c * CHUNK + off, 64);
    struct pk_mem_stats st;
    pk_mem_get_stats(m, &st);
    cr_assert_eq(st.ahead_used, st.ahead_reads, "only wanted chunks read ahead (%llu of %llu)",
                 (unsigned long long)st.ahead_used, (unsigned long long)st.ahead_reads);
    cr_assert_gt(st.ahead_reads, 16);
    pk_mem_free(m);
    fake_free(f);
}

Test(read_ahead, background_scatter_equals_scatter)
{
    struct fake *f = fake_new();
    struct pk_mem *m = reader(f);
    enum { N = 5000, LEN = 48 };
    uint64_t *addrs = malloc(N * sizeof *addrs);
    unsigned char *a = malloc(N * LEN), *b = malloc(N * LEN);
    cr_assert(addrs && a && b);
    for (size_t i = 0; i < N; i++)
        addrs[i] = BASE + (uint64_t)i * 1600;
    struct pk_mem_bg *bg;
    cr_assert_eq(pk_mem_scatter_begin(m, addrs, N, LEN, a, &bg), 0);
    check_range(m, f, BASE + 7, 100); /* the reader goes on meanwhile */
    cr_assert_eq(pk_mem_scatter_end(m, bg), 0);
    cr_assert_eq(pk_mem_read_scatter(m, addrs, N, LEN, b), 0);
    for (size_t i = 0; i < N; i++)
        cr_assert(memcmp(a + i * LEN, f->buf + (addrs[i] - BASE), LEN) == 0, "span %zu", i);
    cr_assert(memcmp(a, b, N * LEN) == 0);
    addrs[N - 1] = BASE + SIZE - 10; /* runs off the mapping */
    cr_assert_eq(pk_mem_scatter_begin(m, addrs, N, LEN, a, &bg), -PK_E_UNMAPPED);
    free(addrs);
    free(a);
    free(b);
    pk_mem_free(m);
    fake_free(f);
}

/* The fetcher alone: every job runs exactly once, whether the fetcher or the waiter runs it. */
static _Atomic unsigned runs[4096];

static long count_fetch(void *ctx, const struct iovec *local, const struct iovec *remote, size_t n)
{
    (void)ctx;
    long done = 0;
    for (size_t i = 0; i < n; i++) {
        atomic_fetch_add(&runs[(uintptr_t)remote[i].iov_base], 1);
        memset(local[i].iov_base, 0xab, local[i].iov_len);
        done += (long)remote[i].iov_len;
    }
    return done;
}

Test(prefetch, every_job_runs_once)
{
    struct pk_fetcher *fe = pk_fetcher_start(count_fetch, NULL);
    cr_assert(fe);
    static struct pk_fetch_job jobs[4096];
    static unsigned char bufs[4096][8];
    size_t next = 0;
    while (next < 4096) {
        size_t first = next;
        for (; next < 4096 && next - first < 200; next++) {
            jobs[next] = (struct pk_fetch_job){.addr = next, .buf = bufs[next], .len = 8};
            if (pk_fetch_submit(fe, &jobs[next]) < 0) break;
        }
        pk_fetch_kick(fe);
        for (size_t i = first; i < next; i += 3) /* wait on (or take over) some of them */
            pk_fetch_wait(fe, &jobs[i]);
    }
    pk_fetch_drain(fe);
    for (size_t i = 0; i < 4096; i++) {
        cr_assert_eq(atomic_load(&jobs[i].state), PK_JOB_DONE, "job %zu", i);
        cr_assert_eq(runs[i], 1, "job %zu ran %u times", i, runs[i]);
        cr_assert_eq(jobs[i].got, 8);
        cr_assert_eq(bufs[i][7], 0xab);
    }
    pk_fetcher_stop(fe);
}

Test(chunk_classes, runs_are_sorted_and_overlaps_dropped)
{
    struct pk_chunk_classes cc;
    pk_chunk_classes_init(&cc, 14);
    pk_chunk_classes_note_run(&cc, 0x200000, 0x100000);
    pk_chunk_classes_note(&cc, 0x204000, 0x4000, 1u << 3);
    pk_chunk_classes_note_run(&cc, 0x100000, 0x100000);
    pk_chunk_classes_note(&cc, 0x100000, 0x8000, 1u << 5);
    pk_chunk_classes_note(&cc, 0x204000, 0x4000, 1u << 4); /* an older run, still found */
    pk_chunk_classes_note(&cc, 0x900000, 0x4000, 1);       /* in no run: dropped */
    pk_chunk_classes_note_run(&cc, 0x180000, 0x100000);    /* overlaps both: dropped */
    pk_chunk_classes_seal(&cc);
    cr_assert_eq(cc.nruns, 2);
    const struct pk_chunk_run *r = pk_chunk_classes_run(&cc, 0x104000);
    cr_assert(r && r->start == 0x100000 && r->end == 0x200000);
    cr_assert_eq(pk_chunk_classes_mask(&cc, r, 0x104000), 1u << 5);
    cr_assert_eq(pk_chunk_classes_mask(&cc, r, 0x108000), 0);
    r = pk_chunk_classes_run(&cc, 0x204000);
    cr_assert(r && r->start == 0x200000);
    cr_assert_eq(pk_chunk_classes_mask(&cc, r, 0x204000), (1u << 3) | (1u << 4));
    cr_assert_null(pk_chunk_classes_run(&cc, 0x300000));
    cr_assert_null(pk_chunk_classes_run(&cc, 0xff000));
    r = pk_chunk_classes_next_run(&cc, 0x104000);
    cr_assert(r && r->start == 0x200000);
    cr_assert_null(pk_chunk_classes_next_run(&cc, 0x204000));
    pk_chunk_classes_note_run(&cc, 0x400000, 0x100000); /* after sealing: ignored */
    cr_assert_eq(cc.nruns, 2);
    pk_chunk_classes_free(&cc);
}

Test(chunk_classes, hostile_sizes_are_bounded)
{
    struct pk_chunk_classes cc;
    pk_chunk_classes_init(&cc, 14);
    pk_chunk_classes_note_run(&cc, UINT64_MAX - 0x1000, 0x100000); /* wraps: ignored */
    cr_assert_eq(cc.nruns, 0);
    pk_chunk_classes_note_run(&cc, 0, (uint64_t)PK_CHUNK_CLASSES_MAX << 15); /* too many */
    cr_assert_eq(cc.nruns, 0);
    cr_assert(cc.full);
    pk_chunk_classes_seal(&cc);
    cr_assert_null(pk_chunk_classes_run(&cc, 0x1000));
    pk_chunk_classes_free(&cc);
}

/* Paused (a frozen thread-stack walk) or stopped, the reader queues nothing more, also when
   the walk reaches a chunk that was read ahead before (which used to queue the next batch
   through a fetcher that was gone), and its bytes stay exact. */
Test(read_ahead, paused_or_stopped_reader_queues_nothing)
{
    struct fake *f = fake_new();
    struct pk_mem *m = reader(f);
    check_range(m, f, BASE, 64); /* a miss: the next chunks are queued */
    struct pk_mem_stats before, after;
    pk_mem_get_stats(m, &before);
    cr_assert_gt(before.ahead_reads, 0);
    pk_mem_pause_read_ahead(m, 1);
    for (uint64_t off = CHUNK; off < 64 * CHUNK; off += CHUNK)
        check_range(m, f, BASE + off, 64);
    pk_mem_get_stats(m, &after);
    cr_assert_eq(after.ahead_reads, before.ahead_reads, "paused, %llu chunks queued",
                 (unsigned long long)(after.ahead_reads - before.ahead_reads));
    pk_mem_pause_read_ahead(m, 0);
    check_range(m, f, BASE + 128 * CHUNK, 64); /* resumed: a miss queues again */
    pk_mem_get_stats(m, &after);
    cr_assert_gt(after.ahead_reads, before.ahead_reads);
    pk_mem_stop_read_ahead(m);
    for (uint64_t off = 128 * CHUNK; off < 160 * CHUNK; off += CHUNK / 4)
        check_range(m, f, BASE + off, 64); /* chunks read ahead before the stop */
    pk_mem_free(m);
    fake_free(f);
}
