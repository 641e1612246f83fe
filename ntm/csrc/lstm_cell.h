/* nn.LSTMCell's arithmetic after its matrix products, and its backward pass (ntm/sequence.py
 * runs the whole NTM sequence with it). Included twice by memory_step.c, like memory_step.h.
 * gates (B, 4H) are the pre-activations in torch's order i, f, g, o; acts has the same layout
 * after the activations (sigmoid for i, f, o; tanh for g):
 *   c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)
 * h_t is written with a row stride (it goes straight into the next step's input row). */

int FN(lstm_forward)(int64_t B, int64_t H, const real *gates, const real *c_prev,
                     real *restrict acts, real *restrict c, real *restrict tanh_c,
                     real *restrict h, int64_t h_stride)
{
    for (int64_t b = 0; b < B; b++) {
        const real *x = gates + b * 4 * H, *cp = c_prev + b * H;
        real *a = acts + b * 4 * H, *cb = c + b * H, *tb = tanh_c + b * H, *hb = h + b * h_stride;
        LSTM_SIGMOID_ROW(x, a, 2 * H);  /* i, f */
        LSTM_TANH_ROW(x + 2 * H, a + 2 * H, H);  /* g */
        LSTM_SIGMOID_ROW(x + 3 * H, a + 3 * H, H);  /* o */
        for (int64_t j = 0; j < H; j++) cb[j] = a[H + j] * cp[j] + a[j] * a[2 * H + j];
        LSTM_TANH_ROW(cb, tb, H);
        for (int64_t j = 0; j < H; j++) hb[j] = a[3 * H + j] * tb[j];
    }
    return 0;
}

/* dL/dgates into d_gates and dL/dc_{t-1} into d_c_prev, given dL/dh_t (d_h) and dL/dc_t from
 * later steps (d_c, without h_t's share). */
int FN(lstm_backward)(int64_t B, int64_t H, const real *d_h, const real *d_c, const real *c_prev,
                      const real *acts, const real *tanh_c, real *restrict d_gates,
                      real *restrict d_c_prev)
{
    for (int64_t b = 0; b < B; b++) {
        const real *i = acts + b * 4 * H, *f = i + H, *g = i + 2 * H, *o = i + 3 * H;
        const real *t = tanh_c + b * H, *cp = c_prev + b * H, *dh = d_h + b * H;
        const real *dcn = d_c + b * H;
        real *di = d_gates + b * 4 * H, *df = di + H, *dg = di + 2 * H, *d_o = di + 3 * H;
        real *dc = d_c_prev + b * H;  /* first dL/dc_t, then dL/dc_{t-1} */
        for (int64_t j = 0; j < H; j++) dc[j] = dcn[j] + dh[j] * o[j] * (1 - t[j] * t[j]);
        for (int64_t j = 0; j < H; j++) di[j] = dc[j] * g[j] * (i[j] * (1 - i[j]));
        for (int64_t j = 0; j < H; j++) df[j] = dc[j] * cp[j] * (f[j] * (1 - f[j]));
        for (int64_t j = 0; j < H; j++) dg[j] = dc[j] * i[j] * (1 - g[j] * g[j]);
        for (int64_t j = 0; j < H; j++) d_o[j] = dh[j] * t[j] * (o[j] * (1 - o[j]));
        for (int64_t j = 0; j < H; j++) dc[j] *= f[j];
    }
    return 0;
}
