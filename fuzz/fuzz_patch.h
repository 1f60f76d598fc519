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
    unsigned char *buf;   /* the well-formed image every input patches */
    size_t size;          /* its bytes (the image's mapped size) */
    size_t used;          /* patches land in the image's first used bytes */
    const uint64_t *objs; /* the template's objects, for op 7; NULL: ops 0-5 only */
    size_t nobjs;
};

/* Keeps a copy of the image just built as the template (aborts out of memory); frees im. */
void fuzz_template_keep(struct fuzz_template *t, struct img *im);
/* A fresh image from the template with the input's patches applied, behind a reader with a
   small cache (the default one's slot table would dominate each run). img_free it. */
struct img *fuzz_image_patched(const struct fuzz_template *t, const uint8_t *data, size_t size);

/* Applies the patches in p (op taken modulo 6, or 8 with objects: each harness's corpus keeps
   its meaning) and drops the reader's cache. */
void fuzz_apply_patches(struct img *im, const struct fuzz_template *t, const uint8_t *p,
                        size_t size);

#endif
