"""How hard the edge around each clipped area is: a plateau or a highlight (issue 12, the edge gate).

A camera that clips a bright sun, a lamp or a specular reflection records a steep rise of the code values up to
white at the edge of the clipped area; a picture whose light barely exceeds white (an overcast sky, a lit wall,
a grade's plateau) reaches white through a gentle slope. On 53 Cycles renders and on the validation views
``hdrunet-auto`` lost its margin over plain linearisation on pictures of the second kind (the truth just above
white, the network expanding it as a highlight); the mean code gradient on a ring around each clipped area tells
the two apart (hdrunet card, session 26; docs/training/hdrunet/renders-check-session26/).

:func:`edge_exponents` gives each clipped area an exponent ``s`` in [EDGE_FLOOR, 1] on its expansion (the output
of a pixel there is ``x * (y / x) ** s``): 1 for a steep edge (EDGE_HI codes per pixel or more), EDGE_FLOOR for a
gentle one (EDGE_LO or less), linear in between. It is measured at EDGE_WIDTH pixels across (the width it was
chosen at), so a 4K frame's soft edge is not mistaken for a plateau because it spans more pixels.
:func:`gate_expansion` applies it to a model's output (``hdrunet-auto``: ``HDRUNet.edge_gated``), and with a ``ring``
(``brackets``: ``brackets.EDGE_RING``) also :func:`ring_exponents`, which lower the expansion on each clipped area's
outer pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from hdrvid.color.kernels import gate_ratios
from hdrvid.lazy import torch

EDGE_CODE = 246.0
"""An area is clipped where max(R, G, B) reaches this 8-bit code (signal ~0.965: where the expansion mask starts)."""
EDGE_LO, EDGE_HI = 2.0, 10.0
"""Mean code gradient (codes per pixel at EDGE_WIDTH, after a Gaussian blur of sigma 1) on the 2-pixel ring around
an area: at or below EDGE_LO the area's expansion takes the exponent EDGE_FLOOR, at or above EDGE_HI all of it.
Chosen on validation over 2-10, 2-6 and 4-12 with floors 0.3-0.7 (session 26 study; card)."""
EDGE_FLOOR = 0.5
EDGE_WIDTH = 384
"""Frames wider than this are measured on a copy area-resized to this width."""
RING_CODE = 252.5
"""The ring (:func:`ring_exponents`) measures each pixel's distance to the nearest pixel below this code: where a
camera's clip begins (the default model's camera mask starts here, ``hdrunet.CAMERA_ALPHA_LO``)."""

_KERNEL3 = np.ones((3, 3), np.uint8)
_KERNEL5 = np.ones((5, 5), np.uint8)


def working_size(height: int, width: int) -> tuple[int, int]:
    """(h, w) the edges are measured at for a frame of this size: EDGE_WIDTH across at most."""
    if width <= EDGE_WIDTH:
        return height, width
    return max(1, round(height * EDGE_WIDTH / width)), EDGE_WIDTH


def sample_stride(width: int) -> int:
    """Every how many rows and columns max(R, G, B) is read for the working-size map: every pixel up to twice
    EDGE_WIDTH across, else every ``width // EDGE_WIDTH``-th (a 720p frame's every 3rd; a full-size pass cost 2-3 ms
    a frame at 720p for a map a quarter of the size is plenty for)."""
    return 1 if width < 2 * EDGE_WIDTH else width // EDGE_WIDTH


def edge_exponents(code: np.ndarray) -> np.ndarray | None:
    """``code`` (h, w) float32: max(R, G, B) in 8-bit code values (0-255, fractional allowed) at the working size.
    Returns the exponent map (h, w) float32 (1 outside clipped areas), or None when nothing reaches EDGE_CODE.

    Areas are the 8-connected components of the clipped pixels dilated by one pixel (a clipped cloud's speckles
    are one area); an area's ring is the pixels within two of it that belong to no area (where two rings overlap
    the ring pixel counts for the higher label); an area without a ring (the whole frame) keeps exponent 1."""
    code = np.ascontiguousarray(code, np.float32)
    clipped = (code >= EDGE_CODE).astype(np.uint8)
    if not clipped.any():
        return None
    n, labels = cv2.connectedComponents(cv2.dilate(clipped, _KERNEL3))
    blurred = cv2.GaussianBlur(code, (0, 0), 1.0)
    gy, gx = np.gradient(blurred)
    grad = np.hypot(gx, gy)
    near = cv2.dilate(labels.astype(np.float32), _KERNEL5).astype(np.int64)  # exact: labels < 2**24
    ring = (labels == 0) & (near > 0)
    counts = np.bincount(near[ring], minlength=n)
    sums = np.bincount(near[ring], weights=grad[ring], minlength=n)
    edge = sums / np.maximum(counts, 1)
    s = EDGE_FLOOR + (1 - EDGE_FLOOR) * np.clip((edge - EDGE_LO) / (EDGE_HI - EDGE_LO), 0, 1)
    s[counts == 0] = 1.0
    s[0] = 1.0
    return s.astype(np.float32)[labels]


def exponent_maps(linear: torch.Tensor, gamma: float) -> torch.Tensor | None:
    """(N, 1, h, w) float32 on the CPU: :func:`edge_exponents` of each frame of ``linear`` (N, C, H, W), measured on
    max(R, G, B) under the signal ``linear ** (1 / gamma)`` (:func:`working_codes`); None when no frame has a clipped
    area."""
    return _maps(working_codes(linear, gamma), edge_exponents)


def ring_maps(linear: torch.Tensor, gamma: float, floor: float, width: float) -> torch.Tensor | None:
    """:func:`exponent_maps` for :func:`ring_exponents`: ``floor``, and ``width`` in pixels of a frame EDGE_WIDTH
    across (the working size of every frame at least that wide; a narrower frame's ring is as much narrower, so it
    spans the same share of the picture at every size)."""
    return _ring_maps(working_codes(linear, gamma), floor, width)


def working_codes(linear: torch.Tensor, gamma: float) -> np.ndarray:
    """(N, h, w) float32: each frame's max(R, G, B) of ``linear`` (N, C, H, W) as 8-bit codes of the signal
    ``linear ** (1 / gamma)``, read every :func:`sample_stride`-th pixel and area-resized to :func:`working_size`:
    the map the edge gate and the ring both read."""
    n, _, h, w = linear.shape
    size = working_size(h, w)
    k = sample_stride(w)
    if isinstance(linear, np.ndarray):
        peak = np.clip(linear[:, :, ::k, ::k].max(1), 0, 1).astype(np.float32, copy=False)
    else:
        peak = linear[:, :, ::k, ::k].amax(1).clamp(0, 1).float().cpu().numpy()
    return np.stack([np.power(peak[i] if peak.shape[1:] == size else
                              cv2.resize(peak[i], size[::-1], interpolation=cv2.INTER_AREA), 1 / gamma) * 255
                     for i in range(n)])


def _maps(codes: np.ndarray, of: Callable[[np.ndarray], np.ndarray | None]) -> torch.Tensor | None:
    """(N, 1, h, w): ``of`` each working-size code map (1 where it returns None); None when it does for every frame."""
    maps = [of(code) for code in codes]
    if all(m is None for m in maps):
        return None
    return torch.from_numpy(np.stack([np.ones(codes.shape[1:], np.float32) if m is None else m for m in maps]))[:, None]


def _ring_maps(codes: np.ndarray, floor: float, width: float) -> torch.Tensor | None:
    scaled = width * codes.shape[-1] / EDGE_WIDTH
    return _maps(codes, lambda code: ring_exponents(code, floor, scaled))


def ring_exponents(code: np.ndarray, floor: float, width: float) -> np.ndarray | None:
    """``code`` (h, w) float32 as :func:`edge_exponents` takes it. Returns an exponent map (h, w) float32 that rises
    from ``floor`` on the outermost pixels of each area at or above :data:`RING_CODE` to 1 at ``width`` pixels inside
    (linear in the L2 distance to the nearest pixel below it; the frame's border is not an edge) and is ``floor``
    below the code (the gate changes only pixels above its start: there, the near-white pixels around an area, which
    a mask blends in part); None when nothing reaches the code. Light rises continuously from the clip point at an
    area's edge: a model whose expansion field is smoother than the clipped area (``brackets``' generator runs at
    half resolution) spills its inner gains onto the edge pixels, whose truth is barely above white (brackets card,
    session 41)."""
    inside = (np.ascontiguousarray(code, np.float32) >= RING_CODE).astype(np.uint8)
    if not inside.any():
        return None
    d = cv2.distanceTransform(np.pad(inside, 1, mode="edge"), cv2.DIST_L2, 5)[1:-1, 1:-1]
    return np.clip(floor + (1 - floor) * (d - 1) / max(width - 1, 1e-6), floor, 1).astype(np.float32)


def gate_expansion(linear: torch.Tensor, out: torch.Tensor, weight: torch.Tensor, start: float,
                   gamma: float, ring: tuple[float, float] | None = None, ring_weighted: bool = False) -> torch.Tensor:
    """``out`` (an expansion of ``linear``, (N, C, H, W)) with each clipped area's expansion ratio ``out / linear``
    raised to its exponent (:func:`exponent_maps`, bilinearly resized to the frame), pulled to 1 by each frame's
    ``weight`` (N,) on the CPU (``s + (1 - s) w``: 1 = a graded frame, left alone), and with ``ring`` = (floor,
    width) times :func:`ring_maps`' exponents (on every frame, or with ``ring_weighted`` pulled to 1 by the weight
    as the edge's are). Only pixels whose max(R, G, B) is above ``start`` (linear light) change, in place (the
    caller's ``out`` must be its own tensor)."""
    camera = not bool((weight >= 1).all())
    with_ring = ring is not None and (camera or not ring_weighted)
    if not camera and not with_ring:
        return out
    codes = working_codes(linear, gamma)  # one working map for both
    small = _maps(codes, edge_exponents) if camera else None
    if small is not None:
        small = small + (1 - small) * weight.view(-1, 1, 1, 1)
    rings = _ring_maps(codes, *ring) if with_ring and ring is not None else None
    if rings is not None:
        if ring_weighted:
            rings = rings + (1 - rings) * weight.view(-1, 1, 1, 1)
        small = rings if small is None else small * rings
    if small is None:
        return out
    if not bool((small < 1).any()):
        return out
    h, w = linear.shape[-2:]
    s = small if small.shape[-2:] == (h, w) else torch.from_numpy(np.stack(
        [cv2.resize(m[0].numpy(), (w, h), interpolation=cv2.INTER_LINEAR) for m in small]))[:, None]
    s = s.to(linear.device)
    compiled = (linear.device.type == "cpu" and linear.dtype == out.dtype == torch.float32 and out.is_contiguous()
                and not out.requires_grad)
    for i in range(linear.shape[0]):
        box = _box(small[i, 0].numpy(), h, w)
        if box is None:
            continue
        if compiled:  # one pass over the box (the torch steps below took ~35 ms a frame at 1080p; the same numbers)
            gate_ratios(linear[i].detach().numpy(), out[i].numpy(), s[i, 0].numpy(), box, start)
            continue
        flat = _gated_pixels(linear[i], s[i, 0], box, start)
        if flat is not None:
            raise_ratios(linear[i], out[i], s[i, 0], flat)
    return out


def raise_ratios(linear: torch.Tensor, out: torch.Tensor, s: torch.Tensor, flat: torch.Tensor) -> None:
    """At the pixels ``flat`` (flat indices) of one frame, ``out`` (C, H, W) becomes ``lin * (out / lin) ** s`` with
    ``lin`` the frame ``linear`` clamped to [1e-8, 1] and ``s`` (H, W) the exponents; in place (flat gathers:
    advanced indexing of (:, rows, cols) took ~10x as long at 720p)."""
    lin = linear.reshape(linear.shape[0], -1).index_select(1, flat).clamp(1e-8, 1).to(out.dtype)
    view = out.view(out.shape[0], -1)
    ratio = (view.index_select(1, flat) / lin).clamp(min=1e-8)
    exponent = s.reshape(-1).index_select(0, flat).to(out.dtype)
    view.index_copy_(1, flat, lin * torch.exp(exponent * torch.log(ratio)))


def gate_frame(linear: np.ndarray, out: np.ndarray, weight: float, start: float, gamma: float) -> None:
    """:func:`gate_expansion` (no ring) of one float32 frame ``out`` (3, H, W, C-contiguous) in place, ``linear`` its
    input and ``weight`` its shoulder weight: the same numbers, no torch (``hdrunet-auto``'s torch-free path)."""
    w32 = np.float32(weight)
    if w32 >= 1:
        return
    small = edge_exponents(working_codes(linear[None], gamma)[0])
    if small is None:
        return
    small = small + (1 - small) * w32
    if not (small < 1).any():
        return
    h, w = linear.shape[-2:]
    s = small if small.shape == (h, w) else cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    box = _box(small, h, w)
    if box is not None:
        gate_ratios(linear, out, np.ascontiguousarray(s, np.float32), box, start)


def _box(small: np.ndarray, h: int, w: int) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1): the box of full-size (``h`` x ``w``) rows and columns the bilinear resize can carry an exponent
    below 1 of ``small`` (h, w) to, or None (no exponent below 1). A frame's gentle areas are usually a small part of
    it: the full-frame max and test cost ~5 ms a frame at 720p inside a pipeline."""
    hs, ws = small.shape
    below = small < 1
    rows = np.flatnonzero(below.any(1))
    if not len(rows):
        return None
    cols = np.flatnonzero(below.any(0))
    # full-size row y reads small rows floor(src) and floor(src) + 1, src = (y + 0.5) hs / h - 0.5: rows whose src lies
    # within one of [r0, r1] (and two pixels more for rounding)
    y0 = max(0, int((int(rows[0]) - 0.5) * h / hs - 0.5) - 2)
    y1 = min(h, int((int(rows[-1]) + 1.5) * h / hs - 0.5) + 3)
    x0 = max(0, int((int(cols[0]) - 0.5) * w / ws - 0.5) - 2)
    x1 = min(w, int((int(cols[-1]) + 1.5) * w / ws - 0.5) + 3)
    return y0, y1, x0, x1


def _gated_pixels(frame: torch.Tensor, s: torch.Tensor, box: tuple[int, int, int, int],
                  start: float) -> torch.Tensor | None:
    """Flat indices (ascending) of the pixels of ``frame`` (C, H, W) inside ``box`` (:func:`_box`) whose max(R, G, B)
    is above ``start`` and whose exponent ``s`` (H, W) is below 1, or None."""
    w = s.shape[1]
    y0, y1, x0, x1 = box
    inside = (frame[:, y0:y1, x0:x1].amax(0) > start) & (s[y0:y1, x0:x1] < 1)
    r, c = inside.nonzero(as_tuple=True)
    if not len(r):
        return None
    return (r + y0) * w + (c + x0)
