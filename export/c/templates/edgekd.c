/* edgekd on-device decision path: causal filters, normalisation and input quantisation,
 * windowing by hop, the INT8 network, softmax and argmax. C99, no malloc, no libc beyond
 * <stdint.h> and <string.h>; every buffer is static and sized at generation time.
 *
 * The arithmetic is the integer reference of edgekd's export/c/reference.py and
 * export/c/prep.py, bit for bit: requantisation y = clamp(rne(acc * M / 2^n) + z) with int64
 * products and rounding to nearest, ties to even. This file is the same for every model; the
 * model lives in edgekd_model.h. */
#include "edgekd.h"

#include <string.h>

#include "edgekd_model.h"

/* Arithmetic (floor) right shifts of negative int64 values: implementation-defined in C99,
 * what GCC, Clang and Arm Compiler do. Refuse to build elsewhere rather than compute wrong. */
typedef char ek_needs_arithmetic_shift[(((int64_t)-3) >> 1) == -2 ? 1 : -1];

#if defined(__GNUC__)
#define EK_INLINE __attribute__((always_inline)) inline
#define EK_NOINLINE __attribute__((noinline))
#else
#define EK_INLINE inline
#define EK_NOINLINE
#endif

/* round(p / 2^n), ties to even, n in 1..62 (cheap when n is a constant) */
static EK_INLINE int64_t ek_rne(int64_t p, int32_t n) {
    const int64_t q = p >> n;
    const int64_t r = p & ((((int64_t)1) << n) - 1);
    const int64_t half = ((int64_t)1) << (n - 1);
    return q + ((r > half || (r == half && (q & 1))) ? 1 : 0);
}

/* The same for n in 32..62 and |p| < 2^62 without a 64-bit variable shift: round half up,
 * (p + 2^(n-1)) >> n, whose ">> n" is the high word >> (n - 32); then at an exact tie (the
 * low n bits of p + 2^(n-1) all zero) take the even neighbour. ek_half(n) = 2^(n-1). */
static EK_INLINE int64_t ek_half(int32_t n) {
    const uint32_t s = (uint32_t)n - 32u;
    return (int64_t)((((uint64_t)((1u << s) >> 1)) << 32) | (s ? 0u : 0x80000000u));
}

static EK_INLINE int32_t ek_rne_hi_r(int64_t p, uint32_t s, int64_t half) {
    const int64_t r = p + half;
    const int32_t hi = (int32_t)(r >> 32);
    const int32_t v = hi >> s;
    const int tie = (uint32_t)r == 0u && ((uint32_t)hi & ((1u << s) - 1u)) == 0u;
    return tie ? (v & ~1) : v;
}

static EK_INLINE int32_t ek_rne_hi(int64_t p, int32_t n) {
    return ek_rne_hi_r(p, (uint32_t)n - 32u, ek_half(n));
}

static EK_INLINE int64_t ek_shift_round(int64_t p, int32_t n) {
    return n >= 32 ? (int64_t)ek_rne_hi(p, n) : ek_rne(p, n);
}

static int32_t ek_clamp(int64_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : (int32_t)v);
}

/* clamp(rne(acc * m / 2^n) + zp, lo, hi); multipliers are normalised to [2^30, 2^31), so
 * n >= 32 for every requantisation ratio below 1/2 (the fast path). */
static EK_INLINE int32_t ek_requant(int32_t acc, int32_t m, int32_t n, int32_t zp, int32_t lo,
                                    int32_t hi) {
    const int64_t p = (int64_t)acc * m;
    /* the slow path's result may exceed int32: clamp it (to a range wider than any output) */
    const int32_t v = (n >= 32 ? ek_rne_hi(p, n) : ek_clamp(ek_rne(p, n), -(1 << 30), 1 << 30)) + zp;
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- network kernels (activations channel-major: x[c * T + t]) ---- */

#if EK_USES_CONV || EK_USES_GEMM
/* Dot products of four weight rows with the column buffer, padded to n4 groups of four.
 * Weights are stored (at generation time) in blocks of four output channels, the rows'
 * groups of four interleaved, each group as [w0 w2 w1 w3]: on a core with the DSP extension
 * (Cortex-M4/M7/M33) SXTB16 unpacks a group into the pairs (w0, w1) and (w2, w3) that SMLAD
 * multiplies with the column's (c0, c1) and (c2, c3), two MACs per instruction, each column
 * word shared by four output channels, as CMSIS-NN does. Elsewhere, plain C computes the same
 * exact int32 sums. */
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EK_MAC4(acc, q, c01, c23)                                                            \
    do {                                                                                     \
        uint32_t lo_, hi_;                                                                   \
        __asm__("sxtb16 %0, %1" : "=r"(lo_) : "r"(q));                                       \
        __asm__("sxtb16 %0, %1, ror #8" : "=r"(hi_) : "r"(q));                               \
        __asm__("smlad %0, %1, %2, %0" : "+r"(acc) : "r"(lo_), "r"(c01));                    \
        __asm__("smlad %0, %1, %2, %0" : "+r"(acc) : "r"(hi_), "r"(c23));                    \
    } while (0)

EK_NOINLINE static void ek_dot4(const int8_t *w, const int16_t *col, uint32_t n4, int32_t *acc) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    while (n4--) {
        uint32_t c01, c23, q;
        memcpy(&c01, col, 4);
        memcpy(&c23, col + 2, 4);
        memcpy(&q, w, 4);
        EK_MAC4(a0, q, c01, c23);
        memcpy(&q, w + 4, 4);
        EK_MAC4(a1, q, c01, c23);
        memcpy(&q, w + 8, 4);
        EK_MAC4(a2, q, c01, c23);
        memcpy(&q, w + 12, 4);
        EK_MAC4(a3, q, c01, c23);
        w += 16;
        col += 4;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#else
EK_NOINLINE static void ek_dot4(const int8_t *w, const int16_t *col, uint32_t n4, int32_t *acc) {
    uint32_t r;
    while (n4--) {
        for (r = 0; r < 4; ++r, w += 4) {
            acc[r] += (int32_t)w[0] * col[0] + (int32_t)w[2] * col[1]
                    + (int32_t)w[1] * col[2] + (int32_t)w[3] * col[3];
        }
        col += 4;
    }
}
#endif

static int16_t ek_col[EK_COL_LEN];  /* one output position's inputs minus the zero point */

/* Output channels co0 .. co0+count-1 at one position from the gathered column, four at a time
 * (w: their weight blocks; a last block's missing rows are zero and not written). */
static void ek_dense_out(const int8_t *w, const int32_t *bias, const int32_t *m,
                         const int8_t *n, uint32_t co0, uint32_t count, uint32_t n4, int32_t zy,
                         int32_t lo, int32_t hi, ek_q_t *y, uint32_t y_stride) {
    uint32_t b, r;
    for (b = 0; b < count; b += 4, w += 16u * n4) {
        const uint32_t rows = count - b < 4u ? count - b : 4u, c0 = co0 + b;
        int32_t acc[4];
        acc[0] = bias[c0];
        acc[1] = rows > 1u ? bias[c0 + 1u] : 0;
        acc[2] = rows > 2u ? bias[c0 + 2u] : 0;
        acc[3] = rows > 3u ? bias[c0 + 3u] : 0;
        ek_dot4(w, ek_col, n4, acc);
        for (r = 0; r < rows; ++r) {
            const uint32_t co = co0 + b + r;
            y[co * y_stride] = (ek_q_t)ek_requant(acc[r], m[co], n[co], zy, lo, hi);
        }
    }
}
#endif

#if EK_USES_CONV
/* One group's receptive field at output position t (x - z_x; 0 where it falls into the
 * padding, which is the real zero) into ek_col, in weight order [ci][k]. */
EK_NOINLINE static void ek_gather(const ek_conv_t *p, const ek_q_t *xg, uint32_t cig,
                                  uint32_t t) {
    const int32_t t_in = p->t_in, k_n = p->kernel, dil = p->dilation, zx = p->zx;
    const int32_t t0 = (int32_t)(t * p->stride) - p->pad_l;
    int16_t *c = ek_col;
    uint32_t ci;
    int32_t k, ti;
    if (t0 >= 0 && t0 + (k_n - 1) * dil < t_in) {       /* inside: no bounds checks */
        for (ci = 0, xg += t0; ci < cig; ++ci, xg += t_in) {
            const ek_q_t *x = xg;
            for (k = 0; k < k_n; ++k, x += dil) {
                *c++ = (int16_t)((int32_t)*x - zx);
            }
        }
        return;
    }
    for (ci = 0; ci < cig; ++ci, xg += t_in) {
        for (k = 0, ti = t0; k < k_n; ++k, ti += dil) {
            *c++ = (int16_t)(ti >= 0 && ti < t_in ? (int32_t)xg[ti] - zx : 0);
        }
    }
}

/* Depthwise (one input and one output channel per group): direct taps, no gathering; the
 * bounds are checked only where the window reaches into the padding. */
static void ek_conv_dw(const ek_conv_t *p, const ek_q_t *x, ek_q_t *y) {
    const int32_t t_in = p->t_in, k_n = p->kernel, dil = p->dilation, zx = p->zx;
    const int32_t t_out = p->t_out, stride = p->stride, pad_l = p->pad_l;
    const int32_t zy = p->zy, lo = p->lo, hi = p->hi;
    int32_t c, t, k, ti;
    for (c = 0; c < (int32_t)p->c_out; ++c, x += t_in, y += t_out) {
        const int8_t *w = p->w + c * k_n;   /* depthwise rows are not packed */
        const int32_t bias = p->bias[c], m = p->m[c], n = p->n[c];
        for (t = 0; t < t_out; ++t) {
            const int32_t t0 = t * stride - pad_l;
            int32_t acc = bias;
            if (t0 >= 0 && t0 + (k_n - 1) * dil < t_in) {
                const ek_q_t *xt = x + t0;
                for (k = 0; k < k_n; ++k, xt += dil) {
                    acc += (int32_t)w[k] * ((int32_t)*xt - zx);
                }
            } else {
                for (k = 0, ti = t0; k < k_n; ++k, ti += dil) {
                    if (ti >= 0 && ti < t_in) {
                        acc += (int32_t)w[k] * ((int32_t)x[ti] - zx);
                    }
                }
            }
            y[t] = (ek_q_t)ek_requant(acc, m, n, zy, lo, hi);
        }
    }
}

static void ek_conv(const ek_conv_t *p, const ek_q_t *x, ek_q_t *y) {
    const uint32_t cig = p->c_in / p->groups, cog = p->c_out / p->groups, t_out = p->t_out;
    const uint32_t n4 = (cig * p->kernel + 3u) / 4u;
    uint32_t g, t;
    if (cig == 1 && cog == 1) {
        ek_conv_dw(p, x, y);
        return;
    }
    const uint32_t group_bytes = (cog + 3u) / 4u * 16u * n4;  /* weight blocks per group */
    memset(ek_col, 0, sizeof ek_col);
    for (g = 0; g < p->groups; ++g) {
        for (t = 0; t < t_out; ++t) {
            ek_gather(p, x + g * cig * p->t_in, cig, t);
            ek_dense_out(p->w + g * group_bytes, p->bias, p->m, p->n, g * cog, cog, n4, p->zy,
                         p->lo, p->hi, y + t, t_out);
        }
    }
}
#endif

#if EK_USES_GEMM
static void ek_gemm(const ek_gemm_t *p, const ek_q_t *x, ek_q_t *y) {
    uint32_t i;
    memset(ek_col, 0, sizeof ek_col);
    for (i = 0; i < p->n_in; ++i) {
        ek_col[i] = (int16_t)((int32_t)x[i] - p->zx);
    }
    ek_dense_out(p->w, p->bias, p->m, p->n, 0, p->n_out, (p->n_in + 3u) / 4u, p->zy, p->lo,
                 p->hi, y, 1);   /* one group */
}
#endif

#if EK_USES_AVG
/* Mean over time, and average pooling (no padding): a sum of (x - z_x), requantised. */
static void ek_avg(const ek_avg_t *p, const ek_q_t *x, ek_q_t *y) {
    uint32_t c, t, k;
    for (c = 0; c < p->c; ++c) {
        for (t = 0; t < p->t_out; ++t) {
            const ek_q_t *w = x + c * p->t_in + t * p->stride;
            int32_t acc = -(int32_t)p->kernel * p->zx;
            for (k = 0; k < p->kernel; ++k) {
                acc += w[k];
            }
            y[c * p->t_out + t] = (ek_q_t)ek_requant(acc, p->m, p->n, p->zy, p->lo, p->hi);
        }
    }
}
#endif

#if EK_USES_MAXPOOL
static void ek_maxpool(const ek_maxpool_t *p, const ek_q_t *x, ek_q_t *y) {
    uint32_t c, t, k;
    for (c = 0; c < p->c; ++c) {
        for (t = 0; t < p->t_out; ++t) {
            int32_t best = INT32_MIN;
            for (k = 0; k < p->kernel; ++k) {
                const int32_t ti = (int32_t)(t * p->stride + k * p->dilation) - p->pad_l;
                if (ti >= 0 && ti < (int32_t)p->t_in && x[c * p->t_in + ti] > best) {
                    best = x[c * p->t_in + ti];
                }
            }
            y[c * p->t_out + t] = (ek_q_t)ek_clamp(best, p->lo, p->hi);
        }
    }
}
#endif

#if EK_USES_ADD
static void ek_add(const ek_add_t *p, const ek_q_t *a, const ek_q_t *b, ek_q_t *y) {
    const int32_t za = p->za, zb = p->zb, zy = p->zy, lo = p->lo, hi = p->hi;
    const int64_t ma = p->ma, mb = p->mb, half = ek_half(p->n);  /* n >= 32 */
    const uint32_t s = (uint32_t)p->n - 32u, size = p->size;
    uint32_t i;
    for (i = 0; i < size; ++i) {
        const int64_t sum = (int64_t)((int32_t)a[i] - za) * ma + (int64_t)((int32_t)b[i] - zb) * mb;
        const int32_t v = ek_rne_hi_r(sum, s, half) + zy;
        y[i] = (ek_q_t)(v < lo ? lo : (v > hi ? hi : v));
    }
}
#endif

#if EK_USES_CLAMP
static void ek_clamp_layer(const ek_clamp_t *p, const ek_q_t *x, ek_q_t *y) {
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        y[i] = (ek_q_t)ek_clamp(x[i], p->lo, p->hi);
    }
}
#endif

#if EK_USES_PICK
static void ek_pick(const ek_pick_t *p, const ek_q_t *x, ek_q_t *y) {
    uint32_t c;
    for (c = 0; c < p->c; ++c) {
        y[c] = (ek_q_t)ek_clamp(x[c * p->t_in + p->index], p->lo, p->hi);
    }
}
#endif

/* ---- preprocessing ---- */

static ek_q_t ek_ring[EDGEKD_N_CHANS][EDGEKD_WINDOW];  /* the last WINDOW quantized samples */
static uint32_t ek_pos;        /* ring slot of the next sample (= the oldest one kept) */
static uint32_t ek_seen;       /* samples pushed since edgekd_init */
static uint32_t ek_countdown;  /* samples until the next window ends */
static uint8_t ek_started;     /* filter state set from the first sample */

#if EK_SECTIONS > 0
#if EDGEKD_FLOAT_FILTERS
static float ek_z[EDGEKD_N_CHANS][EK_SECTIONS][2];  /* transposed direct form II */

static void ek_filter_start(const edgekd_sample_t *s) {
    uint32_t c, k;
    for (c = 0; c < EDGEKD_N_CHANS; ++c) {
        const float x0 = (float)ek_sample(s[c]);
        for (k = 0; k < EK_SECTIONS; ++k) {
            ek_z[c][k][0] = ek_zi[2 * k] * x0;
            ek_z[c][k][1] = ek_zi[2 * k + 1] * x0;
        }
    }
}

/* float32 biquads, then rounded (half away from zero) into the fixed-point signal format */
static int32_t ek_filter(uint32_t c, int32_t sample) {
    float u = (float)sample, v, fr;
    uint32_t k;
    int32_t t;
    for (k = 0; k < EK_SECTIONS; ++k) {
        const float *b = ek_sos + 5 * k;
        float *z = ek_z[c][k];
        const float y = b[0] * u + z[0];
        z[0] = (b[1] * u - b[3] * y) + z[1];
        z[1] = b[2] * u - b[4] * y;
        u = y;
    }
    v = u * EK_FRAC_SCALE;
    v = v > 1073741824.0f ? 1073741824.0f : (v < -1073741824.0f ? -1073741824.0f : v);
    t = (int32_t)v;
    fr = v - (float)t;
    return t + (fr >= 0.5f ? 1 : 0) - (fr <= -0.5f ? 1 : 0);
}
#else
static int32_t ek_state[EDGEKD_N_CHANS][EK_SECTIONS][4];  /* direct form I: x1 x2 y1 y2 */

static void ek_filter_start(const edgekd_sample_t *s) {
    uint32_t c, k;
    for (c = 0; c < EDGEKD_N_CHANS; ++c) {
        int32_t u = ek_sample(s[c]) * EK_FRAC_ONE;
        for (k = 0; k < EK_SECTIONS; ++k) {
            const int32_t y = (int32_t)ek_rne((int64_t)u * ek_dc_gain[k], EK_COEF_SHIFT);
            ek_state[c][k][0] = u;
            ek_state[c][k][1] = u;
            ek_state[c][k][2] = y;
            ek_state[c][k][3] = y;
            u = y;
        }
    }
}

static int32_t ek_filter(uint32_t c, int32_t sample) {
    int32_t u = sample * EK_FRAC_ONE;
    uint32_t k;
    for (k = 0; k < EK_SECTIONS; ++k) {
        const int32_t *b = ek_coef + 5 * k;
        int32_t *st = ek_state[c][k];
        const int64_t acc = (int64_t)b[0] * u + (int64_t)b[1] * st[0] + (int64_t)b[2] * st[1]
                          - (int64_t)b[3] * st[2] - (int64_t)b[4] * st[3];
        const int32_t y = (int32_t)ek_rne(acc, EK_COEF_SHIFT);
        st[1] = st[0];
        st[0] = u;
        st[3] = st[2];
        st[2] = y;
        u = y;
    }
    return u;
}
#endif
#else
static void ek_filter_start(const edgekd_sample_t *s) { (void)s; }
static int32_t ek_filter(uint32_t c, int32_t sample) { (void)c; return sample * EK_FRAC_ONE; }
#endif

/* normalisation and input quantisation folded into one fixed-point multiply-add */
static ek_q_t ek_quantize(uint32_t c, int32_t f) {
    const int64_t p = (int64_t)f * ek_norm_m[c] + ek_norm_b[c];
    return (ek_q_t)ek_clamp(ek_shift_round(p, ek_norm_n[c]) + EK_INPUT_ZP, EK_Q_MIN, EK_Q_MAX);
}

/* ---- decision ---- */

static void ek_decide(edgekd_decision_t *out) {
    const ek_q_t *q = ek_arena + EK_OUTPUT_OFFSET;
    uint32_t i, e[EDGEKD_N_CLASSES], sum = 0;
    uint8_t best = 0;
    ek_network();
    for (i = 1; i < EDGEKD_N_CLASSES; ++i) {
        if (q[i] > q[best]) {
            best = (uint8_t)i;
        }
    }
    for (i = 0; i < EDGEKD_N_CLASSES; ++i) {
        const uint32_t d = (uint32_t)((int32_t)q[best] - (int32_t)q[i]);
        e[i] = d < EK_SOFTMAX_LEN ? ek_softmax[d] : 0u;
        sum += e[i];
        out->logits[i] = q[i];
    }
    for (i = 0; i < EDGEKD_N_CLASSES; ++i) {
        out->prob_q15[i] = (uint16_t)((e[i] * 32768u + sum / 2u) / sum);
    }
    out->label = best;
}

void edgekd_classify(const edgekd_q_t *window, edgekd_decision_t *out) {
    memcpy(ek_arena + EK_INPUT_OFFSET, window, EDGEKD_N_CHANS * EDGEKD_WINDOW);
    ek_decide(out);
    out->end_sample = 0;
}

void edgekd_init(void) {
    memset(ek_ring, 0, sizeof ek_ring);
    ek_pos = 0;
    ek_seen = 0;
    ek_countdown = EDGEKD_WINDOW;
    ek_started = 0;
}

int32_t edgekd_push(const edgekd_sample_t *samples, uint32_t n, edgekd_decision_t *out,
                    uint32_t cap) {
    uint32_t i, c;
    int32_t made = 0;
    if (n == 0) {
        return 0;
    }
    if (samples == 0 || out == 0 || cap < EDGEKD_MAX_DECISIONS(n)) {
        return -1;
    }
    for (i = 0; i < n; ++i) {
        const edgekd_sample_t *s = samples + (uint32_t)EDGEKD_N_CHANS * i;
        if (!ek_started) {
            ek_filter_start(s);
            ek_started = 1;
        }
        for (c = 0; c < EDGEKD_N_CHANS; ++c) {
            ek_ring[c][ek_pos] = ek_quantize(c, ek_filter(c, ek_sample(s[c])));
        }
        ek_pos = ek_pos + 1 == EDGEKD_WINDOW ? 0 : ek_pos + 1;
        if (--ek_countdown == 0) {
            ek_q_t *w = ek_arena + EK_INPUT_OFFSET;
            ek_countdown = EDGEKD_HOP;
            for (c = 0; c < EDGEKD_N_CHANS; ++c) {   /* oldest sample first */
                memcpy(w + c * EDGEKD_WINDOW, &ek_ring[c][ek_pos], EDGEKD_WINDOW - ek_pos);
                memcpy(w + c * EDGEKD_WINDOW + (EDGEKD_WINDOW - ek_pos), ek_ring[c], ek_pos);
            }
            ek_decide(&out[made]);
            out[made].end_sample = ek_seen;
            ++made;
        }
        ++ek_seen;
    }
    return made;
}
