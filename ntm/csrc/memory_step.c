/* The fused NTM memory step in C, for float and double: see memory_step.h.
 * Built at first use by ntm/native.py (cc -O3 -shared -fPIC); nothing else links it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__GNUC__) || defined(__clang__)
#define INLINE __attribute__((always_inline)) inline
#else
#define INLINE inline
#endif

/* fn(..., M) with the memory width M a constant for the usual widths (copy's 20, the live page's
 * 8, ...): the compiler then unrolls and vectorises the loops over a row's M numbers (the whole
 * step, forward and backward, took 0.86x the time at M = 20, B = 32); other widths take the
 * general code. The passes are inlined into each case. */
#define FIXED_WIDTH(fn, M, ...) do { switch (M) {                                    \
    case 8: fn(__VA_ARGS__, 8); break;   case 16: fn(__VA_ARGS__, 16); break;         \
    case 20: fn(__VA_ARGS__, 20); break; case 32: fn(__VA_ARGS__, 32); break;         \
    default: fn(__VA_ARGS__, M); } } while (0)

#define real float
#define FN(name) name##_f32
#include "memory_step.h"
#undef real
#undef FN

#define real double
#define FN(name) name##_f64
#include "memory_step.h"
#undef real
#undef FN
