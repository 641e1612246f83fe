/* The fused NTM memory step in C, for float and double: see memory_step.h.
 * Built at first use by ntm/native.py (cc -O3 -fno-math-errno -shared -fPIC, and -mavx2 and
 * -mfma -ffp-contract=fast where the CPU has them); nothing else links it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define INLINE __attribute__((always_inline)) inline
#else
#define INLINE inline
#endif

/* A function compiled with 128-bit vectors even where the build allows 256 (GCC only; clang
 * has no such attribute): see read_write_backward_narrow in memory_step.h. */
#if defined(__GNUC__) && !defined(__clang__)
#define NARROW_VECTORS __attribute__((noinline, target("prefer-vector-width=128")))
#else
#define NARROW_VECTORS
#endif

/* fn(..., M) with the memory width M a constant for the usual widths (copy's 20, the live page's
 * 8, ...): the compiler then unrolls and vectorises the loops over a row's M numbers (the whole
 * step, forward and backward, took 0.86x the time at M = 20, B = 32); other widths take the
 * general code. The passes are inlined into each case. */
#define FIXED_WIDTH(fn, M, ...) do { switch (M) {                                    \
    case 8: fn(__VA_ARGS__, 8); break;   case 16: fn(__VA_ARGS__, 16); break;         \
    case 20: fn(__VA_ARGS__, 20); break; case 32: fn(__VA_ARGS__, 32); break;         \
    default: fn(__VA_ARGS__, M); } } while (0)

/* The per-row exp and log (the softmaxes, eq. 9's log) over whole rows, in place. The float
 * version computes them LANES at a time with the compiler's vector extensions (libm's exp and
 * log are one call per number), accurate to about 2e-11 relative: far below the float they are
 * rounded to. With AVX2 that made the forward pass 0.8x as long at copy's sizes. The double
 * version, which the float64 tests hold to 1e-12 against the reference, keeps libm's. */
static void exp_row_libm(double *z, double shift, int64_t n)
{
    for (int64_t i = 0; i < n; i++) z[i] = exp(z[i] - shift);
}

static void log_row_libm(double *z, int64_t n)
{
    for (int64_t i = 0; i < n; i++) z[i] = log(z[i]);
}

/* tanh and sigmoid over a row (the head activations), one libm call per number. */
#define ACTIVATION_ROWS_LIBM(real, suffix)                                                 \
    static void tanh_row_libm_##suffix(const real *x, real *y, int64_t n)                  \
    { for (int64_t i = 0; i < n; i++) y[i] = (real)tanh(x[i]); }                           \
    static void sigmoid_row_libm_##suffix(const real *x, real *y, int64_t n)               \
    { for (int64_t i = 0; i < n; i++) y[i] = (real)(1 / (1 + exp(-(double)x[i]))); }
ACTIVATION_ROWS_LIBM(double, f64)

#if defined(__GNUC__) || defined(__clang__)
#ifdef __AVX__
#define LANES 4
#else
#define LANES 2
#endif
typedef double vec __attribute__((vector_size(8 * LANES)));
typedef uint64_t vec_bits __attribute__((vector_size(8 * LANES)));
typedef float vec_float __attribute__((vector_size(4 * LANES)));
#define SHIFTER 6755399441055744.0  /* 1.5 * 2^52: x + SHIFTER - SHIFTER rounds x */
#define EXP_LIMIT -708.0  /* exp(x) for x below it (under 1e-307) is taken as 0 */

/* 2^n for n = round(y / ln 2), and r = y - n ln 2 (|r| <= ln 2 / 2; ln 2 in two parts, as Cody
 * and Waite): the range reduction of exp_vec and expm1_vec. */
static INLINE vec pow2_near(vec y, vec *r)
{
    vec shifted = y * 1.4426950408889634 + SHIFTER, n = shifted - SHIFTER;
    *r = (y - n * 0.693147180369123816490) - n * 1.90821492927058770002e-10;
    return (vec)(((vec_bits)shifted - (vec_bits)((vec){0} + SHIFTER) + 1023) << 52);
}

/* exp(r) - 1 by its Taylor series to r^9 (remainder under 2e-11 for |r| <= ln 2 / 2), summed by
 * Estrin's scheme: a shorter chain of dependent operations than Horner's. */
static INLINE vec expm1_series(vec r)
{
    vec r2 = r * r, r4 = r2 * r2;
    vec p01 = 1 + r * 0.5, p23 = 1.0 / 6 + r * (1.0 / 24), p45 = 1.0 / 120 + r * (1.0 / 720);
    vec p67 = 1.0 / 5040 + r * (1.0 / 40320), p8 = (vec){0} + 1.0 / 362880;
    return r * ((p01 + r2 * p23) + r4 * ((p45 + r2 * p67) + r4 * p8));
}

/* exp(x) = 2^n exp(r) (pow2_near), 0 below EXP_LIMIT. */
static INLINE vec exp_vec(vec x)
{
    vec_bits low = (vec_bits)(x < EXP_LIMIT), limit = (vec_bits)((vec){0} + EXP_LIMIT);
    vec r, scale = pow2_near((vec)(((vec_bits)x & ~low) | (limit & low)), &r);
    return (vec)((vec_bits)((1 + expm1_series(r)) * scale) & ~low);
}

/* log(x), x > 0 and normal: x = 2^k m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(t),
 * t = (m - 1) / (m + 1) (|t| <= 0.172), by its series to t^13 (remainder under 2e-12). */
static INLINE vec log_vec(vec x)
{
    vec_bits biased = ((vec_bits)x + 0x00095F619980C433ULL) >> 52;  /* k + 1023 */
    vec m = (vec)((vec_bits)x - ((biased - 1023) << 52));
    vec k = (vec)(biased | 0x4330000000000000ULL) - (4503599627370496.0 + 1023);
    vec t = (m - 1) / (m + 1), t2 = t * t, t4 = t2 * t2;
    vec p = (1 + t2 * (1.0 / 3)) + t4 * ((1.0 / 5 + t2 * (1.0 / 7))
                                         + t4 * ((1.0 / 9 + t2 * (1.0 / 11)) + t4 * (1.0 / 13)));
    return k * 0.693147180559945309417 + 2 * t * p;
}

/* z[i] = log(z[i]) if take_log, else exp(z[i] - shift), for i < n: LANES at a time, the last
 * vector padded with numbers both take safely (1 for the log, shift for the exp). */
static INLINE void map_row(double *z, double shift, int64_t n, int take_log)
{
    vec x;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        memcpy(&x, z + i, sizeof x);
        x = take_log ? log_vec(x) : exp_vec(x - shift);
        memcpy(z + i, &x, sizeof x);
    }
    if (i < n) {
        double tail[LANES];
        for (int64_t j = 0; j < LANES; j++) tail[j] = i + j < n ? z[i + j] : take_log ? 1 : shift;
        memcpy(&x, tail, sizeof x);
        x = take_log ? log_vec(x) : exp_vec(x - shift);
        memcpy(tail, &x, sizeof x);
        for (int64_t j = 0; i + j < n; j++) z[i + j] = tail[j];
    }
}

static void exp_row_vec(double *z, double shift, int64_t n) { map_row(z, shift, n, 0); }
static void log_row_vec(double *z, int64_t n) { map_row(z, 0, n, 1); }

/* x clamped to [lo, hi] (NaN stays NaN). */
static INLINE vec clamp_vec(vec x, double lo, double hi)
{
    vec_bits below = (vec_bits)(x < lo), above = (vec_bits)(x > hi);
    vec_bits low = (vec_bits)((vec){0} + lo) & below, high = (vec_bits)((vec){0} + hi) & above;
    return (vec)(((vec_bits)x & ~(below | above)) | low | high);
}

/* expm1(x) = 2^n (exp(r) - 1) + 2^n - 1 (pow2_near), exp(r) - 1 from the series without its
 * leading 1, so that small x keep their relative accuracy; x is clamped to [-708, 709] (-1 and
 * 8e307 beyond: tanh and sigmoid then round to their limits). */
static INLINE vec expm1_vec(vec x)
{
    vec r, scale = pow2_near(clamp_vec(x, -708.0, 709.0), &r);
    return scale * expm1_series(r) + (scale - 1);
}

/* y[i] = tanh(x[i]) = e / (e + 2), e = expm1(2x), or sigmoid(x[i]) = 1 / (2 + expm1(-x)),
 * LANES at a time: the head activations' 4M + 2 per sequence (libm: one call each). */
static INLINE void activation_row(const float *x, float *y, int64_t n, int sigmoid)
{
    for (int64_t i = 0; i < n; i += LANES) {
        float lanes[LANES] = {0};
        vec_float f;
        memcpy(lanes, x + i, sizeof(float) * (i + LANES <= n ? LANES : n - i));
        memcpy(&f, lanes, sizeof f);
        vec v = __builtin_convertvector(f, vec);
        if (sigmoid) {
            v = 1 / (2 + expm1_vec(-v));
        } else {
            v = expm1_vec(2 * v);
            v = v / (v + 2);
        }
        f = __builtin_convertvector(v, vec_float);
        memcpy(lanes, &f, sizeof f);
        memcpy(y + i, lanes, sizeof(float) * (i + LANES <= n ? LANES : n - i));
    }
}

static void tanh_row_vec(const float *x, float *y, int64_t n) { activation_row(x, y, n, 0); }
static void sigmoid_row_vec(const float *x, float *y, int64_t n) { activation_row(x, y, n, 1); }

/* The LSTM cell's sigmoid and tanh (ntm/csrc/lstm_cell.h: some 500 numbers per sequence and
 * step, six times the heads') in float, eight at a time: Cephes' expf (range reduction, then a
 * polynomial; about 1 ulp), sigmoid x = 1 / (1 + exp(-x)), and tanh as Cephes' tanhf: an odd
 * polynomial below |x| = 0.625, where 1 - 2 / (exp(2|x|) + 1) would lose digits, and that
 * formula above. Within 2 ulp of torch's own float32 sigmoid and tanh; 2.5x faster than the
 * double-precision rows above at these sizes. */
typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));

/* where(mask, a, b) lane by lane (C has no ?: on vectors); mask lanes are all ones or zeros */
static INLINE vf8 select8(vi8 mask, vf8 a, vf8 b) { return (vf8)(((vi8)a & mask) | ((vi8)b & ~mask)); }

static INLINE vf8 expf8(vf8 x)
{
    const vf8 limit = (vf8){0} + 88.3762626647949f;
    x = select8(x > limit, limit, x);  /* so that NaN stays NaN */
    x = select8(x < -limit, -limit, x);
    vf8 n = x * 1.44269504088896341f + 12582912.0f;  /* 1.5 * 2^23: rounds to an integer */
    vi8 bits = ((vi8)n - (vi8)((vf8){0} + 12582912.0f) + 127) << 23;
    n -= 12582912.0f;
    vf8 r = x - n * 0.693359375f + n * 2.12194440e-4f, r2 = r * r;
    vf8 p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r
              + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    return (p * r2 + r + 1) * (vf8)bits;
}

static INLINE vf8 sigmoidf8(vf8 x) { return 1 / (1 + expf8(-x)); }

static INLINE vf8 tanhf8(vf8 x)
{
    vf8 z = x * x, a = select8(x < 0, -x, x);
    vf8 small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                  + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    vf8 large = 1 - 2 / (expf8(2 * a) + 1);
    large = select8(x < 0, -large, large);
    return select8(a < 0.625f, small, large);
}

#define ROW8(name, fn)                                                                    \
    static void name(const float *x, float *y, int64_t n)                                 \
    {                                                                                     \
        int64_t i = 0;                                                                    \
        for (; i + 8 <= n; i += 8) {                                                      \
            vf8 v;                                                                        \
            memcpy(&v, x + i, sizeof v);                                                  \
            v = fn(v);                                                                    \
            memcpy(y + i, &v, sizeof v);                                                  \
        }                                                                                 \
        if (i < n) {                                                                      \
            float lanes[8] = {0};                                                         \
            vf8 v;                                                                        \
            memcpy(lanes, x + i, sizeof(float) * (n - i));                                \
            memcpy(&v, lanes, sizeof v);                                                  \
            v = fn(v);                                                                    \
            memcpy(lanes, &v, sizeof v);                                                  \
            memcpy(y + i, lanes, sizeof(float) * (n - i));                                \
        }                                                                                 \
    }
ROW8(sigmoid_row_f8, sigmoidf8)
ROW8(tanh_row_f8, tanhf8)
#else
ACTIVATION_ROWS_LIBM(float, f32)
#define exp_row_vec exp_row_libm
#define log_row_vec log_row_libm
#define tanh_row_vec tanh_row_libm_f32
#define sigmoid_row_vec sigmoid_row_libm_f32
#define tanh_row_f8 tanh_row_libm_f32
#define sigmoid_row_f8 sigmoid_row_libm_f32
#endif

#define real float
#define FN(name) name##_f32
#define EXP_ROW exp_row_vec
#define LOG_ROW log_row_vec
#define TANH_ROW tanh_row_vec
#define SIGMOID_ROW sigmoid_row_vec
#define LSTM_TANH_ROW tanh_row_f8
#define LSTM_SIGMOID_ROW sigmoid_row_f8
#include "memory_step.h"
#include "lstm_cell.h"
#undef real
#undef FN
#undef EXP_ROW
#undef LOG_ROW
#undef TANH_ROW
#undef SIGMOID_ROW
#undef LSTM_TANH_ROW
#undef LSTM_SIGMOID_ROW

#define real double
#define FN(name) name##_f64
#define EXP_ROW exp_row_libm
#define LOG_ROW log_row_libm
#define TANH_ROW tanh_row_libm_f64
#define SIGMOID_ROW sigmoid_row_libm_f64
#define LSTM_TANH_ROW tanh_row_libm_f64
#define LSTM_SIGMOID_ROW sigmoid_row_libm_f64
#include "memory_step.h"
#include "lstm_cell.h"
#undef real
#undef FN
#undef EXP_ROW
#undef LOG_ROW
#undef TANH_ROW
#undef SIGMOID_ROW
#undef LSTM_TANH_ROW
#undef LSTM_SIGMOID_ROW
