/* Synthetic target memory for unit tests, and the layout of the mini CPython structs. */
#include "tests/support_image.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/dwarf_types.h"
#include "tests/support_py.h"

/* Instances keep every mini CPython struct in this unit's DWARF. */
__attribute__((used)) _PyRuntimeState fx_runtime;
__attribute__((used)) PyHeapTypeObject fx_heaptype;
__attribute__((used)) PyUnicodeObject fx_unicode;
__attribute__((used)) PyListObject fx_list;
__attribute__((used)) PyTupleObject fx_tuple;
__attribute__((used)) PyDictObject fx_dict;
__attribute__((used)) PyDictKeyEntry fx_dictentry;
__attribute__((used)) PyDictUnicodeEntry fx_dictuentry;
__attribute__((used)) PyDictValues fx_dictvalues;
__attribute__((used)) PySetObject fx_set;
__attribute__((used)) PyThreadState fx_tstate;

static long img_source(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct img *im = ctx;
    if (im->gone) return -PK_E_NO_PROCESS;
    if (addr < im->base || addr >= im->base + im->size) return 0;
    size_t off = (size_t)(addr - im->base);
    size_t n = im->size - off < len ? im->size - off : len;
    memcpy(buf, im->buf + off, n);
    return (long)n;
}

struct img *img_new(size_t size)
{
    struct img *im = calloc(1, sizeof *im);
    cr_assert(im);
    im->base = IMG_BASE;
    im->size = size;
    im->buf = calloc(1, size);
    cr_assert(im->buf);
    char text[128];
    snprintf(text, sizeof text, "%llx-%llx rw-p 00000000 00:00 0 \n", (unsigned long long)im->base,
             (unsigned long long)(im->base + size));
    struct pk_err e = {0};
    cr_assert_eq(pk_maps_parse(text, &im->maps, &e), 0, "%s", e.msg);
    im->mem = pk_mem_new(img_source, im, NULL, &im->maps, 0);
    cr_assert(im->mem);
    im->used = 64; /* keep address base+0 unused */
    return im;
}

void img_free(struct img *im)
{
    if (!im) return;
    pk_mem_free(im->mem);
    pk_maps_free(&im->maps);
    free(im->buf);
    free(im);
}

uint64_t img_alloc(struct img *im, size_t n)
{
    size_t at = (im->used + 15) & ~(size_t)15;
    cr_assert_leq(at + n, im->size, "test image too small");
    im->used = at + n;
    return im->base + at;
}

void *img_ptr(struct img *im, uint64_t addr)
{
    cr_assert(addr >= im->base && addr < im->base + im->size, "address outside the image");
    return im->buf + (addr - im->base);
}

void img_put(struct img *im, uint64_t addr, const void *src, size_t n)
{
    cr_assert(addr >= im->base && addr + n <= im->base + im->size, "write outside the image");
    memcpy(im->buf + (addr - im->base), src, n);
    pk_mem_invalidate(im->mem); /* the "target" changed under the reader's cache */
}

void img_put_u64(struct img *im, uint64_t addr, uint64_t v)
{
    img_put(im, addr, &v, sizeof v);
}

uint64_t img_hole(const struct img *im)
{
    return im->base + im->size + 0x100000;
}

void support_layout(struct pk_layout *l)
{
    struct pk_dwarf *d = NULL;
    struct pk_err e = {0};
    cr_assert_eq(pk_dwarf_open("/proc/self/exe", &d, &e), 0, "%s", e.msg);
    int r = pk_layout_from_dwarf(l, d, 0x030b02f0, &e);
    pk_dwarf_close(d);
    cr_assert_eq(r, 0, "layout from the test binary: %s", e.msg);
}
