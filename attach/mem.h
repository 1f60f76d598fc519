/* The memory reader: one interface for reading target memory (live process, synthetic image in
   tests, later core files), with a bounded set-associative chunk cache in front of the source. */
#ifndef PK_MEM_H
#define PK_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/maps.h"
#include "attach/prefetch.h"
#include "util/error.h"

/* A source copies [addr, addr+len) of the target into buf. It returns the number of bytes
   copied from the start (short when the range runs into unreadable memory; 0 when addr itself
   is unreadable) or -PK_E_NO_PROCESS when the target is gone. */
typedef long (*pk_mem_source_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
/* Releases a source's context when the reader is freed (may be NULL). */
typedef void (*pk_mem_ctx_free_fn)(void *ctx);
struct iovec;
/* Optional vector source, process_vm_readv's contract: copies the n remote spans into the n
   local buffers in order and returns the bytes copied from the start (short at the first
   unreadable byte) or -PK_E_NO_PROCESS. */
typedef long (*pk_mem_vsource_fn)(void *ctx, const struct iovec *local, const struct iovec *remote,
                                  size_t n);

struct pk_mem_stats {
    uint64_t reads;        /* pk_mem_read calls */
    uint64_t source_calls; /* calls into the source (syscalls for a live target) */
    uint64_t source_bytes; /* bytes copied from the source */
    uint64_t cache_hits;
    uint64_t ahead_reads; /* chunks read ahead (included in source_calls) */
    uint64_t ahead_used;  /* of which the walk used */
};

/* A vector read through a single-span source, span by span: the vector source's contract for
   sources that have no vector call of their own. */
long pk_mem_readv_spans(pk_mem_source_fn fn, void *ctx, const struct iovec *local,
                        const struct iovec *remote, size_t n);

struct pk_mem;

/* maps must outlive the reader and describe every readable region: reads outside them fail
   without calling the source; they may be filled in after creating the reader, before the
   first read. cache_bytes bounds the cache (0 picks the default, 64 MiB; at most 160 MiB). */
struct pk_mem *pk_mem_new(pk_mem_source_fn fn, void *ctx, pk_mem_ctx_free_fn ctx_free,
                          const struct pk_maps *maps, size_t cache_bytes);
/* Lets scatter reads batch many spans into one call of the vector source. */
void pk_mem_set_vsource(struct pk_mem *m, pk_mem_vsource_fn vfn);
/* Every read goes straight to the source, never through the cache: for sources that are
   themselves memory (a copied image), where the cache would only add a copy. */
void pk_mem_set_direct(struct pk_mem *m);
/* Optional, for sources that hold the target's bytes in pypeek's memory: a pointer to
   [addr, addr+len) when those bytes are there in one piece, NULL otherwise (the read then goes
   through the source). A read it answers is one memcpy, with no map or span lookup. */
typedef const void *(*pk_mem_view_fn)(void *ctx, uint64_t addr, size_t len);
void pk_mem_set_view(struct pk_mem *m, pk_mem_view_fn view);
/* A thread-safe copy function (no state shared with the source's) that read-ahead may call
   from its own thread. */
void pk_mem_set_fetch(struct pk_mem *m, pk_fetch_fn fn);
/* Starts reading ahead on a second thread (attach/prefetch.h): on a cache miss, the next chunks
   of that mapping are queued, and again at the first use of each, so a walk running forward
   through pools finds them copied. -1 (and reads stay synchronous) without a fetch function,
   for a direct reader, or when no thread can be started. */
int pk_mem_start_read_ahead(struct pk_mem *m);
/* While paused, reads queue nothing ahead (chunks already queued are still taken in): for walks
   without locality, such as thread stacks, where reading ahead only adds reads. */
void pk_mem_pause_read_ahead(struct pk_mem *m, int paused);
/* What the allocator keeps where, for read-ahead (attach/chunk_classes.h): a run of chunks
   (a pymalloc arena) that a walk goes through in one go, then a bit mask of classes for parts
   of it (0 or no note: nothing worth reading). Once sealed, read-ahead stays inside the run of
   the chunk it starts from and skips chunks whose classes the walk has not missed on. Memory
   outside every run is read ahead without choosing. Only noted while read-ahead is on. */
void pk_mem_note_chunk_run(struct pk_mem *m, uint64_t start, uint64_t len);
void pk_mem_note_chunk_class(struct pk_mem *m, uint64_t addr, uint64_t len, uint64_t mask);
void pk_mem_seal_chunk_classes(struct pk_mem *m);
/* Waits for the reads in flight (keeping what they copied) and stops the thread: call before
   the target resumes. No-op when read-ahead is off. pk_mem_free and pk_mem_invalidate settle
   the reads in flight too. */
void pk_mem_stop_read_ahead(struct pk_mem *m);
/* Faults in the cache for about expect_bytes of target memory (bounded by the cache size), so
   that reads made later (while the target is stopped) do not page-fault pypeek. */
void pk_mem_prepare(struct pk_mem *m, uint64_t expect_bytes);
/* Reader over a live process: process_vm_readv, falling back to /proc/PID/mem (through procfd)
   where process_vm_readv is unavailable; a small cache (4 MiB), its pages faulted in only as used
   (or by pk_mem_prepare). NULL on out-of-memory. */
struct pk_mem *pk_mem_open_pid(pid_t pid, int procfd, const struct pk_maps *maps);
void pk_mem_free(struct pk_mem *m); /* NULL is a no-op */

/* Reads exactly len bytes. 0, -PK_E_UNMAPPED (some byte not readable) or -PK_E_NO_PROCESS. */
int pk_mem_read(struct pk_mem *m, uint64_t addr, void *buf, size_t len);
/* Reads up to len bytes, stopping at the first unreadable byte. Returns the count or
   -PK_E_NO_PROCESS. For strings whose end is unknown. */
long pk_mem_read_upto(struct pk_mem *m, uint64_t addr, void *buf, size_t len);
/* Reads exactly len bytes straight from the source, bypassing (and not filling) the cache: for
   scattered small reads, such as pool headers, where a whole chunk would be wasted. */
int pk_mem_read_uncached(struct pk_mem *m, uint64_t addr, void *buf, size_t len);
/* Reads n spans of len bytes (len <= 16 KiB), span i from addrs[i] into out + i * len: from the
   cache where it holds them (without filling it), the rest in batched source calls. 0, or
   -PK_E_UNMAPPED when any span is unreadable, or -PK_E_NO_PROCESS. */
int pk_mem_read_scatter(struct pk_mem *m, const uint64_t *addrs, size_t n, size_t len, void *out);
/* pk_mem_read_scatter in the background: with read-ahead on, the fetcher thread copies the
   spans while the caller goes on (addrs and out must stay valid until the end call); otherwise
   the copy is made now. The end call waits for it and returns what pk_mem_read_scatter would
   have. Only one background read at a time (a second is made at once). */
struct pk_mem_bg;
int pk_mem_scatter_begin(struct pk_mem *m, const uint64_t *addrs, size_t n, size_t len, void *out,
                         struct pk_mem_bg **bg);
int pk_mem_scatter_end(struct pk_mem *m, struct pk_mem_bg *bg); /* NULL: 0 */
int pk_mem_read_u64(struct pk_mem *m, uint64_t addr, uint64_t *out);
/* The regions the reader reads. */
const struct pk_maps *pk_mem_maps(const struct pk_mem *m);
/* True when [addr, addr+len) lies in readable mapped regions (no source call). */
int pk_mem_is_mapped(const struct pk_mem *m, uint64_t addr, size_t len);
/* Drops every cached byte: call whenever the target may have run. */
void pk_mem_invalidate(struct pk_mem *m);
void pk_mem_get_stats(const struct pk_mem *m, struct pk_mem_stats *st);

#endif
