"""Tone mapping operators for video (torch): HDR linear light -> display linear light in [0, 1].

Every operator takes ``x``: non-negative linear BT.709 RGB (map the gamut first) with the channel axis
at -3 ((3,H,W) or (N,3,H,W)),
in relative units where 1.0 is SDR reference white (``white_nits``, 203 by default, BT.2408), and
:class:`ToneStats` describing the frame (source peak and log-average, in the same units, usually
temporally smoothed). The result is display-referred linear light, 1.0 = SDR display peak.

Curve operators (clip, reinhard, hable, mobius, bt2390, bt2446a) are applied to max(R,G,B) or
luminance and the colour follows by the same ratio, so hue is kept. Spatially varying operators
(reinhard_local, durand, mantiuk) build a new luminance and re-colour with a saturation exponent, as
OpenCV's photo module does. drago, reinhard05 and mantiuk follow the published papers as OpenCV
implements them, with one deliberate difference: OpenCV normalises each image by its own min and max,
which makes video flicker; here the normalisation comes from the (smoothed) statistics.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hdrvid.color._xp import Array, power, where, xp
from hdrvid.color.gamut import BT709
from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.color.tonemap import reinhard_global, roll_off, roll_off_gain
from hdrvid.lazy import F, torch

BT709_WEIGHTS = tuple(float(w) for w in BT709.luminance_weights())
BT601_WEIGHTS = (0.299, 0.587, 0.114)  # OpenCV's RGB2GRAY
EQUAL_WEIGHTS = (1 / 3, 1 / 3, 1 / 3)
"""The intensity the local operators (reinhard05, durand, mantiuk) adapt to. Their gain varies pixel by pixel
with the intensity it is computed from; with luminance weights that intensity is mostly green, so in noisy
shadows the gain is anti-correlated with green's noise only, lifting red and blue on average: shadows and
rocks turned magenta. Equal weights make the gain correlate with every channel alike (neutral on average)."""


@dataclass(frozen=True)
class ToneStats:
    """What a tone curve needs to know about the frame, in relative units (1.0 = SDR white)."""

    peak: float = 1.0
    log_average: float = 0.18
    white_nits: float = 203.0
    weights: tuple[float, float, float] = BT709_WEIGHTS
    adapt_weights: tuple[float, float, float] = EQUAL_WEIGHTS
    """What the local operators (reinhard05, durand, mantiuk) adapt to (see EQUAL_WEIGHTS)."""

    @classmethod
    def for_frame(cls, peak: float, log_average: float, white_nits: float = 203.0) -> ToneStats:
        """Statistics with the peak capped at 10,000 nits, the most any HDR signal (PQ) can carry;
        scene-linear EXR can hold a sun far above it."""
        return cls(peak=min(peak, 10000.0 / white_nits), log_average=log_average, white_nits=white_nits)


def luminance(x: torch.Tensor, w: tuple[float, float, float]) -> torch.Tensor:
    """Weighted sum over the channel axis (-3), kept as a size-1 axis."""
    return w[0] * x[..., 0:1, :, :] + w[1] * x[..., 1:2, :, :] + w[2] * x[..., 2:3, :, :]


def _ratio(x: torch.Tensor, old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    return x * (new / old.clamp(min=1e-9))


def _recolour(x: torch.Tensor, lum: torch.Tensor, new_lum: torch.Tensor, saturation: float) -> torch.Tensor:
    """OpenCV's mapLuminance: (C / L)^s * L_new per channel."""
    c = (x.clamp(min=0) / lum.clamp(min=1e-9)).clamp(min=1e-9)
    return (c if saturation == 1 else torch.exp(torch.log(c) * saturation)) * new_lum


def _maxrgb(x: torch.Tensor) -> torch.Tensor:
    return x.amax(-3, keepdim=True)


# --- curves ------------------------------------------------------------------------------------------


def tm_clip(x: torch.Tensor, s: ToneStats) -> torch.Tensor:
    """Hard clip at SDR white (what an SDR display does to HDR it does not understand)."""
    return x.clamp(0, 1)


def tm_reinhard(x: torch.Tensor, s: ToneStats, key: float = 0.18) -> torch.Tensor:
    """Reinhard et al. 2002, global operator with a white point (eq. 4): L (1 + L/Lw^2) / (1 + L).

    The scene is keyed to ``key`` by the log-average and the (smoothed) peak is the white point.
    """
    return reinhard_global(x, s.log_average, s.peak, key=key, axis=-3)


def hable_curve(v: torch.Tensor) -> torch.Tensor:
    a, b, c, d, e, f = 0.15, 0.50, 0.10, 0.20, 0.02, 0.30
    return (v * (a * v + c * b) + d * e) / (v * (a * v + b) + d * f) - e / f


def tm_hable(x: torch.Tensor, s: ToneStats) -> torch.Tensor:
    """Hable's filmic curve (Uncharted 2), normalised so the source peak maps to white; on max(R,G,B)."""
    m = _maxrgb(x)
    peak = torch.tensor(max(s.peak, 1.0 + 1e-3), dtype=x.dtype)
    out = hable_curve(m) / hable_curve(peak)
    return _ratio(x, m, out)


def mobius_curve(m: Array, peak: float, knee: float = 0.3) -> Array:
    """Mobius's curve (numpy or torch): the identity below ``knee``, white at ``peak`` (at least 1.001)."""
    peak = max(peak, 1.0 + 1e-3)
    j = knee
    a = -j * j * (peak - 1) / (j * j - 2 * j + peak)
    b = (j * j - 2 * j * peak + peak) / max(peak - 1, 1e-6)
    return where(m <= j, m, (b * b + 2 * b * j + j * j) / (b - a) * (m + a) / (m + b))


def tm_mobius(x: torch.Tensor, s: ToneStats, knee: float = 0.3) -> torch.Tensor:
    """Mobius (as mpv/FFmpeg): linear below ``knee``, a Mobius transform reaching white at the peak."""
    m = _maxrgb(x)
    return _ratio(x, m, mobius_curve(m, s.peak, knee))


def tm_bt2390(x: torch.Tensor, s: ToneStats) -> torch.Tensor:
    """ITU-R BT.2390 EETF in PQ from the source peak to SDR white (``white_nits``), on max(R,G,B);
    computed only for the pixels above the EETF's knee (it is the identity below)."""
    src = max(s.peak, 1.0) * s.white_nits
    w = s.white_nits
    return roll_off(x * w, src, w, channel_axis=-3) * (1 / w)


def bt2446a_curve(y: Array, hdr_peak_nits: float, sdr_peak_nits: float = 100.0) -> Array:
    """BT.2446 Method A luminance curve (numpy or torch): display-linear HDR (1.0 = HDR peak) -> gamma-2.4 SDR
    luma Y'."""
    p_hdr = 1 + 32 * (hdr_peak_nits / 10000) ** (1 / 2.4)
    p_sdr = 1 + 32 * (sdr_peak_nits / 10000) ** (1 / 2.4)
    yp = power(y.clip(min=1e-12), 1 / 2.4)
    yp = xp(y).log(1 + (p_hdr - 1) * yp) / math.log(p_hdr)
    yc = where(yp <= 0.7399, 1.0770 * yp, where(yp < 0.9909, (-1.1510 * yp + 2.7811) * yp - 0.6302, 0.5 * yp + 0.5))
    return (p_sdr**yc - 1) / (p_sdr - 1)


def tm_bt2446a(x: torch.Tensor, s: ToneStats) -> torch.Tensor:
    """ITU-R BT.2446 Method A (HDR to SDR), on luminance: the source peak is the HDR peak."""
    y = luminance(x, s.weights)
    hdr_peak = max(s.peak, 1.0) * s.white_nits
    y_sdr_signal = bt2446a_curve(y * s.white_nits / hdr_peak, hdr_peak)
    out = y_sdr_signal.clamp(min=0) ** 2.4  # BT.1886 display (black 0)
    return _ratio(x, y, out)


def bt2446a_inverse_curve(y_sdr: Array) -> Array:
    """BT.2446 Method A inverse: SDR display-linear luminance [0,1] -> HDR, 1.0 = 1000 nits (a tensor or a numpy
    array: the same float32 steps either way).

    Y' = 255 * BT.1886^-1(Y); E = Y'^(a Y'^2 + b Y' + c) (two polynomials split at 70); (E / 1000)^2.4.
    """
    m = xp(y_sdr)
    v = 255 * m.exp(m.log(m.clip(y_sdr, 1e-12, None)) / 2.4)
    hi = (2.8305e-6 * v - 7.4622e-4) * v + 1.2528
    lo = (1.8712e-5 * v - 2.7334e-3) * v + 1.3141
    e = m.exp(m.log(m.clip(v, 1e-12, None)) * where(v > 70, hi, lo))
    return m.exp(m.log(m.clip(e / 1000, 1e-12, None)) * 2.4)


def bt2446a_expansion(y_sdr: Array) -> Array:
    """BT.2446 Method A's inverse as a gain on SDR luminance (display-linear, [0, 1]), relative to the level that
    puts SDR white at 1.96 x 203 nits: 1.0 at 18 % grey, ~2.5 at white (1000 nits), ~0.75 at 1 %. What undoes
    a grade's shoulder without moving the mid-tones. A tensor or a numpy array."""
    y = xp(y_sdr).clip(y_sdr, 1e-6, 1)
    return bt2446a_inverse_curve(y) * (1000.0 / (203.0 * LEVEL_GAIN["bt2446a"])) / y

# --- global adaptive ---------------------------------------------------------------------------------


def tm_drago(x: torch.Tensor, s: ToneStats, bias: float = 0.85, saturation: float = 1.0) -> torch.Tensor:
    """Drago et al. 2003 adaptive logarithmic mapping (as OpenCV's TonemapDrago, normalised by the
    paper's 1/log10(Lmax + 1) so the peak maps to white instead of a per-frame min-max)."""
    y = luminance(x.clamp(min=0), s.weights)
    la = max(s.log_average, 1e-9)
    l = y / la
    lmax = max(s.peak / la, 1e-6)
    expo = math.log(bias) / math.log(0.5)
    ratio = (l / lmax).clamp(min=1e-12)
    new = torch.log(l + 1) / torch.log(2 + 8 * torch.exp(torch.log(ratio) * expo)) / math.log10(lmax + 1)
    return _recolour(x, y, new, saturation)


def tm_reinhard05(x: torch.Tensor, s: ToneStats, intensity: float = 0.0, light_adapt: float = 1.0,
                  color_adapt: float = 0.0, normalise: bool = True) -> torch.Tensor:
    """Reinhard & Devlin 2005 photoreceptor model (OpenCV's TonemapReinhard), statistics from ``x``.

    ``normalise``: divide by the response a grey at the source peak gets under global adaptation, so the
    peak reaches white (OpenCV instead min-max normalises each image, which flickers in video).
    """
    xc = x.clamp(min=0)
    gray = luminance(xc, s.adapt_weights)
    logg = torch.log(gray.clamp(min=1e-4))  # OpenCV's floor for log luminance
    dims = (-3, -2, -1)
    log_mean = logg.mean(dims, keepdim=True)
    log_min, log_max = logg.amin(dims, keepdim=True), logg.amax(dims, keepdim=True)
    key = (log_max - log_mean) / (log_max - log_min).clamp(min=1e-9)
    map_key = 0.3 + 0.7 * key**1.4
    f = math.exp(-intensity)
    chan_mean = xc.mean((-2, -1), keepdim=True)
    gray_mean = gray.mean(dims, keepdim=True)
    glob = color_adapt * chan_mean + (1 - color_adapt) * gray_mean
    adapt = color_adapt * xc + (1 - color_adapt) * gray
    adapt = light_adapt * adapt + (1 - light_adapt) * glob
    adapt = torch.exp(torch.log((f * adapt).clamp(min=1e-12)) * map_key)
    out = xc / (adapt + xc).clamp(min=1e-12)
    if normalise:
        peak = torch.tensor(max(s.peak, 1e-6), dtype=x.dtype)
        out = out * ((peak + (f * gray_mean) ** map_key) / peak)
    return out


# --- local -------------------------------------------------------------------------------------------


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian on (N, C, H, W) with reflect padding; large sigmas run on a downsampled copy."""
    if sigma < 0.5:
        return x
    h, w = x.shape[-2:]
    f = 1
    while sigma / f > 8 and min(h, w) // (2 * f) >= 8:
        f *= 2
    y = F.avg_pool2d(x, f, ceil_mode=True) if f > 1 else x
    sg = sigma / f
    r = max(1, int(3 * sg))
    r = min(r, y.shape[-1] - 1, y.shape[-2] - 1) if min(y.shape[-2:]) > 1 else 0
    if r > 0:
        k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype) / sg) ** 2)
        k = k / k.sum()
        c = y.shape[1]
        y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
        y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    if f > 1:
        y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
    return y


def _as4d(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    return (x.unsqueeze(0), True) if x.dim() == 3 else (x, False)


def tm_reinhard_local(x: torch.Tensor, s: ToneStats, key: float = 0.18, phi: float = 8.0, eps: float = 0.05,
                      scales: int = 8, saturation: float = 1.0) -> torch.Tensor:
    """Reinhard et al. 2002 photographic operator with dodging and burning (their eqs. 5-9): for each pixel
    the largest centre-surround scale whose normalised difference stays below ``eps`` sets the local
    adaptation luminance V1, and Ld = L / (1 + V1).

    Each picture of a batch is processed on its own: the scale is chosen by a threshold, and a convolution
    run on a batch may round differently from the same one run on a single picture (another kernel), which
    flipped borderline pixels between a frame and the same frame in a batch."""
    x4, squeeze = _as4d(x)
    if x4.shape[0] > 1:
        return torch.cat([tm_reinhard_local(x4[i:i + 1], s, key, phi, eps, scales, saturation)
                          for i in range(x4.shape[0])])
    y = luminance(x4.clamp(min=0), s.weights)
    a = key / max(s.log_average, 1e-6)
    l = y * a
    h, w = l.shape[-2:]
    s0 = max(1.0, min(h, w) / 400)  # scale 1 px at 400 px; grow with the frame so results match across sizes
    v_prev = gaussian_blur(l, s0 * 0.35355)
    adapt = v_prev
    chosen = torch.zeros_like(l, dtype=torch.bool)
    sc = s0
    for _ in range(scales - 1):
        v_next = gaussian_blur(l, sc * 1.6 * 0.35355)
        v = (v_prev - v_next) / (2**phi * key / (sc * sc) + v_prev)
        stop = (v.abs() >= eps) & ~chosen
        chosen |= stop
        adapt = torch.where(chosen, adapt, v_next)
        v_prev, sc = v_next, sc * 1.6
    new = l / (1 + adapt)
    out = _recolour(x4, l, new, saturation)
    return out[0] if squeeze else out


def bilateral_grid(guide: torch.Tensor, sigma_s: float, sigma_r: float) -> torch.Tensor:
    """Edge-preserving smoothing of ``guide`` (N,1,H,W) by a bilateral grid (Chen, Paris & Durand 2007):
    splat into (space/sigma_s x range/sigma_r) cells, blur the grid, slice back trilinearly."""
    n, _, h, w = guide.shape
    gmin = guide.amin((-2, -1), keepdim=True)
    gmax = guide.amax((-2, -1), keepdim=True)
    depth = int(math.ceil(float((gmax - gmin).max()) / sigma_r)) + 3
    gh, gw = int(math.ceil(h / sigma_s)) + 3, int(math.ceil(w / sigma_s)) + 3
    yy = torch.arange(h, dtype=guide.dtype).view(1, h, 1).expand(n, h, w) / sigma_s + 1
    xx = torch.arange(w, dtype=guide.dtype).view(1, 1, w).expand(n, h, w) / sigma_s + 1
    zz = ((guide[:, 0] - gmin[:, 0]) / sigma_r) + 1
    iy, ix, iz = yy.round().long(), xx.round().long(), zz.round().long()
    flat = (iz * gh + iy) * gw + ix
    vals = torch.zeros(n, depth * gh * gw, dtype=guide.dtype)
    wts = torch.zeros_like(vals)
    vals.scatter_add_(1, flat.view(n, -1), guide.view(n, -1))
    wts.scatter_add_(1, flat.view(n, -1), torch.ones_like(guide.view(n, -1)))
    grid = torch.stack([vals, wts], 1).view(n, 2, depth, gh, gw)
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=guide.dtype) / 16
    for dim in (2, 3, 4):
        shape = [1, 1, 1, 1, 1]
        shape[dim] = 5
        pad = [0, 0, 0, 0, 0, 0]
        pad[2 * (4 - dim)] = pad[2 * (4 - dim) + 1] = 2
        grid = F.conv3d(F.pad(grid.reshape(n * 2, 1, depth, gh, gw), pad), k.view(shape)).view(n, 2, depth, gh, gw)
    # slice: grid_sample wants coordinates in [-1, 1] as (x, y, z)
    gx = xx / (gw - 1) * 2 - 1
    gy = yy / (gh - 1) * 2 - 1
    gz = zz / (depth - 1) * 2 - 1
    coords = torch.stack([gx, gy, gz], -1).unsqueeze(1)  # (N, 1, H, W, 3)
    sampled = F.grid_sample(grid, coords, mode="bilinear", align_corners=True)[:, :, 0]
    return sampled[:, 0:1] / sampled[:, 1:2].clamp(min=1e-9)


def tm_durand(x: torch.Tensor, s: ToneStats, contrast: float = 50.0, sigma_space: float = 0.02,
              sigma_range: float = 0.4, saturation: float = 1.0) -> torch.Tensor:
    """Durand & Dorsey 2002: log10 luminance split by a bilateral filter into base and detail; the base
    is compressed to ``contrast`` (range, as a ratio), the detail kept; the base's 99.5th percentile maps
    to white (so a small sun or lamp clips rather than darkening the frame)."""
    x4, squeeze = _as4d(x)
    y = luminance(x4.clamp(min=0), s.adapt_weights).clamp(min=1e-6)
    logl = torch.log10(y)
    h, w = y.shape[-2:]
    base = bilateral_grid(logl, max(2.0, sigma_space * max(h, w)), sigma_range)
    detail = logl - base
    sample = base.flatten(1)[:, :: max(1, base[0].numel() // 65536)]
    hi = torch.quantile(sample, 0.995, dim=1).view(-1, 1, 1, 1)  # a small sun or lamp may clip
    lo = torch.quantile(sample, 0.001, dim=1).view(-1, 1, 1, 1)
    scale = math.log10(contrast) / (hi - lo).clamp(min=math.log10(contrast))
    new = torch.pow(10.0, (base - hi) * scale + detail)
    out = _recolour(x4, y, new, saturation)
    return out[0] if squeeze else out


class _Mantiuk:
    """Mantiuk et al. 2006 contrast-domain mapping as OpenCV's TonemapMantiuk: gradients of log luminance
    on a pyramid are compressed (scaled in a perceptual response domain), and the luminance whose
    gradients best match them is found by conjugate gradients."""

    @staticmethod
    def gradient(src: torch.Tensor, pos: int) -> torch.Tensor:
        dst = torch.zeros_like(src)
        grad = src[..., 1:] - src[..., :-1]
        dst[..., pos:pos + src.shape[-1] - 1] = grad
        if pos == 1:
            dst[..., 0] = src[..., 0]
        return dst

    @staticmethod
    def resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        return F.interpolate(x[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]

    def contrast(self, src: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        levels = int(math.log(min(src.shape)) / math.log(2))
        xs, ys = [], []
        layer = src
        for _ in range(levels):
            xs.append(self.gradient(layer, 0))
            ys.append(self.gradient(layer.t().contiguous(), 0))
            layer = self.resize(layer, layer.shape[0] // 2, layer.shape[1] // 2)
        return xs, ys

    def total(self, xs: list[torch.Tensor], ys: list[torch.Tensor]) -> torch.Tensor:
        acc = torch.zeros_like(xs[-1])
        for gx, gy in zip(reversed(xs), reversed(ys)):
            acc = self.resize(acc, *gx.shape) + self.gradient(gx, 1) + self.gradient(gy, 1).t()
        return acc

    def product(self, src: torch.Tensor) -> torch.Tensor:
        return self.total(*self.contrast(src))

    def solve(self, logl: torch.Tensor, scale: float, max_iterations: int = 100) -> torch.Tensor:
        xs, ys = self.contrast(logl)
        p_resp = 0.4185
        xs = [torch.sign(c) * (torch.abs(torch.sign(c) * torch.abs(c) ** p_resp * scale) ** (1 / p_resp)) for c in xs]
        ys = [torch.sign(c) * (torch.abs(torch.sign(c) * torch.abs(c) ** p_resp * scale) ** (1 / p_resp)) for c in ys]
        right = self.total(xs, ys)
        x = logl.clone()
        r = right - self.product(x)
        p = r.clone()
        target = float((right * right).sum()) * 1e-6
        rr = float((r * r).sum())
        for _ in range(max_iterations):
            ap = self.product(p)
            alpha = rr / float((p * ap).sum())
            r = r - alpha * ap
            x = x + alpha * p
            new_rr = float((r * r).sum())
            p = r + (new_rr / rr) * p
            rr = new_rr
            if rr < target:
                break
        return x


def tm_mantiuk(x: torch.Tensor, s: ToneStats, scale: float = 0.7, saturation: float = 1.0) -> torch.Tensor:
    """Mantiuk 2006 contrast mapping (one frame at a time); the 99.5th percentile maps to white."""
    x4, squeeze = _as4d(x)
    outs = []
    solver = _Mantiuk()
    for img in x4:
        y = luminance(img.clamp(min=0), s.adapt_weights).clamp(min=1e-6)[0]
        new = torch.exp(solver.solve(torch.log(y.double()), scale)).float()
        top = torch.quantile(new.flatten()[:: max(1, new.numel() // 65536)], 0.995)
        outs.append(_recolour(img, y.unsqueeze(0), (new / top).unsqueeze(0), saturation))
    out = torch.stack(outs)
    return out[0] if squeeze else out


Operator = Callable[["torch.Tensor", ToneStats], "torch.Tensor"]

OPERATORS: dict[str, Operator] = {
    "bt2390": tm_bt2390,
    "bt2446a": tm_bt2446a,
    "hable": tm_hable,
    "mobius": tm_mobius,
    "reinhard": tm_reinhard,
    "reinhard_local": tm_reinhard_local,
    "reinhard05": tm_reinhard05,
    "drago": tm_drago,
    "durand": tm_durand,
    "mantiuk": tm_mantiuk,
    "clip": tm_clip,
}
"""Name -> operator. ``bt2390`` is the default for video (identity below its knee, no per-frame analysis)."""

CURVE_SCALARS: dict[str, str] = {"bt2390": "max", "bt2446a": "luminance", "hable": "max", "mobius": "max",
                                 "reinhard": "luminance"}
"""The curve operators whose result is the input times a gain that depends only on one scalar of the pixel
(max(R,G,B) or BT.709 luminance) and the frame's statistics: what a compiled kernel can apply from a table of
that gain (``curve_gain``; ``pipeline.output``). ``clip`` is per channel, so not among them."""


def curve_gain(name: str, v: np.ndarray, s: ToneStats) -> np.ndarray:
    """The gain (output / input) of curve operator ``name`` at scalar values ``v`` (1-D numpy, >= 0), before the
    display's clip to [0, 1], from the same curve functions the operators use (numpy: no torch). The gain at
    0 is its limit from above."""
    if name not in CURVE_SCALARS:
        raise ValueError(f"{name!r} is not a curve operator ({', '.join(CURVE_SCALARS)})")
    v = np.asarray(v, np.float64).clip(min=0)
    vs = v.clip(min=1e-12)
    if name == "hable":
        gain = hable_curve(v) / hable_curve(max(s.peak, 1.0 + 1e-3)) / vs
    elif name == "mobius":
        gain = mobius_curve(v, s.peak) / vs
    elif name == "bt2390":
        gain = roll_off_gain(v * s.white_nits, max(s.peak, 1.0) * s.white_nits, s.white_nits)
    elif name == "bt2446a":
        hdr_peak = max(s.peak, 1.0) * s.white_nits
        gain = bt2446a_curve(v * s.white_nits / hdr_peak, hdr_peak).clip(min=0) ** 2.4 / vs
    else:  # reinhard (its function clips at white: the gain by its formula, reinhard_global's)
        scale = 0.18 / max(float(s.log_average), 1e-6)
        lw = max(float(s.peak) * scale, 1e-6)
        ls = v * scale
        gain = scale * (1 + ls / (lw * lw)) / (1 + ls)
    if v.size > 1 and v[0] == 0.0:
        gain[0] = gain[1]
    return gain.astype(np.float32)
