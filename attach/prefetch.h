/* A second thread that copies target memory ahead of the heap walk: the walker queues reads it
   expects to need, the fetcher runs them while the walker works on what it already has, and
   the walker takes over any queued read it reaches first. On two cores the copy and the
   per-object work of a frozen walk overlap instead of adding up. */
#ifndef PK_PREFETCH_H
#define PK_PREFETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct iovec;
/* process_vm_readv's contract: copies the n remote spans into the n local buffers in order and
   returns the bytes copied from the start (0 on any failure). Must be safe to call from another
   thread than the reader's. */
typedef long (*pk_fetch_fn)(void *ctx, const struct iovec *local, const struct iovec *remote,
                            size_t n);

enum { PK_JOB_NONE, PK_JOB_QUEUED, PK_JOB_RUNNING, PK_JOB_DONE };

/* One read: [addr, addr+len) into buf, or, when niov is not 0, the niov spans of riov into
   the buffers of liov. The submitter fills it and owns it again once it has seen PK_JOB_DONE
   through pk_fetch_wait (got then holds the bytes copied). A job may stay referenced by the
   queue after it is done: it must outlive the fetcher (keep jobs in long-lived structures). */
struct pk_fetch_job {
    _Atomic int state;
    uint64_t addr;
    void *buf;
    size_t len;
    const struct iovec *liov, *riov;
    size_t niov;
    long got;
};

struct pk_fetcher;

/* Starts the fetcher thread (signals blocked in it). NULL when no thread can be made: callers
   then simply read synchronously. */
struct pk_fetcher *pk_fetcher_start(pk_fetch_fn fn, void *ctx);
/* Queues j (state becomes QUEUED). 0, or -1 when the queue is full (j untouched). The
   fetcher may be asleep: pk_fetch_kick after queueing a batch. */
int pk_fetch_submit(struct pk_fetcher *f, struct pk_fetch_job *j);
/* Wakes the fetcher if it sleeps (one system call then, none otherwise). */
void pk_fetch_kick(struct pk_fetcher *f);
/* Returns once j is DONE: runs it on this thread if the fetcher has not started it. */
void pk_fetch_wait(struct pk_fetcher *f, struct pk_fetch_job *j);
/* Waits until every queued job is done (the caller may then reuse all of them). */
void pk_fetch_drain(struct pk_fetcher *f);
/* Drains, stops and joins the thread. NULL is a no-op. */
void pk_fetcher_stop(struct pk_fetcher *f);

#endif
