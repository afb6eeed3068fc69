"""Tone mapping operators: against OpenCV's where OpenCV has them, against the standards' equations
where it does not, and basic sanity for all."""

import math

import cv2
import numpy as np
import pytest
import torch

from hdrvid.color import operators as ops
from hdrvid.color.transfer import pq_eotf, pq_inverse_eotf


def hdr_test_image(seed: int = 0, h: int = 96, w: int = 128) -> np.ndarray:
    """Smooth HDR content in [0, 1] with exactly 0 and 1 present (OpenCV min-max normalises its input)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.exp(6 * (np.sin(3 * xx + 1) * np.cos(2 * yy) - 1))  # ~5 decades
    img = np.stack([base * (0.6 + 0.4 * rng.random()), base * 0.8, base * (0.5 + 0.5 * xx)], -1)
    img += 0.02 * rng.random(img.shape) * base[..., None]
    img = (img - img.min()) / (img.max() - img.min())
    return img.astype(np.float32)


def minmax(x: np.ndarray) -> np.ndarray:
    return (x - x.min()) / (x.max() - x.min())


def to_t(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1).contiguous()


def to_np(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


def opencv_stats(img: np.ndarray) -> tuple[np.ndarray, float]:
    gray = img @ np.array(ops.BT601_WEIGHTS, np.float32)
    return gray, float(np.exp(np.log(np.maximum(gray, 1e-4)).mean()))


def test_drago_matches_opencv():
    img = hdr_test_image()
    ref = cv2.createTonemapDrago(gamma=1.0, saturation=1.0, bias=0.85).process(img.copy())
    gray, log_avg = opencv_stats(img)
    s = ops.ToneStats(peak=float(gray.max()), log_average=log_avg, weights=ops.BT601_WEIGHTS)
    ours = minmax(to_np(ops.tm_drago(to_t(img), s)))  # OpenCV ends with a min-max normalisation
    assert np.abs(ours - ref).max() < 2e-3


def test_reinhard05_matches_opencv_reinhard():
    img = hdr_test_image(1)
    ref = cv2.createTonemapReinhard(gamma=1.0, intensity=0.0, light_adapt=0.8, color_adapt=0.3).process(img.copy())
    s = ops.ToneStats(weights=ops.BT601_WEIGHTS, adapt_weights=ops.BT601_WEIGHTS)  # OpenCV adapts to BT.601 grey
    ours = minmax(to_np(ops.tm_reinhard05(to_t(img), s, intensity=0.0, light_adapt=0.8, color_adapt=0.3,
                                                normalise=False)))
    assert np.abs(ours - ref).max() < 2e-3


def test_reinhard_2002_is_deliberately_not_opencvs_reinhard():
    """OpenCV's TonemapReinhard is Reinhard & Devlin 2005 (offered here as reinhard05); hdrvid's
    `reinhard` is the 2002 photographic operator with a white point, checked here against its formula."""
    img = hdr_test_image(2)
    s = ops.ToneStats(peak=1.0, log_average=0.05)
    out = to_np(ops.tm_reinhard(to_t(img), s))
    y = img @ np.array(ops.BT709_WEIGHTS, np.float32)
    a = 0.18 / 0.05
    ly = a * y
    ld = ly * (1 + ly / (a * 1.0) ** 2) / (1 + ly)
    inside = out.max(-1) < 0.999  # (colours are clipped per channel at display white)
    assert inside.mean() > 0.9
    np.testing.assert_allclose((out @ np.array(ops.BT709_WEIGHTS, np.float32))[inside], ld[inside], rtol=1e-4, atol=1e-6)
    ref = cv2.createTonemapReinhard(1.0, 0.0, 1.0, 0.0).process(img.copy())
    assert np.abs(minmax(out) - ref).mean() > 0.02  # a different operator, by design


def test_mantiuk_matches_opencv():
    img = hdr_test_image(3, 64, 80)
    ref = cv2.createTonemapMantiuk(gamma=1.0, scale=0.7, saturation=1.0).process(img.copy())
    gray, _ = opencv_stats(img)
    x = ops._Mantiuk().solve(torch.log(torch.from_numpy(np.maximum(gray, 1e-4)).double()), 0.7)
    new = torch.exp(x).float().unsqueeze(0)
    lum = torch.from_numpy(gray).unsqueeze(0)
    ours = minmax(to_np(ops._recolour(to_t(img), lum, new, 1.0)))
    assert np.abs(ours - ref).mean() < 5e-3 and np.abs(ours - ref).max() < 5e-2


def test_bt2446a_worked_values():
    # Hand-worked from ITU-R BT.2446-1 Method A with L_HDR = 1000, L_SDR = 100 cd/m^2:
    # rho_HDR = 1 + 32 (0.1)^(1/2.4) = 13.2598; rho_SDR = 1 + 32 (0.01)^(1/2.4) = 5.6969
    p_hdr = 1 + 32 * 0.1 ** (1 / 2.4)
    p_sdr = 1 + 32 * 0.01 ** (1 / 2.4)
    assert abs(p_hdr - 13.2598) < 1e-3 and abs(p_sdr - 5.6969) < 1e-3
    y = torch.tensor([0.0, 1.0, 0.1, 0.01], dtype=torch.float64)
    got = ops.bt2446a_curve(y, 1000.0).numpy()
    # Y = 1 -> Y'p = 1 -> Y'c = 1 -> Y'sdr = 1 ; Y = 0.1 -> Y' = 0.38312 -> Y'p = ln(5.6970)/ln(13.2598)
    # = 0.67316 (< 0.7399) -> Y'c = 0.72499 -> Y'sdr = (5.6969^0.72499 - 1) / 4.6969 = 0.53878
    expect = []
    for v in (0.0, 1.0, 0.1, 0.01):
        yp = math.log(1 + (p_hdr - 1) * v ** (1 / 2.4)) / math.log(p_hdr)
        yc = 1.077 * yp if yp <= 0.7399 else (-1.151 * yp + 2.7811) * yp - 0.6302 if yp < 0.9909 else 0.5 * yp + 0.5
        expect.append((p_sdr**yc - 1) / (p_sdr - 1))
    np.testing.assert_allclose(got, expect, atol=2e-5)  # (Y = 0 is floored at 1e-12 before the 1/2.4 power)
    assert abs(expect[2] - 0.53878) < 1e-4 and got[1] == pytest.approx(1.0)
    # the curve is continuous at both knees
    for knee in (0.7399, 0.9909):
        lo = 1.077 * knee if knee == 0.7399 else (-1.151 * knee + 2.7811) * knee - 0.6302
        hi = (-1.151 * knee + 2.7811) * knee - 0.6302 if knee == 0.7399 else 0.5 * knee + 0.5
        assert abs(lo - hi) < 1e-3


def test_bt2446a_inverse_worked_values():
    # SDR white (Y'=255) -> exponent 1.246567 -> E = 999.80 -> (0.99980)^2.4 = 0.99952 (the standard's
    # rounded constants land 0.05% short of the 1000-nit peak)
    # 18% grey: Y' = 255 * 0.18^(1/2.4) = 124.80 -> exponent 1.20376 -> E = 333.8 -> (0.3338)^2.4 = 0.0715
    got = ops.bt2446a_inverse_curve(torch.tensor([1.0, 0.18], dtype=torch.float64)).numpy()
    assert got[0] == pytest.approx(0.99952, abs=2e-5)
    assert got[1] == pytest.approx(0.0715, abs=5e-4)


def test_bt2390_operator_maps_peak_to_sdr_white_and_keeps_darks():
    s = ops.ToneStats(peak=1000 / 203)
    x = torch.tensor([0.01, 0.1, 1000 / 203]).view(1, 3, 1).expand(3, 3, 1)  # three grey pixels
    out = ops.tm_bt2390(x, s)
    # knee: KS = 1.5 * PQ(203)/PQ(1000) - 0.5 ; values below it unchanged
    ks = 1.5 * float(pq_inverse_eotf(203.0)) / float(pq_inverse_eotf(1000.0)) - 0.5
    knee = float(pq_eotf(ks * float(pq_inverse_eotf(1000.0)))) / 203
    assert 0.1 < knee
    np.testing.assert_allclose(out[:, 0, 0].numpy(), [0.01, 0.01, 0.01], rtol=1e-4)  # float32 PQ round trip
    np.testing.assert_allclose(out[:, 1, 0].numpy(), [0.1, 0.1, 0.1], rtol=1e-4)
    np.testing.assert_allclose(out[:, 2, 0].numpy(), [1.0, 1.0, 1.0], rtol=1e-4)


@pytest.mark.parametrize("name", sorted(ops.OPERATORS))
def test_every_operator_is_sane_on_a_frame_and_a_batch(name):
    img = torch.from_numpy(hdr_test_image(4)).permute(2, 0, 1) * 20  # peak 20x SDR white
    s = ops.ToneStats(peak=20.0, log_average=float(torch.exp(torch.log(img.mean(0).clamp(min=1e-4)).mean())))
    out = ops.OPERATORS[name](img, s)
    assert out.shape == img.shape and torch.isfinite(out).all() and float(out.min()) >= 0
    y_in = ops.luminance(img, ops.BT709_WEIGHTS).flatten()
    y_out = ops.luminance(out.clamp(0, 1), ops.BT709_WEIGHTS).flatten()
    rank = lambda v: torch.argsort(torch.argsort(v)).double()
    # brighter in, brighter out: Spearman rank correlation (local operators may reorder a little)
    corr = float(torch.corrcoef(torch.stack([rank(y_in), rank(y_out)]))[0, 1])
    if name != "clip":  # clip ties everything above white
        assert corr > (0.8 if name in ("durand", "mantiuk", "reinhard_local") else 0.97), corr
    if name not in ("clip",):
        assert float(out.clamp(0, 1).max()) > 0.5  # uses the display range
    batch = ops.OPERATORS[name](torch.stack([img, img]), s)
    diff = (batch[1] - out).abs()
    # A frame and the same frame in a batch tone-map alike. Not bit for bit: reinhard_local picks a scale per
    # pixel by a threshold, and the float summation order (thread count, load) may flip a few borderline
    # pixels by up to ~0.06 (a loaded 2-core CI machine measured 0.059); a real batch/frame mismatch changes
    # many pixels, which this still catches.
    changed = float((diff > 1e-4).float().mean())
    assert changed < 0.005 and float(diff.mean()) < 1e-4, (changed, float(diff.max()))


@pytest.mark.parametrize("name", ["reinhard05", "durand", "mantiuk", "drago", "reinhard_local", "bt2390"])
def test_noisy_neutral_shadows_stay_neutral(name: str):
    """A neutral grey ramp stays neutral, and so do noisy near-black shadows on average: the local operators
    once adapted to a green-weighted luminance, so their gain followed green's noise and shadows turned
    magenta (red and blue up to 60 % above green)."""
    from hdrvid.color.operators import OPERATORS, ToneStats

    ramp = torch.logspace(-4, 1.5, 256).view(1, 1, 1, 256).expand(1, 3, 8, 256).contiguous()
    y = OPERATORS[name](ramp, ToneStats(peak=float(ramp.max()), log_average=0.18))
    assert float((y - y.mean(1, keepdim=True)).abs().max()) < 1e-4
    gen = torch.Generator().manual_seed(0)
    base = torch.rand(1, 1, 64, 64, generator=gen) ** 3 * 5
    x = (base.expand(1, 3, 64, 64) + 0.002 * torch.randn(1, 3, 64, 64, generator=gen)).clamp(min=0)
    y = OPERATORS[name](x, ToneStats(peak=float(x.max()), log_average=0.18))
    m = y[0][:, base[0, 0] < 0.01].mean(1)
    assert float((m.max() - m.min()) / m.mean()) < 0.05, m.tolist()
