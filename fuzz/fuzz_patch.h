/* The fuzz harnesses' input format: a list of patches applied to a well-formed template image
   (tests/support_image.h), each [op][offset:2][payload]:
   op 0: a pointer into the image, 1: a small signed integer, 2: 8 raw bytes, 3: NULL, an
   unmapped pointer or one near the image's end, 4: one raw byte (bit and u8 fields), 5: copy
   the rest of the input over the image; with template objects also 6: a pointer to another
   8-byte word of the template, 7: the address of one of the template's objects (or 8 to 56
   bytes into it). Offsets are 8-aligned in the template's used part (op 4: byte-exact). */
#ifndef PK_FUZZ_PATCH_H
#define PK_FUZZ_PATCH_H

#include <stddef.h>
#include <stdint.h>

#include "tests/support_image.h"

struct fuzz_template {
    size_t used;          /* patches land in the image's first used bytes */
    const uint64_t *objs; /* the template's objects, for op 7; NULL: ops 0-5 only */
    size_t nobjs;
};

/* Applies the patches in p (op taken modulo 6, or 8 with objects: each harness's corpus keeps
   its meaning) and drops the reader's cache. */
void fuzz_apply_patches(struct img *im, const struct fuzz_template *t, const uint8_t *p,
                        size_t size);
/* The image as a memory source, for a reader with a cache smaller than the default (whose
   slot table would dominate each run). */
long fuzz_image_source(void *ctx, uint64_t addr, void *buf, size_t len);

#endif
