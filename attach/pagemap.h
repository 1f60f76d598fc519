/* Which pages of a target are in memory, from /proc/PID/pagemap (8 bytes a page: bit 63
   present, bit 62 swapped), read without touching them, and the threads' stack pointers. */
#ifndef PK_PAGEMAP_H
#define PK_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>

/* The system page size (the unit of pagemap and of every mapping). */
uint64_t pk_page_size(void);
/* Opens /proc/PID/pagemap through procfd: an fd, or -1 when it cannot be read. */
int pk_pagemap_open(int procfd);
/* What a page holds. A present anonymous page mapped by more than this process (shared with a
   parent or child since fork) must not be read with process_vm_readv: its read-only pin makes
   the kernel unshare it (Linux 5.19+), copying it into the target for good (a pre-fork
   worker's inherited heap would double); /proc/PID/mem reads it without a pin. */
enum pk_page_state {
    PK_PAGE_NONE = 0,      /* never touched: reads as zeros in private anonymous memory */
    PK_PAGE_EXCLUSIVE = 1, /* present, mapped by this process only */
    PK_PAGE_SHARED = 2,    /* present and mapped elsewhere too, or swapped out */
};
/* Calls fn for each run of pages of [start, end) (page-aligned) in the same state. fn
   returning non-zero stops the walk. 0, or -1 when pagemap could not be read (nothing is known
   then). */
typedef int (*pk_page_run_fn)(void *ctx, uint64_t start, uint64_t end, int state);
int pk_pagemap_runs(int fd, uint64_t start, uint64_t end, pk_page_run_fn fn, void *ctx);
/* Bytes of [start, end) that hold data, or UINT64_MAX when pagemap could not be read. */
uint64_t pk_pagemap_resident_bytes(int fd, uint64_t start, uint64_t end);

/* The user stack pointer of each thread of the stopped process (the next-to-last field of
   /proc/PID/task/TID/syscall), at most cap of them, into sps. The count, or -1. Threads that
   are running (not stopped) are skipped. */
int pk_thread_stack_pointers(int procfd, uint64_t *sps, size_t cap);

#endif
