/* What capture/'s files share: the clock, the graph's progress line and analysis, the read
   counters, and the live path's steps (an image's budget, one read of a frozen target). */
#ifndef PK_CAPTURE_INTERNAL_H
#define PK_CAPTURE_INTERNAL_H

#include <signal.h>
#include <stdint.h>

#include "attach/mem.h"
#include "attach/mem_image.h"
#include "capture/capture.h"
#include "cpython/snapshot.h"
#include "symbols/target.h"
#include "util/clock.h"

/* A progress line for the object graph's long steps (seconds on a 10M-object heap): on a
   terminal only (util/term.h), overwritten by the next; what NULL clears it. */
void pk_capture_progress(const struct pk_capture_opts *o, pid_t pid, const char *what);

/* Once nothing runs in the target any more (resumed, or a core): when r == 0, the object
   graph analysed into the snapshot (retainers: the dominator tree too, else only the
   unreachable cycles); the progress line cleared either way. */
void pk_capture_analyse(const struct pk_capture_opts *o, pid_t pid, int retainers, int r,
                        struct pk_snapshot *s);

/* What crossed from the source: bytes and reads, into s->attach. */
void pk_capture_count_reads(struct pk_mem *m, struct pk_snapshot *s);

/* Before freezing: room for a copy of the target's data pages when they fit the budget, else
   NULL (the heap is walked while frozen). o->log says which and why. */
struct pk_image *pk_capture_image_reserve(const struct pk_capture_opts *o, pid_t pid, int procfd,
                                          const volatile sig_atomic_t *cancel);

/* One frozen (or nonblocking) read of the whole interpreter of a resolved live target.
 *stream_next: the image fell short, read the next attempt streaming. */
int pk_capture_read_once(const struct pk_capture_opts *o, int procfd, const struct pk_target *t,
                         const volatile sig_atomic_t *cancel, struct pk_snapshot *s,
                         int *stream_next, struct pk_err *e);

#endif
