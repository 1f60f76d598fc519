/* Growing an array by doubling, with the size overflow checked. */
#ifndef PK_GROW_H
#define PK_GROW_H

#include <stddef.h>

/* Makes *v (of *cap elements of size bytes) hold at least need elements, doubling from 64.
   0, or -1 out of memory or when the bytes would overflow (*v and *cap then unchanged). */
int pk_grow(void **v, size_t *cap, size_t need, size_t size);

#endif
