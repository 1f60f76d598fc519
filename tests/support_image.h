/* Synthetic target memory for unit tests: a malloc'd buffer at a fake address behind a pk_mem,
   plus the layout of this test binary's mini CPython structs (support_py.h) read from DWARF. */
#ifndef PK_TEST_SUPPORT_IMAGE_H
#define PK_TEST_SUPPORT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "attach/maps.h"
#include "attach/mem.h"
#include "symbols/layout.h"

#define IMG_BASE UINT64_C(0x7f3a00000000)

struct img {
    uint64_t base;
    size_t size; /* mapped bytes: [base, base + size) */
    size_t used; /* bump allocator */
    unsigned char *buf;
    int gone; /* the source reports the target as exited */
    struct pk_maps maps;
    struct pk_mem *mem;
};

/* A zeroed image of size bytes (one rw-p anonymous mapping) and its reader. */
struct img *img_new(size_t size);
void img_free(struct img *im);
/* Reserves n zeroed bytes aligned to 16; returns their target address. */
uint64_t img_alloc(struct img *im, size_t n);
/* Host pointer for target address addr (which must lie in the image). */
void *img_ptr(struct img *im, uint64_t addr);
void img_put(struct img *im, uint64_t addr, const void *src, size_t n);
void img_put_u64(struct img *im, uint64_t addr, uint64_t v);
/* An address nothing maps. */
uint64_t img_hole(const struct img *im);

/* The layout of support_py.h as pk_layout_from_dwarf reads it from /proc/self/exe (3.11.2). */
void support_layout(struct pk_layout *l);

#endif
