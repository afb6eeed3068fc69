/* The plain transcode's per-pixel kernels in C (hdrvid.color.kernels loads them with ctypes).
 *
 * The same arithmetic, in the same order and the same precision, as the numba kernels of hdrvid.color.fused
 * (_pass1 / _pass2 of the codes path, _decoded_light), which stay the fallback where this file was not built;
 * tests/test_fused.py holds the two to each other and to the reference path. Why C as well as numba: the
 * plain transcode is otherwise numba's only user, and numba's LLVM costs ~115 MB of memory and ~0.5 s of start-up
 * per process before the first frame (issue 17's memory target is 1.5x FFmpeg's process).
 *
 * Every function works on a range of rows [r0, r1), so the caller runs them on several threads (ctypes releases
 * the GIL). Built with -ffp-contract=off: no fused multiply-adds, so every platform rounds alike.
 *
 * The per-pixel work is written as short loops over row buffers so that the compiler vectorises them (table reads
 * become gathers); on x86-64 Linux GCC builds an AVX-512, an AVX2 and a baseline version of each kernel and the
 * loader picks one per CPU. IEEE float32 in every version (no fast-math, no contraction): the same codes.
 * Sums the numba kernels accumulate in order (MaxFALL, column sums) are accumulated in the same order here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bumped whenever a function's arguments change: hdrvid.color.kernels refuses a library built from another
 * version of this file (a stale in-place build) and uses the numba kernels instead. */
int64_t native_abi(void) { return 8; }

static inline float fmax3(float a, float b, float c) { float m = a > b ? a : b; return m > c ? m : c; }
static inline float fminf_(float a, float b) { return a < b ? a : b; }
static inline float fmaxf_(float a, float b) { return a > b ? a : b; }
static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SIMD_CLONES
#endif

/* fused._table_at for a float32 table with n + 2 entries, the last two equal (the caller pads it), in two steps
 * so that loops around each vectorise (GCC's vectoriser gives up on a select that follows a table read): the
 * index clamped to n (a NaN too), then the read, which from n on is table[n] + 0 x 0, exactly the last entry, as
 * fused._table_at returns it. */
static inline __attribute__((always_inline)) float pad_index(float t, float nf) { return t < nf ? t : nf; }

static inline __attribute__((always_inline)) float lerp_at(float tc, const float *restrict table) {
    int32_t i = (int32_t)tc;
    return table[i] + (tc - (float)i) * (table[i + 1] - table[i]);
}

#define AI static inline __attribute__((always_inline))

/* fused._pq (PQ's inverse EOTF by a table over the fourth root of light, `table` padded to n + 2 entries, the
 * last two 1.0) for a row: the index first (light <= 0 reads entry 0; from n on the last entry, 1.0), then the
 * read, so both loops vectorise. */
AI void pq_row(const float *restrict x, float *restrict t, float *restrict s, const float *restrict table, float nf,
               float scale, int64_t n) {
    for (int64_t c = 0; c < n; c++) {
        float v = x[c];
        t[c] = pad_index(v > 0.0f ? sqrtf(sqrtf(v)) * scale : 0.0f, nf);
    }
    for (int64_t c = 0; c < n; c++) s[c] = lerp_at(t[c], table);
}

/* fused._table_at with a float64 table (padded to n + 2 entries, the last two equal) at a float32 index. */
AI double lerp_at_d(float tc, const double *restrict table) {
    int32_t i = (int32_t)tc;
    return table[i] + (double)(tc - (float)i) * (table[i + 1] - table[i]);
}

/* fused._table_at with a float64 table at a float64 index (hdr10_pass2's statistics; scalar). */
static inline double table_at_d(double t, const double *table, int64_t n) {
    if (t >= (double)n) return table[n];
    int64_t i = (int64_t)t;
    return table[i] + (t - (double)(float)i) * (table[i + 1] - table[i]);
}

/* Light of three planes of codes through a table and a 3x3 primaries matrix (one row). */
static inline __attribute__((always_inline)) void codes_to_light(
        const float *restrict lut, const int32_t *restrict p0, const int32_t *restrict p1,
        const int32_t *restrict p2, float *restrict o0, float *restrict o1, float *restrict o2,
        const float *restrict mix, int64_t w) {
    const float m00 = mix[0], m01 = mix[1], m02 = mix[2], m10 = mix[3], m11 = mix[4], m12 = mix[5], m20 = mix[6],
                m21 = mix[7], m22 = mix[8];
    for (int64_t c = 0; c < w; c++) {
        float e0 = lut[p0[c]], e1 = lut[p1[c]], e2 = lut[p2[c]];
        o0[c] = m00 * e0 + m01 * e1 + m02 * e2;
        o1[c] = m10 * e0 + m11 * e1 + m12 * e2;
        o2[c] = m20 * e0 + m21 * e1 + m22 * e2;
    }
}

/* One row of R'G'B' codes (interleaved) -> three planes of table indices (then codes_to_light). */
#define DEINTERLEAVE(NAME, CODE_T)                                                                                 \
AI void NAME(const CODE_T *restrict row, int32_t *restrict q0, int32_t *restrict q1, int32_t *restrict q2,        \
             int64_t w) {                                                                                          \
    for (int64_t c = 0; c < w; c++) {                                                                              \
        q0[c] = row[c * 3];                                                                                        \
        q1[c] = row[c * 3 + 1];                                                                                    \
        q2[c] = row[c * 3 + 2];                                                                                    \
    }                                                                                                              \
}
DEINTERLEAVE(deinterleave_u8, uint8_t)
DEINTERLEAVE(deinterleave_u16, uint16_t)

/* The largest of max(a[c], b[c], d[c]) over a row and `best`, in 16 lanes so that it vectorises (a maximum of
 * values that are never NaN is the same in any order). */
AI float row_max3(const float *restrict a, const float *restrict b, const float *restrict d, int64_t n, float best) {
    float lane[16];
    for (int k = 0; k < 16; k++) lane[k] = best;
    int64_t c = 0;
    for (; c + 16 <= n; c += 16)
        for (int k = 0; k < 16; k++) lane[k] = fmaxf_(lane[k], fmax3(a[c + k], b[c + k], d[c + k]));
    for (; c < n; c++) lane[0] = fmaxf_(lane[0], fmax3(a[c], b[c], d[c]));
    for (int k = 0; k < 16; k++) best = fmaxf_(best, lane[k]);
    return best;
}

/* Luma of a row of PQ R'G'B' (three planes). */
AI void luma_row(const float *restrict s0, const float *restrict s1, const float *restrict s2, float *restrict y,
                 const float *restrict ym, int64_t n) {
    const float a = ym[0], b = ym[1], d = ym[2];
    for (int64_t c = 0; c < n; c++) y[c] = a * s0[c] + b * s1[c] + d * s2[c];
}

/* The column sums of two rows' encoded R'G'B' (0 + first row + second row, in that order: numba's). */
AI void column_sums(const float *restrict r0, const float *restrict r1, float *restrict S0, float *restrict S1,
                    float *restrict S2, int64_t ww) {
    for (int64_t c = 0; c < ww; c++) {
        S0[c] = (0.0f + r0[c]) + r1[c];
        S1[c] = (0.0f + r0[ww + c]) + r1[ww + c];
        S2[c] = (0.0f + r0[2 * ww + c]) + r1[2 * ww + c];
    }
}

/* The chroma of a pair of rows (fused._chroma_codes on their column sums, 10-bit) and each sample's lift: the
 * chroma term of R'G'B' = Y' + inverse-matrix . (Cb, Cr), per channel (float64 arithmetic) and its largest. */
AI void chroma_row(const float *restrict S0, const float *restrict S1, const float *restrict S2,
                   const float *restrict cm, const float *restrict inv, int32_t *restrict QB, int32_t *restrict QR,
                   uint16_t *restrict ucode, uint16_t *restrict vcode, float *restrict lift, float *restrict liftc,
                   int64_t jc) {
    const float c0 = cm[0], c1 = cm[1], c2 = cm[2], c3 = cm[3], c4 = cm[4], c5 = cm[5];
    for (int64_t j = 0; j < jc; j++) {
        int64_t l = j > 0 ? 2 * j - 1 : 0, m = 2 * j, rr = 2 * j + 1;
        float v0 = 0.125f * S0[l] + 0.25f * S0[m] + 0.125f * S0[rr];
        float v1 = 0.125f * S1[l] + 0.25f * S1[m] + 0.125f * S1[rr];
        float v2 = 0.125f * S2[l] + 0.25f * S2[m] + 0.125f * S2[rr];
        int32_t qb = (int32_t)((c0 * v0 + c1 * v1 + c2 * v2) * 896.0f + 512.5f);
        int32_t qr = (int32_t)((c3 * v0 + c4 * v1 + c5 * v2) * 896.0f + 512.5f);
        qb = qb < 0 ? 0 : (qb > 1023 ? 1023 : qb);
        qr = qr < 0 ? 0 : (qr > 1023 ? 1023 : qr);
        QB[j] = qb;
        QR[j] = qr;
    }
    for (int64_t j = 0; j < jc; j++) {
        ucode[j] = (uint16_t)QB[j];
        vcode[j] = (uint16_t)QR[j];
    }
    const double a1 = inv[1], a2 = inv[2], b1 = inv[4], b2 = inv[5], d1 = inv[7], d2 = inv[8];
    for (int64_t j = 0; j < jc; j++) {
        double cb = ((double)QB[j] - 512.0) / 896.0, cr = ((double)QR[j] - 512.0) / 896.0;
        double l0 = a1 * cb + a2 * cr, l1 = b1 * cb + b2 * cr, l2 = d1 * cb + d2 * cr;
        lift[j * 3] = (float)l0;
        lift[j * 3 + 1] = (float)l1;
        lift[j * 3 + 2] = (float)l2;
        double most = l0 > -1e30 ? l0 : -1e30;
        most = l1 > most ? l1 : most;
        most = l2 > most ? l2 : most;
        liftc[j] = (float)most;
    }
}

/* Pass 1 of hdr10_planes from R'G'B' codes (fused._pass1 without the roll-off: light from lut[codes] never
 * exceeds the peak on this path), for chroma rows [k0, k1). `table` is PQ's, padded (pq_row). */
#define PASS1(NAME, CODE_T, ROW)                                                                                   \
SIMD_CLONES                                                                                                        \
void NAME(const CODE_T *codes, int64_t h, int64_t w, const float *lut, const float *mix, const float *table,     \
          int64_t table_n, float pq_scale, const float *ym, const float *cm, const float *inv, float *y,          \
          int64_t ww, uint16_t *ucode, uint16_t *vcode, float *lift, float *liftc, float *rowmax,                \
          int64_t k0, int64_t k1) {                                                                              \
    int64_t jc = ww / 2;                                                                                         \
    float *buf = (float *)malloc(sizeof(float) * 15 * (size_t)ww + sizeof(int32_t) * (3 * (size_t)w + 2 * (size_t)jc)); \
    if (!buf) return;                                                                                            \
    float *X = buf, *T = buf + 3 * ww, *R0 = buf + 6 * ww, *R1 = buf + 9 * ww, *S = buf + 12 * ww;              \
    int32_t *Q = (int32_t *)(buf + 15 * ww), *QB = Q + 3 * w, *QR = QB + jc;                                     \
    const float nf = (float)table_n;                                                                             \
    for (int64_t k = k0; k < k1; k++) {                                                                          \
        float best = 0.0f;                                                                                       \
        for (int dr = 0; dr < 2; dr++) {                                                                         \
            int64_t r = imin(2 * k + dr, h - 1);                                                                 \
            float *R = dr ? R1 : R0;                                                                             \
            ROW(codes + r * w * 3, Q, Q + w, Q + 2 * w, w);                                                      \
            codes_to_light(lut, Q, Q + w, Q + 2 * w, X, X + ww, X + 2 * ww, mix, w);                             \
            for (int ch = 0; ch < 3; ch++) {                                                                     \
                for (int64_t c = w; c < ww; c++) X[ch * ww + c] = X[ch * ww + w - 1];                            \
                pq_row(X + ch * ww, T + ch * ww, R + ch * ww, table, nf, pq_scale, ww);                          \
            }                                                                                                    \
            luma_row(R, R + ww, R + 2 * ww, y + (2 * k + dr) * ww, ym, ww);                                      \
            best = row_max3(R, R + ww, R + 2 * ww, ww, best);                                                   \
        }                                                                                                        \
        rowmax[k] = best;                                                                                        \
        float *S0 = S, *S1 = S + ww, *S2 = S + 2 * ww;                                                           \
        column_sums(R0, R1, S0, S1, S2, ww);                                                                     \
        chroma_row(S0, S1, S2, cm, inv, QB, QR, ucode + k * jc, vcode + k * jc, lift + k * jc * 3, liftc + k * jc, jc); \
    }                                                                                                            \
    free(buf);                                                                                                   \
}

PASS1(hdr10_pass1_u8, uint8_t, deinterleave_u8)
PASS1(hdr10_pass1_u16, uint16_t, deinterleave_u16)

/* fused._pq for one value (the roll-off's scalar path): PQ's inverse EOTF by the table over the fourth root. */
static inline float pq_scalar(float x, const float *table, int64_t n, float scale) {
    if (x <= 0.0f) return table[0];
    float t = sqrtf(sqrtf(x)) * scale;
    int64_t i = (int64_t)t;
    if (i >= n) return 1.0f;
    return table[i] + (t - (float)i) * (table[i + 1] - table[i]);
}

/* fused._roll_off: the ratio the BT.2390 roll-off scales a pixel's light by, from its max(R,G,B) `m` in nits;
 * roll = (source peak, target peak, knee, pb, span, ks, max_lum). float64 as numba computes it. */
static double roll_off(float m, const double *roll, const float *table, int64_t table_n, float scale,
                       const double *eotf, int64_t eotf_n) {
    if ((double)m <= roll[2] || m <= 0.0f) return 1.0;
    if (roll[0] <= roll[1]) return (double)m > roll[1] ? roll[1] / (double)m : 1.0;
    double pb = roll[3], span = roll[4], ks = roll[5], max_lum = roll[6];
    double e1 = ((double)pq_scalar(m, table, table_n, scale) - pb) / span;
    e1 = e1 > 0.0 ? e1 : 0.0;
    e1 = e1 < 1.0 ? e1 : 1.0;
    double t = (e1 - ks) / (1 - ks);
    t = t > 0.0 ? t : 0.0;
    double t2 = t * t, t3 = t2 * t;
    double p = (2 * t3 - 3 * t2 + 1) * ks + (t3 - 2 * t2 + t) * (1 - ks) + (-2 * t3 + 3 * t2) * max_lum;
    double e2 = e1 < ks ? e1 : p;
    return table_at_d((e2 * span + pb) * (double)eotf_n, eotf, eotf_n) / (double)m;
}

/* Light of one row of relative linear BT.709 (planar) times `white`, negatives as 0 (A, B, D), with the count of
 * pixels above the roll-off's knee (they are rolled off apart, rarely). */
AI int64_t linear_row(const float *restrict l0, const float *restrict l1, const float *restrict l2, float wt,
                      float *restrict A, float *restrict B, float *restrict D, float knee, int64_t w) {
    int64_t above = 0;
    for (int64_t c = 0; c < w; c++) {
        float a = l0[c] * wt, b = l1[c] * wt, d = l2[c] * wt; /* negative light (outside BT.709) goes on to
                                                                  BT.2020; pq_row clips what stays negative */
        A[c] = a;
        B[c] = b;
        D[c] = d;
        above += fmax3(a, b, d) > knee;
    }
    return above;
}

/* BT.709 light -> BT.2020 light (three planes). */
AI void mix_row(const float *restrict A, const float *restrict B, const float *restrict D, const float *restrict mix,
                float *restrict x0, float *restrict x1, float *restrict x2, int64_t w) {
    const float m00 = mix[0], m01 = mix[1], m02 = mix[2], m10 = mix[3], m11 = mix[4], m12 = mix[5], m20 = mix[6],
                m21 = mix[7], m22 = mix[8];
    for (int64_t c = 0; c < w; c++) {
        float a = A[c], b = B[c], d = D[c];
        x0[c] = m00 * a + m01 * b + m02 * d;
        x1[c] = m10 * a + m11 * b + m12 * d;
        x2[c] = m20 * a + m21 * b + m22 * d;
    }
}

/* Pass 1 of hdr10_planes_linear (fused._pass1 with `lin`): light = white x lin (3, h, w), rolled off above the
 * knee (roll, see roll_off) and the rest as hdr10_pass1_*; `table` is PQ's padded (pq_row), `eotf` unpadded. */
SIMD_CLONES
void hdr10_pass1_linear(const float *lin, int64_t h, int64_t w, float white, const double *roll, const double *eotf,
                        int64_t eotf_n, const float *mix, const float *table, int64_t table_n, float pq_scale,
                        const float *ym, const float *cm, const float *inv, float *y, int64_t ww, uint16_t *ucode,
                        uint16_t *vcode, float *lift, float *liftc, float *rowmax, int64_t k0, int64_t k1) {
    int64_t jc = ww / 2;
    float *buf = (float *)malloc(sizeof(float) * 18 * (size_t)ww + sizeof(int32_t) * 2 * (size_t)jc);
    if (!buf) return;
    float *X = buf, *T = buf + 3 * ww, *R0 = buf + 6 * ww, *R1 = buf + 9 * ww, *S = buf + 12 * ww, *A = buf + 15 * ww;
    int32_t *QB = (int32_t *)(buf + 18 * ww), *QR = QB + jc;
    const float nf = (float)table_n;
    float knee = (float)roll[2]; /* at or below the float64 knee, so the count never misses a pixel above it */
    if ((double)knee > roll[2]) knee = nextafterf(knee, -INFINITY);
    const int64_t plane = h * w;
    for (int64_t k = k0; k < k1; k++) {
        float best = 0.0f;
        for (int dr = 0; dr < 2; dr++) {
            int64_t r = imin(2 * k + dr, h - 1);
            float *R = dr ? R1 : R0;
            float *B = A + ww, *D = A + 2 * ww;
            const float *l0 = lin + r * w;
            int64_t above = linear_row(l0, l0 + plane, l0 + 2 * plane, white, A, B, D, knee, w);
            if (above) { /* the rare pixels above the knee: numba compares in float64 (m > knee) */
                for (int64_t c = 0; c < w; c++) {
                    float m = fmax3(A[c], B[c], D[c]);
                    if ((double)m > roll[2]) {
                        float g = (float)roll_off(m, roll, table, table_n, pq_scale, eotf, eotf_n);
                        A[c] *= g;
                        B[c] *= g;
                        D[c] *= g;
                    }
                }
            }
            mix_row(A, B, D, mix, X, X + ww, X + 2 * ww, w);
            for (int ch = 0; ch < 3; ch++) {
                for (int64_t c = w; c < ww; c++) X[ch * ww + c] = X[ch * ww + w - 1];
                pq_row(X + ch * ww, T + ch * ww, R + ch * ww, table, nf, pq_scale, ww);
            }
            luma_row(R, R + ww, R + 2 * ww, y + (2 * k + dr) * ww, ym, ww);
            best = row_max3(R, R + ww, R + 2 * ww, ww, best);
        }
        rowmax[k] = best;
        float *S0 = S, *S1 = S + ww, *S2 = S + 2 * ww;
        column_sums(R0, R1, S0, S1, S2, ww);
        chroma_row(S0, S1, S2, cm, inv, QB, QR, ucode + k * jc, vcode + k * jc, lift + k * jc * 3, liftc + k * jc, jc);
    }
    free(buf);
}

/* fused._planar_lookup: integer R'G'B' codes (h, w, 3) -> lut[codes] planar (3, h, w), rows [r0, r1). */
AI void gather_row(const float *restrict lut, const int32_t *restrict q, float *restrict out, int64_t w) {
    for (int64_t c = 0; c < w; c++) out[c] = lut[q[c]];
}

#define PLANAR_LOOKUP(NAME, CODE_T, DEINTERLEAVE)                                                                  \
SIMD_CLONES                                                                                                        \
void NAME(const CODE_T *codes, int64_t h, int64_t w, const float *lut, float *out, int64_t r0, int64_t r1) {       \
    int32_t *q = (int32_t *)malloc(sizeof(int32_t) * 3 * (size_t)w);                                              \
    if (!q) return;                                                                                                \
    for (int64_t r = r0; r < r1; r++) {                                                                            \
        DEINTERLEAVE(codes + r * w * 3, q, q + w, q + 2 * w, w);                                                   \
        for (int ch = 0; ch < 3; ch++) gather_row(lut, q + ch * w, out + (ch * h + r) * w, w);                    \
    }                                                                                                              \
    free(q);                                                                                                       \
}
PLANAR_LOOKUP(planar_lookup_u8, uint8_t, deinterleave_u8)
PLANAR_LOOKUP(planar_lookup_u16, uint16_t, deinterleave_u16)

/* hdr10_pass2's luma for one row: the largest chroma lift a decoder can put on each pixel (E: the bilinear
 * decoder's, from the chroma samples around it) and the luma adjusted under the ceiling. */
AI void pass2_row(const float *restrict yr, const float *restrict lk, const float *restrict lkn,
                  const float *restrict wk, float *restrict W, float *restrict E, float *restrict V,
                  int32_t *restrict Q, float *restrict P, float *restrict Pn, float *restrict B, int64_t ww,
                  int64_t jc, float ceil_, float tp, int even_row) {
    /* the even columns' lifts (P + Pn, vertically between chroma rows) and the odd columns' (B, halfway to the
     * next sample), in contiguous loops so that they vectorise; the same operations in the same order as
     * a = 0.75 lk[j] + 0.25 lkn[j], b = 0.5 (a + 0.75 lk[jn] + 0.25 lkn[jn]) per channel */
    const int64_t n3 = 3 * jc, last = 3 * (jc - 1);
    for (int64_t i = 0; i < n3; i++) {
        P[i] = 0.75f * lk[i];
        Pn[i] = 0.25f * lkn[i];
    }
    for (int64_t i = 0; i < last; i++) B[i] = 0.5f * (((P[i] + Pn[i]) + P[i + 3]) + Pn[i + 3]);
    for (int64_t i = last; i < n3; i++) B[i] = 0.5f * (((P[i] + Pn[i]) + P[i]) + Pn[i]);
    for (int64_t j = 0; j < jc; j++) { /* each pixel's worst */
        float a0 = P[j * 3] + Pn[j * 3], a1 = P[j * 3 + 1] + Pn[j * 3 + 1], a2 = P[j * 3 + 2] + Pn[j * 3 + 2];
        E[2 * j] = fmaxf_(fmaxf_(fmaxf_(-1e30f, a0), a1), a2);
        E[2 * j + 1] = fmaxf_(fmaxf_(fmaxf_(-1e30f, B[j * 3]), B[j * 3 + 1]), B[j * 3 + 2]);
        W[2 * j] = wk[j];
        W[2 * j + 1] = wk[j];
    }
    for (int64_t c = 0; c < ww; c++) {
        float worst = W[c];
        float v = fminf_(yr[c], ceil_ - worst);
        int keep = even_row && (c % 2 == 0);
        float lower = fminf_(v, tp - E[c]);
        v = (v > tp - worst || keep) ? lower : v;
        V[c] = v;
    }
    for (int64_t c = 0; c < ww; c++) {
        int32_t q = (int32_t)(V[c] * 876.0f + 64.5f);
        q = q < 0 ? 0 : q;
        Q[c] = q > 1023 ? 1023 : q;
    }
}

/* Pass 2 (fused._pass2): the luma adjustment and quantisation of luma rows [r0, r1), with the frame statistics
 * of the even pixels (largest decoded max(R',G',B') signal and the sum of max(R,G,B) in nits per row). */
SIMD_CLONES
void hdr10_pass2(const float *y, int64_t hh, int64_t ww, const float *lift, int64_t kc, int64_t jc,
                 const float *worst_c, float ceiling, float top, const double *eotf, int64_t eotf_n, uint16_t *yq,
                 double *stats, double *sums, int64_t r0, int64_t r1) {
    const float half = (float)(0.5 / 876.0);
    const float ceil_ = ceiling - half;
    (void)hh;
    float *buf = (float *)malloc(sizeof(float) * (3 * (size_t)ww + 9 * (size_t)jc) + sizeof(int32_t) * (size_t)ww);
    /* the statistics' reads, in two loops that vectorise (the EOTF table padded: from n on its last entry) */
    double *stat = (double *)malloc(sizeof(double) * (2 * (size_t)jc + 2 + (size_t)eotf_n + 2));
    if (!buf || !stat) {
        free(buf);
        free(stat);
        return;
    }
    float *W = buf, *E = buf + ww, *V = buf + 2 * ww, *P = buf + 3 * ww, *Pn = P + 3 * jc, *B = Pn + 3 * jc;
    int32_t *Q = (int32_t *)(B + 3 * jc);
    double *S = stat, *L = stat + jc + 1, *tab = stat + 2 * jc + 2;
    memcpy(tab, eotf, sizeof(double) * ((size_t)eotf_n + 1));
    tab[eotf_n + 1] = tab[eotf_n];
    const double dn = (double)eotf_n;
    for (int64_t r = r0; r < r1; r++) {
        int64_t k = r / 2;
        int64_t kn = (r % 2 == 0) ? imax(k - 1, 0) : imin(k + 1, kc - 1);
        pass2_row(y + r * ww, lift + k * jc * 3, lift + kn * jc * 3, worst_c + k * jc, W, E, V, Q, P, Pn, B, ww, jc,
                  ceil_, top, r % 2 == 0);
        uint16_t *out = yq + r * ww;
        for (int64_t c = 0; c < ww; c++) out[c] = (uint16_t)Q[c];
        double best = 0.0, total = 0.0;
        if (r % 2 == 0) {
            const int64_t m = (ww + 1) / 2;
            for (int64_t j = 0; j < m; j++) {
                double s = ((double)Q[2 * j] - 64.0) / 876.0 + (double)E[2 * j];
                s = s < 0.0 ? 0.0 : s;
                s = s > 1.0 ? 1.0 : s;
                S[j] = s;
                const double t = s * dn;
                L[j] = t < dn ? t : dn; /* table_at_d's index; from n on the padded read gives table[n] + 0 */
            }
            for (int64_t j = 0; j < m; j++) {
                const int64_t i = (int64_t)L[j];
                L[j] = tab[i] + (L[j] - (double)(float)i) * (tab[i + 1] - tab[i]);
            }
            for (int64_t j = 0; j < m; j++) { /* in column order, as before: the same sum */
                if (S[j] > best) best = S[j];
                total += L[j];
            }
        }
        stats[r] = best;
        sums[r] = total;
    }
    free(stat);
    free(buf);
}

/* The light of a decoded 10-bit 4:2:0 BT.2020 PQ frame (fused._decoded_light), luma rows [r0, r1): per row the
 * largest max(R',G',B') signal and the sum of max(R,G,B) in nits, chroma upsampled as a bilinear decoder does.
 * `table` (the EOTF, float64) is padded to n + 2 entries, the last two equal. */
AI void light_row(const uint16_t *restrict yr, const uint16_t *restrict bk, const uint16_t *restrict bn,
                  const uint16_t *restrict rk, const uint16_t *restrict rn, float *restrict U, float *restrict Vv,
                  float *restrict S, double *restrict L, const double *restrict table, float nf, int64_t jc,
                  int64_t width, const float *restrict coef) {
    const float mid = 512.0f, q1 = 0.25f, q3 = 0.75f, half = 0.5f;
    const float scale_c = coef[0], scale_y = coef[1], i01 = coef[2], i02 = coef[3], i11 = coef[4], i12 = coef[5],
                i21 = coef[6], i22 = coef[7];
    for (int64_t j = 0; j < jc; j++) {
        U[2 * j] = q3 * ((float)bk[j] - mid) + q1 * ((float)bn[j] - mid);
        Vv[2 * j] = q3 * ((float)rk[j] - mid) + q1 * ((float)rn[j] - mid);
    }
    for (int64_t j = 0; j < jc; j++) {
        int64_t jn = j + 1 < jc ? j + 1 : jc - 1;
        U[2 * j + 1] = half * (U[2 * j] + q3 * ((float)bk[jn] - mid) + q1 * ((float)bn[jn] - mid));
        Vv[2 * j + 1] = half * (Vv[2 * j] + q3 * ((float)rk[jn] - mid) + q1 * ((float)rn[jn] - mid));
    }
    for (int64_t c = 0; c < width; c++) {
        float u = U[c] * scale_c, v = Vv[c] * scale_c;
        float lift = fmax3(i01 * u + i02 * v, i11 * u + i12 * v, i21 * u + i22 * v);
        float s = fminf_(fmaxf_(((float)yr[c] - 64.0f) * scale_y + lift, 0.0f), 1.0f);
        S[c] = s;
        U[c] = pad_index(s * nf, nf);
    }
    for (int64_t c = 0; c < width; c++) L[c] = lerp_at_d(U[c], table);
}

SIMD_CLONES
void decoded_light(const uint16_t *yp, int64_t ystride, const uint16_t *cb, const uint16_t *cr, int64_t cstride,
                   int64_t kc, int64_t jc, const double *inv, int64_t width, const double *table, int64_t table_n,
                   double *rowmax, double *rowsum, int64_t r0, int64_t r1) {
    const float coef[8] = {(float)(1.0 / 896.0), (float)(1.0 / 876.0), (float)inv[1], (float)inv[2], (float)inv[4],
                           (float)inv[5], (float)inv[7], (float)inv[8]};
    int64_t n = 2 * jc > width ? 2 * jc : width;
    float *buf = (float *)malloc(sizeof(float) * 3 * (size_t)n + sizeof(double) * (size_t)n);
    if (!buf) return;
    float *U = buf, *Vv = buf + n, *S = buf + 2 * n;
    double *L = (double *)(buf + 3 * n);
    const float nf = (float)table_n;
    for (int64_t r = r0; r < r1; r++) {
        int64_t k = r / 2;
        int64_t kn = (r % 2 == 0) ? imax(k - 1, 0) : imin(k + 1, kc - 1);
        light_row(yp + r * ystride, cb + k * cstride, cb + kn * cstride, cr + k * cstride, cr + kn * cstride, U, Vv,
                  S, L, table, nf, jc, width, coef);
        float best = 0.0f;
        double total = 0.0;
        for (int64_t c = 0; c < width; c++) {
            best = fmaxf_(best, S[c]);
            total += L[c];
        }
        rowmax[r] = best;
        rowsum[r] = total;
    }
    free(buf);
}

/* One luma row's chroma, upsampled bilinearly for left-sited 4:2:0 (H.264/HEVC's default chroma location, and
 * what swscale's 16-bit path does; its 8-bit planar path takes chroma as centre-sited): columns co-sited with
 * the even luma columns, vertically 3/4 of the chroma row `k` the luma row sits on and 1/4 of its neighbour
 * `kn`, in code values: ub, vb (2 x jc). */
#define UPSAMPLE_CHROMA_ROW(NAME, T)                                                                               \
AI void NAME##_plane(const T *restrict bk, const T *restrict bn, float *restrict ub, float *restrict scratch,      \
                     int64_t jc) {                                                                                 \
    const float half = 0.5f, a3 = 0.75f, a1 = 0.25f;                                                              \
    float *restrict P = scratch, *restrict Pn = scratch + jc, *restrict A = scratch + 2 * jc,                      \
          *restrict B = scratch + 3 * jc;                                                                          \
    for (int64_t j = 0; j < jc; j++) {                                                                             \
        P[j] = a3 * (float)bk[j];                                                                                  \
        Pn[j] = a1 * (float)bn[j];                                                                                 \
    }                                                                                                              \
    for (int64_t j = 0; j < jc; j++) A[j] = P[j] + Pn[j];                                                          \
    for (int64_t j = 0; j + 1 < jc; j++) B[j] = half * ((A[j] + P[j + 1]) + Pn[j + 1]);                            \
    B[jc - 1] = half * ((A[jc - 1] + P[jc - 1]) + Pn[jc - 1]);                                                     \
    for (int64_t j = 0; j < jc; j++) {                                                                             \
        ub[2 * j] = A[j];                                                                                          \
        ub[2 * j + 1] = B[j];                                                                                      \
    }                                                                                                              \
}                                                                                                                  \
/* (even columns a = 3/4 k + 1/4 kn, odd b = (a + 3/4 k[j + 1] + 1/4 kn[j + 1]) / 2, the last sample repeated; in \
 * contiguous loops so that they vectorise; `scratch` holds 4 x jc floats) */                                      \
AI void NAME(const T *restrict bk, const T *restrict bn, const T *restrict rk, const T *restrict rn,              \
             float *restrict ub, float *restrict vb, float *restrict scratch, int64_t jc) {                        \
    NAME##_plane(bk, bn, ub, scratch, jc);                                                                         \
    NAME##_plane(rk, rn, vb, scratch, jc);                                                                         \
}

/* One row of Y' codes and upsampled chroma -> R'G'B' scaled to `top`, plus one half, clamped to [0, top] (the
 * caller truncates to integer codes): the range (y0, ys, c0, cs) and the inverse matrix in float32. */
#define YCC_TO_RGB_ROW(NAME, T)                                                                                    \
AI void NAME(const T *restrict yr, const float *restrict ub, const float *restrict vb, float *restrict t0b,       \
             float *restrict t1b, float *restrict t2b, int64_t w, float y0, float ys, float c0, float cs,         \
             const float *inv, float top) {                                                                        \
    const float half = 0.5f;                                                                                       \
    const float i00 = inv[0], i01 = inv[1], i02 = inv[2], i10 = inv[3], i11 = inv[4], i12 = inv[5],              \
                i20 = inv[6], i21 = inv[7], i22 = inv[8];                                                          \
    for (int64_t c = 0; c < w; c++) {                                                                              \
        float yy = ((float)yr[c] - y0) / ys;                                                                       \
        float u = (ub[c] - c0) / cs;                                                                               \
        float v = (vb[c] - c0) / cs;                                                                               \
        float t0 = (yy * i00 + u * i01 + v * i02) * top + half;                                                    \
        float t1 = (yy * i10 + u * i11 + v * i12) * top + half;                                                    \
        float t2 = (yy * i20 + u * i21 + v * i22) * top + half;                                                    \
        t0 = t0 < 0.0f ? 0.0f : t0;                                                                                \
        t1 = t1 < 0.0f ? 0.0f : t1;                                                                                \
        t2 = t2 < 0.0f ? 0.0f : t2;                                                                                \
        t0b[c] = t0 > top ? top : t0;                                                                              \
        t1b[c] = t1 > top ? top : t1;                                                                              \
        t2b[c] = t2 > top ? top : t2;                                                                              \
    }                                                                                                              \
}
UPSAMPLE_CHROMA_ROW(upsample_chroma_u16, uint16_t)
UPSAMPLE_CHROMA_ROW(upsample_chroma_u8, uint8_t)
YCC_TO_RGB_ROW(ycc_to_rgb_u16, uint16_t)
YCC_TO_RGB_ROW(ycc_to_rgb_u8, uint8_t)

/* fused._yuv420_to_linear for luma rows [r0, r1): a >8-bit 4:2:0 frame (codes in the file's range) -> relative
 * linear light, planar (3, h, w) at `out` (plane size `plane`), through the 16-bit R'G'B' codes swscale's
 * bilinear yuv444p16 path gives (chroma left-sited, vertically between rows), `lut[code]` and the primaries
 * `mix`; the codes of every 4th row and column into `small` ((h + 3) / 4, sw, 3). w even. */
SIMD_CLONES
void yuv420_to_linear(const uint16_t *yp, int64_t ystride, const uint16_t *cb, const uint16_t *cr, int64_t cstride,
                      int64_t kc, int64_t jc, int64_t w, float y0, float ys, float c0, float cs, const float *inv,
                      const float *lut, const float *mix, float *out, int64_t plane, uint16_t *small, int64_t sw,
                      int64_t r0, int64_t r1) {
    float *ub = (float *)malloc(sizeof(float) * 14 * (size_t)jc);
    int32_t *q = (int32_t *)malloc(sizeof(int32_t) * 3 * (size_t)w);
    if (!ub || !q) { free(ub); free(q); return; }
    float *vb = ub + 2 * jc, *t0b = vb + 2 * jc, *t1b = t0b + 2 * jc, *t2b = t1b + 2 * jc;
    int32_t *q0 = q, *q1 = q + w, *q2 = q + 2 * w;
    for (int64_t r = r0; r < r1; r++) {
        int64_t k = r / 2;
        int64_t kn = (r % 2 == 0) ? imax(k - 1, 0) : imin(k + 1, kc - 1);
        upsample_chroma_u16(cb + k * cstride, cb + kn * cstride, cr + k * cstride, cr + kn * cstride, ub, vb,
                           t2b + 2 * jc, jc);
        ycc_to_rgb_u16(yp + r * ystride, ub, vb, t0b, t1b, t2b, w, y0, ys, c0, cs, inv, 65535.0f);
        for (int64_t c = 0; c < w; c++) {
            q0[c] = (int32_t)t0b[c];
            q1[c] = (int32_t)t1b[c];
            q2[c] = (int32_t)t2b[c];
        }
        codes_to_light(lut, q0, q1, q2, out + r * w, out + plane + r * w, out + 2 * plane + r * w, mix, w);
        if (r % 4 == 0) {
            uint16_t *s = small + (r / 4) * sw * 3;
            for (int64_t c = 0; c < w; c += 4) {
                s[(c / 4) * 3] = (uint16_t)q0[c];
                s[(c / 4) * 3 + 1] = (uint16_t)q1[c];
                s[(c / 4) * 3 + 2] = (uint16_t)q2[c];
            }
        }
    }
    free(ub);
    free(q);
}

/* An 8-bit 4:2:0 frame (Y'CbCr in the file's range, planes with their strides) -> interleaved 8-bit R'G'B' codes
 * (h, w, 3), luma rows [r0, r1): chroma upsampled as yuv420_to_linear does (left-sited, vertically between rows:
 * left-sited bilinear), the matrix in float32 and each channel rounded to the nearest code and clamped, so
 * superwhites with extreme chroma come out at 255, not wrapped as swscale's planar path wraps them. Odd sizes:
 * the last chroma sample repeats. */
SIMD_CLONES
void yuv420_u8_to_codes(const uint8_t *yp, int64_t ystride, const uint8_t *cb, const uint8_t *cr, int64_t cstride,
                        int64_t kc, int64_t jc, int64_t w, float y0, float ys, float c0, float cs, const float *inv,
                        uint8_t *out, int64_t r0, int64_t r1) {
    float *ub = (float *)malloc(sizeof(float) * 14 * (size_t)jc);
    if (!ub) return;
    float *vb = ub + 2 * jc, *t0b = vb + 2 * jc, *t1b = t0b + 2 * jc, *t2b = t1b + 2 * jc;
    for (int64_t r = r0; r < r1; r++) {
        int64_t k = r / 2;
        int64_t kn = (r % 2 == 0) ? imax(k - 1, 0) : imin(k + 1, kc - 1);
        upsample_chroma_u8(cb + k * cstride, cb + kn * cstride, cr + k * cstride, cr + kn * cstride, ub, vb,
                           t2b + 2 * jc, jc);
        ycc_to_rgb_u8(yp + r * ystride, ub, vb, t0b, t1b, t2b, w, y0, ys, c0, cs, inv, 255.0f);
        uint8_t *o = out + r * w * 3;
        for (int64_t c = 0; c < w; c++) {
            o[3 * c] = (uint8_t)(int32_t)t0b[c];
            o[3 * c + 1] = (uint8_t)(int32_t)t1b[c];
            o[3 * c + 2] = (uint8_t)(int32_t)t2b[c];
        }
    }
    free(ub);
}

/* One row of the SDR output after the gamut mapping (fused._sdr_pass's inner loop), in place over A, B, D:
 * light clamped at 0, the curve's gain on the scalar (max(R,G,B) with `by_max`, else luminance), the clamp at 1,
 * the luminance as shown into Y, the encoded R'G'B' into s0r, s1r, s2r (for the column sums of chroma) and the
 * 8-bit luma codes. Short loops without branches over restrict pointers, so each vectorises; T, G, i0-i2 are
 * scratch rows. */
static inline __attribute__((always_inline)) void sdr_row(
        float *restrict A, float *restrict B, float *restrict D, float *restrict Y, float *restrict s0r,
        float *restrict s1r, float *restrict s2r, uint8_t *restrict yrow, float *restrict T, float *restrict G,
        float *restrict i0, float *restrict i1, float *restrict i2, int64_t ww, float wr,
        float wg, float wb, int by_max, const float *restrict ratio, float rn, float rs,
        const float *restrict oetf, float on, float y0m, float y1m, float y2m) {
    for (int64_t c = 0; c < ww; c++) {
        float a = fmaxf_(A[c], 0.0f), b = fmaxf_(B[c], 0.0f), d = fmaxf_(D[c], 0.0f);
        float v = by_max ? fmax3(a, b, d) : wr * a + wg * b + wb * d;
        A[c] = a;
        B[c] = b;
        D[c] = d;
        T[c] = pad_index(sqrtf(sqrtf(v)) * rs, rn);
    }
    for (int64_t c = 0; c < ww; c++) G[c] = lerp_at(T[c], ratio);
    for (int64_t c = 0; c < ww; c++) {
        float g = G[c];
        float a = fminf_(A[c] * g, 1.0f), b = fminf_(B[c] * g, 1.0f), d = fminf_(D[c] * g, 1.0f);
        Y[c] = wr * a + wg * b + wb * d;
        i0[c] = pad_index(sqrtf(a) * on, on);
        i1[c] = pad_index(sqrtf(b) * on, on);
        i2[c] = pad_index(sqrtf(d) * on, on);
    }
    for (int64_t c = 0; c < ww; c++) {
        float s0 = lerp_at(i0[c], oetf), s1 = lerp_at(i1[c], oetf), s2 = lerp_at(i2[c], oetf);
        T[c] = (y0m * s0 + y1m * s1 + y2m * s2) * 219.0f + 16.5f;
        s0r[c] = s0;
        s1r[c] = s1;
        s2r[c] = s2;
    }
    for (int64_t c = 0; c < ww; c++) { /* apart: a loop mixing 8-bit stores with table reads does not vectorise */
        int32_t qy = (int32_t)T[c];
        qy = qy < 0 ? 0 : qy;
        yrow[c] = (uint8_t)(qy > 255 ? 255 : qy);
    }
}

/* dst[b] = the sum of v over columns [b * fb, (b + 1) * fb), in order (as numba's twin adds them). */
static inline void block_sums(const float *restrict v, float *restrict dst, int64_t nb, int64_t fb) {
    for (int64_t b = 0; b < nb; b++) {
        float t = 0.0f;
        for (int64_t c = b * fb; c < (b + 1) * fb; c++) t += v[c];
        dst[b] = t;
    }
}

/* fused._sdr_pass for chroma rows [k0, k1): rows 2k and 2k + 1 (padded by replication) of `ex` x lin (3, h, w)
 * through the gamut mapping (`compress`: threshold `thr`, `span` = 1 - thr; `oogf` = 1 + tolerance counts
 * pixels out of gamut), the curve's gain on max(R,G,B) (`by_max`) or luminance from `ratio` (over the fourth
 * root, scale `rs`), the clamp to [0, 1], the encoding table `oetf` (over the square root) and 8-bit Y'CbCr
 * 4:2:0 (yq: (hh, ww); ucode, vcode: (hh/2, ww/2)); with `keep`, the luminance of the input (negative light as
 * 0) into yin and of the output as shown into yout, each row summed over blocks of `fb` columns ((h, w / fb) each:
 * the flicker meter's small images without a full-size plane). */
SIMD_CLONES
void sdr_pass(const float *lin, int64_t h, int64_t w, float ex, const float *wts, float thr, float span,
              int compress, float oogf, int by_max, const float *ratio, int64_t ratio_n, float rs, const float *oetf,
              int64_t oetf_n, const float *ym, const float *cm, uint8_t *yq, int64_t ww, uint8_t *ucode,
              uint8_t *vcode, float *yin, float *yout, int keep, int64_t fb, int64_t *oog_rows, int64_t *white_rows,
              int64_t k0, int64_t k1) {
    float *buf = (float *)malloc(sizeof(float) * 19 * (size_t)ww);
    if (!buf) return;
    float *T = buf + 14 * ww, *G = buf + 15 * ww, *I = buf + 16 * ww;
    float *A = buf, *B = buf + ww, *D = buf + 2 * ww, *Y = buf + 3 * ww, *BL = buf + 4 * ww;
    float *S0 = buf + 5 * ww, *S1 = buf + 6 * ww, *S2 = buf + 7 * ww, *R0 = buf + 8 * ww, *R1 = buf + 11 * ww;
    const float zero = 0.0f, one = 1.0f, tiny = 1e-9f;
    const float wr = wts[0], wg = wts[1], wb = wts[2];
    const float on = (float)oetf_n;
    const float y0m = ym[0], y1m = ym[1], y2m = ym[2];
    const int64_t plane = h * w;
    const int64_t jc = ww / 2;
    const int64_t nb = w / fb; /* the flicker luminances' column blocks (the last partial one dropped) */
    for (int64_t k = k0; k < k1; k++) {
        int64_t count = 0;
        for (int dr = 0; dr < 2; dr++) {
            int64_t r = imin(2 * k + dr, h - 1);
            int real_row = 2 * k + dr < h;
            const float *l0 = lin + r * w, *l1 = lin + plane + r * w, *l2 = lin + 2 * plane + r * w;
            for (int64_t c = 0; c < w; c++) {
                A[c] = l0[c] * ex;
                B[c] = l1[c] * ex;
                D[c] = l2[c] * ex;
            }
            for (int64_t c = w; c < ww; c++) {
                A[c] = A[w - 1];
                B[c] = B[w - 1];
                D[c] = D[w - 1];
            }
            if (dr == 0) { /* above reference white: max(R,G,B) of the even pixels (pipeline.output) */
                int64_t n = 0;
                for (int64_t c = 0; c < w; c += 2) n += fmax3(l0[c], l1[c], l2[c]) > 1.001f;
                white_rows[k] = n;
            }
            if (keep && real_row) { /* the input's luminance (G: scratch until sdr_row) */
                for (int64_t c = 0; c < w; c++)
                    G[c] = wr * fmaxf_(l0[c], zero) + wg * fmaxf_(l1[c], zero) + wb * fmaxf_(l2[c], zero);
                block_sums(G, yin + r * nb, nb, fb);
            }
            /* gamut (color.gamut.gamut_map): distance to the grey of the same luminance, 1 = the boundary */
            for (int64_t c = 0; c < ww; c++) {
                float a = A[c], b = B[c], d = D[c];
                float y = wr * a + wg * b + wb * d;
                float mn = a < b ? a : b;
                mn = mn < d ? mn : d;
                Y[c] = y;
                BL[c] = y - mn; /* distance x max(y, tiny) */
            }
            if (real_row) {
                int64_t n = 0;
                for (int64_t c = 0; c < w; c++) n += BL[c] > oogf * fmaxf_(Y[c], tiny);
                count += n;
            }
            if (compress) {
                for (int64_t c = 0; c < ww; c++) {
                    float y = Y[c], yc = fmaxf_(y, tiny), below = BL[c];
                    if (below > thr * yc) {
                        float dist = below / yc;
                        float s = (thr + (one - thr) * tanhf((dist - thr) / span)) / dist;
                        float y0 = fmaxf_(y, zero);
                        A[c] = y0 + (A[c] - y0) * s;
                        B[c] = y0 + (B[c] - y0) * s;
                        D[c] = y0 + (D[c] - y0) * s;
                    }
                }
            }
            float *RW = dr ? R1 : R0;
            if (by_max) /* a constant in each inlined copy: one branch-free loop per scalar */
                sdr_row(A, B, D, Y, RW, RW + ww, RW + 2 * ww, yq + (2 * k + dr) * ww, T, G, I, I + ww, I + 2 * ww, ww,
                        wr, wg, wb, 1, ratio,
                        (float)ratio_n, rs, oetf, on, y0m, y1m, y2m);
            else
                sdr_row(A, B, D, Y, RW, RW + ww, RW + 2 * ww, yq + (2 * k + dr) * ww, T, G, I, I + ww, I + 2 * ww, ww,
                        wr, wg, wb, 0, ratio,
                        (float)ratio_n, rs, oetf, on, y0m, y1m, y2m);
            if (keep && real_row) block_sums(Y, yout + r * nb, nb, fb); /* the output's, as shown */
        }
        oog_rows[k] = count;
        column_sums(R0, R1, S0, S1, S2, ww);
        for (int64_t j = 0; j < jc; j++) {
            int64_t jl = imax(2 * j - 1, 0);
            float v0 = 0.125f * S0[jl] + 0.25f * S0[2 * j] + 0.125f * S0[2 * j + 1];
            float v1 = 0.125f * S1[jl] + 0.25f * S1[2 * j] + 0.125f * S1[2 * j + 1];
            float v2 = 0.125f * S2[jl] + 0.25f * S2[2 * j] + 0.125f * S2[2 * j + 1];
            int32_t qb = (int32_t)((cm[0] * v0 + cm[1] * v1 + cm[2] * v2) * 224.0f + 128.5f);
            int32_t qr = (int32_t)((cm[3] * v0 + cm[4] * v1 + cm[5] * v2) * 224.0f + 128.5f);
            qb = qb < 0 ? 0 : (qb > 255 ? 255 : qb);
            qr = qr < 0 ? 0 : (qr > 255 ? 255 : qr);
            ucode[k * jc + j] = (uint8_t)qb;
            vcode[k * jc + j] = (uint8_t)qr;
        }
    }
    free(buf);
}

/* pow(max(v, 1e-8), inv) for float32 v in (0, 1), memoised in a direct-mapped cache keyed by v's bits: the pixels
 * of an 8-bit source take 256 values per channel, so nearly every call is a hit. The same value as the call. */
typedef struct {
    uint32_t key[256];
    double val[256];
} PowCache;

AI double signal_pow(PowCache *pc, float v, double inv) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    const uint32_t slot = (bits * 2654435761u) >> 24;
    if (pc->key[slot] == bits) return pc->val[slot];
    const double r = pow((double)v > 1e-8 ? (double)v : 1e-8, inv);
    pc->key[slot] = bits;
    pc->val[slot] = r;
    return r;
}

/* One row of expand_clipped's first step: every pixel clamped to [0, 1] into out, its max(R, G, B) into M. Apart
 * from the per-pixel work so that it vectorises. */
AI void clamp_row(const float *restrict x0, const float *restrict x1, const float *restrict x2, float *restrict o0,
                  float *restrict o1, float *restrict o2, float *restrict M, int64_t w) {
    for (int64_t c = 0; c < w; c++) {
        float t0 = x0[c], t1 = x1[c], t2 = x2[c];
        t0 = t0 > 0.0f ? t0 : 0.0f;
        t1 = t1 > 0.0f ? t1 : 0.0f;
        t2 = t2 > 0.0f ? t2 : 0.0f;
        t0 = t0 < 1.0f ? t0 : 1.0f;
        t1 = t1 < 1.0f ? t1 : 1.0f;
        t2 = t2 < 1.0f ? t2 : 1.0f;
        o0[c] = t0;
        o1[c] = t1;
        o2[c] = t2;
        M[c] = fmax3(t0, t1, t2);
    }
}

/* hdrunet's fast mode (fused._expand_clipped), rows [r0, r1): every pixel clamped to [0, 1]; those whose
 * max(R,G,B) is above `start` get per channel v * exp(log_gain * alpha * (a * guide + b)), the coefficient maps
 * (3, hs, ws) read bilinearly (align_corners=False taps), the guide max(R,G,B) ** (1 / gamma), alpha the
 * smoothstep of the channel's signal between lo and hi, pulled to the pixel's largest alpha for channels within
 * neutral_lo of the brightest signal (fading out by neutral_hi). `shift` (h, w), or NULL: added to each channel's
 * signal where the mask reads it (models.deblock). A vectorised clamp of each row, then
 * scalar work on the pixels above `start` (its powers memoised: signal_pow).
 * Precision as numba types the twin: the maps, taps and clamps in float32; the powers, the smoothstep and the
 * exponent in float64, each result rounded to float32 where numba's is. */
SIMD_CLONES
void expand_clipped(const float *x, int64_t h, int64_t w, const float *a, const float *b, int64_t hs, int64_t ws,
                    float *out, const float *shift, double log_gain, double start, double lo, double hi, double gamma,
                    double neutral_lo, double neutral_hi, int64_t r0, int64_t r1) {
    const float sy = (float)((double)hs / (double)h), sx = (float)((double)ws / (double)w);
    const double inv = 1.0 / gamma, lo_lin = pow(lo, gamma), hi_lin = pow(hi, gamma), span = hi - lo;
    const int64_t plane = h * w, splane = hs * ws;
    float *M = (float *)malloc(sizeof(float) * (size_t)w);
    PowCache *pc = (PowCache *)malloc(sizeof(PowCache));
    if (!M || !pc) {
        free(M);
        free(pc);
        return;
    }
    memset(pc->key, 0xff, sizeof pc->key); /* a NaN's bits: never a clamped value */
    for (int64_t r = r0; r < r1; r++) {
        float src = ((float)r + 0.5f) * sy - 0.5f;
        src = src > 0.0f ? src : 0.0f;
        const int64_t ra = imin((int64_t)src, hs - 1), rb = imin(ra + 1, hs - 1);
        const float fr = src - (float)ra;
        clamp_row(x + r * w, x + plane + r * w, x + 2 * plane + r * w, out + r * w, out + plane + r * w,
                  out + 2 * plane + r * w, M, w);
        for (int64_t c = 0; c < w; c++) {
            const float m = M[c];
            if ((double)m <= start) continue;  /* left as decoded on every path */
            const int64_t i = r * w + c;
            const float v[3] = {out[i], out[plane + i], out[2 * plane + i]};
            const double sh = shift ? (double)shift[i] : 0.0;  /* the mask's signal shift (models.deblock) */
            if (sh == 0.0 && (double)m <= lo_lin) continue;  /* every alpha 0: nothing expands */
            if (sh != 0.0) {  /* the brightest channel's shifted signal at or below lo: every alpha 0 */
                const double sm = m < 1.0f ? signal_pow(pc, m, inv) : 1.0;
                if ((double)((float)sm + (float)sh) <= lo) continue;
            }
            float src_c = ((float)c + 0.5f) * sx - 0.5f;
            src_c = src_c > 0.0f ? src_c : 0.0f;
            const int64_t ca = imin((int64_t)src_c, ws - 1), cb = imin(ca + 1, ws - 1);
            const float fc = src_c - (float)ca;
            double sig[3], gain[3], alp[3];
            for (int k = 0; k < 3; k++) sig[k] = v[k] < 1.0f ? signal_pow(pc, v[k], inv) : 1.0;
            const double smax = fmax(sig[0], fmax(sig[1], sig[2]));
            const float g = (float)smax;  /* the guide m ** (1 / gamma): the brightest channel's signal */
            for (int k = 0; k < 3; k++) {
                const float vk = v[k];
                float alpha;
                if (sh == 0.0 && (double)vk <= lo_lin) {
                    alpha = 0.0f;
                } else if (sh == 0.0 && (double)vk >= hi_lin) {
                    alpha = 1.0f;
                } else {
                    double t = ((double)((float)sig[k] + (float)sh) - lo) / span;  /* float32, as torch adds them */
                    t = t > 0.0 ? t : 0.0;
                    t = t < 1.0 ? t : 1.0;
                    alpha = (float)(t * t * (3.0 - 2.0 * t));
                }
                const float *ak_ = a + k * splane, *bk_ = b + k * splane;
                const float ak = (ak_[ra * ws + ca] * (1.0f - fc) + ak_[ra * ws + cb] * fc) * (1.0f - fr)
                                 + (ak_[rb * ws + ca] * (1.0f - fc) + ak_[rb * ws + cb] * fc) * fr;
                const float bk = (bk_[ra * ws + ca] * (1.0f - fc) + bk_[ra * ws + cb] * fc) * (1.0f - fr)
                                 + (bk_[rb * ws + ca] * (1.0f - fc) + bk_[rb * ws + cb] * fc) * fr;
                alp[k] = (double)alpha;
                gain[k] = (double)(ak * g + bk);
            }
            const double amax = fmax(alp[0], fmax(alp[1], alp[2]));
            for (int k = 0; k < 3; k++) {
                double t = (smax - sig[k] - neutral_lo) / (neutral_hi - neutral_lo);
                t = t > 0.0 ? t : 0.0;
                t = t < 1.0 ? t : 1.0;
                const double near = 1.0 - t * t * (3.0 - 2.0 * t);
                const double shared = (alp[k] + near * (amax - alp[k])) * gain[k];
                if (shared != 0.0) out[k * plane + i] = v[k] * (float)exp(log_gain * shared);
            }
        }
    }
    free(pc);
    free(M);
}

/* hdrunet-auto's BT.2446A curve (fused._luminance_gain), rows [r0, r1): `out` (3 planes) times a gain read from
 * `table` (n + 1 entries, linear interpolation; its last entry from the end on) at sqrt(luminance of `lin`, each
 * channel and the sum clamped to [0, 1]) x n. */
SIMD_CLONES
void luminance_gain(const float *lin, float *out, int64_t h, int64_t w, const float *wts, const float *table,
                    int64_t n, int64_t r0, int64_t r1) {
    /* in three loops per row so that each vectorises: the index (clamped to n: the read from n on is table[n] + 0 x
     * 0 from the padded copy, exactly table[n]), the reads, the products */
    float *tab = (float *)malloc(sizeof(float) * ((size_t)n + 2 + (size_t)w));
    if (!tab) return;
    memcpy(tab, table, sizeof(float) * ((size_t)n + 1));
    tab[n + 1] = tab[n];
    float *T = tab + n + 2;
    const float nf = (float)n, w0 = wts[0], w1 = wts[1], w2 = wts[2];
    const int64_t plane = h * w;
    for (int64_t r = r0; r < r1; r++) {
        const float *a0 = lin + r * w, *a1 = a0 + plane, *a2 = a1 + plane;
        float *o0 = out + r * w, *o1 = o0 + plane, *o2 = o1 + plane;
        for (int64_t c = 0; c < w; c++) {
            const float l0 = fminf_(fmaxf_(a0[c], 0.0f), 1.0f), l1 = fminf_(fmaxf_(a1[c], 0.0f), 1.0f),
                        l2 = fminf_(fmaxf_(a2[c], 0.0f), 1.0f);
            float y = w0 * l0 + w1 * l1 + w2 * l2;
            y = y > 0.0f ? y : 0.0f;
            y = y < 1.0f ? y : 1.0f;
            T[c] = pad_index(sqrtf(y) * nf, nf);
        }
        for (int64_t c = 0; c < w; c++) T[c] = lerp_at(T[c], tab);
        for (int64_t c = 0; c < w; c++) {
            const float g = T[c];
            o0[c] *= g;
            o1[c] *= g;
            o2[c] *= g;
        }
    }
    free(tab);
}

/* hdrunet-auto's edge gate (fused._gate_ratios; models.clip_edges.raise_ratios is the reference), rows [r0, r1) of
 * the box [y0, y1) x [x0, x1): where max(R, G, B) of `lin` is above `start` and the exponent `s` (one plane) is below
 * 1, each channel of `out` becomes l * (out / l) ** s with l = lin clamped to [1e-8, 1] and the ratio to 1e-8 and
 * above; in place. Rows outside the box are left alone (the caller splits all rows of the frame). */
/* One row of gate_ratios' test, apart so that it vectorises: 1 where the exponent is below 1 and max(R, G, B) of
 * the light above `start`. */
AI void gated_row(const float *restrict l0, const float *restrict l1, const float *restrict l2, const float *restrict e,
                  uint8_t *restrict flag, float start, int64_t n) {
    for (int64_t c = 0; c < n; c++) flag[c] = (e[c] < 1.0f) & (fmax3(l0[c], l1[c], l2[c]) > start);
}

SIMD_CLONES
void gate_ratios(const float *lin, float *out, const float *s, int64_t h, int64_t w, int64_t y0, int64_t y1,
                 int64_t x0, int64_t x1, float start, int64_t r0, int64_t r1) {
    const int64_t plane = h * w;
    uint8_t *flag = (uint8_t *)malloc((size_t)(x1 > x0 ? x1 - x0 : 1));
    if (!flag) return;
    for (int64_t r = imax(r0, y0); r < imin(r1, y1); r++) {
        const int64_t base = r * w + x0;
        gated_row(lin + base, lin + plane + base, lin + 2 * plane + base, s + base, flag, start, x1 - x0);
        for (int64_t c = 0; c < x1 - x0; c++) {
            if (!flag[c]) continue;
            const int64_t i = base + c;
            const float e = s[i];
            for (int64_t k = 0; k < 3; k++) {
                const float l = fminf_(fmaxf_(lin[k * plane + i], 1e-8f), 1.0f);
                const float q = fmaxf_(out[k * plane + i] / l, 1e-8f);
                /* a ratio of exactly 1 (a pixel the expansion left alone) gives l * exp(e * log(1)) = l: no calls */
                out[k * plane + i] = q == 1.0f ? l : l * expf(e * logf(q));
            }
        }
    }
    free(flag);
}

/* The antialiased bilinear downscale of torch's F.interpolate(mode="bilinear", antialias=True,
 * align_corners=False) (a triangle filter as wide as the scale, each output's taps renormalised at the borders;
 * the taps' windows and weights come from the caller, computed as torch computes them): planes of (h, w) float32 to
 * (oh, ow), output rows [r0, r1) of every plane. Vertical first (contiguous rows, vectorised), then horizontal on
 * the oh rows; torch runs the horizontal pass first, so the two round differently (within a few float32 ulps). */
AI void taps_row(const float *restrict src, float *restrict dst, const float *restrict wt, int64_t taps,
                 int64_t stride, int64_t n) {
    for (int64_t c = 0; c < n; c++) dst[c] = src[c] * wt[0];
    for (int64_t k = 1; k < taps; k++) {
        const float *restrict s = src + k * stride;
        const float wk = wt[k];
        for (int64_t c = 0; c < n; c++) dst[c] += s[c] * wk;
    }
}

SIMD_CLONES
void downscale_aa(const float *x, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                  const int64_t *xmin, const int64_t *xsize, const float *xw, int64_t xk,
                  const int64_t *ymin, const int64_t *ysize, const float *yw, int64_t yk,
                  float *out, int64_t r0, int64_t r1) {
    float *row = (float *)malloc((size_t)(w > 0 ? w : 1) * sizeof(float));
    if (!row) return;
    for (int64_t p = 0; p < planes; p++) {
        const float *src = x + p * h * w;
        for (int64_t r = r0; r < r1; r++) {
            taps_row(src + ymin[r] * w, row, yw + r * yk, ysize[r], w, w);
            float *dst = out + (p * oh + r) * ow;
            for (int64_t c = 0; c < ow; c++) {
                const float *s = row + xmin[c];
                const float *wt = xw + c * xk;
                float t = s[0] * wt[0];
                for (int64_t k = 1; k < xsize[c]; k++) t += s[k] * wt[k];
                dst[c] = t;
            }
        }
    }
    free(row);
}

/* The largest value of each 3x3 neighbourhood (the frame's edge adds nothing): OpenCV's dilate with a 3x3
 * kernel and its default border, exactly (a maximum has no rounding). Rows r0..r1 of the output. */
void max3x3(const float *x, int64_t h, int64_t w, float *out, int64_t r0, int64_t r1) {
    float *col = (float *)malloc((size_t)(w > 0 ? w : 1) * sizeof(float));
    if (!col) return;
    for (int64_t r = r0; r < r1; r++) {
        const float *a = x + imax(r - 1, 0) * w, *b = x + r * w, *c = x + imin(r + 1, h - 1) * w;
        for (int64_t j = 0; j < w; j++) col[j] = fmax3(a[j], b[j], c[j]);  /* vertical maxima */
        float *dst = out + r * w;
        if (w == 1) { dst[0] = col[0]; continue; }
        dst[0] = fmaxf_(col[0], col[1]);
        for (int64_t j = 1; j < w - 1; j++) dst[j] = fmax3(col[j - 1], col[j], col[j + 1]);
        dst[w - 1] = fmaxf_(col[w - 2], col[w - 1]);
    }
    free(col);
}

/* A valid (empty) Python module, so the build and the import machinery treat the file as one; the functions
 * above are reached through ctypes. */
static struct PyModuleDef native_module = {PyModuleDef_HEAD_INIT, "_native", "hdrvid's C kernels (used via ctypes)",
                                           -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&native_module); }

/* hdrunet-auto's per-blob level (fused._blob_gain; models.blob_level), rows [r0, r1): each pixel's log2 factor read
 * bilinearly from the working copy's `stops` (sh x sw) through per-row (y0, y1, fy) and per-column (x0, x1, fx) taps;
 * where it is not 0, `out` (3 planes) times 2^(factor x the smoothstep of max(R, G, B) clamped to [0, 1], to the
 * power 1 / gamma, plus `shift`, from lo to hi). Per row: sums[2 r] += the factors applied, sums[2 r + 1] += the
 * smoothstep weights (the run report's mean). */
void blob_gain(const float *lin, float *out, int64_t h, int64_t w, const float *stops, int64_t sw,
               const int64_t *ty0, const int64_t *ty1, const float *tfy, const int64_t *tx0, const int64_t *tx1,
               const float *tfx, const float *shift, double lo, double hi, double gamma, double *sums, int64_t r0,
               int64_t r1) {
    const int64_t plane = h * w;
    const double inv = 1.0 / gamma;
    for (int64_t r = r0; r < r1; r++) {
        const float *s0 = stops + ty0[r] * sw, *s1 = stops + ty1[r] * sw;
        const float fy = tfy[r];
        const float *a0 = lin + r * w, *a1 = a0 + plane, *a2 = a1 + plane;
        float *o0 = out + r * w, *o1 = o0 + plane, *o2 = o1 + plane;
        double sum_a = 0.0, sum_t = 0.0;
        for (int64_t c = 0; c < w; c++) {
            const int64_t x0 = tx0[c], x1 = tx1[c];
            const float fx = tfx[c];
            const float top = s0[x0] * (1.0f - fx) + s0[x1] * fx, bot = s1[x0] * (1.0f - fx) + s1[x1] * fx;
            const float st = top * (1.0f - fy) + bot * fy;
            if (st == 0.0f) continue;
            float m = fmaxf_(fmaxf_(a0[c], a1[c]), a2[c]);
            m = fminf_(fmaxf_(m, 1e-8f), 1.0f);
            double sig = pow((double)m, inv);
            if (shift) sig += (double)shift[r * w + c];
            double t = (sig - lo) / (hi - lo);
            t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
            const double wt = t * t * (3.0 - 2.0 * t);
            if (wt == 0.0) continue;
            const double add = (double)st * wt;
            const float g = (float)exp2(add);
            o0[c] *= g;
            o1[c] *= g;
            o2[c] *= g;
            sum_a += add;
            sum_t += wt;
        }
        sums[2 * r] = sum_a;
        sums[2 * r + 1] = sum_t;
    }
}
