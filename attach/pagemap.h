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
/* Calls fn for each run of pages of [start, end) (page-aligned) that all hold data (present or
   swapped: resident = 1) or all hold none (never touched: resident = 0). fn returning non-zero
   stops the walk. 0, or -1 when pagemap could not be read (nothing is known then). */
typedef int (*pk_page_run_fn)(void *ctx, uint64_t start, uint64_t end, int resident);
int pk_pagemap_runs(int fd, uint64_t start, uint64_t end, pk_page_run_fn fn, void *ctx);
/* Bytes of [start, end) that hold data, or UINT64_MAX when pagemap could not be read. */
uint64_t pk_pagemap_resident_bytes(int fd, uint64_t start, uint64_t end);

/* The user stack pointer of each thread of the stopped process (the next-to-last field of
   /proc/PID/task/TID/syscall), at most cap of them, into sps. The count, or -1. Threads that
   are running (not stopped) are skipped. */
int pk_thread_stack_pointers(int procfd, uint64_t *sps, size_t cap);

#endif
