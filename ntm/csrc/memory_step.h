/* One NTM memory step for every head -- addressing (eqs. 5-9), the read (eq. 2) and the
 * erase/add write (eqs. 3-4) -- and its backward pass, as plain loops over one sequence at a
 * time. Included twice by memory_step.c: once with `real` = float, once with double (FN names
 * the two versions). Memory-sized loops (over N x M) run in `real`, as the tensor version's
 * products do, so they vectorise; the per-row arithmetic (cosines, softmaxes, logs) in double.
 *
 * The same arithmetic as ntm/fused.py (the tensor-operation version, whose backward helpers
 * name the same steps) and ntm/addressing.py (the readable reference):
 *   eq 6  K(i) = k . M(i) / (|k| |M(i)|), |x| = sqrt(|x|^2 + eps^2)
 *   eq 5  w^c = softmax(beta K)
 *   eq 7  w^g = g w^c + (1 - g) w_{t-1}
 *   eq 8  w~(i) = sum_d s(d) w^g(i - d mod N), d = -R .. R
 *   eq 9  w = softmax(gamma log max(w~, floor))
 *   eq 2  r = sum_i w(i) M(i)
 *   eq 3-4 M_t(i) = M(i) * prod_h (1 - w_h(i) e_h) + sum_h w_h(i) a_h
 * The head activations (the table in ntm/heads.py) are done here too: k tanh, beta softplus,
 * g sigmoid, s softmax, gamma 1 + softplus, e sigmoid, a tanh.
 *
 * Layouts are C-contiguous: memory (B, N, M); weightings (B, H, N), read heads first; raw
 * (B, P), the heads' linear outputs as in ntm/fused.py: per head k (M), beta, g, s (S = 2R + 1),
 * gamma, then per write head e (M), a (M); acts and d_raw have raw's layout.
 */

struct FN(step) {  /* mirrored by ntm.native.Step */
    int64_t B, N, M, H, Hr, S, P;
    double eps, log_floor;
    const real *raw, *memory, *previous;  /* inputs */
    real *reads, *new_memory, *w;  /* outputs */
    real *acts, *content, *gated, *cosine, *log_w, *slope, *norm_m, *norm_k;  /* kept */
    const real *d_reads, *d_new, *d_w;  /* backward: dL/d(outputs) */
    real *d_raw, *d_memory, *d_previous;  /* backward: dL/d(inputs) */
};

/* Where head h's k, beta, g, s, gamma start in raw, acts or d_raw, for sequence b. */
static int64_t FN(head)(const struct FN(step) *s, int64_t b, int64_t h)
{
    return b * s->P + h * (s->M + s->S + 3);
}

/* Where write head h's e, then a (M each), start. */
static int64_t FN(write_head)(const struct FN(step) *s, int64_t b, int64_t h)
{
    return FN(head)(s, b, s->H) + h * 2 * s->M;
}

static double FN(sigmoid)(double x) { return 1 / (1 + exp(-x)); }

/* torch's softplus (beta 1, threshold 20) and its derivative. */
static double FN(softplus)(double x) { return x > 20 ? x : log1p(exp(x)); }
static double FN(softplus_slope)(double x) { return x > 20 ? 1 : 1 - 1 / (1 + exp(x)); }

/* softmax of z (n entries, overwritten) into out, max-subtracted as torch.softmax. */
static void FN(softmax)(double *z, real *out, int64_t n)
{
    double top = z[0], total = 0;
    #pragma omp simd reduction(max:top)
    for (int64_t i = 1; i < n; i++) top = z[i] > top ? z[i] : top;
    EXP_ROW(z, top, n);
    #pragma omp simd reduction(+:total)
    for (int64_t i = 0; i < n; i++) total += z[i];
    total = 1 / total;
    #pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = (real)(z[i] * total);
}

/* d softmax: grad_in = out * (grad - sum(grad * out)), as torch's _softmax_backward_data. */
static void FN(softmax_grad)(const double *grad, const real *out, double *result, int64_t n)
{
    double dot = 0;
    #pragma omp simd reduction(+:dot)
    for (int64_t i = 0; i < n; i++) dot += grad[i] * out[i];
    #pragma omp simd
    for (int64_t i = 0; i < n; i++) result[i] = out[i] * (grad[i] - dot);
}

/* x[(t - R) mod N] for t = 0 .. N + 2R - 1 into ext: eq. 8's circular shifts as plain offsets
 * (x(i - d) = ext[i - d + R]), so the loops over i have no wrap-around (R <= (N - 1) / 2). */
static void FN(extend)(const double *x, double *ext, int64_t n, int64_t radius)
{
    for (int64_t t = 0; t < radius; t++) ext[t] = x[n - radius + t];
    for (int64_t i = 0; i < n; i++) ext[radius + i] = x[i];
    for (int64_t t = 0; t < radius; t++) ext[radius + n + t] = x[t];
}

/* Scratch space: n doubles, or n reals, from a cursor. */
static double *FN(take)(double **cursor, int64_t n)
{
    double *start = *cursor;
    *cursor += n;
    return start;
}

static real *FN(take_real)(real **cursor, int64_t n)
{
    real *start = *cursor;
    *cursor += n;
    return start;
}

/* The head activations of sequence b: acts = f(raw), per entry as in ntm/heads.py. */
static void FN(activate)(const struct FN(step) *s, int64_t b, double *z)
{
    int64_t M = s->M, S = s->S;
    for (int64_t h = 0; h < s->H; h++) {
        const real *x = s->raw + FN(head)(s, b, h);
        real *y = s->acts + FN(head)(s, b, h);
        TANH_ROW(x, y, M);  /* k */
        y[M] = (real)FN(softplus)(x[M]);  /* beta */
        y[M + 1] = (real)FN(sigmoid)(x[M + 1]);  /* g */
        for (int64_t j = 0; j < S; j++) z[j] = x[M + 2 + j];
        FN(softmax)(z, y + M + 2, S);  /* s */
        y[M + 2 + S] = (real)(1 + FN(softplus)(x[M + 2 + S]));  /* gamma */
    }
    for (int64_t h = 0; h < s->H - s->Hr; h++) {
        const real *x = s->raw + FN(write_head)(s, b, h);
        real *y = s->acts + FN(write_head)(s, b, h);
        SIGMOID_ROW(x, y, M);  /* e */
        TANH_ROW(x + M, y + M, M);  /* a */
    }
}

/* dL/d(activated) in d_raw -> dL/draw, in place, for sequence b (z: S scratch). */
static void FN(activate_backward)(const struct FN(step) *s, int64_t b, double *z)
{
    int64_t M = s->M, S = s->S;
    for (int64_t h = 0; h < s->H; h++) {
        const real *x = s->raw + FN(head)(s, b, h), *y = s->acts + FN(head)(s, b, h);
        real *d = s->d_raw + FN(head)(s, b, h);
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) d[m] *= 1 - y[m] * y[m];  /* tanh */
        d[M] = (real)(d[M] * FN(softplus_slope)(x[M]));
        d[M + 1] *= y[M + 1] * (1 - y[M + 1]);  /* sigmoid */
        for (int64_t j = 0; j < S; j++) z[j] = d[M + 2 + j];
        FN(softmax_grad)(z, y + M + 2, z + S, S);
        for (int64_t j = 0; j < S; j++) d[M + 2 + j] = (real)z[S + j];
        d[M + 2 + S] = (real)(d[M + 2 + S] * FN(softplus_slope)(x[M + 2 + S]));
    }
    for (int64_t h = 0; h < s->H - s->Hr; h++) {
        const real *y = s->acts + FN(write_head)(s, b, h);
        real *d = s->d_raw + FN(write_head)(s, b, h);
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) {
            d[m] *= y[m] * (1 - y[m]);  /* sigmoid */
            d[M + m] *= 1 - y[M + m] * y[M + m];  /* tanh */
        }
    }
}

/* Eqs. 6 -> 5 -> 7 -> 8 -> 9 for one head of one sequence, from its dot products k . M(i)
 * (dot: N) and the row norms. Scratch: z, g N; gx N + 2R. */
static void FN(address)(const struct FN(step) *s, int64_t b, int64_t h, const double *dot,
                        double *z, double *g, double *gx)
{
    int64_t N = s->N, M = s->M, S = s->S, R = S / 2, bh = b * s->H + h;
    const real *prev = s->previous + bh * N, *norm_m = s->norm_m + b * N;
    const real *k = s->acts + FN(head)(s, b, h), *kernel = k + M + 2;
    real *cosine = s->cosine + bh * N, *content = s->content + bh * N, *gated = s->gated + bh * N;
    real *log_w = s->log_w + bh * N, *slope = s->slope + bh * N, *w = s->w + bh * N;
    double beta = k[M], gate = k[M + 1], gamma = k[M + 2 + S], kk = 0;
    for (int64_t m = 0; m < M; m++) kk += (double)k[m] * k[m];
    double norm_k = sqrt(kk + s->eps * s->eps);
    s->norm_k[bh] = (real)norm_k;
    #pragma omp simd
    for (int64_t i = 0; i < N; i++) {  /* eq 6 */
        double cos_i = (real)dot[i] / ((double)norm_m[i] * norm_k);
        cosine[i] = (real)cos_i;
        z[i] = beta * cos_i;
    }
    FN(softmax)(z, content, N);  /* eq 5 */
    for (int64_t i = 0; i < N; i++)  /* eq 7 (from the rounded w^c, as backward sees it) */
        gated[i] = (real)(g[i] = gate * content[i] + (1 - gate) * prev[i]);
    FN(extend)(g, gx, N, R);
    for (int64_t i = 0; i < N; i++) z[i] = 0;
    for (int64_t d = -R; d <= R; d++) {  /* eq 8 */
        double s_d = kernel[d + R];
        for (int64_t i = 0; i < N; i++) z[i] += s_d * gx[i - d + R];
    }
    double log_floor = s->log_floor;
    #pragma omp simd
    for (int64_t i = 0; i < N; i++) {  /* eq 9: the floored w~, the log's slope */
        double floored = z[i] > log_floor ? z[i] : log_floor;
        slope[i] = z[i] >= log_floor ? (real)gamma / (real)floored : 0;  /* in real: faster */
        z[i] = floored;
    }
    LOG_ROW(z, N);
    #pragma omp simd
    for (int64_t i = 0; i < N; i++) {
        log_w[i] = (real)z[i];
        z[i] *= gamma;
    }
    FN(softmax)(z, w, N);  /* eq 9 */
}

/* One pass over the memory of sequence b: the row norms and every head's k . M(i) (eq 6). */
static INLINE void FN(norms_and_dots)(const struct FN(step) *s, int64_t b, double *dots,
                                      const int64_t M)
{
    int64_t N = s->N;
    for (int64_t i = 0; i < N; i++) {
        const real *row = s->memory + (b * N + i) * M;
        real sq = 0;
        #pragma omp simd reduction(+:sq)
        for (int64_t m = 0; m < M; m++) sq += row[m] * row[m];
        s->norm_m[b * N + i] = (real)sqrt(sq + s->eps * s->eps);
        for (int64_t h = 0; h < s->H; h++) {
            const real *k = s->acts + FN(head)(s, b, h);
            real dot = 0;
            #pragma omp simd reduction(+:dot)
            for (int64_t m = 0; m < M; m++) dot += k[m] * row[m];
            dots[h * N + i] = dot;
        }
    }
}

/* One pass over the memory of sequence b: eq. 2 for the read heads (acc: Hr M scratch) and
 * eqs. 3-4 for the write heads (keep, added: M scratch each). */
static INLINE void FN(read_write)(const struct FN(step) *s, int64_t b, real *acc, real *keep,
                                  real *added, const int64_t M)
{
    int64_t N = s->N, H = s->H, Hr = s->Hr, Hw = H - Hr;
    const real *w = s->w + b * H * N;
    const real *erase = s->acts + FN(write_head)(s, b, 0), *add = erase + M;  /* stride 2M */
    for (int64_t j = 0; j < Hr * M; j++) acc[j] = 0;
    for (int64_t i = 0; i < N; i++) {
        const real *row = s->memory + (b * N + i) * M;
        real *out = s->new_memory + (b * N + i) * M;
        for (int64_t h = 0; h < Hr; h++) {
            real w_i = w[h * N + i];
            #pragma omp simd
            for (int64_t m = 0; m < M; m++) acc[h * M + m] += w_i * row[m];
        }
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) keep[m] = 1, added[m] = 0;
        for (int64_t h = 0; h < Hw; h++) {
            real w_i = w[(Hr + h) * N + i];
            #pragma omp simd
            for (int64_t m = 0; m < M; m++) {
                keep[m] *= 1 - w_i * erase[h * 2 * M + m];
                added[m] += w_i * add[h * 2 * M + m];
            }
        }
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) out[m] = row[m] * keep[m] + added[m];
    }
    for (int64_t j = 0; j < Hr * M; j++) s->reads[b * Hr * M + j] = acc[j];
}

/* norms_and_dots with narrow vectors: see read_write_backward_narrow (0.9x the forward's
 * time at B = 32; the reads and the write measured faster with the wide ones). */
static NARROW_VECTORS void FN(norms_and_dots_narrow)(const struct FN(step) *s, int64_t b,
                                                    double *dots)
{
    FIXED_WIDTH(FN(norms_and_dots), s->M, s, b, dots);
}

int FN(ntm_forward)(struct FN(step) *s)
{
    int64_t N = s->N, M = s->M, H = s->H, R = s->S / 2;
    double *scratch = malloc(sizeof(double) * (H * N + 3 * N + 2 * R)), *cursor = scratch;
    real *rows = malloc(sizeof(real) * (s->Hr + 2) * M), *row_cursor = rows;
    if (!scratch || !rows) return free(scratch), free(rows), 1;
    double *dots = FN(take)(&cursor, H * N), *z = FN(take)(&cursor, N), *g = FN(take)(&cursor, N);
    double *gx = FN(take)(&cursor, N + 2 * R);
    real *acc = FN(take_real)(&row_cursor, s->Hr * M), *keep = FN(take_real)(&row_cursor, M);
    real *added = FN(take_real)(&row_cursor, M);
    for (int64_t b = 0; b < s->B; b++) {
        FN(activate)(s, b, z);
        FN(norms_and_dots_narrow)(s, b, dots);
        for (int64_t h = 0; h < H; h++) FN(address)(s, b, h, dots + h * N, z, g, gx);
        FIXED_WIDTH(FN(read_write), M, s, b, acc, keep, added);
    }
    free(scratch);
    free(rows);
    return 0;
}

/* ------------------------------------------------------------------ backward */

/* One pass over the memory of sequence b: eqs. 3-4 and 2 backward. Sets d_memory to dL/dM
 * through the write's keep factor and the reads, sets dL/d(e, a), adds the reads' and the
 * writes' dL/dw to dw. Scratch: ea 2 Hw M, factor Hw M, keep and others M each. */
static INLINE void FN(read_write_backward)(const struct FN(step) *s, int64_t b, double *dw,
                                           real *ea, real *factor, real *keep, real *others,
                                           const int64_t M)
{
    int64_t N = s->N, H = s->H, Hr = s->Hr, Hw = H - Hr;
    const real *w = s->w + b * H * N, *d_reads = s->d_reads + b * Hr * M;
    const real *erase = s->acts + FN(write_head)(s, b, 0), *add = erase + M;  /* stride 2M */
    real *d_erase = ea, *d_add = ea + Hw * M;
    for (int64_t j = 0; j < 2 * Hw * M; j++) ea[j] = 0;
    for (int64_t i = 0; i < N; i++) {
        const real *x = s->memory + (b * N + i) * M, *grad = s->d_new + (b * N + i) * M;
        real *dm = s->d_memory + (b * N + i) * M;
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) keep[m] = 1;
        for (int64_t h = 0; h < Hw; h++) {
            real w_i = w[(Hr + h) * N + i];
            #pragma omp simd
            for (int64_t m = 0; m < M; m++)
                keep[m] *= factor[h * M + m] = 1 - w_i * erase[h * 2 * M + m];
        }
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) dm[m] = grad[m] * keep[m];
        for (int64_t h = 0; h < Hr; h++) {  /* eq 2 */
            real w_i = w[h * N + i], t = 0;
            #pragma omp simd reduction(+:t)
            for (int64_t m = 0; m < M; m++) {
                t += d_reads[h * M + m] * x[m];
                dm[m] += w_i * d_reads[h * M + m];
            }
            dw[h * N + i] += t;
        }
        for (int64_t h = 0; h < Hw; h++) {  /* eqs 3-4: d keep / d factor_h = the others */
            real w_i = w[(Hr + h) * N + i], t = 0;
            #pragma omp simd
            for (int64_t m = 0; m < M; m++) others[m] = grad[m] * x[m];
            for (int64_t o = 0; o < Hw; o++) {
                if (o == h) continue;
                #pragma omp simd
                for (int64_t m = 0; m < M; m++) others[m] *= factor[o * M + m];
            }
            #pragma omp simd reduction(+:t)
            for (int64_t m = 0; m < M; m++) {  /* others: now dL/dfactor_h */
                t += add[h * 2 * M + m] * grad[m] - others[m] * erase[h * 2 * M + m];
                d_erase[h * M + m] -= w_i * others[m];
                d_add[h * M + m] += w_i * grad[m];
            }
            dw[(Hr + h) * N + i] += t;
        }
    }
    real *d_acts = s->d_raw + FN(write_head)(s, b, 0);  /* dL/d(e, a), activated */
    for (int64_t h = 0; h < Hw; h++)
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) {
            d_acts[h * 2 * M + m] = d_erase[h * M + m];
            d_acts[h * 2 * M + M + m] = d_add[h * M + m];
        }
}

/* read_write_backward with narrow vectors (NARROW_VECTORS, in memory_step.c): its loops over a
 * row then take M = 20 numbers as five vectors of 4 floats, where AVX2's vectors of 8 left a
 * scalar remainder of 4 in every loop (0.8x the backward's time at B = 32). The loops over
 * rows, and the passes that measured faster so, keep the wide vectors. */
static NARROW_VECTORS void FN(read_write_backward_narrow)(const struct FN(step) *s, int64_t b,
                                                        double *dw, real *ea, real *factor,
                                                        real *keep, real *others)
{
    FIXED_WIDTH(FN(read_write_backward), s->M, s, b, dw, ea, factor, keep, others);
}

/* Eqs. 9 -> 8 -> 7 -> 5 -> 6 backward for one head given dL/dw (dw): sets dL/d(beta, g, s,
 * gamma), d_dot (dL/d(k . M(i)), N) and *d_norm_k; adds dL/d|M(i)| to d_norm_m.
 * Scratch: v, u N; gx, vx N + 2R. */
static void FN(address_backward)(const struct FN(step) *s, int64_t b, int64_t h, const double *dw,
                                 double *d_dot, double *d_norm_m, double *d_norm_k, double *v,
                                 double *u, double *gx, double *vx)
{
    int64_t N = s->N, M = s->M, S = s->S, R = S / 2, bh = b * s->H + h;
    const real *k = s->acts + FN(head)(s, b, h), *kernel = k + M + 2;
    real *d_k = s->d_raw + FN(head)(s, b, h);  /* dL/d(k, beta, g, s, gamma), activated */
    const real *w = s->w + bh * N, *content = s->content + bh * N, *gated = s->gated + bh * N;
    const real *prev = s->previous + bh * N, *cosine = s->cosine + bh * N;
    const real *log_w = s->log_w + bh * N, *slope = s->slope + bh * N, *norm_m = s->norm_m + b * N;
    double beta = k[M], gate = k[M + 1], norm_k = s->norm_k[bh];
    double d_gamma = 0, d_gate = 0, d_beta = 0;
    FN(softmax_grad)(dw, w, v, N);  /* eq 9: v = dL/dz, z = gamma log w~ */
    #pragma omp simd reduction(+:d_gamma)
    for (int64_t i = 0; i < N; i++) {
        d_gamma += v[i] * log_w[i];
        v[i] *= slope[i];  /* now dL/dw~ */
        u[i] = gated[i];
    }
    FN(extend)(u, gx, N, R);
    FN(extend)(v, vx, N, R);
    for (int64_t d = -R; d <= R; d++) {  /* eq 8: dL/ds(d) = sum_i dL/dw~(i) w^g(i - d) */
        double ds = 0;
        #pragma omp simd reduction(+:ds)
        for (int64_t i = 0; i < N; i++) ds += v[i] * gx[i - d + R];
        d_k[M + 2 + d + R] = (real)ds;
    }
    for (int64_t j = 0; j < N; j++) u[j] = 0;
    for (int64_t d = -R; d <= R; d++) {  /* eq 8: dL/dw^g(j) = sum_d s(d) dL/dw~(j + d) */
        double s_d = kernel[d + R];
        for (int64_t j = 0; j < N; j++) u[j] += s_d * vx[j + d + R];
    }
    #pragma omp simd reduction(+:d_gate)
    for (int64_t j = 0; j < N; j++) {  /* eq 7 */
        d_gate += u[j] * ((double)content[j] - prev[j]);
        s->d_previous[bh * N + j] = (real)((1 - gate) * u[j]);
        u[j] *= gate;
    }
    FN(softmax_grad)(u, content, v, N);  /* eq 5: v = dL/d(beta K) */
    double dnk = 0;
    #pragma omp simd reduction(+:d_beta, dnk)
    for (int64_t i = 0; i < N; i++) {  /* eq 6 */
        double d_cos = beta * v[i], denom = (double)norm_m[i] * norm_k;
        d_beta += v[i] * cosine[i];
        double d_denom = -d_cos * cosine[i] / denom;
        d_dot[i] = d_cos / denom;
        d_norm_m[i] += d_denom * norm_k;
        dnk += d_denom * norm_m[i];
    }
    *d_norm_k = dnk;
    d_k[M] = (real)d_beta;
    d_k[M + 1] = (real)d_gate;
    d_k[M + 2 + S] = (real)d_gamma;
}

/* One pass over the memory of sequence b: eq. 6 backward into d_memory (the keys' terms and
 * the row norms', d|M(i)| / dM(i) = M(i) / |M(i)|) and the keys' dL/dk. Scratch: acc H M. */
static INLINE void FN(dots_backward)(const struct FN(step) *s, int64_t b, const double *d_dot,
                                     const double *d_norm_m, const double *d_norm_k, real *acc,
                                     const int64_t M)
{
    int64_t N = s->N, H = s->H;
    for (int64_t j = 0; j < H * M; j++) acc[j] = 0;
    for (int64_t i = 0; i < N; i++) {
        const real *row = s->memory + (b * N + i) * M;
        real *dm = s->d_memory + (b * N + i) * M;
        real scale = (real)(d_norm_m[i] / s->norm_m[b * N + i]);
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) dm[m] += row[m] * scale;
        for (int64_t h = 0; h < H; h++) {
            const real *k = s->acts + FN(head)(s, b, h);
            real dd = (real)d_dot[h * N + i];
            #pragma omp simd
            for (int64_t m = 0; m < M; m++) {
                dm[m] += dd * k[m];
                acc[h * M + m] += dd * row[m];
            }
        }
    }
    for (int64_t h = 0; h < H; h++) {
        const real *k = s->acts + FN(head)(s, b, h);
        real *d_k = s->d_raw + FN(head)(s, b, h);
        double k_scale = d_norm_k[h] / s->norm_k[b * H + h];
        #pragma omp simd
        for (int64_t m = 0; m < M; m++) d_k[m] = (real)(acc[h * M + m] + k[m] * k_scale);
    }
}

int FN(ntm_backward)(struct FN(step) *s)
{
    int64_t N = s->N, M = s->M, H = s->H, Hw = s->H - s->Hr, R = s->S / 2;
    double *scratch = malloc(sizeof(double) * (2 * H * N + H + 3 * N + 4 * R + 2 * N));
    real *rows = malloc(sizeof(real) * (3 * Hw * M + H * M + 2 * M));
    if (!scratch || !rows) return free(scratch), free(rows), 1;
    double *cursor = scratch, *dw = FN(take)(&cursor, H * N), *d_dot = FN(take)(&cursor, H * N);
    double *d_norm_k = FN(take)(&cursor, H), *d_norm_m = FN(take)(&cursor, N);
    double *v = FN(take)(&cursor, N), *u = FN(take)(&cursor, N);
    double *gx = FN(take)(&cursor, N + 2 * R), *vx = FN(take)(&cursor, N + 2 * R);
    real *row_cursor = rows, *ea = FN(take_real)(&row_cursor, 2 * Hw * M);
    real *factor = FN(take_real)(&row_cursor, Hw * M), *acc = FN(take_real)(&row_cursor, H * M);
    real *keep = FN(take_real)(&row_cursor, M), *others = FN(take_real)(&row_cursor, M);
    for (int64_t b = 0; b < s->B; b++) {
        for (int64_t j = 0; j < H * N; j++) dw[j] = s->d_w[b * H * N + j];
        FN(read_write_backward_narrow)(s, b, dw, ea, factor, keep, others);
        for (int64_t i = 0; i < N; i++) d_norm_m[i] = 0;
        for (int64_t h = 0; h < H; h++)
            FN(address_backward)(s, b, h, dw + h * N, d_dot + h * N, d_norm_m, d_norm_k + h, v,
                                 u, gx, vx);
        FIXED_WIDTH(FN(dots_backward), M, s, b, d_dot, d_norm_m, d_norm_k, acc);
        FN(activate_backward)(s, b, v);  /* v, u: 2N >= 2S doubles */
    }
    free(scratch);
    free(rows);
    return 0;
}
