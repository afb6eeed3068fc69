"""Camera simulation: HDR radiance -> the 8-bit picture a camera would have recorded.

Steps (each drawn from ``rng``, so a seed makes it repeatable): white-balance error, exposure (chosen so
a target share of pixels clips), shot + read noise in linear light, a response curve (sRGB, BT.709, or a
parametric family spanning real camera curves: power 1/1.6-1/2.8 with a filmic shoulder), clipping,
8-bit quantisation, and 4:2:0 chroma subsampling with H.264 (broadcast: one libx264 frame through
PyAV, BT.709 limited range) or JPEG (consumer) compression.

The model sees the 8-bit signal decoded with the *nominal* curve (what hdrvid's decoder does with the
file's tag): exact for sRGB/BT.709 cameras, wrong in a realistic way for the rest.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch

from hdrvid.color.operators import BT709_WEIGHTS, OPERATORS, ToneStats, luminance
from hdrvid.color.transfer import (
    bt709_inverse_oetf,
    bt709_oetf,
    srgb_eotf,
    srgb_inverse_eotf,
)

SETTINGS = ("srgb-mid", "hard", "broadcast", "consumer")
"""The clip-at-white cameras (`hdrvid eval`'s columns since the first release)."""
GRADED = "graded"
ALL_SETTINGS = SETTINGS + (GRADED,)
"""Plus graded SDR: a tone curve with a shoulder (the project's own operators or a random S-curve), saturation
roll-off, BT.709/BT.1886/sRGB encodings, H.264 or JPEG: what real SDR video looks like."""
GRADES = ("hable", "bt2390", "reinhard", "bt2446a", "scurve", "aces", "log-s", "agx", "hable-rgb")
"""The luminance grades (the project's operators and a random S-curve, hue kept) and the per-channel film
curves of real pipelines (``FILM_GRADES``: highlights desaturate towards white as each channel rolls off)."""
FILM_GRADES = ("aces", "log-s", "agx", "hable-rgb")


def film_curve(x: np.ndarray | torch.Tensor, curve: str, rng: np.random.Generator):
    """A per-channel film view transform, scene-linear (0.18 = mid grey) -> display-linear [0, 1]:
    ``aces`` (Narkowicz's fit of the ACES RRT + sRGB ODT), ``log-s`` (a sigmoid in log2 around mid grey, as
    camera log-to-Rec.709 LUTs are), ``agx`` (a log2 encoding over -10..+6.5 EV and a smoothstep sigmoid, as
    Blender's AgX) and ``hable-rgb`` (Hable's filmic curve on each channel, white 4-11)."""
    t = torch.as_tensor(x).clamp(min=0)
    if curve == "aces":
        return (t * (2.51 * t + 0.03) / (t * (2.43 * t + 0.59) + 0.14)).clamp(0, 1)
    if curve == "log-s":
        c = 0.6 * float(rng.uniform(1.1, 1.7))
        floor = 1 / (1 + math.exp(-c * math.log2(1e-6 / 0.18)))
        s = torch.sigmoid(c * torch.log2(t.clamp(min=1e-6) / 0.18))
        return ((s - floor) / (1 - floor)).clamp(0, 1) ** 2.4
    if curve == "agx":
        z = ((torch.log2(t.clamp(min=1e-10) / 0.18) + 10.0) / 16.5).clamp(0, 1)
        s = 0.5 + (z * z * (3 - 2 * z) - 0.5) * float(rng.uniform(1.0, 1.4))
        return s.clamp(0, 1) ** 2.2
    if curve == "hable-rgb":
        a, b, c, d, e, f = 0.15, 0.5, 0.1, 0.2, 0.02, 0.3
        h = lambda v: (v * (a * v + c * b) + d * e) / (v * (a * v + b) + d * f) - e / f
        white = float(rng.uniform(4.0, 11.2))
        return (h(2 * t) / h(torch.tensor(white))).clamp(0, 1)
    raise ValueError(f"unknown film curve {curve!r}; choose from {FILM_GRADES}")


@dataclass(frozen=True)
class Shot:
    """One simulated picture."""

    signal: np.ndarray  # (H, W, 3) uint8 as recorded
    linear: np.ndarray  # (H, W, 3) float32: the signal decoded with the nominal curve
    target: np.ndarray  # (H, W, 3) float32: ground-truth radiance x exposure (same scale as ``linear``)
    clipped: np.ndarray  # (H, W) bool: pixels with any channel at or near 255
    exposure: float
    nominal: str  # the curve the decoder assumes ("srgb" or "bt709")
    setting: str = ""  # the camera setting that made it (training labels only; models are never told)
    render: Callable[[float], np.ndarray] | None = None
    """The same camera (response, white balance, grade) at ``gain`` times the exposure, without noise or codec:
    (H, W, 3) uint8 codes. A synthetic bracket's ground truth (issue 15)."""


def nominal_linear(code: np.ndarray, nominal: str) -> np.ndarray:
    """8-bit codes (H, W, 3) -> float32 light decoded with the nominal curve a shot's decoder assumes ("srgb", else
    BT.709's inverse OETF)."""
    decode = srgb_eotf if nominal == "srgb" else bt709_inverse_oetf
    return np.asarray(decode(code.astype(np.float32) / 255), dtype=np.float32)


def _response(kind: str, rng: np.random.Generator):
    if kind == "srgb":
        return srgb_inverse_eotf
    if kind == "bt709":
        return bt709_oetf
    gamma = rng.uniform(1.6, 2.8)
    shoulder = rng.uniform(0.0, 0.6)

    def curve(x: np.ndarray) -> np.ndarray:
        y = np.clip(x, 0, 1)
        if shoulder > 0:
            y = (1 + shoulder) * y / (y + shoulder)  # filmic shoulder, still 1 at 1
        return y ** (1 / gamma)

    return curve


def h264_roundtrip(code: np.ndarray, crf: int) -> np.ndarray:
    """8-bit RGB through BT.709 limited-range 4:2:0 and one libx264 intra frame (PyAV), and back."""
    import av

    h, w = code.shape[:2]
    pad_h, pad_w = h % 2, w % 2
    img = np.pad(code, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge") if pad_h or pad_w else code
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = img.shape[1], img.shape[0], "yuv420p"
    ctx.options = {"crf": str(crf), "preset": "veryfast", "tune": "stillimage"}
    ctx.colorspace, ctx.color_range = 1, 1
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24").reformat(
        format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
    packets = list(ctx.encode(frame)) + list(ctx.encode(None))
    dec = av.CodecContext.create("h264", "r")
    out = None
    for p in packets:
        for f in dec.decode(p):
            out = f
    for f in dec.decode(None):
        out = f
    if out is None:
        return code
    rgb = out.reformat(format="rgb24", src_colorspace="ITU709", src_color_range="MPEG").to_ndarray()
    return np.ascontiguousarray(rgb[:h, :w])


def expose_for_clipping(hdr: np.ndarray, clip_share: float) -> float:
    """Exposure that makes ``clip_share`` of the pixels' max(R,G,B) reach 1."""
    m = hdr.max(-1)
    q = float(np.quantile(m, 1 - clip_share)) if clip_share > 0 else float(m.max())
    return 1.0 / max(q, 1e-6)


def grade(lin: np.ndarray, rng: np.random.Generator, curve: str | None = None, gain: float = 1.0) -> np.ndarray:
    """Scene-linear (exposed; 1.0 = the exposure's white) -> display-linear SDR in [0, 1] through a tone
    curve with a shoulder and a saturation roll-off in the highlights, as a colourist's SDR grade does.
    ``gain``: the same grade (curve and statistics of ``lin``) applied to ``lin * gain`` (a bracket of it)."""
    curve = curve or GRADES[int(rng.integers(0, len(GRADES)))]
    t = torch.from_numpy(np.ascontiguousarray(lin.transpose(2, 0, 1))).clamp(min=0)
    y = luminance(t[None], BT709_WEIGHTS)[0, 0]
    stats_t = t
    t, y = t * gain, y * gain
    if curve in FILM_GRADES:  # exposed so the scene's log-average lands near mid grey, as a colourist would
        la = float(torch.exp(torch.log((y / gain).clamp(min=1e-5)).mean()))
        disp = film_curve(t * (0.18 / max(la, 1e-4) * float(rng.uniform(0.6, 1.6))), curve, rng)
    elif curve == "scurve":
        mid = float(rng.uniform(0.12, 0.3))  # scene value that lands at display 0.5^2.2
        c = float(rng.uniform(1.1, 1.8))  # contrast
        w = float(rng.uniform(2.0, 12.0))  # scene value that reaches display white
        z = torch.log2(y.clamp(min=1e-6) / mid)
        zw = math.log2(w / mid)
        d = torch.sigmoid(c * z) / torch.sigmoid(torch.tensor(c * zw))
        disp = t * (d.clamp(max=1) / y.clamp(min=1e-6))
    else:
        la = float(torch.exp(torch.log((y / gain).clamp(min=1e-5)).mean()))
        peak = float(torch.quantile(stats_t.amax(0).flatten()[::7], 0.999)) * float(rng.uniform(0.6, 1.5))
        disp = OPERATORS[curve](t, ToneStats(peak=max(peak, 1.05), log_average=max(la, 1e-4)))
    disp = disp.clamp(min=0)
    yd = luminance(disp[None], BT709_WEIGHTS)[0]
    roll = float(rng.uniform(0.0, 0.7))
    k = ((yd - 0.55) / 0.45).clamp(0, 1)
    disp = yd + (disp - yd) * (1 - roll * k * k)  # highlights lose saturation before they reach white
    return np.ascontiguousarray(disp.clamp(0, 1).numpy().transpose(1, 2, 0), dtype=np.float32)


def shoot(hdr: np.ndarray, rng: np.random.Generator, setting: str = "random", graded_share: float = 0.0) -> Shot:
    """Simulate a camera on ``hdr`` (linear radiance). ``setting``: one of ALL_SETTINGS, or "random" (a
    clip-at-white camera, or with probability ``graded_share`` a graded SDR picture)."""
    if setting == "random":
        setting = GRADED if rng.random() < graded_share else SETTINGS[int(rng.integers(0, len(SETTINGS)))]
    if setting == GRADED:
        return _shoot_graded(hdr, rng)
    h, w = hdr.shape[:2]
    x = hdr.astype(np.float32)
    nominal = "srgb"
    jpeg = None
    noise = False
    if setting == "srgb-mid":
        kind, clip = "srgb", rng.uniform(0.01, 0.08)
    elif setting == "hard":
        kind, clip = "srgb", rng.uniform(0.25, 0.40)
    elif setting == "broadcast":
        kind, clip, nominal = "bt709", rng.uniform(0.02, 0.15), "bt709"
    elif setting == "consumer":
        kind, clip, jpeg, noise = "param", rng.uniform(0.02, 0.20), int(rng.integers(60, 92)), True
        x = x * rng.uniform(0.9, 1.1, 3).astype(np.float32)  # white-balance error
    else:
        raise ValueError(f"unknown camera setting {setting!r}; choose from {SETTINGS}")
    exposure = expose_for_clipping(x, clip)
    lin = x * np.float32(exposure)
    if noise:
        gain = rng.uniform(0.001, 0.004)
        lin = lin + np.sqrt(np.clip(lin, 0, 1) * gain) * rng.standard_normal(lin.shape).astype(np.float32)
        lin = lin + rng.uniform(0.0005, 0.002) * rng.standard_normal(lin.shape).astype(np.float32)
    response = _response(kind, rng)
    sig = np.asarray(response(np.clip(lin, 0, 1)), dtype=np.float32)
    code = _codes(sig)
    scene = x * np.float32(exposure)

    def render(gain: float) -> np.ndarray:
        return _codes(np.asarray(response(np.clip(scene * np.float32(gain), 0, 1)), np.float32))

    if setting == "broadcast":  # 4:2:0, limited range and H.264 artefacts
        code = h264_roundtrip(code, int(rng.integers(18, 28)))
    if jpeg is not None:  # 4:2:0 + DCT artefacts (OpenCV's JPEG subsamples chroma by default)
        ok, buf = cv2.imencode(".jpg", code[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        code = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1] if ok else code
    linear = nominal_linear(code, nominal)
    clipped = code.max(-1) >= 250
    target = (x if setting != "consumer" else hdr.astype(np.float32)) * np.float32(exposure)
    return Shot(signal=np.ascontiguousarray(code), linear=linear, target=target.astype(np.float32),
                clipped=clipped, exposure=exposure, nominal=nominal, setting=setting, render=render)


def _codes(signal: np.ndarray) -> np.ndarray:
    return np.clip(np.round(signal * 255), 0, 255).astype(np.uint8)


def _shoot_graded(hdr: np.ndarray, rng: np.random.Generator) -> Shot:
    x = hdr.astype(np.float32)
    exposure = expose_for_clipping(x, float(rng.uniform(0.02, 0.3)))  # the grade rolls these off, not clips
    lin = x * np.float32(exposure)
    state = copy.deepcopy(rng.bit_generator.state)  # the grade's draws, replayed by ``render``
    disp = grade(lin, rng)
    enc = int(rng.integers(0, 3))
    encode, nominal = _DISPLAY_ENCODINGS[enc]
    code = _codes(np.asarray(encode(disp), np.float32))

    def render(gain: float) -> np.ndarray:
        replay = np.random.Generator(type(rng.bit_generator)())
        replay.bit_generator.state = state
        return _codes(np.asarray(encode(grade(lin, replay, gain=gain)), np.float32))

    if rng.random() < 0.6:
        code = h264_roundtrip(code, int(rng.integers(16, 28)))
    else:
        ok, buf = cv2.imencode(".jpg", code[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 95))])
        code = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1] if ok else code
    linear = nominal_linear(code, nominal)
    return Shot(signal=np.ascontiguousarray(code), linear=linear, target=lin.astype(np.float32),
                clipped=code.max(-1) >= 250, exposure=exposure, nominal=nominal, setting=GRADED, render=render)


_DISPLAY_ENCODINGS: tuple[tuple[Callable[[np.ndarray], np.ndarray], str], ...] = (
    (lambda d: d ** (1 / 2.4), "bt709"),  # BT.1886 display encoding (what a video grade is), read back as BT.709
    (bt709_oetf, "bt709"),
    (srgb_inverse_eotf, "srgb"),
)


def sharpened(shot: Shot, rng: np.random.Generator) -> Shot:
    """``shot`` as a phone's or a TV camera's processing would hand it on: its codes through an unsharp mask
    (Gaussian sigma 0.6-1.4 pixels, amount 0.3-1.2, on the encoded signal, clipped to 0-255 and rounded), which
    draws the light and dark lines along edges that real footage has and the clip-at-white cameras above lack;
    ``linear`` decoded again, the rest kept. For training what sees such edges at small sizes (``hdrunet-2x``):
    the evaluation's cameras stay as they are."""
    code = shot.signal.astype(np.float32)
    blur = cv2.GaussianBlur(code, (0, 0), float(rng.uniform(0.6, 1.4)))
    code = np.clip(np.rint(code + np.float32(rng.uniform(0.3, 1.2)) * (code - blur)), 0, 255).astype(np.uint8)
    return replace(shot, signal=np.ascontiguousarray(code), linear=nominal_linear(code, shot.nominal),
                   clipped=code.max(-1) >= 250)
