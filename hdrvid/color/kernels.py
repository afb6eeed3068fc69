"""The plain transcode's kernels without numba: C (``_native.c``, built with the package) through ctypes, tables
and OpenCV/numpy helpers.

``hdr10_planes`` (decoded R'G'B' codes -> HDR10 10-bit 4:2:0 planes) and ``decoded_light`` (the light level of
a decoded HDR10 frame) run the C kernels when the package was built with them (``native_available()``), split
by rows over a small thread pool (ctypes releases the GIL), and numba's twins in :mod:`hdrvid.color.fused`
otherwise; both give the same codes (``tests/test_fused.py``). Importing this module never imports numba: a
plain ``convert --model none`` to HDR10 then runs without numba's LLVM (~115 MB and ~0.5 s per process).

The tables both use and the packed OpenCV helpers are in :mod:`hdrvid.color.packed`.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np

from hdrvid.color.packed import (
    EOTF_TABLE_SIZE,
    PQ_SCALE,
    PQ_TABLE_SIZE,
    block_rows_mean,
    eotf_table,
    pq_table,
    roll_off_params,
    sdr_buffers,
)
from hdrvid.color.ycbcr import code_scales, rgb_to_ycbcr_matrix
from hdrvid.machine import usable_cores

log = logging.getLogger(__name__)

# --- the C kernels ------------------------------------------------------------------------------------------

_F32 = ctypes.POINTER(ctypes.c_float)
_F64 = ctypes.POINTER(ctypes.c_double)
_U16 = ctypes.POINTER(ctypes.c_uint16)
_U8 = ctypes.POINTER(ctypes.c_uint8)
_I64P = ctypes.POINTER(ctypes.c_int64)
_I64 = ctypes.c_int64


NATIVE_ABI = 8
"""What ``native_abi()`` of the built library must return (``_native.c`` bumps it when arguments change)."""


@lru_cache(maxsize=1)
def _library() -> Any:
    """The built ``hdrvid.color._native`` loaded with ctypes, or None where the package was installed without it
    (no C compiler). ``HDRVID_NO_NATIVE=1`` forces the numba kernels (tests compare the two)."""
    if os.environ.get("HDRVID_NO_NATIVE"):
        return None
    spec = importlib.util.find_spec("hdrvid.color._native")
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError:
        return None
    abi = getattr(lib, "native_abi", None)
    if abi is not None:
        abi.restype = _I64
    if abi is None or abi() != NATIVE_ABI:
        log.warning("%s was built from another version of hdrvid (rebuild it: pip install -e .); using the "
                    "numba kernels", spec.origin)
        return None
    p1 = [ctypes.c_void_p, _I64, _I64, _F32, _F32, _F32, _I64, ctypes.c_float, _F32, _F32, _F32, _F32, _I64, _U16,
          _U16, _F32, _F32, _F32, _I64, _I64]
    for name in ("hdr10_pass1_u8", "hdr10_pass1_u16"):
        getattr(lib, name).argtypes = p1
        getattr(lib, name).restype = None
    lib.hdr10_pass2.argtypes = [_F32, _I64, _I64, _F32, _I64, _I64, _F32, ctypes.c_float, ctypes.c_float, _F64, _I64,
                                _U16, _F64, _F64, _I64, _I64]
    lib.hdr10_pass2.restype = None
    lib.decoded_light.argtypes = [_U16, _I64, _U16, _U16, _I64, _I64, _I64, _F64, _I64, _F64, _I64, _F64, _F64, _I64,
                                  _I64]
    lib.decoded_light.restype = None
    lib.hdr10_pass1_linear.argtypes = [_F32, _I64, _I64, ctypes.c_float, _F64, _F64, _I64, _F32, _F32, _I64,
                                       ctypes.c_float, _F32, _F32, _F32, _F32, _I64, _U16, _U16, _F32, _F32, _F32,
                                       _I64, _I64]
    lib.hdr10_pass1_linear.restype = None
    for name in ("planar_lookup_u8", "planar_lookup_u16"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, _I64, _I64, _F32, _F32, _I64, _I64]
        getattr(lib, name).restype = None
    lib.yuv420_to_linear.argtypes = [_U16, _I64, _U16, _U16, _I64, _I64, _I64, _I64, ctypes.c_float, ctypes.c_float,
                                     ctypes.c_float, ctypes.c_float, _F32, _F32, _F32, _F32, _I64, _U16, _I64, _I64,
                                     _I64]
    lib.yuv420_to_linear.restype = None
    lib.yuv420_u8_to_codes.argtypes = [_U8, _I64, _U8, _U8, _I64, _I64, _I64, _I64, ctypes.c_float, ctypes.c_float,
                                       ctypes.c_float, ctypes.c_float, _F32, _U8, _I64, _I64]
    lib.yuv420_u8_to_codes.restype = None
    f = ctypes.c_float
    lib.sdr_pass.argtypes = [_F32, _I64, _I64, f, _F32, f, f, ctypes.c_int, f, ctypes.c_int, _F32, _I64, f, _F32, _I64,
                             _F32, _F32, _U8, _I64, _U8, _U8, _F32, _F32, ctypes.c_int, _I64, _I64P, _I64P, _I64,
                             _I64]
    lib.sdr_pass.restype = None
    d = ctypes.c_double
    lib.expand_clipped.argtypes = [_F32, _I64, _I64, _F32, _F32, _I64, _I64, _F32, _F32, d, d, d, d, d, d, d, _I64, _I64]
    lib.expand_clipped.restype = None
    lib.luminance_gain.argtypes = [_F32, _F32, _I64, _I64, _F32, _F32, _I64, _I64, _I64]
    lib.luminance_gain.restype = None
    lib.blob_gain.argtypes = [_F32, _F32, _I64, _I64, _F32, _I64, _I64P, _I64P, _F32, _I64P, _I64P, _F32, _F32,
                              ctypes.c_double, ctypes.c_double, ctypes.c_double, _F64, _I64, _I64]
    lib.blob_gain.restype = None
    lib.gate_ratios.argtypes = [_F32, _F32, _F32, _I64, _I64, _I64, _I64, _I64, _I64, ctypes.c_float, _I64, _I64]
    lib.gate_ratios.restype = None
    lib.downscale_aa.argtypes = [_F32, _I64, _I64, _I64, _I64, _I64, _I64P, _I64P, _F32, _I64, _I64P, _I64P, _F32, _I64,
                                 _F32, _I64, _I64]
    lib.downscale_aa.restype = None
    lib.max3x3.argtypes = [_F32, _I64, _I64, _F32, _I64, _I64]
    lib.max3x3.restype = None
    return lib


def max3x3(x: np.ndarray) -> np.ndarray:
    """The largest value of each 3x3 neighbourhood of a C-contiguous float32 (H, W) array, the frame's edge adding
    nothing: OpenCV's ``dilate`` with a 3x3 kernel, exactly, without importing OpenCV (~15 ms of a start)."""
    lib = _library()
    if lib is None:
        raise RuntimeError("the C kernels were not built")
    x = np.ascontiguousarray(x, np.float32)
    out = np.empty_like(x)
    _parallel(lib.max3x3, x.shape[0], _p(x, _F32), x.shape[0], x.shape[1], _p(out, _F32))
    return out


def native_available() -> bool:
    """Whether the C kernels were built and load."""
    return _library() is not None


def kernel_threads() -> int:
    """Threads the C kernels split rows over: the CPUs this process may run on (``HDRVID_KERNEL_THREADS``
    overrides), at most 8."""
    env = os.environ.get("HDRVID_KERNEL_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return min(int(env), 8)
    return min(usable_cores(), 8)


def _parallel(fn: Any, rows: int, *args: Any) -> None:
    """``fn(*args, r0, r1)`` over ``rows`` split into one contiguous range per thread: the first range on the
    calling thread, the others on short-lived threads joined before returning (no pool outlives a call)."""
    n = min(kernel_threads(), max(1, rows // 16))
    cuts = [rows * i // n for i in range(n + 1)]
    errors: list[BaseException] = []

    def part(i: int) -> None:
        try:
            fn(*args, cuts[i], cuts[i + 1])
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            errors.append(e)

    helpers = [threading.Thread(target=part, args=(i,), name=f"hdrvid-kernel-{i}", daemon=True) for i in range(1, n)]
    for t in helpers:
        t.start()
    part(0)
    for t in helpers:
        t.join()
    if errors:
        raise errors[0]


def _p(a: np.ndarray, kind: Any) -> Any:
    return a.ctypes.data_as(kind)


@lru_cache(maxsize=8)
def _inverse_matrix(matrix: str, dtype: type = np.float32) -> np.ndarray:
    """Y'CbCr -> R'G'B' (C order) of a matrix name, computed once (not a LAPACK call per frame)."""
    m = np.ascontiguousarray(np.linalg.inv(rgb_to_ycbcr_matrix(matrix)), dtype)
    m.flags.writeable = False
    return m


def _plane_rows(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, dtype: type, name: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three 2-D planes checked for what the 4:2:0 kernels take (``dtype``, contiguous rows, any row stride),
    the chroma planes made to share one row stride (the kernels take one)."""
    item = np.dtype(dtype).itemsize
    for plane in (y, cb, cr):
        if plane.dtype != dtype or plane.strides[1] != item or plane.strides[0] % item:
            raise ValueError(f"{name} needs {np.dtype(dtype).name} planes with contiguous rows")
    if cb.strides != cr.strides:
        cb, cr = np.ascontiguousarray(cb), np.ascontiguousarray(cr)
    return y, cb, cr


@lru_cache(maxsize=2)
def _padded(which: str) -> np.ndarray:
    """A table with its last entry repeated: the vectorised kernels read one entry past an index clamped to the
    end (PQ's table ends at exactly 1.0, so a read from the end on is 1.0, as the numba kernels return it)."""
    t = pq_table() if which == "pq" else eotf_table()
    if which == "pq" and t[-1] != 1.0:
        raise AssertionError("PQ table must end at 1.0")
    return np.ascontiguousarray(np.append(t, t[-1]))


def hdr10_planes(codes: np.ndarray, lut: np.ndarray, ceiling: float) -> tuple[list[np.ndarray], float, float]:
    """R'G'B' codes (H, W, 3; uint8 or uint16) -> BT.2020 PQ Y'CbCr 4:2:0 10-bit planes (limited range, sizes
    rounded up to even; views of one buffer in PyAV's yuv420p10le layout: ``planes_buffer``), the largest
    decoded max(R', G', B') signal and the mean max(R, G, B) in nits, both on the even rows and columns as a
    bilinear decoder reconstructs them. ``lut``: nits of BT.709 light per code value (float32, at most the
    peak: no roll-off); ``ceiling``: PQ signal of the mastering peak. The C kernels where built, else numba's."""
    lib = _library()
    if lib is None:
        from hdrvid.color import fused

        return fused.hdr10_planes(codes, lut, ceiling)

    if codes.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"codes must be uint8 or uint16, not {codes.dtype}")
    codes = np.ascontiguousarray(codes)
    lut = np.ascontiguousarray(lut, np.float32)
    pass1 = lib.hdr10_pass1_u16 if codes.dtype == np.uint16 else lib.hdr10_pass1_u8
    h, w = codes.shape[:2]
    return _hdr10(lib, (h, w), ceiling,
                  lambda rows, rest: _parallel(pass1, rows, codes.ctypes.data, h, w, _p(lut, _F32), *rest))


def hdr10_planes_linear(linear: np.ndarray, white: float, ceiling: float,
                        roll_off: tuple[float, float]) -> tuple[list[np.ndarray], float, float]:
    """``hdr10_planes`` from relative linear BT.709 light (3, H, W) float32 times ``white`` nits (light outside
    BT.709 kept into BT.2020, what stays negative there as 0), through ``pipeline.output``'s BT.2390 roll-off
    on max(R,G,B) from ``roll_off`` = (source peak, target peak) nits: the model output path. The C kernel where built (bit for bit numba's), else numba's."""
    lib = _library()
    if lib is None:
        from hdrvid.color import fused

        return fused.hdr10_planes_linear(linear, white, ceiling, roll_off)
    roll = roll_off_params(roll_off)
    lin = np.ascontiguousarray(linear, np.float32)
    h, w = lin.shape[1:]
    eotf = eotf_table()
    return _hdr10(lib, (h, w), ceiling, lambda rows, rest: _parallel(
        lib.hdr10_pass1_linear, rows, _p(lin, _F32), h, w, float(np.float32(white)), _p(roll, _F64), _p(eotf, _F64),
        EOTF_TABLE_SIZE, *rest))


def _hdr10(lib: Any, size: tuple[int, int], ceiling: float, pass1: Any) -> tuple[list[np.ndarray], float, float]:
    """Both entry points: ``pass1(chroma_rows, rest)`` runs an entry point's first pass with its own source
    arguments followed by ``rest`` (tables, matrices and the buffers made here); then the second pass."""
    from hdrvid.color.gamut import BT709_TO_BT2020

    h, w = size
    hh, ww = h + h % 2, w + w % 2
    m = rgb_to_ycbcr_matrix("bt2020nc")
    y = np.empty((hh, ww), np.float32)
    n = hh * ww
    buf = np.empty(n * 3 // 2, np.uint16)
    yq, ucode, vcode = buf[:n].reshape(hh, ww), buf[n:n * 5 // 4].reshape(hh // 2, ww // 2), buf[n * 5 // 4:].reshape(
        hh // 2, ww // 2)
    kc, jc = hh // 2, ww // 2
    lift = np.empty((kc, jc, 3), np.float32)
    liftc = np.empty((kc, jc), np.float32)
    rowmax = np.empty(kc, np.float32)
    mix = np.ascontiguousarray(BT709_TO_BT2020, np.float32)
    ym, cm = np.ascontiguousarray(m[0], np.float32), np.ascontiguousarray(m[1:], np.float32)
    inv = _inverse_matrix("bt2020nc")
    table = _padded("pq")
    rest = [_p(mix, _F32), _p(table, _F32), PQ_TABLE_SIZE, PQ_SCALE, _p(ym, _F32), _p(cm, _F32), _p(inv, _F32),
            _p(y, _F32), ww, _p(ucode, _U16), _p(vcode, _U16), _p(lift, _F32), _p(liftc, _F32), _p(rowmax, _F32)]
    pass1(kc, rest)
    worst = max3x3(liftc)  # the largest lift of each 3x3 neighbourhood
    top = float(rowmax.max()) - 0.5 / 876.0
    stats = np.zeros(hh, np.float64)
    sums = np.zeros(hh, np.float64)
    eotf = eotf_table()
    _parallel(lib.hdr10_pass2, hh, _p(y, _F32), hh, ww, _p(lift, _F32), kc, jc, _p(worst, _F32), float(ceiling), top,
              _p(eotf, _F64), EOTF_TABLE_SIZE, _p(yq, _U16), _p(stats, _F64), _p(sums, _F64))
    even = ((hh + 1) // 2) * ((ww + 1) // 2)
    return [yq, ucode, vcode], float(stats.max()), float(sums.sum()) / even


def decoded_light(planes: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """(largest max(R', G', B') signal, mean max(R, G, B) in nits) of a decoded BT.2020 PQ frame given as
    PyAV's yuv420p10le array ((H * 3/2, W) uint16; ``width`` x ``height`` of it measured). The C kernel where
    built, else numba's."""
    lib = _library()
    if lib is None:
        from hdrvid.color import fused

        return fused.decoded_light(planes, width, height)
    planes = np.ascontiguousarray(planes, np.uint16)
    h2, w = planes.shape
    h = h2 * 2 // 3
    chroma = planes[h:].reshape(2, h // 2, w // 2)
    return decoded_light_planes(planes[:h], chroma[0], chroma[1], width, height)


def decoded_light_planes(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, width: int, height: int
                         ) -> tuple[float, float] | None:
    """``decoded_light`` on the three planes of a decoded frame where they lie (2-D uint16 views whose rows may
    be padded, as PyAV's are, cb and cr with one row stride; even coded size): no copy of the frame. None where
    the C kernels were not built."""
    lib = _library()
    if lib is None:
        return None
    if cb.shape != cr.shape:
        raise ValueError(f"decoded_light_planes: chroma planes {cb.shape} and {cr.shape} differ")
    y, cb, cr = _plane_rows(y, cb, cr, np.uint16, "decoded_light_planes")
    kc, jc = cb.shape
    inv = _inverse_matrix("bt2020nc", np.float64)
    rowmax = np.empty(height, np.float64)
    rowsum = np.empty(height, np.float64)
    table = _padded("eotf")
    _parallel(lib.decoded_light, height, _p(y, _U16), y.strides[0] // 2, _p(cb, _U16), _p(cr, _U16),
              cb.strides[0] // 2, kc, jc, _p(inv, _F64), width, _p(table, _F64), EOTF_TABLE_SIZE, _p(rowmax, _F64),
              _p(rowsum, _F64))
    return float(rowmax.max()), float(rowsum.sum()) / (width * height)


def yuv420_to_linear(planes: np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray], bits: int, full_range: bool,
                     matrix: str, lut: np.ndarray, mix: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A decoded >8-bit 4:2:0 frame in PyAV's planar layout ((H * 3/2, W) uint16, even sizes) -> relative linear
    light (3, H, W) float32 and the R'G'B' codes of every 4th row and column (uint16, 0-65535), in one pass: the
    numbers of swscale's bilinear ``yuv444p16le`` + ``ycc16_to_codes`` + ``lut[codes]`` + the primaries matrix
    ``mix`` (None: none). The C kernel where built (the same numbers as numba's twin, bit for bit), else numba's.
    ``planes`` may also be the three planes as 2-D uint16 views whose rows are padded (PyAV's buffers in place,
    ``pipeline.frame.plane_views_420``): nothing is copied then."""
    lib = _library()
    if isinstance(planes, tuple) and lib is None:  # numba's twin takes PyAV's packed layout
        planes = np.concatenate([np.ascontiguousarray(p).ravel() for p in planes]).reshape(-1, planes[0].shape[1])
    if lib is None:
        from hdrvid.color import fused

        return fused.yuv420_to_linear(planes, bits, full_range, matrix, lut, mix)
    if isinstance(planes, tuple):
        y, cb, cr = planes
        h, w = y.shape
    else:
        planes = np.ascontiguousarray(planes, np.uint16)
        h2, w = planes.shape
        h = h2 * 2 // 3
        chroma = planes[h:].reshape(2, h // 2, w // 2)
        y, cb, cr = planes[:h], chroma[0], chroma[1]
    if h % 2 or w % 2 or cb.shape != (h // 2, w // 2) or cr.shape != cb.shape:
        raise ValueError(f"yuv420_to_linear needs even sizes, not {w}x{h}")
    y, cb, cr = _plane_rows(y, cb, cr, np.uint16, "yuv420_to_linear")
    ys, y0, cs, c0 = code_scales(bits, full_range)
    inv = _inverse_matrix(matrix)
    out = np.empty((3, h, w), np.float32)
    sw = (w + 3) // 4
    small = np.empty(((h + 3) // 4, sw, 3), np.uint16)
    m = np.ascontiguousarray(np.eye(3) if mix is None else mix, np.float32)
    lut = np.ascontiguousarray(lut, np.float32)
    if lut.size < 65536:
        raise ValueError("yuv420_to_linear needs a table of 65536 entries (16-bit codes)")
    _parallel(lib.yuv420_to_linear, h, _p(y, _U16), y.strides[0] // 2, _p(cb, _U16), _p(cr, _U16),
              cb.strides[0] // 2, h // 2, w // 2, w,
              float(np.float32(y0)), float(np.float32(ys)), float(np.float32(c0)), float(np.float32(cs)),
              _p(inv, _F32), _p(lut, _F32), _p(m, _F32), _p(out, _F32), h * w, _p(small, _U16), sw)
    return out, small


def yuv420_u8_to_codes(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, full_range: bool, matrix: str
                       ) -> np.ndarray:
    """An 8-bit 4:2:0 frame's planes (2-D uint8, rows may be padded: PyAV's line sizes) -> R'G'B' codes (H, W, 3)
    uint8 in one pass of the C kernel: the exact maths (colour-science's, rounded to the nearest code, clamped)
    on chroma upsampled bilinearly as left-sited (H.264/HEVC's default location; swscale's 8-bit planar path
    takes it as centre-sited, a quarter of a chroma sample off); numba's twin (the same codes) where the C kernels were
    not built."""
    lib = _library()
    if lib is None:
        from hdrvid.color import fused

        return fused.yuv420_u8_to_codes(y, cb, cr, full_range, matrix)
    h, w = y.shape
    kc, jc = cb.shape
    if kc != (h + 1) // 2 or jc < (w + 1) // 2 or cr.shape != cb.shape:
        raise ValueError(f"yuv420_u8_to_codes: chroma planes {cb.shape} do not fit a {w}x{h} frame")
    y, cb, cr = _plane_rows(y, cb, cr, np.uint8, "yuv420_u8_to_codes")
    ys, y0, cs, c0 = code_scales(8, full_range)
    inv = _inverse_matrix(matrix)
    out = np.empty((h, w, 3), np.uint8)
    _parallel(lib.yuv420_u8_to_codes, h, _p(y, _U8), y.strides[0], _p(cb, _U8), _p(cr, _U8), cb.strides[0], kc,
              (w + 1) // 2, w, float(np.float32(y0)), float(np.float32(ys)), float(np.float32(c0)),
              float(np.float32(cs)), _p(inv, _F32), _p(out, _U8))
    return out


def sdr_planes_linear(linear: np.ndarray, exposure: float, curve: tuple[np.ndarray, float, bool],
                      encode: np.ndarray, gamut: str = "compress", threshold: float = 1.0, tolerance: float = 0.02,
                      luminance_out: bool = False, luminance_block: int = 1
                      ) -> tuple[list[np.ndarray], float, float, tuple[np.ndarray, np.ndarray] | None]:
    """Relative linear BT.709 light (3, H, W) float32 -> SDR BT.709 Y'CbCr 4:2:0 8-bit planes for a curve
    operator, as ``color.fused.sdr_planes_linear`` documents it (gamut mapping, the curve's gain from a table,
    the encoding ``encode`` from ``packed.oetf_table``, the reference chroma filter; the out-of-gamut share and,
    with ``luminance_out``, the flicker meter's luminances), plus the share of even pixels (every 2nd row and
    column) whose max(R,G,B) is above reference white (1.001; the run report's statistic); the luminances are
    means over ``luminance_block`` x ``luminance_block`` blocks (``packed.block_rows_mean``: no full-size
    plane is written). The C kernel where built (within one code value of numba's twin: the same arithmetic,
    ``tanh`` from the C library), else numba's."""
    lib = _library()
    if lib is None:
        from hdrvid.color import fused

        planes, oog, lum = fused.sdr_planes_linear(linear, exposure, curve, encode, gamut, threshold, tolerance,
                                                   luminance_out, luminance_block)
        return planes, oog, float((np.asarray(linear)[:, ::2, ::2].max(0) > 1.001).mean()), lum
    from hdrvid.color.gamut import BT709

    lin, (yq, ucode, vcode), yin, yout, oog = sdr_buffers(linear, gamut, luminance_out, luminance_block)
    h, w = lin.shape[1:]
    hh, ww = yq.shape
    white = np.zeros(hh // 2, np.int64)
    m = rgb_to_ycbcr_matrix("bt709").astype(np.float32)
    ym, cm = np.ascontiguousarray(m[0]), np.ascontiguousarray(m[1:])
    table, scale, by_max = curve
    table = np.ascontiguousarray(table, np.float32)
    encode = np.ascontiguousarray(encode, np.float32)
    n_table, n_encode = table.size - 1, encode.size - 1
    table, encode = np.append(table, table[-1]), np.append(encode, encode[-1])  # the kernel reads one past the end
    wts = np.asarray(BT709.luminance_weights(), np.float32)
    thr = min(threshold, 1.0)
    f32 = np.float32
    _parallel(lib.sdr_pass, hh // 2, _p(lin, _F32), h, w, float(f32(exposure)), _p(wts, _F32), float(f32(thr)),
              float(f32(max(1.0 - thr, 1e-9))), int(gamut == "compress"), float(f32(1.0 + tolerance)), int(bool(by_max)),
              _p(table, _F32), n_table, float(f32(scale)), _p(encode, _F32), n_encode, _p(ym, _F32),
              _p(cm, _F32), _p(yq, _U8), ww, _p(ucode, _U8), _p(vcode, _U8), _p(yin, _F32), _p(yout, _F32),
              int(luminance_out), luminance_block, _p(oog, _I64P), _p(white, _I64P))
    even = ((h + 1) // 2) * ((w + 1) // 2)
    lum = (block_rows_mean(yin, luminance_block), block_rows_mean(yout, luminance_block)) if luminance_out else None
    return [yq, ucode, vcode], float(oog.sum()) / (h * w), float(white.sum()) / even, lum


def planar_lookup(codes: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """``lut[codes]`` for (H, W, 3) uint8/uint16 codes, written planar (3, H, W) float32: the C kernel where built,
    else numba's."""
    lib = _library()
    if lib is None or codes.dtype not in (np.uint8, np.uint16):
        from hdrvid.color import fused

        return fused.planar_lookup(codes, lut)
    codes = np.ascontiguousarray(codes)
    lut = np.ascontiguousarray(lut, np.float32)
    if lut.size < (256 if codes.dtype == np.uint8 else 65536):
        raise ValueError(f"planar_lookup: a table of {lut.size} entries for {codes.dtype} codes")
    h, w = codes.shape[:2]
    out = np.empty((3, h, w), np.float32)
    fn = lib.planar_lookup_u16 if codes.dtype == np.uint16 else lib.planar_lookup_u8
    _parallel(fn, h, codes.ctypes.data, h, w, _p(lut, _F32), _p(out, _F32))
    return out


def expand_clipped(linear: np.ndarray, a: np.ndarray, b: np.ndarray, log_gain: float, start: float,
                   clip: tuple[float, float], gamma: float, neutral: tuple[float, float],
                   shift: np.ndarray | None = None) -> np.ndarray:
    """:func:`hdrvid.color.fused.expand_clipped` (hdrunet's fast mode: guided gains on the clipped pixels of one
    frame, (3, H, W) float32): the C kernel where built, else numba's; the same numbers (tests)."""
    lib = _library()
    if lib is None:
        from hdrvid.color import fused

        return fused.expand_clipped(linear, a, b, log_gain, start, clip, gamma, neutral, shift)
    x = np.ascontiguousarray(linear, np.float32)
    a, b = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
    out = np.empty(x.shape, np.float32)
    h, w = x.shape[1:]
    if shift is not None:
        shift = np.ascontiguousarray(shift, np.float32).reshape(h, w)
    _parallel(lib.expand_clipped, h, _p(x, _F32), h, w, _p(a, _F32), _p(b, _F32), a.shape[1], a.shape[2],
              _p(out, _F32), None if shift is None else _p(shift, _F32), float(log_gain), float(start), float(clip[0]), float(clip[1]), float(gamma),
              float(neutral[0]), float(neutral[1]))
    return out


def luminance_gain(linear: np.ndarray, out: np.ndarray, weights: np.ndarray, table: np.ndarray) -> None:
    """:func:`hdrvid.color.fused.luminance_gain` (``out`` times a gain read from ``table`` at the square root of
    the luminance of ``linear``, in place): the C kernel where built, else numba's; the same numbers (tests)."""
    lib = _library()
    if lib is None or not (out.flags.c_contiguous and out.dtype == np.float32):
        from hdrvid.color import fused

        fused.luminance_gain(linear, out, weights, table)
        return
    lin = np.ascontiguousarray(linear, np.float32)
    wts, tab = np.ascontiguousarray(weights, np.float32), np.ascontiguousarray(table, np.float32)
    h, w = lin.shape[1:]
    _parallel(lib.luminance_gain, h, _p(lin, _F32), _p(out, _F32), h, w, _p(wts, _F32), _p(tab, _F32),
              tab.size - 1)


def blob_taps(h: int, w: int, sh: int, sw: int, f: int) -> tuple[np.ndarray, ...]:
    """The per-row and per-column bilinear taps from a frame's pixels to its working copy's (``sh`` x ``sw``, means
    of ``f`` x ``f`` blocks; pixel centres, the last partial blocks reading the last cells): (y0, y1, fy, x0, x1, fx)."""
    out: list[np.ndarray] = []
    for n, m in ((h, sh), (w, sw)):
        src = np.clip((np.arange(n) + 0.5) / f - 0.5, 0, m - 1)
        i0 = src.astype(np.int64)
        out += [i0, np.minimum(i0 + 1, m - 1), (src - i0).astype(np.float32)]
    return tuple(out)


def blob_gain(linear: np.ndarray, out: np.ndarray, stops: np.ndarray, f: int, shift: np.ndarray | None,
              lo: float, hi: float, gamma: float) -> tuple[float, float]:
    """:func:`hdrvid.color.fused.blob_gain` (hdrunet-auto's per-blob level on one frame, ``out`` (3, H, W) float32
    in place; ``stops`` the working copy's log2 factors, blocks of ``f`` pixels): the C kernel where built, else
    numba's; the same numbers (tests). Returns (sum of the factors applied, sum of the mask weights)."""
    h, w = linear.shape[1:]
    st = np.ascontiguousarray(stops, np.float32)
    taps = blob_taps(h, w, st.shape[0], st.shape[1], f)
    x = np.ascontiguousarray(linear, np.float32)
    sh_ = None if shift is None else np.ascontiguousarray(shift, np.float32).reshape(h, w)
    lib = _library()
    if lib is None or not (out.flags.c_contiguous and out.dtype == np.float32):
        from hdrvid.color import fused

        return fused.blob_gain(x, out, st, taps, sh_, lo, hi, gamma)
    sums = np.zeros((h, 2), np.float64)
    y0, y1, fy, x0, x1, fx = taps
    _parallel(lib.blob_gain, h, _p(x, _F32), _p(out, _F32), h, w, _p(st, _F32), st.shape[1], _p(y0, _I64P),
              _p(y1, _I64P), _p(fy, _F32), _p(x0, _I64P), _p(x1, _I64P), _p(fx, _F32),
              None if sh_ is None else _p(sh_, _F32), float(lo), float(hi), float(gamma), _p(sums, _F64))
    return float(sums[:, 0].sum()), float(sums[:, 1].sum())


def gate_ratios(linear: np.ndarray, out: np.ndarray, s: np.ndarray, box: tuple[int, int, int, int],
                start: float) -> None:
    """:func:`hdrvid.color.fused.gate_ratios` (the edge gate's exponents on ``out``'s expansion of ``linear``, (3, H,
    W) float32, in place, inside ``box`` = (y0, y1, x0, x1)): the C kernel where built, else numba's; the same
    numbers (tests; within float32 rounding of ``models.clip_edges.raise_ratios``)."""
    lib = _library()
    if lib is None or not (out.flags.c_contiguous and out.dtype == np.float32):
        from hdrvid.color import fused

        fused.gate_ratios(linear, out, s, box, start)
        return
    lin = np.ascontiguousarray(linear, np.float32)
    ex = np.ascontiguousarray(s, np.float32)
    h, w = lin.shape[1:]
    y0, y1, x0, x1 = (int(v) for v in box)
    _parallel(lib.gate_ratios, h, _p(lin, _F32), _p(out, _F32), _p(ex, _F32), h, w, y0, y1, x0, x1, float(start))


# --- the fast mode's downscale ------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def aa_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The taps of torch's antialiased bilinear resize of one axis from ``n_in`` to ``n_out`` samples
    (``F.interpolate(..., mode="bilinear", antialias=True, align_corners=False)``, ATen's
    ``_compute_indices_min_size_weights_aa``): each output's first input index, its number of taps and its weights
    ((n_out, taps) float32, zero-padded), in torch's precisions (float32 values, the sums that mix an integer and
    0.5 in float64), so the weights are torch's bit for bit (tests)."""
    f32, f64 = np.float32, np.float64
    scale = f32(f32(n_in) / f32(n_out))
    down = scale >= 1
    support = f32(f64(scale)) if down else f32(1.0)
    invscale = f32(1.0 / f64(scale)) if down else f32(1.0)
    k = int(np.ceil(support)) * 2 + 1
    first = np.zeros(n_out, np.int64)
    size = np.zeros(n_out, np.int64)
    wts = np.zeros((n_out, k), np.float32)
    for i in range(n_out):
        center = f32(f64(scale) * (i + 0.5))
        lo = max(int(f64(center) - f64(support) + 0.5), 0)
        n = min(max(min(int(f64(center) + f64(support) + 0.5), n_in) - lo, 0), k)
        total = f32(0.0)
        for j in range(n):
            d = abs(f32((f64(f32(f32(j + lo) - center)) + 0.5) * f64(invscale)))
            wts[i, j] = f32(1.0 - f64(d)) if d < 1 else f32(0.0)
            total = f32(total + wts[i, j])
        if total != 0:
            wts[i, :n] /= total
        first[i], size[i] = lo, n
    for a in (first, size, wts):
        a.flags.writeable = False
    return first, size, wts


def downscale_aa(x: np.ndarray, oh: int, ow: int) -> np.ndarray | None:
    """Planes (..., H, W) float32 to (..., oh, ow) by torch's antialiased bilinear resize (:func:`aa_taps`) in C:
    within a few float32 ulps of ``F.interpolate(..., mode="bilinear", antialias=True)`` (the passes in the other
    order) at a third of its time on a 720p frame. None where the C kernels were not built (the caller takes torch's)."""
    lib = _library()
    if lib is None or x.ndim < 2:
        return None
    h, w = x.shape[-2:]
    src = np.ascontiguousarray(x, np.float32)
    planes = int(np.prod(x.shape[:-2], dtype=np.int64))
    out = np.empty(x.shape[:-2] + (oh, ow), np.float32)
    xmin, xsize, xw = aa_taps(int(w), int(ow))
    ymin, ysize, yw = aa_taps(int(h), int(oh))
    _parallel(lib.downscale_aa, oh, _p(src, _F32), planes, h, w, oh, ow, _p(xmin, _I64P), _p(xsize, _I64P),
              _p(xw, _F32), xw.shape[1], _p(ymin, _I64P), _p(ysize, _I64P), _p(yw, _F32), yw.shape[1], _p(out, _F32))
    return out
