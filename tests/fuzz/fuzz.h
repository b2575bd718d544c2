/*
 * fuzz: what the libFuzzer targets of tests/fuzz/ share. CHECK aborts, so that a
 * broken invariant is a crash libFuzzer reports with its input.
 */
#ifndef CF_FUZZ_H
#define CF_FUZZ_H

#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#endif
