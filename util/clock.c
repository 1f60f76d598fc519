/* The one monotonic clock pypeek measures pauses, deadlines and intervals with. */
#include "util/clock.h"

#include <time.h>

uint64_t pk_monotonic_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}
