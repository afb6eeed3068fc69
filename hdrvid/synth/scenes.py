"""Procedural HDR scenes with real dynamic range (linear BT.709, relative: 1.0 = diffuse white).

``interior_with_window`` renders a dim room (0.01-0.2) with a window onto a sky (2-8) holding a sun
disc (~2000), a lamp with a glowing bulb (~60) that moves across the room, and a glossy ball whose
specular highlight (~40) travels with it: about 18 stops from the darkest corner to the sun.
"""

from __future__ import annotations

import math

import numpy as np

from hdrvid.color.transfer import bt709_oetf


def _value_noise(h: int, w: int, scale: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gh, gw = int(h / scale) + 2, int(w / scale) + 2
    grid = rng.random((gh, gw)).astype(np.float32)
    yy = np.linspace(0, gh - 2, h, dtype=np.float32)
    xx = np.linspace(0, gw - 2, w, dtype=np.float32)
    y0, x0 = yy.astype(int), xx.astype(int)
    fy, fx = (yy - y0)[:, None], (xx - x0)[None, :]
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)
    a, b = grid[y0][:, x0], grid[y0][:, x0 + 1]
    c, d = grid[y0 + 1][:, x0], grid[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def interior_with_window(t: float, width: int = 640, height: int = 360, seed: int = 0) -> np.ndarray:
    """Frame at time ``t`` in [0, 1]: (H, W, 3) float32 linear radiance."""
    h, w = height, width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / w, yy / h
    tex = 0.75 + 0.5 * _value_noise(h, w, max(4.0, w / 40), seed)
    # walls and floor: warm, dim, darker away from the window
    wall = np.stack([0.11, 0.09, 0.07]).astype(np.float32) * (0.35 + 0.9 * np.exp(-((u - 0.7) ** 2) / 0.08))[..., None]
    img = wall * tex[..., None]
    floor = v > 0.72
    img[floor] = (np.array([0.05, 0.035, 0.025], np.float32) * tex[floor][:, None] * (0.6 + 1.2 * (v[floor] - 0.72))[:, None])
    # window onto the sky, with a slowly drifting sun
    win = (u > 0.55) & (u < 0.9) & (v > 0.12) & (v < 0.55)
    sky = np.stack([1.8 + 2.5 * (1 - v), 2.6 + 3.0 * (1 - v), 4.0 + 4.0 * (1 - v)], -1).astype(np.float32)
    clouds = np.clip(_value_noise(h, w, w / 12, seed + 1) - 0.45, 0, 1)[..., None] * np.float32(9.0)
    sx, sy = 0.68 + 0.12 * t, 0.25
    r2 = ((u - sx) * w) ** 2 + ((v - sy) * h) ** 2
    sun = (2000.0 * (r2 < (0.018 * w) ** 2) + 30.0 * np.exp(-r2 / (0.05 * w) ** 2)).astype(np.float32)[..., None]
    img[win] = (sky + clouds + sun)[win]
    mull = win & ((np.abs(u - 0.725) < 0.004) | (np.abs(v - 0.335) < 0.006))
    img[mull] = 0.02
    # moving lamp: a bulb with a glow, lighting the wall near it
    lx, ly = 0.1 + 0.35 * t, 0.3
    d2 = ((u - lx) * w) ** 2 + ((v - ly) * h) ** 2
    glow = (0.32 * np.exp(-d2 / (0.2 * w) ** 2) * tex)[..., None]
    img += glow * np.array([1.0, 0.8, 0.55], np.float32)
    bulb = d2 < (0.02 * w) ** 2
    img[bulb] = np.array([60.0, 50.0, 35.0], np.float32)
    # glossy ball rolling on the floor, specular highlight facing the window
    bx, by, br = 0.2 + 0.5 * t, 0.8, 0.07 * h
    dx, dy = (xx - bx * w) / br, (yy - by * h) / br
    inside = dx**2 + dy**2 < 1
    nz = np.sqrt(np.clip(1 - dx**2 - dy**2, 0, 1))
    shade = np.clip(0.5 * dx + -0.3 * dy + 0.6 * nz, 0.05, 1)
    ball = np.array([0.5, 0.06, 0.05], np.float32) * shade[..., None]
    spec = (40.0 * np.clip((0.45 * dx - 0.45 * dy + 0.77 * nz), 0, 1) ** 80)[..., None]
    img[inside] = (ball + spec)[inside]
    return np.ascontiguousarray(img.astype(np.float32))


def camera(hdr: np.ndarray, exposure: float = 1.0) -> np.ndarray:
    """A plain SDR camera: exposure, clipping at 1, BT.709 OETF, 8-bit RGB."""
    lin = np.clip(hdr * exposure, 0, 1)
    return (bt709_oetf(lin) * 255 + 0.5).astype(np.uint8)


def dynamic_range_stops(hdr: np.ndarray) -> float:
    y = hdr.mean(-1)
    lo = float(np.percentile(y, 0.5))
    return math.log2(float(y.max()) / max(lo, 1e-6))


def procedural_scenes(count: int, size: tuple[int, int] = (320, 180), seed: int = 0) -> list[np.ndarray]:
    """Rendered rooms with windows, sun, lamps and glossy objects, varied by seed."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        img = interior_with_window(float(rng.random()), size[0], size[1], seed=int(rng.integers(0, 10_000)))
        tint = rng.uniform(0.7, 1.3, 3).astype(np.float32)
        out.append(np.ascontiguousarray(img * tint * np.float32(rng.uniform(0.3, 3.0))))
    return out
