"""Merging differently exposed pictures of one scene into radiance: the classical methods.

Conventions: pictures are linear light, planar (3, H, W) float32, as the decoder gives them; a picture
taken at exposure value ``ev`` holds ``radiance * 2**ev`` (clipped at 1), so radiance is relative to an
EV 0 picture (1.0 = its white). Weights are computed on the display-encoded signal (gamma 2.2).

- :func:`weighted_merge` (``debevec``): Debevec & Malik's weighted average of per-picture radiance
  estimates, with a hat weight that is zero at clipping and in the noise floor. No alignment.
- :func:`flow_merge` (``flowmerge``): the reference picture's neighbours are aligned to it with dense
  optical flow (OpenCV DIS) computed both ways between exposure-matched versions; pixels where the
  forward and backward flows disagree, or where the warped neighbour's radiance contradicts a
  well-exposed reference, are masked as ghosts. The reference keeps its well-exposed pixels; clipped or
  dark regions take radiance only from neighbours valid there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

GAMMA = 2.2


def signal(lin: np.ndarray) -> np.ndarray:
    return np.clip(lin, 0, 1) ** (1 / GAMMA)


def smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0, 1)
    return t * t * (3 - 2 * t)


def well_exposed(lin: np.ndarray, low: float = 0.04, high: tuple[float, float] = (0.86, 0.97)) -> np.ndarray:
    """Hat weight (H, W) in [0, 1]: 0 where any channel clips or everything sits in the noise floor."""
    s = signal(lin)
    top = 1 - smoothstep(s.max(0), *high)
    bottom = smoothstep(s.mean(0), 0.0, low * 2) if low > 0 else np.ones_like(top)
    return (top * bottom).astype(np.float32)


def radiance(lin: np.ndarray, ev: float) -> np.ndarray:
    return lin * np.float32(2.0 ** -ev)


def fallback(pictures: Sequence[np.ndarray], evs: Sequence[float]) -> np.ndarray:
    """Where no picture is well exposed: the shortest exposure where it is bright, the longest where dark."""
    short, long_ = int(np.argmin(evs)), int(np.argmax(evs))
    bright = signal(pictures[short]).max(0) > 0.5
    return np.where(bright[None], radiance(pictures[short], evs[short]), radiance(pictures[long_], evs[long_]))


def weighted_merge(pictures: Sequence[np.ndarray], evs: Sequence[float],
                   weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Σ w_i radiance_i / Σ w_i, with :func:`fallback` where Σ w_i vanishes."""
    ws = list(weights) if weights is not None else [well_exposed(p) for p in pictures]
    num = np.zeros_like(pictures[0])
    den = np.zeros(pictures[0].shape[1:], np.float32)
    for p, ev, w in zip(pictures, evs, ws):
        num += w[None] * radiance(p, ev)
        den += w
    fb = fallback(pictures, evs)
    alpha = np.clip(den / 1e-2, 0, 1)[None]  # blend smoothly into the fallback as the weights vanish
    return (alpha * num / np.maximum(den, 1e-6)[None] + (1 - alpha) * fb).astype(np.float32)


# --- alignment --------------------------------------------------------------------------------------------

def exposure_matched_gray(lin: np.ndarray, ev: float, common_ev: float) -> np.ndarray:
    """8-bit grey of the picture as if taken at ``common_ev`` (clipping included) for flow estimation."""
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    y = np.clip(y * np.float32(2.0 ** (common_ev - ev)), 0, 1) ** (1 / GAMMA)
    return np.round(y * 255).astype(np.uint8)


@dataclass
class FlowPair:
    """Flows between two pictures a and b: ``ab`` maps a's pixels to b, ``ba`` b's to a (pixels, (H, W, 2))."""

    ab: np.ndarray
    ba: np.ndarray


def resize_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A flow field (H, W, 2) in pixels resampled to ``size`` = (w, h), its vectors scaled to match."""
    h, w = flow.shape[:2]
    if (w, h) == size:
        return flow
    interp = cv2.INTER_AREA if size[0] < w else cv2.INTER_LINEAR
    out = cv2.resize(flow, size, interpolation=interp)
    out[..., 0] *= size[0] / w
    out[..., 1] *= size[1] / h
    return out


def work_size(shape: tuple[int, ...], max_side: int) -> tuple[int, int]:
    """(w, h) of a picture of ``shape`` (..., H, W) scaled down by a power of two until its longer side
    is at most ``max_side`` (0: full size)."""
    h, w = shape[-2:]
    f = 1
    while max_side and max(h, w) / f > max_side and min(h, w) / (2 * f) >= 32:
        f *= 2
    return (w + f - 1) // f, (h + f - 1) // f


class DISFlow:
    """OpenCV's DIS optical flow (Kroeger et al. 2016) on exposure-matched pictures, both ways.

    ``max_side``: the flow is estimated on the pictures scaled down (by powers of two) until their longer
    side is at most this, then scaled back up: DIS is coarse-to-fine, so at 720p and above the finest
    levels add cost rather than accuracy (0 = full resolution)."""

    def __init__(self, preset: str = "medium", max_side: int = 0) -> None:
        presets = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                   "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
        self.dis = cv2.DISOpticalFlow_create(presets[preset])
        self.max_side = max_side

    def pair(self, a: np.ndarray, ev_a: float, b: np.ndarray, ev_b: float) -> FlowPair:
        common = max(ev_a, ev_b)  # both as the longer exposure: they clip in the same places
        ga, gb = exposure_matched_gray(a, ev_a, common), exposure_matched_gray(b, ev_b, common)
        full = (ga.shape[1], ga.shape[0])
        small = work_size(ga.shape, self.max_side)
        if small != full:
            ga = cv2.resize(ga, small, interpolation=cv2.INTER_AREA)
            gb = cv2.resize(gb, small, interpolation=cv2.INTER_AREA)
        ab, ba = self.dis.calc(ga, gb, None), self.dis.calc(gb, ga, None)
        return FlowPair(resize_flow(ab, full), resize_flow(ba, full))


def warp(picture: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward warp: out(p) = picture(p + flow(p)), planar (C, H, W), edges replicated (plane by plane: no
    transposes to and from OpenCV's interleaved layout)."""
    h, w = flow.shape[:2]
    mx = np.add(flow[..., 0], np.arange(w, dtype=np.float32)[None, :])
    my = np.add(flow[..., 1], np.arange(h, dtype=np.float32)[:, None])
    out = np.empty((picture.shape[0], h, w), picture.dtype)
    for c in range(picture.shape[0]):
        cv2.remap(picture[c], mx, my, cv2.INTER_LINEAR, dst=out[c], borderMode=cv2.BORDER_REPLICATE)
    return out


def flow_consistency(fwd: np.ndarray, bwd: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1]: 1 where following fwd then bwd comes back (Sundaram et al. 2010's test)."""
    bx, by = warp(bwd.transpose(2, 0, 1), fwd)  # planar: the sums over the 2 components written out
    fx, fy = np.ascontiguousarray(fwd[..., 0]), np.ascontiguousarray(fwd[..., 1])
    ex, ey = fx + bx, fy + by
    err = ex * ex + ey * ey
    tol = 0.01 * ((fx * fx + fy * fy) + (bx * bx + by * by)) + 1.0
    return (1 - smoothstep(err / tol, 1.0, 4.0)).astype(np.float32)


def ghost_mask(ref: np.ndarray, ev_ref: float, warped: np.ndarray, ev_n: float, threshold: float = 0.35) -> np.ndarray:
    """(H, W) in [0, 1]: 1 where the warped neighbour agrees with the reference (in log radiance) wherever
    both are well exposed; disagreement there means motion the flow missed."""
    both = np.minimum(well_exposed(ref), well_exposed(warped))
    lr = np.log(np.maximum(radiance(ref, ev_ref).mean(0), 1e-6))
    ln = np.log(np.maximum(radiance(warped, ev_n).mean(0), 1e-6))
    bad = smoothstep(np.abs(lr - ln), threshold, 2 * threshold) * (both > 0.5)
    bad = cv2.dilate(bad.astype(np.float32), np.ones((5, 5), np.uint8))
    bad = cv2.GaussianBlur(bad, (0, 0), 2.0)
    return np.clip(1 - bad, 0, 1).astype(np.float32)


def _down(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Planar (C, H, W) -> (C, h, w) by area averaging, plane by plane."""
    if picture.shape[-1] == size[0] and picture.shape[-2] == size[1]:
        return picture
    return np.stack([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in picture])


def _up(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return mask if mask.shape[::-1] == size else cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR)


def flow_merge(ref: np.ndarray, ev_ref: float, neighbours: Sequence[tuple[np.ndarray, float, FlowPair]],
               mask_side: int = 0, snr: float = 0.0, compiled: bool = True) -> np.ndarray:
    """Reference-guided merge of ``ref`` with neighbours given as (picture, ev, flows ref<->neighbour).

    A neighbour may only be rejected (flow inconsistency, ghost) where the reference could contradict it,
    i.e. where the reference itself is well exposed. Where the reference is clipped or crushed, the
    neighbour that recorded the scene there is taken (weighted by its own exposure quality), so a clipped
    sky in a long frame gets the short frame's sky: one scene point, one radiance, whichever frame is the
    reference, and no brightness alternating at half the frame rate.

    ``snr``: a neighbour's weight is multiplied by (its exposure / the reference's) ** snr: with 1, a longer
    exposure that recorded a pixel (more light, less noise) outweighs a short reference in proportion, as
    in a noise-optimal merge, so short reference frames are not noisier than long ones (no noise pumping at
    half the frame rate); 0 keeps the reference's own pixels wherever it is well exposed.

    ``mask_side``: the flow-consistency and ghost masks (smooth by construction) are computed on pictures
    scaled down until their longer side is at most this and scaled back up; warping and the exposure
    weights stay at full resolution (0 = everything at full resolution).

    ``compiled``: the per-pixel weights and sum in one parallel numba pass (``color.fused.exposure_merge``,
    within float rounding of this function's numpy lines, which stay the definition; tests)."""
    full = (ref.shape[2], ref.shape[1])
    small = work_size(ref.shape, mask_side)
    ref_small = _down(ref, small)
    warped_all, agrees, evs = [], [], []
    for pic, ev, flows in neighbours:
        warped = warp(pic, flows.ab)
        if small == full:
            agree = flow_consistency(flows.ab, flows.ba) * ghost_mask(ref, ev_ref, warped, ev)
        else:
            ab, ba = resize_flow(flows.ab, small), resize_flow(flows.ba, small)
            agree = _up(flow_consistency(ab, ba) * ghost_mask(ref_small, ev_ref, _down(warped, small), ev), full)
        warped_all.append(warped)
        agrees.append(agree)
        evs.append(ev)
    if compiled:
        from hdrvid.color.fused import exposure_merge

        return exposure_merge(ref, ev_ref, warped_all, evs, agrees, snr, GAMMA, 0.04, (0.86, 0.97))
    w_ref = well_exposed(ref)
    can_judge = smoothstep(w_ref, 0.2, 0.6)  # the reference is reliable enough to veto a neighbour here
    weights = [np.maximum(w_ref, 1e-4)]  # where nothing else is valid, the reference (even clipped) wins
    for warped, ev, agree in zip(warped_all, evs, agrees):
        valid = 1 - can_judge * (1 - agree)
        # well-exposed reference pixels stay mostly the reference's own (no ghosts, no warping blur)
        weights.append(well_exposed(warped) * valid * (1 - 0.5 * w_ref) * np.float32(2.0 ** (snr * (ev - ev_ref))))
    return weighted_merge([ref, *warped_all], [ev_ref, *evs], weights)
