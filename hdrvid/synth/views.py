"""Photograph-like views of panoramas: rectilinear (pinhole) reprojection of an equirectangular HDR image.

A panorama crop is not what a camera sees (its verticals bend, its sky is stretched at the top); a pinhole
view at a random yaw, pitch and field of view is. Sampling is bilinear on the equirectangular grid, with a
horizontal wrap, after an area prefilter when the view is coarser than the panorama.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def perspective_view(pano: np.ndarray, yaw: float, pitch: float, fov: float, size: tuple[int, int]) -> np.ndarray:
    """The view of an equirectangular ``pano`` (H, W, 3) from a camera turned ``yaw`` (radians, about the
    vertical) and ``pitch`` (up positive), horizontal field of view ``fov`` (radians), ``size`` = (w, h)."""
    w, h = size
    ph, pw = pano.shape[:2]
    f = 0.5 * w / math.tan(0.5 * fov)
    # prefilter: one view pixel covers about (pw / 2pi) / f panorama pixels at the centre
    step = (pw / (2 * math.pi)) / f
    src = pano
    if step > 1.5:
        k = int(step)
        src = cv2.resize(pano, (max(8, pw // k), max(4, ph // k)), interpolation=cv2.INTER_AREA)
    sh, sw = src.shape[:2]
    xs = (np.arange(w, dtype=np.float32) - (w - 1) / 2) / f
    ys = (np.arange(h, dtype=np.float32) - (h - 1) / 2) / f
    x, y = np.meshgrid(xs, -ys)
    z = np.ones_like(x)
    # camera -> world: pitch about x, then yaw about y
    cp, sp, cy, sy = math.cos(pitch), math.sin(pitch), math.cos(yaw), math.sin(yaw)
    y2 = y * cp + z * sp
    z2 = -y * sp + z * cp
    x3 = x * cy + z2 * sy
    z3 = -x * sy + z2 * cy
    lon = np.arctan2(x3, z3)  # -pi..pi
    lat = np.arctan2(y2, np.sqrt(x3 * x3 + z3 * z3))  # -pi/2..pi/2
    map_x = ((lon / (2 * math.pi) + 0.5) * sw - 0.5).astype(np.float32)
    map_y = ((0.5 - lat / math.pi) * sh - 0.5).astype(np.float32)
    # wrap horizontally: pad one column each side so the seam interpolates
    padded = np.concatenate([src[:, -1:], src, src[:, :1]], axis=1)
    out = cv2.remap(padded, map_x + 1, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(out, dtype=np.float32)


def random_view(pano: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A square pinhole view: yaw anywhere, pitch -20..+35 degrees (cameras look up more than down), horizontal
    field of view 45..95 degrees, sometimes mirrored."""
    yaw = float(rng.uniform(-math.pi, math.pi))
    pitch = math.radians(float(rng.uniform(-20, 35)))
    fov = math.radians(float(rng.uniform(45, 95)))
    img = perspective_view(pano, yaw, pitch, fov, (size, size))
    return np.ascontiguousarray(img[:, ::-1]) if rng.random() < 0.5 else img
