/* The one monotonic clock pypeek measures pauses, deadlines and intervals with. */
#ifndef PK_CLOCK_H
#define PK_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds. */
uint64_t pk_monotonic_us(void);

#endif
