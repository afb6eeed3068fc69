"""The numba kernels: the plain transcode's per-pixel chain, the tone-mapping and decoding passes, the model
helpers.

``hdr10_planes`` goes from decoded 8/16-bit R'G'B' codes straight to 10-bit Y'CbCr 4:2:0 planes: code ->
nits (a table per code value), BT.709 -> BT.2020 (3x3), PQ (a table per octave, linearly interpolated), Y'CbCr
BT.2020 NCL with the chroma filter ([1 2 1]/4 on the even columns of the mean of two rows, left-sited) and the
luma adjustment under the mastering peak of the reference path (``pipeline.output.to_yuv420``, see there).
Two parallel passes over the frame instead of ~25 numpy/torch passes of 11-44 MB each; the reference path
stays the definition and ``tests/test_fused.py`` holds this to it within one code value. The kernels compile
on first use and are cached (``cache=True``: next to this file, or numba's user cache when that is read-only).

The plain transcode itself runs the C twins of ``hdr10_planes`` and ``decoded_light`` where the package was
built with them (:mod:`hdrvid.color.kernels`, bit for bit the same codes): these here are their fallback and
their reference. The tables and the packed OpenCV helpers (``pq_decode``, ``upsample_chroma``,
``channel_max``, ``planes_buffer``) live in :mod:`hdrvid.color.packed`.
"""

from __future__ import annotations

import math
import sys

import cv2
import numpy as np


def _import_numba():  # type: ignore[no-untyped-def]
    """numba checks SciPy's version when it loads; colour-science, imported first without SciPy installed,
    leaves a stand-in module under that name that has no version, and numba's check fails on it. The
    stand-in is set aside while numba loads."""
    stand_in = sys.modules.get("scipy")
    if stand_in is None or isinstance(getattr(stand_in, "__version__", None), str):
        import numba

        return numba
    del sys.modules["scipy"]
    try:
        import numba

        return numba
    finally:
        sys.modules["scipy"] = stand_in


numba = _import_numba()

from hdrvid.color import packed  # noqa: E402
from hdrvid.color.packed import PQ_SCALE, PQ_TABLE_SIZE, eotf_table, pq_table, roll_off_params, sdr_buffers  # noqa: E402
from hdrvid.color.ycbcr import code_scales, rgb_to_ycbcr_matrix

# --- PQ by table ----------------------------------------------------------------------------------

@numba.njit(cache=True, inline="always")
def _pq(x: float, table: np.ndarray) -> float:  # pragma: no cover - compiled
    if x <= 0.0:
        return table[0]
    t = np.float32(math.sqrt(math.sqrt(x))) * np.float32(PQ_SCALE)
    i = int(t)
    if i >= PQ_TABLE_SIZE:
        return np.float32(1.0)
    return table[i] + (t - np.float32(i)) * (table[i + 1] - table[i])


def pq_encode(nits: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 inverse EOTF of absolute light (nits, float32, any shape) -> signal [0, 1], by table."""
    flat = np.ascontiguousarray(nits, np.float32).ravel()
    return _pq_array(flat, pq_table()).reshape(np.shape(nits))


@numba.njit(cache=True)
def _pq_array(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = _pq(x[i], table)
    return out


# --- the fused kernel -----------------------------------------------------------------------------

@numba.njit(cache=True, inline="always")
def _chroma_rows(r: int, rows: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """The chroma row a luma row sits on and the one it is interpolated with (4:2:0, vertically between)."""
    k = r // 2
    return k, (max(k - 1, 0) if r % 2 == 0 else min(k + 1, rows - 1))


@numba.njit(cache=True, inline="always")
def _smooth(x, lo, hi):  # pragma: no cover - compiled
    """Smoothstep of ``x`` from ``lo`` to ``hi`` (float64)."""
    t = min(max((x - lo) / (hi - lo), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@numba.njit(cache=True, inline="always")
def _table_at(t: float, table: np.ndarray) -> float:  # pragma: no cover - compiled
    """``table`` read at fractional index ``t`` >= 0 by linear interpolation (its last entry from the end on)."""
    n = table.size - 1
    if t >= n:
        return table[n]
    i = int(t)
    return table[i] + (t - np.float32(i)) * (table[i + 1] - table[i])


@numba.njit(cache=True, inline="always")
def _eotf(s: float, table: np.ndarray) -> float:  # pragma: no cover - compiled
    """PQ's EOTF of a signal in [0, 1] from ``eotf_table`` (linear interpolation)."""
    return _table_at(s * (table.size - 1), table)


@numba.njit(cache=True, inline="always")
def _roll_off(m, roll, table, eotf):  # pragma: no cover - compiled
    """The ratio ``pipeline.output``'s BT.2390 roll-off scales a pixel's light by, from its max(R,G,B) in nits
    ``m``; ``roll`` = (source peak, target peak, knee, pb, span, ks, max_lum) as ``color.tonemap`` defines
    them (knee >= target peak: only a clamp at the target)."""
    if m <= roll[2] or m <= 0.0:
        return 1.0
    if roll[0] <= roll[1]:
        return roll[1] / m if m > roll[1] else 1.0
    pb, span, ks, max_lum = roll[3], roll[4], roll[5], roll[6]
    e1 = min(max((_pq(m, table) - pb) / span, 0.0), 1.0)
    t = max((e1 - ks) / (1 - ks), 0.0)
    t2 = t * t
    t3 = t2 * t
    p = (2 * t3 - 3 * t2 + 1) * ks + (t3 - 2 * t2 + t) * (1 - ks) + (-2 * t3 + 3 * t2) * max_lum
    e2 = e1 if e1 < ks else p
    return _eotf(e2 * span + pb, eotf) / m


@numba.njit(cache=True, inline="always")
def _chroma_codes(sums, j, cm, scale, offset, top):  # pragma: no cover - compiled
    """Chroma sample j of a pair of rows whose column sums of R'G'B' are ``sums`` (ww, 3), as
    ``pipeline.output.to_yuv420`` filters it ([1 2 1]/4 on the even columns of the rows' mean, left-sited), through
    the matrix's chroma rows ``cm`` and quantised (code = floor(c * scale + offset), clamped to [0, top])."""
    f32 = np.float32
    left = sums[max(2 * j - 1, 0)]
    mid = sums[2 * j]
    right = sums[2 * j + 1]
    v0 = f32(0.125) * left[0] + f32(0.25) * mid[0] + f32(0.125) * right[0]
    v1 = f32(0.125) * left[1] + f32(0.25) * mid[1] + f32(0.125) * right[1]
    v2 = f32(0.125) * left[2] + f32(0.25) * mid[2] + f32(0.125) * right[2]
    qb = min(max(int((cm[0, 0] * v0 + cm[0, 1] * v1 + cm[0, 2] * v2) * scale + offset), 0), top)
    qr = min(max(int((cm[1, 0] * v0 + cm[1, 1] * v1 + cm[1, 2] * v2) * scale + offset), 0), top)
    return qb, qr


@numba.njit(cache=True, parallel=True)
def _pass1(codes, lut, lin, white, roll, eotf, mix, table, ym, cm, inv, y, ucode, vcode, lift, liftc,
           rowmax):  # pragma: no cover
    """Per chroma row k (parallel): R'G'B' of rows 2k and 2k+1 (padded by replication), Y' into ``y``, Cb/Cr
    codes into ``ucode``/``vcode`` (10-bit), each chroma sample's R'G'B' lift into ``lift``, row maxima into
    ``rowmax``. Light from ``lut[codes]`` (H, W, 3), or, when ``lin`` is not empty, ``white * lin`` (3, H, W),
    rolled off above the knee (``_roll_off``) and clamped at the target peak."""
    planar = lin.shape[1] > 0
    h, w = (lin.shape[1], lin.shape[2]) if planar else (codes.shape[0], codes.shape[1])
    hh, ww = y.shape
    kc = ucode.shape[0]
    f32 = np.float32
    zero = f32(0.0)
    wt = f32(white)
    knee = roll[2]
    for k in numba.prange(kc):
        sums = np.zeros((ww, 3), np.float32)
        best = zero
        for dr in range(2):
            r = min(2 * k + dr, h - 1)
            for c in range(ww):
                cc = min(c, w - 1)
                if planar:
                    a = lin[0, r, cc] * wt  # (negative light, outside BT.709, goes on to BT.2020; _pq clips)
                    b = lin[1, r, cc] * wt
                    d = lin[2, r, cc] * wt
                else:
                    a = lut[codes[r, cc, 0]]
                    b = lut[codes[r, cc, 1]]
                    d = lut[codes[r, cc, 2]]
                m = max(a, b, d)
                if m > knee:  # (the roll-off is the identity below its knee)
                    g = f32(_roll_off(m, roll, table, eotf))
                    a *= g
                    b *= g
                    d *= g
                s0 = _pq(mix[0, 0] * a + mix[0, 1] * b + mix[0, 2] * d, table)
                s1 = _pq(mix[1, 0] * a + mix[1, 1] * b + mix[1, 2] * d, table)
                s2 = _pq(mix[2, 0] * a + mix[2, 1] * b + mix[2, 2] * d, table)
                y[2 * k + dr, c] = ym[0] * s0 + ym[1] * s1 + ym[2] * s2
                sums[c, 0] += s0
                sums[c, 1] += s1
                sums[c, 2] += s2
                best = max(best, s0, s1, s2)
        rowmax[k] = best
        for j in range(ww // 2):
            qb, qr = _chroma_codes(sums, j, cm, f32(896.0), f32(512.5), 1023)
            ucode[k, j] = qb
            vcode[k, j] = qr
            cb = (qb - 512.0) / 896.0
            cr = (qr - 512.0) / 896.0
            most = -1e30
            for ch in range(3):
                lift[k, j, ch] = inv[ch, 1] * cb + inv[ch, 2] * cr
                most = max(most, lift[k, j, ch])
            liftc[k, j] = most


@numba.njit(cache=True, parallel=True)
def _pass2(y, lift, worst_c, ceiling, top, eotf, yq, stats, sums):  # pragma: no cover - compiled
    """Per luma row (parallel): the luma adjustment (see ``pipeline.output.to_yuv420``) and quantisation into
    ``yq``; ``stats[r]`` / ``sums[r]`` = the largest decoded max(R', G', B') signal / the sum of max(R, G, B) in
    nits of row r's even pixels as a bilinear decoder reconstructs them (frame statistics)."""
    hh, ww = y.shape
    kc, jc = lift.shape[0], lift.shape[1]
    f32 = np.float32
    half = f32(0.5 / 876.0)
    ceil = f32(ceiling) - half
    tp = f32(top)
    for r in numba.prange(hh):
        k, kn = _chroma_rows(r, kc)
        best = 0.0
        total = 0.0
        for c in range(ww):
            j = c // 2
            worst = worst_c[k, j]
            v = min(y[r, c], ceil - worst)
            jn = min(j + 1, jc - 1)
            exact = f32(-1e30)
            if v > tp - worst or (r % 2 == 0 and c % 2 == 0):  # the exact lift where it can bind (or is kept)
                for ch in range(3):
                    a = f32(0.75) * lift[k, j, ch] + f32(0.25) * lift[kn, j, ch]
                    if c % 2 == 1:
                        a = f32(0.5) * (a + f32(0.75) * lift[k, jn, ch] + f32(0.25) * lift[kn, jn, ch])
                    exact = max(exact, a)
                v = min(v, tp - exact)
            q = min(max(int(v * f32(876.0) + f32(64.5)), 0), 1023)
            yq[r, c] = q
            if r % 2 == 0 and c % 2 == 0:
                s = min(max((q - 64.0) / 876.0 + exact, 0.0), 1.0)
                best = max(best, s)
                total += _eotf(s, eotf)
        stats[r] = best
        sums[r] = total


def hdr10_planes(codes: np.ndarray, lut: np.ndarray, ceiling: float) -> tuple[list[np.ndarray], float, float]:
    """R'G'B' codes (H, W, 3; uint8 or uint16) -> BT.2020 PQ Y'CbCr 4:2:0 10-bit planes (limited range, sizes
    rounded up to even; views of one buffer in PyAV's yuv420p10le layout: ``planes_buffer``), the largest
    decoded max(R', G', B') signal and the mean max(R, G, B) in nits, both on the even rows and columns as a
    bilinear decoder reconstructs them. ``lut``: nits of BT.709 light per code value (float32, at most the
    peak: no roll-off); ``ceiling``: PQ signal of the mastering peak."""
    return _hdr10(codes, lut, np.zeros((3, 0, 0), np.float32), 0.0, _NO_ROLL_OFF, ceiling)


def hdr10_planes_linear(linear: np.ndarray, white: float, ceiling: float,
                        roll_off: tuple[float, float]) -> tuple[list[np.ndarray], float, float]:
    """``hdr10_planes`` from relative linear BT.709 light: ``linear`` (3, H, W) float32 times ``white`` nits
    (light outside BT.709, negative there, is converted to BT.2020 before what stays negative is clipped),
    through ``pipeline.output``'s BT.2390 roll-off on max(R,G,B) from ``roll_off`` = (source peak, target peak)
    nits (the identity below the knee; a clamp when the source peak is the target's)."""
    roll = roll_off_params(roll_off)
    return _hdr10(np.zeros((1, 1, 3), np.uint8), np.zeros(256, np.float32), np.ascontiguousarray(linear, np.float32),
                  float(white), roll, ceiling)


_NO_ROLL_OFF = np.array([0.0, np.inf, np.inf, 0.0, 1.0, 0.0, 1.0], np.float64)


def _hdr10(codes: np.ndarray, lut: np.ndarray, linear: np.ndarray, white: float, roll: np.ndarray,
           ceiling: float) -> tuple[list[np.ndarray], float, float]:
    """Both entry points: light from ``lut[codes]``, or from ``white * linear`` when ``linear`` is not empty."""
    from hdrvid.color.gamut import BT709_TO_BT2020

    h, w = linear.shape[1:] if linear.shape[1] else codes.shape[:2]
    hh, ww = h + h % 2, w + w % 2
    m = rgb_to_ycbcr_matrix("bt2020nc")
    y = np.empty((hh, ww), np.float32)
    n = hh * ww  # the planes in one buffer, laid out as PyAV's yuv420p10le frame (handed over without a copy)
    buf = np.empty(n * 3 // 2, np.uint16)
    yq, ucode, vcode = buf[:n].reshape(hh, ww), buf[n:n * 5 // 4].reshape(hh // 2, ww // 2), buf[n * 5 // 4:].reshape(
        hh // 2, ww // 2)
    lift = np.empty((hh // 2, ww // 2, 3), np.float32)
    liftc = np.empty((hh // 2, ww // 2), np.float32)
    rowmax = np.empty(hh // 2, np.float32)
    _pass1(codes, lut, linear, white, roll, eotf_table(),
           np.asarray(BT709_TO_BT2020, np.float32), pq_table(), m[0].astype(np.float32),
           m[1:].astype(np.float32), np.linalg.inv(m).astype(np.float32), y, ucode, vcode, lift, liftc, rowmax)
    worst = cv2.dilate(liftc, np.ones((3, 3), np.uint8))  # the largest lift of each 3x3 chroma neighbourhood
    top = float(rowmax.max()) - 0.5 / 876.0
    stats = np.zeros(hh, np.float64)
    sums = np.zeros(hh, np.float64)
    _pass2(y, lift, worst, float(ceiling), top, eotf_table(), yq, stats, sums)
    even = ((hh + 1) // 2) * ((ww + 1) // 2)
    return [yq, ucode, vcode], float(stats.max()), float(sums.sum()) / even


# --- packed helpers (OpenCV) for decoded frames ---------------------------------------------------

# --- light level of decoded frames ----------------------------------------------------------------

@numba.njit(cache=True, parallel=True)
def _decoded_light(yp, cb, cr, inv, width, height, table, rowmax, rowsum):  # pragma: no cover - compiled
    """Per luma row (parallel) of a decoded 10-bit 4:2:0 frame: the largest max(R', G', B') signal and the sum
    of max(R, G, B) in nits over the row's first ``width`` pixels, chroma upsampled as a bilinear decoder does
    (left-sited columns, vertically between rows; ``upsample_chroma``). Float32 but for the row sums."""
    kc, jc = cb.shape
    f32 = np.float32
    mid, q1, q3, half = f32(512.0), f32(0.25), f32(0.75), f32(0.5)
    scale_c, scale_y = f32(1.0 / 896.0), f32(1.0 / 876.0)
    i01, i02, i11, i12, i21, i22 = (f32(inv[0, 1]), f32(inv[0, 2]), f32(inv[1, 1]), f32(inv[1, 2]), f32(inv[2, 1]),
                                    f32(inv[2, 2]))
    n = table.size - 1
    for r in numba.prange(height):
        k, kn = _chroma_rows(r, kc)
        best = f32(0.0)
        total = 0.0
        for c in range(width):
            j = c // 2
            u = q3 * (f32(cb[k, j]) - mid) + q1 * (f32(cb[kn, j]) - mid)
            v = q3 * (f32(cr[k, j]) - mid) + q1 * (f32(cr[kn, j]) - mid)
            if c % 2 == 1:
                jn = min(j + 1, jc - 1)
                u = half * (u + q3 * (f32(cb[k, jn]) - mid) + q1 * (f32(cb[kn, jn]) - mid))
                v = half * (v + q3 * (f32(cr[k, jn]) - mid) + q1 * (f32(cr[kn, jn]) - mid))
            u *= scale_c
            v *= scale_c
            lift = max(i01 * u + i02 * v, i11 * u + i12 * v, i21 * u + i22 * v)
            s = min(max((f32(yp[r, c]) - f32(64.0)) * scale_y + lift, f32(0.0)), f32(1.0))
            best = max(best, s)
            total += _table_at(s * f32(n), table)
        rowmax[r] = best
        rowsum[r] = total


def decoded_light(planes: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """(largest max(R', G', B') signal, mean max(R, G, B) in nits) of a decoded BT.2020 PQ frame given as
    PyAV's yuv420p10le array ((H * 3/2, W) uint16; ``width`` x ``height`` of it measured)."""
    h2, w = planes.shape
    h = h2 * 2 // 3
    cb, cr = planes[h:].reshape(2, h // 2, w // 2)
    inv = np.linalg.inv(rgb_to_ycbcr_matrix("bt2020nc"))
    rowmax = np.empty(height, np.float64)
    rowsum = np.empty(height, np.float64)
    _decoded_light(planes[:h], cb, cr, inv, width, height, eotf_table(), rowmax, rowsum)
    return float(rowmax.max()), float(rowsum.sum()) / (width * height)


@numba.njit(cache=True, parallel=True)
def _ycc16_to_codes(ycc, scale, y0, ys, c0, cs, inv, out):  # pragma: no cover - compiled
    h, w = ycc.shape[0], ycc.shape[1]
    for r in numba.prange(h):
        for c in range(w):
            y = (np.float32(ycc[r, c, 0]) * scale - y0) / ys
            u = (np.float32(ycc[r, c, 1]) * scale - c0) / cs
            v = (np.float32(ycc[r, c, 2]) * scale - c0) / cs
            for ch in range(3):
                q = (y * inv[ch, 0] + u * inv[ch, 1] + v * inv[ch, 2]) * np.float32(65535) + np.float32(0.5)
                out[r, c, ch] = np.uint16(min(max(q, np.float32(0)), np.float32(65535)))


def ycc16_to_codes(ycc: np.ndarray, bits: int, full_range: bool, matrix: str) -> np.ndarray:
    """swscale's yuv444p16le of a ``bits``-bit Y'CbCr frame (H, W, 3) -> R'G'B' codes (H, W, 3) uint16
    (0-65535): range and matrix in float32 (BT.2100), rounded; the same numbers as the numpy expression in
    ``pipeline.decoder`` it replaces, in one compiled pass."""
    ys, y0, cs, c0 = code_scales(bits, full_range)
    inv = np.linalg.inv(rgb_to_ycbcr_matrix(matrix)).astype(np.float32)
    out = np.empty(ycc.shape, np.uint16)
    _ycc16_to_codes(ycc, np.float32(2.0 ** (bits - 16)), np.float32(y0), np.float32(ys), np.float32(c0),
                    np.float32(cs), inv, out)
    return out


@numba.njit(cache=True, inline="always")
def _upsampled_chroma(cb, cr, k, kn, c, jc):  # pragma: no cover - compiled
    """The chroma of luma column ``c`` on a row between chroma rows ``k`` and ``kn``, upsampled bilinearly as
    left-sited 4:2:0 as swscale's 16-bit path does (``upsample_chroma``: columns co-sited with the even luma
    columns, vertically 3/4 and 1/4; exact in these units)."""
    half = np.float32(0.5)
    j = c // 2
    u = np.float32(0.75) * np.float32(cb[k, j]) + np.float32(0.25) * np.float32(cb[kn, j])
    v = np.float32(0.75) * np.float32(cr[k, j]) + np.float32(0.25) * np.float32(cr[kn, j])
    if c % 2 == 1:
        jn = min(j + 1, jc - 1)
        u = half * (u + np.float32(0.75) * np.float32(cb[k, jn]) + np.float32(0.25) * np.float32(cb[kn, jn]))
        v = half * (v + np.float32(0.75) * np.float32(cr[k, jn]) + np.float32(0.25) * np.float32(cr[kn, jn]))
    return u, v


@numba.njit(cache=True, inline="always")
def _ycc_to_rgb(yc, u, v, y0, ys, c0, cs, inv, top):  # pragma: no cover - compiled
    """Y' code and upsampled chroma -> R'G'B' scaled to ``top`` plus one half, clamped to [0, top] (truncate for
    the nearest integer code): the range and the inverse matrix in float32."""
    half = np.float32(0.5)
    yy = (np.float32(yc) - y0) / ys
    u = (u - c0) / cs
    v = (v - c0) / cs
    t0 = min(max((yy * inv[0, 0] + u * inv[0, 1] + v * inv[0, 2]) * top + half, 0), top)
    t1 = min(max((yy * inv[1, 0] + u * inv[1, 1] + v * inv[1, 2]) * top + half, 0), top)
    t2 = min(max((yy * inv[2, 0] + u * inv[2, 1] + v * inv[2, 2]) * top + half, 0), top)
    return t0, t1, t2


@numba.njit(cache=True, parallel=True)
def _yuv420_to_linear(yp, cb, cr, y0, ys, c0, cs, inv, lut, mix, out, small):  # pragma: no cover - compiled
    """Per row (parallel): chroma upsampled as swscale's bilinear path does (``upsample_chroma``: left-sited
    columns, vertically between rows; exact in these units), range and matrix in float32 and the rounding to
    16-bit R'G'B' codes of ``ycc16_to_codes``, light ``lut[code]``, primaries ``mix`` (3x3) into ``out``
    (3, H, W); the codes of every 4th row and column into ``small`` (scene-cut histogram)."""
    h, w = yp.shape
    kc, jc = cb.shape
    top = np.float32(65535)
    for r in numba.prange(h):
        k, kn = _chroma_rows(r, kc)
        for c in range(w):
            u, v = _upsampled_chroma(cb, cr, k, kn, c, jc)
            t0, t1, t2 = _ycc_to_rgb(yp[r, c], u, v, y0, ys, c0, cs, inv, top)
            q0, q1, q2 = np.uint16(t0), np.uint16(t1), np.uint16(t2)
            if r % 4 == 0 and c % 4 == 0:
                small[r // 4, c // 4, 0], small[r // 4, c // 4, 1], small[r // 4, c // 4, 2] = q0, q1, q2
            e0, e1, e2 = lut[q0], lut[q1], lut[q2]
            for ch in range(3):
                out[ch, r, c] = mix[ch, 0] * e0 + mix[ch, 1] * e1 + mix[ch, 2] * e2


def yuv420_to_linear(planes: np.ndarray, bits: int, full_range: bool, matrix: str, lut: np.ndarray,
                     mix: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A decoded >8-bit 4:2:0 frame in PyAV's planar layout ((H * 3/2, W) uint16, even sizes) -> relative linear
    light (3, H, W) float32 and the R'G'B' codes of every 4th row and column (uint16, 0-65535), in one compiled
    pass: the numbers of swscale's bilinear ``yuv444p16le`` + ``ycc16_to_codes`` + ``lut[codes]`` + the
    primaries matrix ``mix`` (None: none), without the 4:4:4 frame or the full-size codes."""
    h2, w = planes.shape
    h = h2 * 2 // 3
    cb, cr = planes[h:].reshape(2, h // 2, w // 2)
    ys, y0, cs, c0 = code_scales(bits, full_range)
    inv = np.linalg.inv(rgb_to_ycbcr_matrix(matrix)).astype(np.float32)
    out = np.empty((3, h, w), np.float32)
    small = np.empty(((h + 3) // 4, (w + 3) // 4, 3), np.uint16)
    m = np.eye(3) if mix is None else np.asarray(mix)
    _yuv420_to_linear(planes[:h], cb, cr, np.float32(y0), np.float32(ys), np.float32(c0), np.float32(cs), inv,
                      np.ascontiguousarray(lut, np.float32), m.astype(np.float32), out, small)
    return out, small


@numba.njit(cache=True, parallel=True)
def _yuv420_u8_to_codes(yp, cb, cr, y0, ys, c0, cs, inv, out):  # pragma: no cover - compiled
    """Per row (parallel): ``_yuv420_to_linear``'s chroma upsampling, range and matrix in float32, rounded to
    8-bit R'G'B' codes (clamped) into ``out`` (H, W, 3): the C kernel ``yuv420_u8_to_codes``'s numbers."""
    h, w = yp.shape
    kc, jc = cb.shape
    top = np.float32(255)
    for r in numba.prange(h):
        k, kn = _chroma_rows(r, kc)
        for c in range(w):
            u, v = _upsampled_chroma(cb, cr, k, kn, c, jc)
            t0, t1, t2 = _ycc_to_rgb(yp[r, c], u, v, y0, ys, c0, cs, inv, top)
            out[r, c, 0], out[r, c, 1], out[r, c, 2] = np.uint8(t0), np.uint8(t1), np.uint8(t2)


def yuv420_u8_to_codes(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, full_range: bool, matrix: str) -> np.ndarray:
    """numba's twin of ``color.kernels.yuv420_u8_to_codes`` (the same codes): 8-bit 4:2:0 planes -> R'G'B'
    codes (H, W, 3) uint8."""
    ys, y0, cs, c0 = code_scales(8, full_range)
    inv = np.linalg.inv(rgb_to_ycbcr_matrix(matrix)).astype(np.float32)
    out = np.empty((*y.shape, 3), np.uint8)
    _yuv420_u8_to_codes(y, cb, cr, np.float32(y0), np.float32(ys), np.float32(c0), np.float32(cs), inv, out)
    return out


@numba.njit(cache=True, parallel=True)
def _planar_lookup(codes, lut, out):  # pragma: no cover - compiled
    h, w = codes.shape[0], codes.shape[1]
    for r in numba.prange(h):
        for c in range(w):
            for ch in range(3):
                out[ch, r, c] = lut[codes[r, c, ch]]


def planar_lookup(codes: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """``lut[codes]`` for (H, W, 3) integer codes, written planar (3, H, W) float32, in one compiled pass."""
    out = np.empty((3, *codes.shape[:2]), np.float32)
    _planar_lookup(codes, lut, out)
    return out


# --- SDR output (tone mapping by a curve) ---------------------------------------------------------

@numba.njit(cache=True, parallel=True)
def _sdr_pass(lin, exposure, weights, threshold, compress, tolerance, by_max, ratio, ratio_scale, oetf, ym, cm,
              yq, ucode, vcode, yin, yout, block, oog_rows):  # pragma: no cover - compiled
    """Per chroma row k (parallel): rows 2k and 2k+1 (padded by replication) of ``exposure * lin`` (3, H, W)
    through the gamut mapping, the curve's gain on max(R,G,B) (``by_max``) or luminance, the clamp to [0, 1],
    the encoding (``oetf``: a table over the square root of display light) and 8-bit Y'CbCr 4:2:0
    (``pipeline.output.to_yuv420``); the luminance of the tone-mapped light as shown (channels clamped to 1)
    into ``yout`` and of the input (negative light as 0) into ``yin`` when they are not empty (flicker), each
    row summed over blocks of ``block`` columns, out-of-gamut counts into ``oog_rows``. Float32 throughout; a
    colour's distance to its grey, (y - min(R,G,B)) / y, is compared without dividing (only colours past the
    threshold are moved)."""
    h, w = lin.shape[1], lin.shape[2]
    hh, ww = yq.shape
    keep = yout.shape[0] > 0
    kept = yout.shape[1] * block  # the columns in whole blocks
    f32 = np.float32
    zero, one = f32(0.0), f32(1.0)
    tiny = f32(1e-9)
    thr = f32(threshold)
    span = f32(max(1.0 - threshold, 1e-9))
    out_of_gamut = f32(1.0 + tolerance)
    wr, wg, wb = f32(weights[0]), f32(weights[1]), f32(weights[2])
    ex = f32(exposure)
    rs = f32(ratio_scale)
    on = f32(oetf.size - 1)
    for k in numba.prange(ucode.shape[0]):
        sums = np.zeros((ww, 3), np.float32)
        count = 0
        for dr in range(2):
            r = min(2 * k + dr, h - 1)
            real_row = 2 * k + dr < h
            for c in range(ww):
                cc = min(c, w - 1)
                a = lin[0, r, cc] * ex
                b = lin[1, r, cc] * ex
                d = lin[2, r, cc] * ex
                if keep and real_row and c < kept:
                    yin[r, c // block] += (wr * max(lin[0, r, cc], zero) + wg * max(lin[1, r, cc], zero)
                                           + wb * max(lin[2, r, cc], zero))
                # gamut (color.gamut.gamut_map): distance to the grey of the same luminance, 1 = the boundary
                y = wr * a + wg * b + wb * d
                yc = max(y, tiny)
                below = y - min(a, b, d)  # distance x yc
                if real_row and c < w and below > out_of_gamut * yc:
                    count += 1
                if compress and below > thr * yc:
                    dist = below / yc
                    s = (thr + (one - thr) * f32(math.tanh((dist - thr) / span))) / dist
                    y0 = max(y, zero)
                    a = y0 + (a - y0) * s
                    b = y0 + (b - y0) * s
                    d = y0 + (d - y0) * s
                a = max(a, zero)
                b = max(b, zero)
                d = max(d, zero)
                v = max(a, b, d) if by_max else wr * a + wg * b + wb * d
                g = _table_at(f32(math.sqrt(math.sqrt(v))) * rs, ratio)
                a = min(a * g, one)
                b = min(b * g, one)
                d = min(d * g, one)
                if keep and real_row and c < kept:
                    yout[r, c // block] += wr * a + wg * b + wb * d
                s0 = _table_at(f32(math.sqrt(a)) * on, oetf)
                s1 = _table_at(f32(math.sqrt(b)) * on, oetf)
                s2 = _table_at(f32(math.sqrt(d)) * on, oetf)
                yq[2 * k + dr, c] = np.uint8(min(max(int((ym[0] * s0 + ym[1] * s1 + ym[2] * s2) * f32(219.0)
                                                         + f32(16.5)), 0), 255))
                sums[c, 0] += s0
                sums[c, 1] += s1
                sums[c, 2] += s2
        oog_rows[k] = count
        for j in range(ww // 2):
            qb, qr = _chroma_codes(sums, j, cm, f32(224.0), f32(128.5), 255)
            ucode[k, j] = np.uint8(qb)
            vcode[k, j] = np.uint8(qr)


def sdr_planes_linear(linear: np.ndarray, exposure: float, curve: tuple[np.ndarray, float, bool],
                      encode: np.ndarray, gamut: str = "compress", threshold: float = 1.0, tolerance: float = 0.02,
                      luminance_out: bool = False, luminance_block: int = 1
                      ) -> tuple[list[np.ndarray], float, tuple[np.ndarray, np.ndarray] | None]:
    """Relative linear BT.709 light (3, H, W) float32 -> SDR BT.709 Y'CbCr 4:2:0 8-bit planes (limited range,
    sizes rounded up to even, views of one buffer in PyAV's yuv420p layout), as ``pipeline.output`` makes them
    for a curve operator: times ``exposure``, gamut mapping (``gamut`` "compress" (``threshold``) or "clip",
    ``color.gamut``), the curve's gain (``curve`` = (gain table over the fourth root of the scalar, its scale,
    True for max(R,G,B) / False for BT.709 luminance; ``curve_table``), clamp to [0, 1], the encoding
    (``encode``: ``oetf_table``) and Y'CbCr with the reference path's chroma filter.
    Returns the planes, the share of pixels out of gamut (``tolerance``) and, with ``luminance_out``, the
    luminance of the input (negative light as 0) and of the tone-mapped light as shown (channels clamped to
    1), the means of ``luminance_block`` x ``luminance_block`` blocks ((H, W) for 1): the flicker meter's."""
    from hdrvid.color.gamut import BT709

    lin, (yq, ucode, vcode), yin, yout, oog = sdr_buffers(linear, gamut, luminance_out, luminance_block)
    h, w = lin.shape[1:]
    hh, ww = yq.shape
    m = rgb_to_ycbcr_matrix("bt709").astype(np.float32)
    table, scale, by_max = curve
    _sdr_pass(lin, float(exposure), np.asarray(BT709.luminance_weights(), np.float32), float(min(threshold, 1.0)),
              gamut == "compress", float(tolerance), bool(by_max), np.ascontiguousarray(table, np.float32),
              float(scale), np.ascontiguousarray(encode, np.float32), m[0], m[1:], yq, ucode, vcode, yin, yout,
              int(luminance_block), oog)
    means = packed.block_rows_mean
    lum = (means(yin, luminance_block), means(yout, luminance_block)) if luminance_out else None
    return [yq, ucode, vcode], float(oog.sum()) / (h * w), lum


# --- highlight expansion by a guided field (hdrunet's fast mode) ---------------------------------------

@numba.njit(cache=True, parallel=True)
def _expand_clipped(x, a, b, out, shift, log_gain, start, lo, hi, gamma, neutral_lo, neutral_hi):  # pragma: no cover
    """Per row (parallel): pixels whose max(R,G,B) (clamped to [0, 1]) is at or below ``start`` leave as they
    are; the others get per channel ``v * exp(log_gain * alpha * gain)``, gain = the coefficient maps read
    bilinearly (align_corners=False taps) times the guide, max(R,G,B) ** (1 / gamma), alpha = the smoothstep of
    the channel's signal v ** (1 / gamma) from ``lo`` to ``hi`` (0 and 1 outside, without the power), pulled to
    the pixel's largest ``alpha`` for channels within ``neutral_lo`` of its brightest signal, fading out by
    ``neutral_hi`` (``models.hdrunet.HDRUNet.shared_gains``); ``shift`` (h, w) is added to each channel's signal
    where alpha reads it (``models.deblock``; an array of zeros for none)."""
    _, h, w = x.shape
    hs, ws = a.shape[1], a.shape[2]
    f32 = np.float32
    sy, sx = f32(hs / h), f32(ws / w)
    inv = 1.0 / gamma
    lo_lin, hi_lin = lo**gamma, hi**gamma
    for r in numba.prange(h):
        sig, gain, alp = np.empty(3), np.empty(3), np.empty(3)  # per channel of one pixel (float64)
        src = max((f32(r) + f32(0.5)) * sy - f32(0.5), f32(0.0))
        r0 = min(int(src), hs - 1)
        r1 = min(r0 + 1, hs - 1)
        fr = src - f32(r0)
        for c in range(w):
            v0 = min(max(x[0, r, c], f32(0.0)), f32(1.0))
            v1 = min(max(x[1, r, c], f32(0.0)), f32(1.0))
            v2 = min(max(x[2, r, c], f32(0.0)), f32(1.0))
            m = max(v0, v1, v2)
            out[0, r, c] = v0
            out[1, r, c] = v1
            out[2, r, c] = v2
            if m <= start:  # left as decoded on every path
                continue
            sh = np.float64(shift[r, c])  # the mask's signal shift (models.deblock)
            if sh == 0.0 and m <= lo_lin:  # every alpha 0: nothing expands
                continue
            if sh != 0.0:  # the brightest channel's shifted signal at or below lo: every alpha 0
                sm = max(np.float64(m), 1e-8) ** inv if m < 1.0 else 1.0
                if np.float64(f32(sm) + f32(sh)) <= lo:
                    continue
            src_c = max((f32(c) + f32(0.5)) * sx - f32(0.5), f32(0.0))
            c0 = min(int(src_c), ws - 1)
            c1 = min(c0 + 1, ws - 1)
            fc = src_c - f32(c0)
            for k in range(3):
                v = out[k, r, c]
                sig[k] = max(v, 1e-8) ** inv if v < 1.0 else 1.0
            smax = max(sig[0], sig[1], sig[2])
            g = f32(smax)  # the guide m ** (1 / gamma): the brightest channel's signal
            for k in range(3):
                v = out[k, r, c]
                if sh == 0.0 and v <= lo_lin:
                    alpha = f32(0.0)
                elif sh == 0.0 and v >= hi_lin:
                    alpha = f32(1.0)
                else:
                    alpha = f32(_smooth(np.float64(f32(sig[k]) + f32(sh)), lo, hi))  # float32, as torch adds them
                ak = ((a[k, r0, c0] * (f32(1.0) - fc) + a[k, r0, c1] * fc) * (f32(1.0) - fr)
                      + (a[k, r1, c0] * (f32(1.0) - fc) + a[k, r1, c1] * fc) * fr)
                bk = ((b[k, r0, c0] * (f32(1.0) - fc) + b[k, r0, c1] * fc) * (f32(1.0) - fr)
                      + (b[k, r1, c0] * (f32(1.0) - fc) + b[k, r1, c1] * fc) * fr)
                alp[k] = alpha
                gain[k] = ak * g + bk
            amax = max(alp[0], alp[1], alp[2])
            for k in range(3):
                near = 1.0 - _smooth(smax - sig[k], neutral_lo, neutral_hi)
                shared = (alp[k] + near * (amax - alp[k])) * gain[k]
                if shared != 0.0:
                    out[k, r, c] = out[k, r, c] * f32(math.exp(log_gain * shared))


def expand_clipped(linear: np.ndarray, a: np.ndarray, b: np.ndarray, log_gain: float, start: float,
                   clip: tuple[float, float], gamma: float, neutral: tuple[float, float],
                   shift: np.ndarray | None = None) -> np.ndarray:
    """``models.hdrunet.HDRUNet.apply_where`` with the executor's guided gains (``engines.executor``: the
    coefficient maps ``a``, ``b`` (3, h, w) of a field ~ a * guide + b, read bilinearly at full size, the guide
    max(R,G,B) ** (1 / ``gamma``)) for one frame (3, H, W) float32 in one compiled pass: light clamped to [0, 1],
    pixels with max(R,G,B) above ``start`` times exp(``log_gain`` x the clip mask (smoothstep of the signal
    between ``clip``) x the gain) per channel, near-neutral channels (within ``neutral`` of the brightest, in
    signal) sharing the pixel's largest, the others as they are; ``shift`` (H, W) added to each channel's signal
    where the clip mask reads it (``models.deblock``)."""
    out = np.empty(linear.shape, np.float32)
    h, w = linear.shape[1:]
    shift = np.zeros((h, w), np.float32) if shift is None else np.asarray(shift, np.float32).reshape(h, w)
    _expand_clipped(np.asarray(linear, np.float32), np.asarray(a, np.float32), np.asarray(b, np.float32), out,
                    shift, float(log_gain), float(start), float(clip[0]), float(clip[1]), float(gamma), float(neutral[0]),
                    float(neutral[1]))
    return out


@numba.njit(cache=True, parallel=True)
def _luminance_gain(lin, out, wts, table):  # pragma: no cover - compiled
    h, w = lin.shape[1], lin.shape[2]
    n = np.float32(table.size - 1)
    zero, one = np.float32(0.0), np.float32(1.0)
    for r in numba.prange(h):
        for c in range(w):
            y = (wts[0] * min(max(lin[0, r, c], zero), one) + wts[1] * min(max(lin[1, r, c], zero), one)
                 + wts[2] * min(max(lin[2, r, c], zero), one))
            y = min(max(y, np.float32(0.0)), np.float32(1.0))
            g = _table_at(math.sqrt(y) * n, table)
            for ch in range(3):
                out[ch, r, c] *= g


def luminance_gain(linear: np.ndarray, out: np.ndarray, weights: np.ndarray, table: np.ndarray) -> None:
    """``out`` (3, H, W) float32, in place, times a gain that is a function of the luminance of ``linear``
    (3, H, W) float32 (``weights`` . RGB, each channel and the sum clamped to [0, 1]): ``table`` holds the gain
    at sqrt(luminance) on an even grid from 0 to 1, read with linear interpolation (hdrunet-auto's BT.2446A
    curve; one pass)."""
    _luminance_gain(linear, out, weights.astype(np.float32), table.astype(np.float32))


@numba.njit(cache=True, parallel=True)
def _gate_ratios(lin, out, s, y0, y1, x0, x1, start):  # pragma: no cover - compiled
    lo, one = np.float32(1e-8), np.float32(1.0)
    for r in numba.prange(y0, y1):
        for c in range(x0, x1):
            e = s[r, c]
            if not (e < one) or not (max(lin[0, r, c], lin[1, r, c], lin[2, r, c]) > start):
                continue
            for ch in range(3):
                v = min(max(lin[ch, r, c], lo), one)
                q = max(out[ch, r, c] / v, lo)
                out[ch, r, c] = v * np.float32(math.exp(e * np.float32(math.log(q))))


def gate_ratios(linear: np.ndarray, out: np.ndarray, s: np.ndarray, box: tuple[int, int, int, int],
                start: float) -> None:
    """The edge gate (``models.clip_edges``) on one frame, in place: inside ``box`` = (y0, y1, x0, x1), where
    max(R, G, B) of ``linear`` (3, H, W) float32 is above ``start`` and the exponent ``s`` (H, W) is below 1, each
    channel of ``out`` becomes ``l * (out / l) ** s``, ``l`` the light clamped to [1e-8, 1], the ratio to 1e-8 and
    above (``clip_edges.raise_ratios``' arithmetic in one pass)."""
    y0, y1, x0, x1 = (int(v) for v in box)
    _gate_ratios(np.asarray(linear, np.float32), out, np.asarray(s, np.float32), y0, y1, x0, x1, np.float32(start))


# --- the alternating merge's per-pixel weights and sum (flowmerge) -------------------------------------

@numba.njit(cache=True, inline="always")
def _well_exposed(v0, v1, v2, inv, low, hi0, hi1):  # pragma: no cover - compiled
    """``models.merge.well_exposed`` of one pixel; the powers only where a smoothstep is not flat: below
    ``hi0`` (in signal) in every channel the top is 1, above ``2 low`` in every channel the bottom is 1."""
    gamma = 1.0 / inv
    v0, v1, v2 = min(max(v0, 0.0), 1.0), min(max(v1, 0.0), 1.0), min(max(v2, 0.0), 1.0)
    top = 1.0
    if max(v0, v1, v2) >= (hi0 * (1.0 - 1e-6)) ** gamma:
        top = 1.0 - _smooth(max(v0, v1, v2) ** inv, hi0, hi1)
    if low <= 0 or min(v0, v1, v2) > (2.0 * low * (1.0 + 1e-6)) ** gamma:
        return top
    return top * _smooth((v0 ** inv + v1 ** inv + v2 ** inv) / 3.0, 0.0, low * 2.0)


@numba.njit(cache=True, parallel=True)
def _exposure_merge(ref, nbs, agree, scales, gains, short, long_, inv, low, hi0, hi1, out):  # pragma: no cover
    k_n = nbs.shape[0]
    h, w = ref.shape[1], ref.shape[2]
    bright_at = 0.5 ** (1.0 / inv)  # signal > 0.5 <=> linear > 0.5 ** gamma (both sides clipped to [0, 1])
    for r in numba.prange(h):
        num = np.empty(3)
        for c in range(w):
            w_ref = _well_exposed(ref[0, r, c], ref[1, r, c], ref[2, r, c], inv, low, hi0, hi1)
            judge = _smooth(w_ref, 0.2, 0.6)
            wr = max(w_ref, 1e-4)
            for ch in range(3):
                num[ch] = wr * (ref[ch, r, c] * scales[0])
            den = wr
            for k in range(k_n):
                wk = _well_exposed(nbs[k, 0, r, c], nbs[k, 1, r, c], nbs[k, 2, r, c], inv, low, hi0, hi1)
                wk = wk * (1.0 - judge * (1.0 - agree[k, r, c])) * (1.0 - 0.5 * w_ref) * gains[k]
                for ch in range(3):
                    num[ch] += wk * (nbs[k, ch, r, c] * scales[k + 1])
                den += wk
            alpha = min(max(den / 1e-2, 0.0), 1.0)
            m = 0.0
            for ch in range(3):
                v = ref[ch, r, c] if short == 0 else nbs[short - 1, ch, r, c]
                m = max(m, min(max(v, 0.0), 1.0))
            pick = short if m > bright_at else long_
            for ch in range(3):
                v = ref[ch, r, c] if pick == 0 else nbs[pick - 1, ch, r, c]
                out[ch, r, c] = alpha * num[ch] / max(den, 1e-6) + (1.0 - alpha) * (v * scales[pick])


def exposure_merge(ref: np.ndarray, ev_ref: float, neighbours: list[np.ndarray], evs: list[float],
                   agree: list[np.ndarray], snr: float, gamma: float, low: float,
                   high: tuple[float, float]) -> np.ndarray:
    """``models.merge.flow_merge``'s per-pixel part in one parallel pass: the exposure weights of the reference
    and its warped neighbours (3, H, W) float32 (``well_exposed`` with ``low``/``high``), each neighbour's
    ``agree`` mask (H, W) where the reference can judge, the (exposure ratio) ** ``snr`` gain, and
    ``weighted_merge``'s normalised sum with its fallback (the shortest exposure where it is bright, else the
    longest). Within float rounding of the numpy definition (tests)."""
    all_evs = [ev_ref, *evs]
    scales = np.array([np.float32(2.0 ** -e) for e in all_evs], np.float64)
    gains = np.array([np.float32(2.0 ** (snr * (e - ev_ref))) for e in evs], np.float64)
    h, w = ref.shape[1:]
    nbs = np.stack(neighbours).astype(np.float32, copy=False) if neighbours else np.zeros((0, 3, h, w), np.float32)
    ag = np.stack(agree).astype(np.float32, copy=False) if agree else np.zeros((0, h, w), np.float32)
    out = np.empty(ref.shape, np.float32)
    _exposure_merge(np.ascontiguousarray(ref, np.float32), nbs, ag, scales, gains, int(np.argmin(all_evs)),
                    int(np.argmax(all_evs)), 1.0 / gamma, float(low), float(high[0]), float(high[1]), out)
    return out


# --- hdrunet-auto's per-blob level ------------------------------------------------------------------------------

@numba.njit(cache=True, parallel=True)
def _blob_gain(lin, out, stops, ty0, ty1, tfy, tx0, tx1, tfx, shift, has_shift, lo, hi, gamma, sums):  # pragma: no cover
    h, w = lin.shape[1], lin.shape[2]
    inv = 1.0 / gamma
    one = np.float32(1.0)
    for r in numba.prange(h):
        y0, y1, fy = ty0[r], ty1[r], tfy[r]
        sum_a, sum_t = 0.0, 0.0
        for c in range(w):
            x0, x1, fx = tx0[c], tx1[c], tfx[c]
            top = stops[y0, x0] * (one - fx) + stops[y0, x1] * fx
            bot = stops[y1, x0] * (one - fx) + stops[y1, x1] * fx
            st = top * (one - fy) + bot * fy
            if st == np.float32(0.0):
                continue
            m = max(max(lin[0, r, c], lin[1, r, c]), lin[2, r, c])
            m = min(max(m, np.float32(1e-8)), one)
            sig = math.pow(np.float64(m), inv)
            if has_shift:
                sig += np.float64(shift[r, c])
            t = (sig - lo) / (hi - lo)
            t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
            wt = t * t * (3.0 - 2.0 * t)
            if wt == 0.0:
                continue
            add = np.float64(st) * wt
            g = np.float32(2.0 ** add)
            out[0, r, c] *= g
            out[1, r, c] *= g
            out[2, r, c] *= g
            sum_a += add
            sum_t += wt
        sums[r, 0] = sum_a
        sums[r, 1] = sum_t


def blob_gain(linear: np.ndarray, out: np.ndarray, stops: np.ndarray, taps: tuple[np.ndarray, ...],
              shift: np.ndarray | None, lo: float, hi: float, gamma: float) -> tuple[float, float]:
    """``out`` (3, H, W) float32, in place, times 2 ** (the per-blob level's log2 factor x its mask): the factor read
    bilinearly from ``stops`` (the working copy's, float32) through ``taps`` (per row y0, y1, fy; per column x0, x1,
    fx), the mask a smoothstep of ``linear``'s max(R, G, B) (clamped to [1e-8, 1]) ** (1 / gamma) plus ``shift``
    from ``lo`` to ``hi``. Returns (sum of the factors applied, sum of the mask weights)."""
    h = linear.shape[1]
    sums = np.zeros((h, 2), np.float64)
    _blob_gain(linear, out, stops, *taps, np.zeros((1, 1), np.float32) if shift is None else shift,
               shift is not None, float(lo), float(hi), float(gamma), sums)
    return float(sums[:, 0].sum()), float(sums[:, 1].sum())
