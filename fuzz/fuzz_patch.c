/* Applying a fuzz input's patches to a template image, and the image as a memory source. */
#include "fuzz/fuzz_patch.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rd(const uint8_t **p, const uint8_t *end, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n && *p < end; i++)
        v |= (uint64_t) * (*p)++ << (8 * i);
    return v;
}

void fuzz_apply_patches(struct img *im, const struct fuzz_template *t, const uint8_t *p,
                        size_t size)
{
    const uint8_t *end = p + size;
    size_t span = t->used / 8 ? t->used / 8 : 1;
    unsigned nops = t->objs && t->nobjs ? 8 : 6;
    while (p < end) {
        unsigned op = (unsigned)rd(&p, end, 1) % nops;
        uint64_t off = (rd(&p, end, 2) % span) * 8;
        unsigned char *at = im->buf + off;
        uint64_t v;
        switch (op) {
        case 0:
            v = im->base + (rd(&p, end, 2) % (im->size / 8)) * 8 + (rd(&p, end, 1) & 7);
            memcpy(at, &v, 8);
            break;
        case 1:
            v = (uint64_t)(int64_t)(int8_t)rd(&p, end, 1);
            memcpy(at, &v, 8);
            break;
        case 2:
            v = rd(&p, end, 8);
            memcpy(at, &v, 8);
            break;
        case 3: {
            uint64_t k = rd(&p, end, 1);
            v = k == 0 ? 0 : k == 1 ? img_hole(im) : im->base + im->size - k;
            memcpy(at, &v, 8);
            break;
        }
        case 4:
            at[rd(&p, end, 1) & 7] = (unsigned char)rd(&p, end, 1);
            break;
        case 5: {
            size_t n = (size_t)(end - p);
            if (n > im->size - off) n = im->size - off;
            memcpy(at, p, n);
            p = end;
            break;
        }
        case 6:
            v = im->base + (rd(&p, end, 2) % span) * 8;
            memcpy(at, &v, 8);
            break;
        case 7: {
            uint64_t k = rd(&p, end, 1), d = rd(&p, end, 1);
            v = t->objs[k % t->nobjs] + (d >= 0x80 ? (d & 7) * 8 : 0);
            memcpy(at, &v, 8);
            break;
        }
        }
    }
    pk_mem_invalidate(im->mem);
}

static long image_source(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct img *im = ctx;
    if (addr < im->base || addr >= im->base + im->size) return 0;
    size_t off = (size_t)(addr - im->base);
    size_t n = im->size - off < len ? im->size - off : len;
    memcpy(buf, im->buf + off, n);
    return (long)n;
}

void fuzz_template_keep(struct fuzz_template *t, struct img *im)
{
    t->size = im->size;
    t->used = im->used;
    if (!(t->buf = malloc(t->size))) abort();
    memcpy(t->buf, im->buf, t->size);
    img_free(im);
}

struct img *fuzz_image_patched(const struct fuzz_template *t, const uint8_t *data, size_t size)
{
    struct img *im = img_new(t->size);
    pk_mem_free(im->mem);
    if (!(im->mem = pk_mem_new(image_source, im, NULL, &im->maps, 2 * t->size))) abort();
    memcpy(im->buf, t->buf, t->size);
    im->used = t->used;
    fuzz_apply_patches(im, t, data, size);
    return im;
}
