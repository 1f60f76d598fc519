/* The fetcher thread: a single-producer single-consumer ring of read jobs. Every job is run
   exactly once, by whichever thread moves it from QUEUED to RUNNING first. */
#include "attach/prefetch.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define BATCH 4        /* jobs the fetcher copies in one call */
#define RING 256       /* jobs in flight at most (a power of two) */
#define IDLE_SPINS 128 /* polls of an empty ring before sleeping */
#define WAIT_SPINS 64  /* polls of a running job before yielding the CPU */

struct pk_fetcher {
    pk_fetch_fn fn;
    void *ctx;
    struct pk_fetch_job *ring[RING];
    _Atomic uint64_t head; /* next slot the fetcher takes */
    _Atomic uint64_t tail; /* next slot the walker fills */
    uint64_t submitted;    /* walker only */
    _Atomic uint64_t completed;
    _Atomic int sleeping; /* a futex word: 1 while the fetcher waits for work */
    _Atomic int stop;
    pthread_t thread;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int claim(struct pk_fetch_job *j)
{
    int queued = PK_JOB_QUEUED;
    return atomic_compare_exchange_strong(&j->state, &queued, PK_JOB_RUNNING);
}

static void finish(struct pk_fetcher *f, struct pk_fetch_job *j, long got)
{
    j->got = got;
    atomic_store_explicit(&j->state, PK_JOB_DONE, memory_order_release);
    atomic_fetch_add(&f->completed, 1);
}

/* Copies the n claimed jobs in one call and hands each its share of the bytes copied. */
static void run_jobs(struct pk_fetcher *f, struct pk_fetch_job **jobs, size_t n)
{
    struct iovec local[BATCH] = {{0}}, remote[BATCH] = {{0}};
    if (n == 0 || n > BATCH) return;
    for (size_t i = 0; i < n; i++) {
        local[i] = (struct iovec){jobs[i]->buf, jobs[i]->len};
        remote[i] = (struct iovec){(void *)(uintptr_t)jobs[i]->addr, jobs[i]->len};
    }
    long got = f->fn(f->ctx, local, remote, n);
    size_t left = got > 0 ? (size_t)got : 0;
    for (size_t i = 0; i < n; i++) {
        size_t mine = left < jobs[i]->len ? left : jobs[i]->len;
        left -= mine;
        finish(f, jobs[i], (long)mine);
    }
}

/* Runs one claimed job of either kind. */
static void run_one(struct pk_fetcher *f, struct pk_fetch_job *j)
{
    if (j->niov)
        finish(f, j, f->fn(f->ctx, j->liov, j->riov, j->niov));
    else
        run_jobs(f, &j, 1);
}

static int ring_empty(struct pk_fetcher *f)
{
    return atomic_load(&f->head) == atomic_load(&f->tail);
}

static void *fetcher_main(void *arg)
{
    struct pk_fetcher *f = arg;
    for (;;) {
        uint64_t h = atomic_load_explicit(&f->head, memory_order_relaxed);
        uint64_t t = atomic_load_explicit(&f->tail, memory_order_acquire);
        if (h != t) {
            /* Take what is queued (up to a batch); jobs the walker took over are skipped. */
            struct pk_fetch_job *jobs[BATCH];
            size_t n = 0;
            for (; h != t && n < BATCH; h++) {
                struct pk_fetch_job *j = f->ring[h % RING];
                if (!claim(j)) continue;
                if (j->niov)
                    run_one(f, j);
                else
                    jobs[n++] = j;
            }
            atomic_store_explicit(&f->head, h, memory_order_release);
            if (n) run_jobs(f, jobs, n);
            continue;
        }
        if (atomic_load(&f->stop)) break;
        int spins = 0;
        while (ring_empty(f) && !atomic_load(&f->stop) && spins++ < IDLE_SPINS)
            cpu_relax();
        if (!ring_empty(f)) continue;
        /* Announce the sleep, then look once more: a walker that queued work before seeing
           the announcement is seen here; one that queued after it wakes the futex. */
        atomic_store(&f->sleeping, 1);
        if (ring_empty(f) && !atomic_load(&f->stop))
            syscall(SYS_futex, &f->sleeping, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
        atomic_store(&f->sleeping, 0);
    }
    return NULL;
}

struct pk_fetcher *pk_fetcher_start(pk_fetch_fn fn, void *ctx)
{
    struct pk_fetcher *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->fn = fn;
    f->ctx = ctx;
    /* Signals stay with the main thread, whose handlers set the cancel flag. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&f->thread, NULL, fetcher_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(f);
        return NULL;
    }
    return f;
}

void pk_fetch_kick(struct pk_fetcher *f)
{
    if (atomic_exchange(&f->sleeping, 0))
        syscall(SYS_futex, &f->sleeping, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int pk_fetch_submit(struct pk_fetcher *f, struct pk_fetch_job *j)
{
    uint64_t t = atomic_load_explicit(&f->tail, memory_order_relaxed);
    if (t - atomic_load_explicit(&f->head, memory_order_acquire) >= RING) return -1;
    atomic_store_explicit(&j->state, PK_JOB_QUEUED, memory_order_release);
    f->ring[t % RING] = j;
    f->submitted++;
    atomic_store(&f->tail, t + 1);
    return 0;
}

/* Runs the oldest job still queued, if any (1), on the walker's thread: while the walker waits
   for a job the fetcher is copying, it copies the next ones itself, so that two threads copy
   instead of one idling. Only the walker calls it: it alone writes ring slots, so the slots it
   reads are stable; a slot the fetcher has passed holds a job that is no longer QUEUED, or one
   queued again later, which claim() then runs exactly once all the same. */
static int help_one(struct pk_fetcher *f)
{
    uint64_t t = atomic_load_explicit(&f->tail, memory_order_relaxed);
    for (uint64_t h = atomic_load_explicit(&f->head, memory_order_acquire); h != t; h++) {
        struct pk_fetch_job *j = f->ring[h % RING];
        if (claim(j)) {
            run_one(f, j);
            return 1;
        }
    }
    return 0;
}

void pk_fetch_wait(struct pk_fetcher *f, struct pk_fetch_job *j)
{
    if (claim(j)) {
        run_one(f, j);
        return;
    }
    for (unsigned spins = 0;; spins++) {
        int s = atomic_load_explicit(&j->state, memory_order_acquire);
        if (s == PK_JOB_DONE || s == PK_JOB_NONE) return;
        if (help_one(f)) continue;
        if (spins < WAIT_SPINS)
            cpu_relax();
        else
            sched_yield();
    }
}

void pk_fetch_drain(struct pk_fetcher *f)
{
    if (!f) return;
    pk_fetch_kick(f);
    for (unsigned spins = 0; atomic_load(&f->completed) != f->submitted; spins++) {
        if (spins < WAIT_SPINS)
            cpu_relax();
        else
            sched_yield();
    }
}

void pk_fetcher_stop(struct pk_fetcher *f)
{
    if (!f) return;
    pk_fetch_drain(f);
    atomic_store(&f->stop, 1);
    atomic_store(&f->sleeping, 0);
    syscall(SYS_futex, &f->sleeping, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(f->thread, NULL);
    free(f);
}
