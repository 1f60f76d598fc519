/* Stand-in for Criterion's assertions so tests/support_*.c build into the libFuzzer harnesses:
   a failed set-up assertion is a harness bug, so it aborts (and libFuzzer reports it). */
#ifndef PK_FUZZ_CRITERION_SHIM_H
#define PK_FUZZ_CRITERION_SHIM_H

#include <stdio.h>
#include <stdlib.h>

#define PK_SHIM_FAIL(what)                                                                         \
    do {                                                                                           \
        fprintf(stderr, "fuzz harness set-up failed at %s:%d: %s\n", __FILE__, __LINE__, what);   \
        abort();                                                                                   \
    } while (0)
#define cr_assert(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) PK_SHIM_FAIL(#cond);                                                          \
    } while (0)
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b))
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b))

#endif
