/* Growing an array by doubling. */
#include "util/grow.h"

#include <stdint.h>
#include <stdlib.h>

int pk_grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return -1;
        nc *= 2;
    }
    if (size && nc > SIZE_MAX / size) return -1;
    void *p = realloc(*v, nc * size);
    if (!p) return -1;
    *v = p;
    *cap = nc;
    return 0;
}
