"""The two-stage brackets model (issue 15): bracket generator, coupled-feedback fusion, the composite."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import run_cli
from media import blocky_plateau, ffprobe, make_clip, pattern

from hdrvid.color.transfer import srgb_inverse_eotf
from hdrvid.engines.executor import PartedModel, tiled
from hdrvid.io.images import read_hdr
from hdrvid.models.brackets import (
    RECEPTIVE_RADIUS,
    STACK_EVS,
    BracketDebevec,
    BracketHDR,
    BracketHDR2x,
    BracketNet,
    CFNet,
    clip_mask,
    debevec_stack,
    decode,
    encode,
    merge_base,
    stack_choice,
)
from hdrvid.synth.camera import ALL_SETTINGS, shoot
from hdrvid.synth.scenes import interior_with_window


def _randomise(model: torch.nn.Module, seed: int = 0, scale: float = 0.1) -> None:
    """Weights that make every part matter (the heads start at zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (scale if p.dim() > 1 else 0.01))


def test_codes_round_trip_through_the_model_domain():
    s = torch.linspace(0, 1, 256)
    assert torch.allclose(encode(decode(s)), s, atol=1e-6)


def test_generator_starts_as_the_nominal_exposure_shift_and_shapes_hold():
    net = BracketNet(width=4).eval()
    s = torch.rand(2, 3, 40, 56)
    ev = torch.tensor([-2.0, 1.0])
    out = net(s, ev)
    assert out.shape == s.shape
    # residual before the sigmoid with a zero head: exactly what a nominal camera records at that exposure
    base = BracketNet.base(s, ev).clamp(1 / 1024, 1 - 1 / 1024)
    assert torch.allclose(out, base, atol=1e-5)
    assert (BracketNet.base(s, torch.tensor([1.0, 1.0])) >= s - 1e-6).all()


def test_cfnet_shapes_every_pass_and_the_classical_start():
    under, over = torch.rand(1, 3, 24, 32) * 0.5, torch.rand(1, 3, 24, 32)
    gap = torch.tensor([4.0])
    for up in (1, 2):
        outs = CFNet(width=4, iterations=3, upscale=up)(under, over, gap)
        assert len(outs) == 3 and all(o.shape == (1, 3, 24 * up, 32 * up) for o in outs)
    start = CFNet(width=4)(under, over, gap)[-1]  # zero head: the classical merge of the pair
    assert torch.allclose(start, merge_base(under, over, gap).clamp(min=1e-6), rtol=1e-5)
    # where the over exposure did not clip, the merge is the over exposure scaled down by the gap
    ok = clip_mask(over) == 0
    assert torch.allclose(start * ok, (decode(over) / 16).clamp(min=1e-6) * ok, rtol=1e-4)


def test_composite_keeps_recorded_pixels_and_expands_clipped_ones():
    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    _randomise(m)
    x = torch.rand(1, 3, 48, 64) * 0.6
    x[..., 10:30, 20:40] = 1.0
    with torch.no_grad():
        y = m(x)
    recorded = clip_mask(encode(x)) == 0
    assert torch.equal((y * recorded), (x * recorded))
    assert not torch.allclose(y[..., 15:25, 25:35], x[..., 15:25, 25:35])
    assert isinstance(m, PartedModel) and m.active_mask(x)[..., 15, 30].all() and not m.active_mask(x)[..., 0, 0].any()
    m2 = BracketHDR2x(width=4, fusion_width=4)
    m2.load_state_dict(m.state_dict())  # one weights file for both
    with torch.no_grad():
        assert m2(x).shape == (1, 3, 96, 128)
    assert not isinstance(m2, PartedModel)


def test_the_blend_starts_at_code_252_on_camera_frames_and_at_246_on_graded_ones(monkeypatch: pytest.MonkeyPatch):
    """The blend mask follows the default model's: on frames the shoulder detector calls camera footage the codes
    below ~252.5 leave exactly as decoded (the camera recorded them), on graded frames the wide mask (~246) stays;
    in video one decision per shot (the mean of its first frames, then held; a scene cut starts again)."""
    from hdrvid.models import brackets
    from hdrvid.models.hdrunet import SETTLE_FRAMES

    monkeypatch.setattr(brackets, "EDGE_GATE", False)  # a ramp is a gentle slope: the gate has its own test
    monkeypatch.setattr(brackets, "DEBLOCK", False)  # and flat at the codec-block filter's scale: its own test
    monkeypatch.setattr(brackets, "GRADED_CURVE", False)  # the tones of graded frames: their own test
    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    s = torch.linspace(0.9, 1.0, 48 * 48).view(1, 1, 48, 48).expand(1, 3, 48, 48).contiguous()
    x = decode(s)
    field = torch.full_like(x, 1.0)  # the fused radiance e times the picture wherever the mask is open
    between = (s > brackets.BLEND[0] + 0.002) & (s < brackets.CAMERA_BLEND[0] - 0.002)
    top = s > 0.999
    assert int(between.sum()) > 300
    outs = {}
    for bias, name in ((-20.0, "camera"), (20.0, "graded")):
        with torch.no_grad():
            m.shoulder.net[2].bias.fill_(bias)
            outs[name] = m.apply(x, field)
        assert float(m.last_shoulder) == (0.0 if name == "camera" else 1.0)
        assert bool((outs[name][top] > 2.5 * x[top]).all())
    assert torch.equal(outs["camera"][between], x[between])
    assert bool((outs["graded"][between] > x[between]).all())
    recorded = s < brackets.BLEND[0]
    assert all(torch.equal(o[recorded], x[recorded]) for o in outs.values())
    # video: the shot's decision is the mean of its first SETTLE_FRAMES frames, then held, until a cut
    m.enable_temporal(0.1)
    calls = []
    m.shoulder.forward = lambda lin: calls.append(1) or torch.ones(lin.shape[0])  # type: ignore[method-assign]
    for _ in range(SETTLE_FRAMES + 3):
        assert float(m.shoulder_weight(x)) == 1.0
    assert len(calls) == SETTLE_FRAMES  # held: the detector no longer runs
    m.reset_temporal()
    m.shoulder.forward = lambda lin: torch.zeros(lin.shape[0])  # type: ignore[method-assign]
    assert float(m.shoulder_weight(x)) == 0.0


def test_frames_called_graded_get_the_default_models_bt2446a_curve(monkeypatch: pytest.MonkeyPatch):
    """``apply`` ends as the default model's does: on frames called graded every pixel times BT.2446A's expansion of
    its luminance (the same tones as ``hdrunet-auto``; the fused light adds the highlights), held at the
    average-light cap on bright frames (by the weight where the top code is full, by a gain where it is empty) and
    held for a shot in video; camera frames are left as blended."""
    from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_expansion, luminance
    from hdrvid.models import brackets
    from hdrvid.models.hdrunet import SETTLE_FRAMES

    monkeypatch.setattr(brackets, "EDGE_RING", None)  # the graded boost's factor below is read before the ring

    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    s = torch.linspace(0.05, 1.0, 48 * 64).view(1, 1, 48, 64).expand(1, 3, 48, 64).contiguous()
    x = decode(s)
    field = torch.full_like(x, 1.0)
    curve = bt2446a_expansion(luminance(x, BT709_WEIGHTS))
    m.average_cap = float("inf")
    m.graded_curve.boost_stops = 0.0  # the boost: below
    for bias in (-20.0, 20.0):  # camera, graded
        m.shoulder.net[2].bias.fill_(bias)
        with torch.no_grad():
            monkeypatch.setattr(brackets, "GRADED_CURVE", False)
            plain = m.apply(x, field)
            monkeypatch.setattr(brackets, "GRADED_CURVE", True)
            out = m.apply(x, field)
        if bias < 0:
            assert torch.equal(out, plain)
        else:
            assert torch.allclose(out, plain * curve, rtol=2e-4)  # the compiled pass reads the curve from a table
            assert m.mean_curve_weight() is not None and m.mean_shoulder_weight() is not None
    # a bright frame: the curve lowered until its mean max(R, G, B) is back at the cap, then held for the shot
    def light(t: torch.Tensor) -> float:
        return float(t[:, :, ::4, ::4].amax(1).mean())

    cap = (light(plain) + light(plain * curve)) / 2
    m.average_cap = cap
    with torch.no_grad():  # the ramp's top code is empty (a grade's): the whole curve, and one gain
        out = m.apply(x, field)
    assert float(m.graded_curve.last) == 1.0 and light(out) == pytest.approx(cap, rel=0.02)
    assert m.mean_cap_gain() is not None and m.mean_cap_gain() < 1
    x = x.clone()
    x[..., :3, :] = 1.0  # 6 % of the pixels at the top code (a camera's clip): the weight lowered instead
    with torch.no_grad():
        monkeypatch.setattr(brackets, "GRADED_CURVE", False)
        plain = m.apply(x, field)
        monkeypatch.setattr(brackets, "GRADED_CURVE", True)
    curve = bt2446a_expansion(luminance(x, BT709_WEIGHTS))
    cap = (light(plain) + light(plain * curve)) / 2
    m.average_cap = cap
    with torch.no_grad():  # a detector sure of its call (p ~1): the whole curve and one gain here too
        out = m.apply(x, field)
    assert float(m.graded_curve.last) == 1.0 and light(out) == pytest.approx(cap, rel=0.02)
    with torch.no_grad():  # graded but unsure (p 0.948, logit 2.9 < brackets.CAP_SURE_BOUNDS' 3): the weight lowered
        m.shoulder.net[2].weight.zero_()
        m.shoulder.net[2].bias.fill_(2.9)
    m.enable_temporal(0.1)
    with torch.no_grad():
        out = m.apply(x, field)
        assert float(m.last_p) == pytest.approx(1 / (1 + math.exp(-2.9)), abs=1e-4)
        held = float(m.graded_curve.last)
        assert 0 < held < 1 and light(out) == pytest.approx(cap, rel=0.02) and m.graded_curve.last_gain is None
        dark = x * 0.25
        for _ in range(SETTLE_FRAMES):
            m.apply(dark, field)
        assert float(m.graded_curve.last) < 1  # the shot's factor: the mean of its first frames
        m.reset_temporal()
        m.apply(dark, field)
        # a cut: the new shot's own, the dark frame's shoulder weight uncapped (p 0.948: 0.92 over SHOULDER_BOUNDS)
        own = float(m.last_shoulder.flatten()[0])
        assert own > 0.9 and float(m.graded_curve.last) == pytest.approx(own)
    # the graded boost: one more stop of fused light where the mask is full, on a graded frame whose top code is empty
    m = BracketHDR(width=4, fusion_width=4).eval()
    m.shoulder.net[2].bias.fill_(20.0)
    m.average_cap = float("inf")  # the boost alone (on this bright frame the cap's gain would follow its light)
    x = decode(torch.linspace(0.9, 0.993, 48 * 64).view(1, 1, 48, 64).expand(1, 3, 48, 64).contiguous())
    outs = {}
    for stops in (0.0, 1.0):
        m.graded_curve.boost_stops = stops
        with torch.no_grad():
            outs[stops] = m.apply(x, field)
    full = encode(x).amax(1, keepdim=True).expand_as(x) >= brackets.BLEND[1]
    recorded = encode(x).amax(1, keepdim=True).expand_as(x) <= brackets.BLEND[0]
    assert int(full.sum()) > 100 and int(recorded.sum()) > 100
    assert torch.allclose(outs[1.0][full], 2 * outs[0.0][full], rtol=1e-5)
    assert torch.equal(outs[1.0][recorded], outs[0.0][recorded])
    assert m.mean_graded_boost() == pytest.approx(0.5)  # one frame boosted by 1 stop, one by none
    hdr = x * 3.0
    with torch.no_grad():  # training's composite (the plain blend) has no boost, with or without gradients
        assert torch.equal(m.blended(x, hdr), brackets.blend(x, hdr))


def test_a_blocky_near_white_wall_blends_smoothly_on_camera_frames(monkeypatch: pytest.MonkeyPatch):
    """On camera frames the narrow mask reads near-white codes through the default model's codec-block filter: across
    a wall of 16x16 blocks at codes 252 and 254 the blend no longer switches block by block; recorded pixels stay
    as decoded; a frame called graded gets no filter."""
    from hdrvid.models import brackets

    monkeypatch.setattr(brackets, "EDGE_GATE", False)  # its own test
    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    code = torch.from_numpy(blocky_plateau())
    x = decode(code / 255)[None, None].expand(1, 3, *code.shape).contiguous()
    field = torch.full_like(x, 1.0)
    inner = (0, 0, slice(24, 72), slice(24, 72))
    outs = {}
    for bias in (-20.0, 20.0):  # camera, graded
        m.shoulder.net[2].bias.fill_(bias)
        for on in (False, True):
            monkeypatch.setattr(brackets, "DEBLOCK", on)
            with torch.no_grad():
                outs[bias, on] = m.apply(x, field)
    spread_plain = float((outs[-20.0, False] / x).log()[inner].std())
    spread = float((outs[-20.0, True] / x).log()[inner].std())
    assert spread_plain > 0.3 and spread < 0.5 * spread_plain
    recorded = x < decode(torch.tensor(0.9))
    assert torch.equal(outs[-20.0, True][recorded], x[recorded])
    assert torch.equal(outs[20.0, True], outs[20.0, False])


def test_the_edge_gate_tempers_a_plateau_and_spares_graded_frames(monkeypatch: pytest.MonkeyPatch):
    """``apply`` sends the blended picture through the default model's edge gate: a clipped area reached through a
    gentle slope (a plateau: an overcast sky, a lit wall) expands by the gate's floor exponent on camera frames, a
    steep one (a lamp) in full; on frames called graded the gate leaves everything."""
    from hdrvid.models import brackets
    from hdrvid.models.clip_edges import EDGE_FLOOR

    monkeypatch.setattr(brackets, "EDGE_RING", None)  # the ring has its own test below
    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    yy, xx = torch.meshgrid(torch.arange(96.0), torch.arange(128.0), indexing="ij")
    r = ((yy - 48) ** 2 + (xx - 40) ** 2).sqrt()
    s = (1.0 - 0.004 * (r - 12)).clamp(0.5, 1.0)  # a plateau 12 px across reached by ~1 code per pixel
    s[:, 96:112] = 0.3
    s[40:56, 100:108] = 1.0  # a lamp: steep edge
    x = decode(s.expand(1, 3, 96, 128).contiguous())
    field = torch.full_like(x, 2.0)
    for bias, gated in ((-20.0, True), (20.0, False)):
        with torch.no_grad():
            m.shoulder.net[2].bias.fill_(bias)
            monkeypatch.setattr(brackets, "EDGE_GATE", False)
            plain = m.apply(x, field)
            monkeypatch.setattr(brackets, "EDGE_GATE", True)
            out = m.apply(x, field)
        plateau, lamp = (slice(None), slice(None), slice(44, 52), slice(36, 44)), (slice(None), slice(None), 48, 104)
        assert torch.allclose(out[lamp], plain[lamp])
        ratio = (out[plateau] / x[plateau]).log() / (plain[plateau] / x[plateau]).log()
        if gated:
            assert torch.allclose(ratio, torch.full_like(ratio, EDGE_FLOOR), atol=1e-3)
        else:
            assert torch.equal(out, plain)


def test_the_edge_ring_lowers_a_clipped_areas_outer_pixels_on_camera_frames(monkeypatch: pytest.MonkeyPatch):
    """With ``EDGE_RING`` = (floor, width) a clipped area's expansion (its log ratio to the picture) is the floor's
    share of itself on the area's outermost pixels, rising to all of it ``width`` pixels inside, on frames called
    camera footage, and on graded ones too unless ``EDGE_RING_WEIGHTED``; recorded pixels stay as decoded. The
    width is in pixels of a frame 384 across: at 3x the size the same ring spans 3x the pixels."""
    from hdrvid.models import brackets

    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    monkeypatch.setattr(brackets, "GRADED_CURVE", False)  # the curve on graded frames and its cap: their own tests
    yy, xx = torch.meshgrid(torch.arange(96.0), torch.arange(128.0), indexing="ij")
    s = torch.where(((yy - 48) ** 2 + (xx - 64) ** 2).sqrt() < 30, 1.0, 0.4)  # a lamp: a steep edge, all clipped
    x = decode(s.expand(1, 3, 96, 128).contiguous())
    field = torch.full_like(x, 2.0)
    for bias, weighted in ((-20.0, True), (20.0, False), (20.0, True)):
        monkeypatch.setattr(brackets, "EDGE_RING_WEIGHTED", weighted)
        with torch.no_grad():
            m.shoulder.net[2].bias.fill_(bias)
            monkeypatch.setattr(brackets, "EDGE_RING", None)
            plain = m.apply(x, field)
            monkeypatch.setattr(brackets, "EDGE_RING", (0.7, 18.0))  # 18 px at 384 across: 6 at this frame's 128
            out = m.apply(x, field)
        if bias > 0 and weighted:  # a graded frame, the ring weighted: left alone
            assert torch.equal(out, plain)
            continue
        ratio = (out / x).log() / (plain / x).log()
        assert float(ratio[0, :, 48, 64].min()) == pytest.approx(1.0, abs=1e-4)  # deep inside: all of it
        assert float(ratio[0, :, 48, 35].max()) == pytest.approx(0.7, abs=1e-3)  # the area's outermost pixel
        assert 0.75 < float(ratio[0, 0, 48, 37]) < 0.95  # on the way in
        ratio_small_37 = ratio[0, 0, 48, 37]
        recorded = s.expand(1, 3, 96, 128) < 0.9
        assert torch.equal(out[recorded], x[recorded])
    # the same lamp at 3x the size (384 across: the working size itself), the same ring in the same share of it
    big = F.interpolate(x, scale_factor=3, mode="nearest")
    m.shoulder.net[2].bias.data.fill_(-20.0)
    m.blob_level = None  # (its per-blob level acts on frames 192 px wide or more and reads the expansion)
    with torch.no_grad():
        monkeypatch.setattr(brackets, "EDGE_RING", None)
        plain = m.apply(big, torch.full_like(big, 2.0))
        monkeypatch.setattr(brackets, "EDGE_RING", (0.7, 18.0))
        ratio = (m.apply(big, torch.full_like(big, 2.0)) / big).log() / (plain / big).log()
    assert float(ratio[0, 0, 144, 105]) == pytest.approx(0.7, abs=1e-3)  # the outermost pixel (column 3 x 35)
    assert float(ratio[0, 0, 144, 111]) == pytest.approx(float(ratio_small_37), abs=0.03)  # 3 x 37: as far in


def test_kept_spread_cuts_each_clipped_blobs_spread_around_its_own_mean():
    """Inside each clipped blob the field's channel mean moves towards the blob's own mean by (1 - keep) of its
    distance, the channels keep their differences, and every pixel outside a blob keeps its gains."""
    from hdrvid.models.brackets import kept_spread

    x = torch.full((2, 3, 40, 60), 0.5)
    x[0, :, 5:15, 5:25] = 1.0  # two blobs in the first frame
    x[0, 1, 25:35, 30:55] = 0.97  # (one channel at the clip is enough)
    torch.manual_seed(0)
    field = torch.rand(2, 3, 40, 60) * 3
    out = kept_spread(x, field, 0.5)
    assert torch.equal(out[1], field[1])  # no blob: unchanged
    outside = (x[0].amax(0) < 0.953)
    assert torch.equal(out[0][:, outside], field[0][:, outside])
    assert torch.allclose(out[0, 0] - out[0, 1], field[0, 0] - field[0, 1], atol=1e-5)
    for rows, cols in ((slice(5, 15), slice(5, 25)), (slice(25, 35), slice(30, 55))):
        g, h = field[0, :, rows, cols].mean(0), out[0, :, rows, cols].mean(0)
        assert float(h.mean()) == pytest.approx(float(g.mean()), abs=1e-5)  # the blob's own mean kept
        assert float(h.std()) == pytest.approx(0.5 * float(g.std()), rel=1e-4)
    assert torch.equal(kept_spread(x, field, 1.0), field)


def test_brackets_flattens_a_hot_patch_inside_a_clipped_surface(monkeypatch: pytest.MonkeyPatch):
    """``apply`` keeps BLOB_SPREAD of the field's spread inside a clipped blob: a bright patch the networks put in
    the middle of a blown ceiling comes out half as many stops above the rest of it; the recorded pixels stay."""
    from hdrvid.models import brackets

    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    m.blob_level = None
    monkeypatch.setattr(brackets, "GRADED_CURVE", False)
    monkeypatch.setattr(brackets, "EDGE_GATE", False)  # (the gate tempers plateaus: its own test)
    x = torch.full((1, 3, 96, 128), 0.3)
    x[..., 10:80, 10:120] = 1.0  # a blown ceiling
    field = torch.full_like(x, 1.0)
    field[..., 30:50, 40:70] = 3.0  # a hot patch inside it
    stops = {}
    for keep in (1.0, 0.5):
        monkeypatch.setattr(brackets, "BLOB_SPREAD", keep)
        with torch.no_grad():
            out = m.apply(x, field)
        assert torch.equal(out[..., 85:, :], x[..., 85:, :])  # recorded
        stops[keep] = float(torch.log2(out[0, 1, 40, 55] / out[0, 1, 70, 25]))
    assert stops[1.0] == pytest.approx(2 / math.log(2), rel=0.02)
    assert stops[0.5] == pytest.approx(0.5 * stops[1.0], rel=0.02)


def test_ring_exponents_rise_from_the_edge_and_the_frame_border_is_no_edge():
    """The ring map: the floor on an area's outermost pixels and below the code, all of the expansion ``width``
    pixels inside; an area's side along the frame's border is not an edge; nothing at the code: None."""
    from hdrvid.models.clip_edges import RING_CODE, ring_exponents

    code = np.full((40, 60), 100.0, np.float32)
    code[:, :20] = 255.0  # a clipped sky along the left border: its left end is the frame's, not an edge
    r = ring_exponents(code, 0.5, 5.0)
    assert r is not None and r.shape == code.shape
    assert float(r[20, 19]) == pytest.approx(0.5)  # the outermost pixel
    assert float(r[20, 17]) == pytest.approx(0.5 + 0.5 * 2 / 4, abs=0.05)  # three pixels in
    assert float(r[20, 0]) == 1.0  # at the frame's border
    assert float(r[20, 30]) == pytest.approx(0.5)  # below the code: the floor
    code[:, :20] = RING_CODE - 0.5
    assert ring_exponents(code, 0.5, 5.0) is None


def test_tiles_with_the_receptive_radius_give_the_whole_frame_field():
    """RECEPTIVE_RADIUS is the overlap the executor discards around tiles: with it, a tiled field equals the
    whole-frame field (the frame-wide vector comes from ``context`` of the whole frame)."""
    m = BracketHDR(width=8, fusion_width=8).eval()
    _randomise(m, 1)
    x = torch.rand(1, 3, 2 * RECEPTIVE_RADIUS + 96, 2 * RECEPTIVE_RADIUS + 160) * 0.7
    x[..., 100:260, 120:300] = 1.0
    with torch.no_grad():
        ctx = m.context(x)
        whole = m.field_tile(x, ctx)
        tiles = tiled(lambda t: m.field_tile(t, ctx), x, 128, RECEPTIVE_RADIUS)
    assert torch.allclose(tiles, whole, atol=2e-4), float((tiles - whole).abs().max())


@pytest.mark.parametrize("setting", ALL_SETTINGS)
def test_camera_renders_its_own_bracket(setting: str):
    """``Shot.render``: the same camera at another exposure (the generator's ground truth): gain 1 gives the
    shot itself up to noise and codec, more gain is never darker."""
    shot = shoot(interior_with_window(0.4, 96, 64), np.random.default_rng(5), setting)
    assert shot.render is not None
    same = shot.render(1.0).astype(int)
    tol = 0 if setting in ("srgb-mid", "hard") else 12
    assert np.abs(same - shot.signal.astype(int)).mean() <= max(tol, 0.01)
    brighter, darker = shot.render(4.0).astype(int), shot.render(0.25).astype(int)
    assert (brighter >= same - 1).all() and (darker <= same + 1).all()
    assert brighter.mean() > same.mean() > darker.mean()


def test_drtmo_rule_drops_frames_that_move_the_wrong_way_and_beyond():
    s = torch.full((1, 3, 8, 8), 0.5)
    good = {e: BracketNet.base(s, torch.tensor([e])) for e in STACK_EVS}
    stack = [good[e] for e in STACK_EVS]
    assert stack_choice(s, stack) == (3, 3)
    bad = list(stack)
    bad[STACK_EVS.index(2.0)] = torch.full_like(s, 0.3)  # +2 EV darker than +1 EV: +2 and +3 go
    bad[STACK_EVS.index(-1.0)] = torch.full_like(s, 0.9)  # -1 EV brighter than the picture: all downs go
    assert stack_choice(s, bad) == (0, 1)


def test_debevec_fallback_merges_a_true_stack_exactly_and_chooses_once_per_shot():
    lin = torch.rand(1, 3, 16, 16) * 4  # radiance up to 4x white: clipped at EV 0, recorded at -2 and -3
    frames = [encode(lin * 2.0**e) for e in STACK_EVS] + [encode(lin)]
    hdr = debevec_stack(frames, list(STACK_EVS) + [0.0])
    assert torch.allclose(hdr, lin, rtol=2e-3, atol=1e-4)
    m = BracketDebevec(width=4, fusion_width=4).eval()
    m.enable_temporal(0.1)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        for _ in range(3):
            m(x)
        m.reset_temporal()
        m(x)
    assert len(m.choices) == 2  # the first frame and after the cut, not every frame


def test_brackets_field_mixes_cfnet_and_the_debevec_merge_of_the_whole_stack():
    """``brackets``' stage 2 (session 34): log gain = (1 - share) x CF-Net's fused pair + share x the Debevec merge of
    the generator's -3..+3 EV stack and the picture; the merge in torch (exportable) is the numpy one's arithmetic;
    share 0 is CF-Net alone."""
    from hdrvid.models.brackets import DEBEVEC_SHARE, FLOOR, debevec_merge

    assert 0 < DEBEVEC_SHARE < 1
    m = BracketHDR(width=4, fusion_width=4).eval()
    _randomise(m, 2)
    x = torch.rand(2, 3, 32, 48) ** 2 * 1.1
    x[:, :, 8:20, 10:30] = 1.0
    s = encode(x)
    with torch.no_grad():
        ctx = m.context(x)
        stack = m.brackets(s, list(STACK_EVS), ctx)
        merged = debevec_merge(stack + [s], list(STACK_EVS) + [0.0])
        assert torch.allclose(merged, debevec_stack(stack + [s], list(STACK_EVS) + [0.0]), rtol=1e-5, atol=1e-6)
        lx = torch.log(x.clamp(min=FLOOR))
        cf = torch.log(m.fused(s, context=ctx).clamp(min=FLOOR)) - lx
        deb = torch.log(merged.clamp(min=FLOOR)) - lx
        mixed = m.field_tile(x, ctx)
        assert torch.allclose(mixed, (1 - DEBEVEC_SHARE) * cf + DEBEVEC_SHARE * deb, atol=1e-5)
        assert float((mixed - cf).abs().max()) > 1e-3  # the merge matters
        m.debevec_share = 0.0
        assert torch.equal(m.field_tile(x, ctx), cf)


# --- commands and engines (random but fixed weights given with --weights: the shape of the work, not its quality)

@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    m = BracketHDR()
    _randomise(m, 3, scale=0.05)  # (fields of a trained model's size: parity is checked to 1e-4 absolute)
    with torch.no_grad():  # keep the heads small so outputs stay plausible
        for head in (m.gen.head, m.fuse.head[2], m.fuse2x.head[2]):
            head.weight.mul_(0.05)
    path = tmp_path_factory.mktemp("w") / "brackets.pt"
    torch.save(m.state_dict(), path)
    return path


def _picture(path: Path, w: int = 96, h: int = 64) -> Path:
    img = pattern(0, w, h)
    cv2.imwrite(str(path), img[:, :, ::-1])
    return path


def test_cli_brackets_writes_a_stack_other_tools_can_read(tmp_path: Path, weights: Path):
    pic = _picture(tmp_path / "photo.png")
    r = run_cli("brackets", pic, "-o", tmp_path / "stack", "--ev", "2,-2,-1", "--weights", weights)
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (tmp_path / "stack").iterdir())
    assert names == ["exposures.txt", "photo_ev+0.png", "photo_ev+2.png", "photo_ev-1.png", "photo_ev-2.png",
                     "stack.json"]
    assert (tmp_path / "stack" / "exposures.txt").read_text().split() == ["-2", "-1", "0", "2"]
    ev0 = cv2.imread(str(tmp_path / "stack" / "photo_ev+0.png"))
    assert np.array_equal(ev0, cv2.imread(str(pic)))  # the picture itself, untouched
    dark = cv2.imread(str(tmp_path / "stack" / "photo_ev-2.png"))
    assert dark.shape == ev0.shape and dark.mean() < ev0.mean()
    # hdrvid merge reads the EVs the stack was made at (not measured): from its files, or the folder as a whole
    stack = tmp_path / "stack"
    r = run_cli("merge", stack / "photo_ev-2.png", stack / "photo_ev+2.png", "-o", tmp_path / "m.exr",
                "--method", "cfnet", "--weights", weights)
    assert r.exit_code == 0, r.output
    assert "exposures [-4.0, 0.0] EV" in r.output
    r = run_cli("merge", stack, "-o", tmp_path / "all.exr", "--method", "debevec")
    assert r.exit_code == 0, r.output
    assert "exposures [-2.0, -1.0, 0.0, 2.0] EV, reference #2" in r.output  # ordered by EV, the middle the reference
    (stack / "stack.json").write_text("{}")
    r = run_cli("merge", stack, "-o", tmp_path / "bad.exr")
    assert r.exit_code != 0 and "stack.json" in r.output and "--exposures" in r.output
    assert not (tmp_path / "bad.exr").exists()
    # bad input: a clear one-line error, nothing written
    r = run_cli("brackets", pic, "-o", tmp_path / "s2", "--ev", "0,1", "--weights", weights)
    assert r.exit_code != 0 and "--ev" in r.output and not (tmp_path / "s2").exists()
    r = run_cli("brackets", pic, "-o", tmp_path / "stack", "--weights", weights)
    assert r.exit_code != 0 and "--overwrite" in r.output


def test_untrained_brackets_refuses_to_run_without_weights(tmp_path: Path, monkeypatch):
    from hdrvid.models import registry

    spec = registry.get("brackets")
    monkeypatch.setitem(registry._REGISTRY, "brackets", replace(spec, trained=False, weights=None))
    r = run_cli("brackets", _picture(tmp_path / "p.png"), "-o", tmp_path / "s")
    assert r.exit_code != 0 and "random weights" in r.output


def test_cli_merge_cfnet_fuses_a_real_pair_into_radiance(tmp_path: Path, weights: Path):
    """Two real brackets 4 EV apart: the fused radiance matches the scene where either exposure recorded it."""
    yy, xx = np.mgrid[0:64, 0:96].astype(np.float32)
    scene = np.stack([xx / 96, yy / 64, np.full_like(xx, 0.3)], -1) * 6 + 0.02  # up to ~6x the middle white
    for name, ev in (("under", -2), ("over", 2)):
        code = np.round(np.asarray(srgb_inverse_eotf(np.clip(scene * 2.0**ev, 0, 1))) * 255).astype(np.uint8)
        cv2.imwrite(str(tmp_path / f"{name}.png"), code[:, :, ::-1])
    r = run_cli("merge", tmp_path / "under.png", tmp_path / "over.png", "-o", tmp_path / "m.exr", "--method", "cfnet",
                "--exposures", "-2,2", "--reference", "0", "--weights", weights)
    assert r.exit_code == 0, r.output
    hdr = read_hdr(tmp_path / "m.exr")
    truth = scene * 2.0**-2  # relative to the reference's (the under exposure's) white
    err = np.abs(np.log((hdr + 1e-3) / (truth + 1e-3)))
    assert hdr.shape == scene.shape and np.median(err) < 0.15, float(np.median(err))


def test_cli_convert_brackets_video_and_upscale(tmp_path: Path, weights: Path):
    from hdrvid.models.superres import Brackets2x

    src = make_clip(tmp_path / "in.mp4", frames=4, size=(64, 48))
    r = run_cli("convert", src, tmp_path / "out.mp4", "-m", "brackets", "--weights", weights, "--upscale", "2")
    assert r.exit_code != 0 and not (tmp_path / "out.mp4").exists()  # a brackets file is not a brackets-2x file
    assert "not a brackets-2x weights file" in r.output and "drop --weights" in r.output
    up = Brackets2x(width=8, blocks=1)
    up.base.load_state_dict(torch.load(weights, weights_only=True))
    torch.save(up.state_dict(), tmp_path / "b2x.pt")
    r = run_cli("convert", src, tmp_path / "out.mp4", "-m", "brackets", "--weights", tmp_path / "b2x.pt", "--upscale", "2")
    assert r.exit_code == 0, r.output
    s = ffprobe(tmp_path / "out.mp4", "-show_streams", "-select_streams", "v")["streams"][0]
    assert (s["width"], s["height"], s["color_transfer"]) == (128, 96, "smpte2084")
    assert int(s["nb_frames"]) == 4
    r = run_cli("convert", src, tmp_path / "same.mp4", "-m", "brackets", "--weights", weights)
    s = ffprobe(tmp_path / "same.mp4", "-show_streams", "-select_streams", "v")["streams"][0]
    assert r.exit_code == 0 and (s["width"], s["height"]) == (64, 48)
    import re

    # the run says how it treated the footage: the curve's weight and which blend it used
    assert re.search(r"treated as (graded|camera) footage \(BT\.2446A curve at [0-9.]+.*, blended from code "
                     r"~(246|252\.5)", r.output), r.output
    r = run_cli("convert", src, tmp_path / "x.mp4", "-m", "hdrunet", "--upscale", "2")
    assert r.exit_code != 0 and "super-resolution" in r.output and not (tmp_path / "x.mp4").exists()


def test_onnx_export_and_onnxruntime_parity_for_both_stages(tmp_path: Path, weights: Path, monkeypatch):
    """The generator and the 1x fusion run in ``brackets``' field parts, the generator and the 2x fusion in
    ``brackets-cf2x``: exported, checked against torch on the parity frame, and run by ONNX Runtime."""
    from hdrvid.engines import OrtBackend, OrtEngine
    from hdrvid.export.onnx import export_onnx, parity_input

    for name, part in (("brackets", "field"), ("brackets", "field_tile"), ("brackets-cf2x", "full")):
        r = export_onnx(name, tmp_path / name / part / "model.onnx", part=part, weights=weights)
        assert r.parity_ok and r.max_abs_diff < 1e-3, (name, part, r)
    x = torch.nn.functional.interpolate(parity_input(), size=(72, 120), mode="bilinear", align_corners=False)
    ort = OrtEngine(tmp_path / "brackets-cf2x" / "full" / "model.onnx", OrtBackend(threads=2)).infer(x)
    from hdrvid.models import build

    with torch.no_grad():
        ref = build("brackets-cf2x", weights)(x)
    assert ort.shape == (1, 3, 144, 240) and float((ort - ref).abs().max()) < 1e-3


def test_eval_stack_scores_every_ev_beside_a_pure_exposure_shift(tmp_path: Path, weights: Path):
    from hdrvid.io.images import write_exr
    from hdrvid.jobs.evaluate import evaluate_stack
    from hdrvid.synth.scenes import interior_with_window

    for i in range(2):
        write_exr(tmp_path / f"pano{i}.exr", interior_with_window(0.3 * i, 192, 96, seed=i))
    r = evaluate_stack([tmp_path], weights, width=96, views=1, split_name="held-out", settings=("srgb-mid", "hard"))
    assert r.evs == list(STACK_EVS) and set(r.psnr) == {"model", "nominal"}
    assert all(np.isfinite(v) and v > 5 for v in r.psnr["nominal"].values())
    assert 0 <= r.wrong_way < 1 and "monotonicity" in str(r)


def test_shipped_weights_keep_recorded_pixels_and_expand_a_clipped_window():
    from hdrvid.models import build
    from hdrvid.synth.scenes import interior_with_window

    hdr = torch.from_numpy(interior_with_window(0.5, 160, 96).transpose(2, 0, 1).copy())[None]
    x = (hdr / float(torch.quantile(hdr.amax(1), 0.9))).clamp(0, 1)  # 10 % of the pixels clipped
    with torch.no_grad():
        y = build("brackets")(x)
        big = build("brackets-2x")(x)
    recorded = clip_mask(encode(x)) == 0
    assert torch.equal(y * recorded, x * recorded)
    clipped = x.amax(1, keepdim=True) >= 1
    # highlights above the picture's white (this window's truth: mean 5.8, median 1.28 x white; the session-24
    # weights put the clipped pixels at 1.21 on average, session 25's, trained on the metric, at 1.18)
    assert float(y.amax(1, keepdim=True)[clipped].mean()) > 1.1
    assert big.shape == (1, 3, 192, 320) and float(big.amax()) > 1.2


def test_brackets_calls_a_frame_graded_only_where_its_detector_is_surer_than_the_default_s():
    # session 56: brackets' shoulder weight is a smoothstep of p over its own SHOULDER_BOUNDS (0.75 .. 0.99), not the
    # default model's 0.6 .. 0.95: a frame at p 0.7 keeps its recorded codes here, one at p 0.995 is graded.
    from hdrvid.models import brackets as B
    from hdrvid.models.hdrunet import SHOULDER_HI, SHOULDER_LO

    m = BracketHDR(width=4, fusion_width=4).eval()
    p = torch.tensor([0.7, 0.87, 0.995])
    m.shoulder.forward = lambda x, *a, **k: p[: x.shape[0]]  # type: ignore[method-assign]
    w = m.shoulder_weight(torch.full((3, 3, 16, 16), 0.5))
    assert B.SHOULDER_BOUNDS[0] > SHOULDER_LO and B.SHOULDER_BOUNDS[1] > SHOULDER_HI
    assert float(w[0]) == 0.0 and 0.3 < float(w[1]) < 0.7 and float(w[2]) == 1.0
    assert torch.allclose(m.last_p, p)


def test_brackets_average_light_cap_keeps_the_curve_s_shape_from_a_lower_certainty():
    # session 56: on a bright frame whose top code is full, the cap lowers the curve's weight unless the detector is
    # sure; brackets counts as sure from logit 3 .. 5 (CAP_SURE_BOUNDS), the default from 4.5 .. 6.5.
    from hdrvid.models import brackets as B
    from hdrvid.models.auto_arrays import cap_sure
    from hdrvid.models.hdrunet import GradedCurve

    assert cap_sure(1 / (1 + math.exp(-4.0)), B.CAP_SURE_BOUNDS) == pytest.approx(0.5)
    assert cap_sure(1 / (1 + math.exp(-4.0))) == 0.0  # the default's bounds
    g = torch.Generator().manual_seed(0)
    linear = (0.6 + 0.4 * torch.rand(1, 3, 64, 64, generator=g)).clamp(max=1)
    linear[:, :, :24] = 1.0  # the top code full: a camera's clip, where the weight cap acts
    p = torch.tensor([1 / (1 + math.exp(-5.2))])  # p 0.9945
    w = torch.ones(1)
    mine = BracketHDR(width=4, fusion_width=4).eval().graded_curve
    assert mine.sure_bounds == B.CAP_SURE_BOUNDS
    kept = mine.capped_weight(linear, linear.clone(), w.clone(), p)
    default = GradedCurve().capped_weight(linear, linear.clone(), w.clone(), p)
    assert float(kept.flatten()[0]) == pytest.approx(1.0)  # the shape kept, the mean brought down by one gain
    assert mine.last_gain is not None and float(mine.last_gain.flatten()[0]) < 1
    assert float(default.flatten()[0]) < 0.95  # the default, less sure at this p, lowers the weight
