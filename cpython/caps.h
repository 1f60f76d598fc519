/* Caps on counts and lengths read from target memory: beyond them a value is corruption. */
#ifndef PK_CAPS_H
#define PK_CAPS_H

#include <stdint.h>

/* Items, slots, characters or references of one object: 2^40 is more than any heap holds
   (a list that long would take 8 TiB of pointers). */
#define PK_MAX_COUNT (INT64_C(1) << 40)

#endif
