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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline float fmax3(float a, float b, float c) { float m = a > b ? a : b; return m > c ? m : c; }
static inline float fminf_(float a, float b) { return a < b ? a : b; }
static inline float fmaxf_(float a, float b) { return a > b ? a : b; }
static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* PQ's inverse EOTF by table (fused._pq): `table` has n + 1 entries evenly spaced in the fourth root of light. */
static inline float pq_of(float x, const float *table, int64_t n, float scale) {
    if (x <= 0.0f) return table[0];
    float t = sqrtf(sqrtf(x)) * scale;
    int64_t i = (int64_t)t;
    if (i >= n) return 1.0f;
    return table[i] + (t - (float)i) * (table[i + 1] - table[i]);
}

/* fused._table_at with a float64 table (the EOTF), at a float64 index. */
static inline double table_at_d(double t, const double *table, int64_t n) {
    if (t >= (double)n) return table[n];
    int64_t i = (int64_t)t;
    return table[i] + (t - (double)(float)i) * (table[i + 1] - table[i]);
}

/* The same at a float32 index (fused._decoded_light passes one). */
static inline double table_at_f(float t, const double *table, int64_t n) {
    if (t >= (float)n) return table[n];
    int64_t i = (int64_t)t;
    return table[i] + (double)(t - (float)i) * (table[i + 1] - table[i]);
}

/* Pass 1 of hdr10_planes from R'G'B' codes (fused._pass1 without the roll-off: light from lut[codes] never
 * exceeds the peak on this path), for chroma rows [k0, k1). */
#define PASS1(NAME, CODE_T)                                                                                        \
void NAME(const CODE_T *codes, int64_t h, int64_t w, const float *lut, const float *mix, const float *table,     \
          int64_t table_n, float pq_scale, const float *ym, const float *cm, const float *inv, float *y,          \
          int64_t ww, uint16_t *ucode, uint16_t *vcode, float *lift, float *liftc, float *rowmax,                \
          int64_t k0, int64_t k1) {                                                                              \
    int64_t jc = ww / 2;                                                                                         \
    float *sums = (float *)malloc(sizeof(float) * 3 * (size_t)ww);                                               \
    if (!sums) return;                                                                                           \
    for (int64_t k = k0; k < k1; k++) {                                                                          \
        memset(sums, 0, sizeof(float) * 3 * (size_t)ww);                                                         \
        float best = 0.0f;                                                                                       \
        for (int dr = 0; dr < 2; dr++) {                                                                         \
            int64_t r = imin(2 * k + dr, h - 1);                                                                 \
            const CODE_T *row = codes + r * w * 3;                                                               \
            float *yrow = y + (2 * k + dr) * ww;                                                                 \
            for (int64_t c = 0; c < ww; c++) {                                                                   \
                int64_t cc = imin(c, w - 1);                                                                     \
                float a = lut[row[cc * 3]], b = lut[row[cc * 3 + 1]], d = lut[row[cc * 3 + 2]];                  \
                float s0 = pq_of(mix[0] * a + mix[1] * b + mix[2] * d, table, table_n, pq_scale);                \
                float s1 = pq_of(mix[3] * a + mix[4] * b + mix[5] * d, table, table_n, pq_scale);                \
                float s2 = pq_of(mix[6] * a + mix[7] * b + mix[8] * d, table, table_n, pq_scale);                \
                yrow[c] = ym[0] * s0 + ym[1] * s1 + ym[2] * s2;                                                  \
                sums[c * 3] += s0;                                                                               \
                sums[c * 3 + 1] += s1;                                                                           \
                sums[c * 3 + 2] += s2;                                                                           \
                best = fmaxf_(best, fmax3(s0, s1, s2));                                                          \
            }                                                                                                    \
        }                                                                                                        \
        rowmax[k] = best;                                                                                        \
        for (int64_t j = 0; j < jc; j++) {                                                                       \
            const float *left = sums + imax(2 * j - 1, 0) * 3, *mid = sums + 2 * j * 3,                          \
                        *right = sums + (2 * j + 1) * 3;                                                         \
            float v0 = 0.125f * left[0] + 0.25f * mid[0] + 0.125f * right[0];                                    \
            float v1 = 0.125f * left[1] + 0.25f * mid[1] + 0.125f * right[1];                                    \
            float v2 = 0.125f * left[2] + 0.25f * mid[2] + 0.125f * right[2];                                    \
            int64_t qb = imin(imax((int64_t)((cm[0] * v0 + cm[1] * v1 + cm[2] * v2) * 896.0f + 512.5f), 0), 1023);\
            int64_t qr = imin(imax((int64_t)((cm[3] * v0 + cm[4] * v1 + cm[5] * v2) * 896.0f + 512.5f), 0), 1023);\
            ucode[k * jc + j] = (uint16_t)qb;                                                                    \
            vcode[k * jc + j] = (uint16_t)qr;                                                                    \
            double cb = ((double)qb - 512.0) / 896.0, cr = ((double)qr - 512.0) / 896.0;                         \
            double most = -1e30;                                                                                 \
            for (int ch = 0; ch < 3; ch++) {                                                                     \
                double v = (double)inv[ch * 3 + 1] * cb + (double)inv[ch * 3 + 2] * cr;                          \
                lift[(k * jc + j) * 3 + ch] = (float)v;                                                          \
                if (v > most) most = v;                                                                          \
            }                                                                                                    \
            liftc[k * jc + j] = (float)most;                                                                     \
        }                                                                                                        \
    }                                                                                                            \
    free(sums);                                                                                                  \
}

PASS1(hdr10_pass1_u8, uint8_t)
PASS1(hdr10_pass1_u16, uint16_t)

/* Pass 2 (fused._pass2): the luma adjustment and quantisation of luma rows [r0, r1), with the frame statistics
 * of the even pixels (largest decoded max(R',G',B') signal and the sum of max(R,G,B) in nits per row). */
void hdr10_pass2(const float *y, int64_t hh, int64_t ww, const float *lift, int64_t kc, int64_t jc,
                 const float *worst_c, float ceiling, float top, const double *eotf, int64_t eotf_n, uint16_t *yq,
                 double *stats, double *sums, int64_t r0, int64_t r1) {
    const float half = (float)(0.5 / 876.0);
    const float ceil_ = ceiling - half;
    const float tp = top;
    (void)hh;
    for (int64_t r = r0; r < r1; r++) {
        int64_t k = r / 2;
        int64_t kn = (r % 2 == 0) ? imax(k - 1, 0) : imin(k + 1, kc - 1);
        double best = 0.0, total = 0.0;
        for (int64_t c = 0; c < ww; c++) {
            int64_t j = c / 2;
            float worst = worst_c[k * jc + j];
            float v = fminf_(y[r * ww + c], ceil_ - worst);
            int64_t jn = imin(j + 1, jc - 1);
            float exact = -1e30f;
            int keep = (r % 2 == 0) && (c % 2 == 0);
            if (v > tp - worst || keep) {
                for (int ch = 0; ch < 3; ch++) {
                    float a = 0.75f * lift[(k * jc + j) * 3 + ch] + 0.25f * lift[(kn * jc + j) * 3 + ch];
                    if (c % 2 == 1)
                        a = 0.5f * (a + 0.75f * lift[(k * jc + jn) * 3 + ch] + 0.25f * lift[(kn * jc + jn) * 3 + ch]);
                    exact = fmaxf_(exact, a);
                }
                v = fminf_(v, tp - exact);
            }
            int64_t q = imin(imax((int64_t)(v * 876.0f + 64.5f), 0), 1023);
            yq[r * ww + c] = (uint16_t)q;
            if (keep) {
                double s = ((double)q - 64.0) / 876.0 + (double)exact;
                s = s < 0.0 ? 0.0 : s;
                s = s > 1.0 ? 1.0 : s;
                if (s > best) best = s;
                total += table_at_d(s * (double)eotf_n, eotf, eotf_n);
            }
        }
        stats[r] = best;
        sums[r] = total;
    }
}

/* The light of a decoded 10-bit 4:2:0 BT.2020 PQ frame (fused._decoded_light), luma rows [r0, r1): per row the
 * largest max(R',G',B') signal and the sum of max(R,G,B) in nits, chroma upsampled as a bilinear decoder does. */
void decoded_light(const uint16_t *yp, int64_t ystride, const uint16_t *cb, const uint16_t *cr, int64_t cstride,
                   int64_t kc, int64_t jc, const double *inv, int64_t width, const double *table, int64_t table_n,
                   double *rowmax, double *rowsum, int64_t r0, int64_t r1) {
    const float mid = 512.0f, q1 = 0.25f, q3 = 0.75f, half = 0.5f;
    const float scale_c = (float)(1.0 / 896.0), scale_y = (float)(1.0 / 876.0);
    const float i01 = (float)inv[1], i02 = (float)inv[2], i11 = (float)inv[4], i12 = (float)inv[5],
                i21 = (float)inv[7], i22 = (float)inv[8];
    for (int64_t r = r0; r < r1; r++) {
        int64_t k = r / 2;
        int64_t kn = (r % 2 == 0) ? imax(k - 1, 0) : imin(k + 1, kc - 1);
        float best = 0.0f;
        double total = 0.0;
        const uint16_t *bk = cb + k * cstride, *bn = cb + kn * cstride, *rk = cr + k * cstride, *rn = cr + kn * cstride;
        for (int64_t c = 0; c < width; c++) {
            int64_t j = c / 2;
            float u = q3 * ((float)bk[j] - mid) + q1 * ((float)bn[j] - mid);
            float v = q3 * ((float)rk[j] - mid) + q1 * ((float)rn[j] - mid);
            if (c % 2 == 1) {
                int64_t jn = imin(j + 1, jc - 1);
                u = half * (u + q3 * ((float)bk[jn] - mid) + q1 * ((float)bn[jn] - mid));
                v = half * (v + q3 * ((float)rk[jn] - mid) + q1 * ((float)rn[jn] - mid));
            }
            u *= scale_c;
            v *= scale_c;
            float lift = fmax3(i01 * u + i02 * v, i11 * u + i12 * v, i21 * u + i22 * v);
            float s = fminf_(fmaxf_(((float)yp[r * ystride + c] - 64.0f) * scale_y + lift, 0.0f), 1.0f);
            best = fmaxf_(best, s);
            total += table_at_f(s * (float)table_n, table, table_n);
        }
        rowmax[r] = best;
        rowsum[r] = total;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The tone-mapping path (hdrvid tonemap): decoding HDR to linear light and the SDR output of a curve operator.
 * Written as short loops over row buffers so the compiler vectorises them (table reads become gathers); on
 * x86-64 Linux GCC builds an AVX-512, an AVX2 and a baseline version and the loader picks one per CPU. The
 * arithmetic is the same, operation for operation, as fused._yuv420_to_linear and fused._sdr_pass (IEEE
 * float32 in every version: no fast-math, no contraction), so every version gives the same codes.
 */
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

/* Light of three 16-bit code planes through a table and a 3x3 primaries matrix (one row). */
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

/* fused._yuv420_to_linear for luma rows [r0, r1): a >8-bit 4:2:0 frame (codes in the file's range) -> relative
 * linear light, planar (3, h, w) at `out` (plane size `plane`), through the 16-bit R'G'B' codes swscale's
 * bilinear yuv444p16 path gives (chroma left-sited, vertically between rows), `lut[code]` and the primaries
 * `mix`; the codes of every 4th row and column into `small` ((h + 3) / 4, sw, 3). w even. */
SIMD_CLONES
void yuv420_to_linear(const uint16_t *yp, int64_t ystride, const uint16_t *cb, const uint16_t *cr, int64_t cstride,
                      int64_t kc, int64_t jc, int64_t w, float y0, float ys, float c0, float cs, const float *inv,
                      const float *lut, const float *mix, float *out, int64_t plane, uint16_t *small, int64_t sw,
                      int64_t r0, int64_t r1) {
    float *ub = (float *)malloc(sizeof(float) * 2 * (size_t)w);
    int32_t *q = (int32_t *)malloc(sizeof(int32_t) * 3 * (size_t)w);
    if (!ub || !q) { free(ub); free(q); return; }
    float *vb = ub + w;
    int32_t *q0 = q, *q1 = q + w, *q2 = q + 2 * w;
    const float top = 65535.0f, half = 0.5f, a3 = 0.75f, a1 = 0.25f;
    const float i00 = inv[0], i01 = inv[1], i02 = inv[2], i10 = inv[3], i11 = inv[4], i12 = inv[5], i20 = inv[6],
                i21 = inv[7], i22 = inv[8];
    for (int64_t r = r0; r < r1; r++) {
        int64_t k = r / 2;
        int64_t kn = (r % 2 == 0) ? imax(k - 1, 0) : imin(k + 1, kc - 1);
        const uint16_t *bk = cb + k * cstride, *bn = cb + kn * cstride, *rk = cr + k * cstride, *rn = cr + kn * cstride;
        for (int64_t j = 0; j < jc; j++) {
            ub[2 * j] = a3 * (float)bk[j] + a1 * (float)bn[j];
            vb[2 * j] = a3 * (float)rk[j] + a1 * (float)rn[j];
        }
        for (int64_t j = 0; j < jc; j++) {
            int64_t jn = j + 1 < jc ? j + 1 : jc - 1;
            ub[2 * j + 1] = half * (ub[2 * j] + a3 * (float)bk[jn] + a1 * (float)bn[jn]);
            vb[2 * j + 1] = half * (vb[2 * j] + a3 * (float)rk[jn] + a1 * (float)rn[jn]);
        }
        const uint16_t *yr = yp + r * ystride;
        for (int64_t c = 0; c < w; c++) {
            float yy = ((float)yr[c] - y0) / ys;
            float u = (ub[c] - c0) / cs;
            float v = (vb[c] - c0) / cs;
            float t0 = (yy * i00 + u * i01 + v * i02) * top + half;
            float t1 = (yy * i10 + u * i11 + v * i12) * top + half;
            float t2 = (yy * i20 + u * i21 + v * i22) * top + half;
            t0 = t0 < 0.0f ? 0.0f : t0;
            t1 = t1 < 0.0f ? 0.0f : t1;
            t2 = t2 < 0.0f ? 0.0f : t2;
            q0[c] = (int32_t)(t0 > top ? top : t0);
            q1[c] = (int32_t)(t1 > top ? top : t1);
            q2[c] = (int32_t)(t2 > top ? top : t2);
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

/* The column sums of two rows' encoded R'G'B' (fused._sdr_pass: 0 + first row + second row, in that order). */
static inline __attribute__((always_inline)) void column_sums(const float *restrict r0, const float *restrict r1,
                                                              float *restrict S0, float *restrict S1,
                                                              float *restrict S2, int64_t ww) {
    for (int64_t c = 0; c < ww; c++) {
        S0[c] = (0.0f + r0[c]) + r1[c];
        S1[c] = (0.0f + r0[ww + c]) + r1[ww + c];
        S2[c] = (0.0f + r0[2 * ww + c]) + r1[2 * ww + c];
    }
}

/* fused._sdr_pass for chroma rows [k0, k1): rows 2k and 2k + 1 (padded by replication) of `ex` x lin (3, h, w)
 * through the gamut mapping (`compress`: threshold `thr`, `span` = 1 - thr; `oogf` = 1 + tolerance counts
 * pixels out of gamut), the curve's gain on max(R,G,B) (`by_max`) or luminance from `ratio` (over the fourth
 * root, scale `rs`), the clamp to [0, 1], the encoding table `oetf` (over the square root) and 8-bit Y'CbCr
 * 4:2:0 (yq: (hh, ww); ucode, vcode: (hh/2, ww/2)); with `keep`, the luminance of the input (negative light as
 * 0) into yin and of the output as shown into yout ((h, w) each). */
SIMD_CLONES
void sdr_pass(const float *lin, int64_t h, int64_t w, float ex, const float *wts, float thr, float span,
              int compress, float oogf, int by_max, const float *ratio, int64_t ratio_n, float rs, const float *oetf,
              int64_t oetf_n, const float *ym, const float *cm, uint8_t *yq, int64_t ww, uint8_t *ucode,
              uint8_t *vcode, float *yin, float *yout, int keep, int64_t *oog_rows, int64_t k0, int64_t k1) {
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
            if (keep && real_row) {
                float *yi = yin + r * w;
                for (int64_t c = 0; c < w; c++)
                    yi[c] = wr * fmaxf_(l0[c], zero) + wg * fmaxf_(l1[c], zero) + wb * fmaxf_(l2[c], zero);
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
            if (keep && real_row) memcpy(yout + r * w, Y, sizeof(float) * (size_t)w);
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

/* A valid (empty) Python module, so the build and the import machinery treat the file as one; the functions
 * above are reached through ctypes. */
static struct PyModuleDef native_module = {PyModuleDef_HEAD_INIT, "_native", "hdrvid's C kernels (used via ctypes)",
                                           -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&native_module); }
