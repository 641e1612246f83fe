/* The fused NTM memory step in C, for float and double: see memory_step.h.
 * Built at first use by ntm/native.py (cc -O3 -shared -fPIC); nothing else links it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

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
