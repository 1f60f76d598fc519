/* A copy of the target's writable memory, taken while it is stopped and read after it runs. */
#ifndef PK_MEM_IMAGE_H
#define PK_MEM_IMAGE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/maps.h"
#include "attach/mem.h"
#include "attach/payload.h"
#include "util/error.h"

struct pk_image;

/* What an image of the target would copy, from its maps and pagemap, before it is stopped. */
struct pk_image_estimate {
    uint64_t writable_bytes;  /* the regions an image covers (readable, writable, private) */
    uint64_t copy_bytes;      /* of which hold data: what would be copied */
    uint64_t untouched_bytes; /* never-touched anonymous pages: not copied, read as zeros */
    uint64_t payload_bytes;   /* resident payload pages left out (attach/payload.h) */
    int pagemap;              /* 0: pagemap unreadable, every byte counted as data */
};
/* payload (may be NULL): pages to leave out. 0, or -1 when the regions are too fragmented for
   an image. */
int pk_image_estimate(int procfd, const struct pk_maps *maps, const struct pk_payload *payload,
                      struct pk_image_estimate *est);
/* The most an image may hold: 192 MiB (pypeek's RSS stays near 256 MiB), at most half of
   MemAvailable. */
uint64_t pk_image_budget(void);
/* Reserves, faults in and warms (a kernel-side write into every page) room for cap bytes,
   before the target is stopped. NULL when out of memory. */
struct pk_image *pk_image_new(uint64_t cap);
/* Copies the pages of the writable regions of maps that hold data (pagemap, read now: call it
   while the target is stopped; a thread stack only from below its stack pointer up, from
   /proc/PID/task/TID/syscall), in a few large vector reads, checking the
   deadline (0: none) and cancel between them. A region that ends short is kept up to where it
   could be read. Returns 0; 1 when the image does not fit, or the kernel refuses vector reads
   (read the target the streaming way instead); or -PK_E_NO_PROCESS / -PK_E_PAUSE_EXCEEDED /
   -PK_E_INTERRUPTED. */
int pk_image_copy(struct pk_image *img, pid_t pid, int procfd, const struct pk_maps *maps,
                  uint64_t deadline_us, const volatile sig_atomic_t *cancel, struct pk_err *e);
uint64_t pk_image_bytes(const struct pk_image *img);
uint64_t pk_image_calls(const struct pk_image *img);
/* Reads of bytes the image left out (below a stack pointer, payload): what was read from it may be
   short of what the target held; read it frozen to be exact. */
uint64_t pk_image_misses(const struct pk_image *img);
/* How long the last copy took to plan (maps, pagemap, stack pointers) and to copy. */
void pk_image_timing(const struct pk_image *img, uint64_t *plan_us, uint64_t *copy_us);
/* Payload pages (found before the stop) that the copy leaves out: taken over (*payload is
   emptied). */
void pk_image_leave_out(struct pk_image *img, struct pk_payload *payload);
/* What the last copy planned: bytes copied, never touched (zeros), left out (below stack
   pointers, payload). */
void pk_image_plan_bytes(const struct pk_image *img, uint64_t *copy, uint64_t *untouched,
                         uint64_t *left_out);
void pk_image_free(struct pk_image *img); /* NULL is a no-op */
/* Reader over a copied image (owned by the reader from now on): writable memory from the
   image only; memory the target cannot write (no w permission, private) read live; maps must
   be the ones the image was copied with. NULL on out-of-memory (img is freed). */
struct pk_mem *pk_mem_open_image(struct pk_image *img, pid_t pid, const struct pk_maps *maps);

#endif
