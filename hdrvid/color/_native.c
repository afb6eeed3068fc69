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

/* A valid (empty) Python module, so the build and the import machinery treat the file as one; the functions
 * above are reached through ctypes. */
static struct PyModuleDef native_module = {PyModuleDef_HEAD_INIT, "_native", "hdrvid's C kernels (used via ctypes)",
                                           -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&native_module); }
