"""HDR metrics: known values, scale invariance, masks."""

import math

import numpy as np
import pytest

from hdrvid.metrics import hdr


def test_pu21_matches_published_anchor_values():
    # PU21 banding+glare maps its range [0.005, 10000] cd/m^2 to about [0, 595.4] (gfxdisp/pu21, p_max)
    v = hdr.pu21_encode(np.array([0.005, 10000.0]))
    assert abs(v[0]) < 1e-3 and v[1] == pytest.approx(595.3939, abs=1e-3)
    assert np.all(np.diff(hdr.pu21_encode(np.geomspace(0.005, 10000, 100))) > 0)


def test_identical_images_are_perfect_and_scale_is_aligned():
    rng = np.random.default_rng(0)
    ref = rng.random((32, 32, 3)) ** 4 * 100
    m = hdr.hdr_metrics(ref * 7.3, ref)  # any global scale: inverse tone mapping has none
    assert math.isinf(m["psnr_mu"]) or m["psnr_mu"] > 100
    assert m["pu21_ssim"] == pytest.approx(1.0)
    assert hdr.align_scale(ref * 7.3, ref) == pytest.approx(1 / 7.3)


def test_metrics_rank_a_better_reconstruction_higher_and_masks_restrict():
    rng = np.random.default_rng(1)
    ref = rng.random((48, 48, 3)) ** 4 * 50 + 0.01
    clipped = ref.max(-1) > 20
    good = ref.copy()
    good[clipped] *= 0.9
    bad = ref.copy()
    bad[clipped] = np.minimum(bad[clipped], 1.0)  # clipped highlights never recovered
    mg, mb = hdr.hdr_metrics(good, ref, clipped), hdr.hdr_metrics(bad, ref, clipped)
    for k in ("psnr_mu", "psnr_l", "pu21_psnr", "pu21_ssim"):
        assert mg[k] > mb[k], k
    # outside the mask both are exact up to the alignment scale
    un = hdr.hdr_metrics(good, ref, ~clipped, align=False)
    assert math.isinf(un["psnr_mu"]) or un["psnr_mu"] > 100
    fast = hdr.hdr_metrics(bad, ref, clipped, ssim=False)  # without PU21-SSIM, the rest unchanged
    assert "pu21_ssim" not in fast and fast == {k: v for k, v in mb.items() if k != "pu21_ssim"}


def test_psnr_mu_worked_value():
    ref = np.ones((4, 4, 3))
    pred = ref.copy()
    pred[0, 0] = 0.5  # one pixel at half: T(0.5) = log(2501)/log(5001) = 0.918637
    m = hdr.hdr_metrics(pred, ref, align=False)
    t = math.log1p(2500) / math.log1p(5000)
    mse = (1 - t) ** 2 / 16
    assert m["psnr_mu"] == pytest.approx(10 * math.log10(1 / mse), abs=1e-9)


def test_pq_and_delta_e_itp_match_colour_science():
    import warnings

    colour = pytest.importorskip("colour")
    from hdrvid.metrics.hdr import absolute_metrics, ictcp, pq

    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1000, (16, 16, 3))
    b = a * rng.uniform(0.8, 1.2, a.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(pq(a), colour.models.eotf_inverse_ST2084(a), atol=1e-6)
        np.testing.assert_allclose(ictcp(a), colour.RGB_to_ICtCp(a), atol=1e-4)  # (colour takes nits here)
        want = colour.difference.delta_E_ITP(colour.RGB_to_ICtCp(a), colour.RGB_to_ICtCp(b)).mean()
    got = absolute_metrics(b, a, bt709=False)
    assert abs(got["delta_e_itp"] - want) < 1e-3 * max(1.0, want)
    assert absolute_metrics(a, a, bt709=False)["delta_e_itp"] == 0


def test_highlight_level_compares_clipped_light_after_aligning_on_the_rest():
    rng = np.random.default_rng(3)
    ref = rng.random((40, 40, 3)) * 0.8 + 0.05
    clipped = np.zeros((40, 40), bool)
    clipped[10:20, 10:20] = True
    ref[clipped] *= 20  # the highlight the camera clipped
    assert hdr.highlight_level(ref * 3.0, ref, clipped) == pytest.approx(0.0, abs=1e-9)  # any overall scale
    flat = ref.copy()
    flat[clipped] = ref[clipped] / 4  # expanded to a quarter of the truth: two stops too dim
    assert hdr.highlight_level(flat * 0.5, ref, clipped) == pytest.approx(-2.0, abs=1e-9)
    assert math.isnan(hdr.highlight_level(ref, ref, np.zeros((40, 40), bool)))
