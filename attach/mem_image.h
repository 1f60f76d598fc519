/* A copy of the target's writable memory, taken while it is stopped and read after it runs. */
#ifndef PK_MEM_IMAGE_H
#define PK_MEM_IMAGE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/maps.h"
#include "attach/mem.h"
#include "util/error.h"

struct pk_image;

/* Bytes of the regions an image copies (readable, writable, private; not [vvar]/[vsyscall]),
   or UINT64_MAX when there are too many of them to copy. */
uint64_t pk_image_size(const struct pk_maps *maps);
/* The most an image may hold: 768 MiB, at most half of MemAvailable. */
uint64_t pk_image_budget(void);
/* Reserves and faults in room for cap bytes (before the target is stopped). NULL when
   out of memory. */
struct pk_image *pk_image_new(uint64_t cap);
/* Copies the writable regions of maps from pid, in a few large vector reads, checking the
   deadline (0: none) and cancel between them. A region that ends short is kept up to where it
   could be read. Returns 0; 1 when the image does not fit, or the kernel refuses vector reads
   (read the target the streaming way instead); or -PK_E_NO_PROCESS / -PK_E_PAUSE_EXCEEDED /
   -PK_E_INTERRUPTED. */
int pk_image_copy(struct pk_image *img, pid_t pid, const struct pk_maps *maps, uint64_t deadline_us,
                  const volatile sig_atomic_t *cancel, struct pk_err *e);
/* The stopped threads' stack pointers (copied): a region holding one is copied as two, below
   and from sp - 128 (the red zone) up, so a guard page at a thread stack's low end (glibc's
   MADV_GUARD_INSTALL guards sit inside the stack's own mapping) leaves the live part of the
   stack readable. At most PK_IMAGE_MAX_SPS are kept. Call before pk_image_copy. */
#define PK_IMAGE_MAX_SPS 4096
void pk_image_set_stack_pointers(struct pk_image *img, const uint64_t *sp, size_t n);
uint64_t pk_image_bytes(const struct pk_image *img);
uint64_t pk_image_calls(const struct pk_image *img);
void pk_image_free(struct pk_image *img); /* NULL is a no-op */
/* Reader over a copied image (owned by the reader from now on): writable memory from the
   image only; memory the target cannot write (no w permission, private) read live; maps must
   be the ones the image was copied with. NULL on out-of-memory (img is freed). */
struct pk_mem *pk_mem_open_image(struct pk_image *img, pid_t pid, const struct pk_maps *maps);

#endif
