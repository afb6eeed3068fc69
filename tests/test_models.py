"""Registry, ExpandNet as published, the classical itmo, and refusing unsafe or missing weights."""

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from media import blocky_plateau

from hdrvid.errors import ModelError
from hdrvid.io.hashing import sha256_file
from hdrvid.models import build, get, names
from hdrvid.models.expandnet import ExpandNet
from hdrvid.models.itmo import ClassicalITMO, box_filter
from hdrvid.models.registry import load_state_dict


def test_expandnet_is_the_published_architecture():
    net = ExpandNet()
    assert sum(p.numel() for p in net.parameters()) == 456_899
    x = torch.rand(2, 3, 16, 24)
    y = net(x)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    glob = net.global_features(x)
    assert glob.shape == (2, 64, 1, 1)
    torch.testing.assert_close(net(x, glob), y)


def test_registry_knows_models_and_rejects_unknown():
    assert {"itmo", "none", "expandnet"} <= set(names())
    with pytest.raises(ModelError, match="known models: .*itmo"):
        get("nope")


def test_untrained_model_refuses_to_run(monkeypatch):
    from hdrvid.models import registry

    names()
    spec = registry.ModelSpec(name="untrained", kind="single-exposure", factory=ExpandNet, summary="t", trained=False)
    monkeypatch.setitem(registry._REGISTRY, "untrained", spec)
    with pytest.raises(ModelError, match="no trained weights"):
        build("untrained")


def test_weights_round_trip_and_checksum(tmp_path: Path):
    from hdrvid.models.expandnet import ExpandNetITM

    f = tmp_path / "w.pt"
    torch.save(ExpandNetITM().state_dict(), f)
    m = build("expandnet", weights=f)  # (the registry's expandnet wraps the published network)
    assert isinstance(m.net, ExpandNet) and not m.training
    with pytest.raises(ModelError, match="sha256"):
        load_state_dict(f, "0" * 64)
    assert load_state_dict(f, sha256_file(f))


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickled_code_is_refused(tmp_path: Path, capsys):
    f = tmp_path / "evil.pt"
    with open(f, "wb") as fh:
        pickle.dump({"w": Evil()}, fh)
    with pytest.raises(ModelError, match="refused"):
        build("expandnet", weights=f)
    assert "pwned" not in capsys.readouterr().out


def test_wrong_weights_shape_is_a_clear_error(tmp_path: Path):
    f = tmp_path / "w.pt"
    torch.save({"x": torch.zeros(3)}, f)
    with pytest.raises(ModelError, match="do not fit"):
        build("expandnet", weights=f)


def test_box_filter_matches_direct_mean():
    x = torch.rand(1, 1, 9, 11)
    r = 2
    got = box_filter(x, r)
    i, j = 4, 5
    assert torch.isclose(got[0, 0, i, j], x[0, 0, i - r:i + r + 1, j - r:j + r + 1].mean())
    assert torch.isclose(got[0, 0, 0, 0], x[0, 0, 0:r + 1, 0:r + 1].mean())  # clamped at the border


def test_itmo_keeps_well_exposed_pixels_and_expands_clipped_ones():
    m = ClassicalITMO()
    x = torch.full((1, 3, 256, 256), 0.05)
    x[:, :, 100:104, 100:104] = 1.0  # a small clipped highlight (a lamp)
    x[:, :, 150:250, 10:110] = 1.0  # a large clipped area (an overexposed wall)
    x[:, 2, 20:30, 200:210] = 1.0  # one clipped channel (blue sky)
    x[:, :, 20:60, 20:60] = 0.8  # bright but recorded
    y = m(x)
    assert torch.equal(y[:, :, :5, :5], x[:, :, :5, :5])  # far from highlights: exact
    assert torch.equal(y[:, :, 30:50, 30:50], x[:, :, 30:50, 30:50])  # merely bright: exact
    assert float(y[0, 0, 102, 102]) > 4  # a small clipped spot: a light source, expanded strongly
    centre, edge = float(y[0, 0, 200, 60]), float(y[0, 0, 151, 60])
    assert 1.5 < centre < 3 and edge < centre  # a large clipped area: a moderate dome, no plateau at the peak
    assert float(y[0, 2, 25, 205]) > 2  # a single clipped channel counts too
    assert float(y[0, 0, 140, 60]) == pytest.approx(0.05)  # no halo into the unclipped neighbours
    assert float(y.min()) >= 0


def test_itmo_reads_a_near_white_walls_codec_blocks_through_the_block_filter():
    """A near-white wall in H.264 is a mosaic of 8x8 blocks a few codes apart; itmo's mask rises over codes
    ~240-252, so read pixel by pixel the blocks became bright and dim squares (the office clip, session 49: a gain
    of 1.8 against 3.5 on neighbouring blocks here). Through the codec-block filter neighbouring blocks get nearly
    the same gain, on both the torch module and the numpy path."""
    from hdrvid.models.arrays import itmo

    x = np.full((3, 256, 256), 0.05, np.float32)
    checker = ((np.arange(128)[:, None] // 8) + (np.arange(128)[None] // 8)) % 2 == 0
    x[:, 64:192, 64:192] = (np.where(checker, 244, 247) / 255.0) ** 2.2
    with torch.inference_mode():  # the average-light cap off: its own test
        y = ClassicalITMO(average_cap=float("inf"))(torch.from_numpy(x)[None])[0].numpy()
    g = y[0] / x[0]
    a, b = float(g[124, 124]), float(g[124, 132])  # the centres of two neighbouring blocks
    assert max(a, b) > 2  # the wall is expanded (a large near-white region)
    assert max(a, b) / min(a, b) < 1.25
    assert np.abs(itmo(x) - y).max() < 2e-5 * float(y.max())  # the numpy path reads the same filter
    assert np.array_equal(y[:, :40, :40], x[:, :40, :40])  # far from the wall: exact


def test_itmo_holds_a_frames_average_light_at_the_cap_and_over_neighbouring_frames():
    """itmo's average-light cap (session 50): a frame whose expansion would lift its mean max(R, G, B) above the
    cap gets its expansion scaled so the mean lands on it (recorded pixels untouched); a frame already above it
    without the expansion gets none; in video a dimmer frame after a bright one keeps the bright one's factor,
    comes back over the next frames and is exactly itself after two windows, or at once after a scene cut; the
    numpy path gives the same pictures."""
    from hdrvid.models.arrays import ITMO_AVERAGE_CAP, ITMO_CAP_WINDOW, CappedItmo, frame_light

    def wall(share: float, level: float = 0.1) -> np.ndarray:
        x = np.full((3, 128, 128), level, np.float32)
        x[:, :, : int(128 * share)] = 1.0  # a clipped white wall over this share of the frame
        return x

    light = lambda y: frame_light(y[:, ::4, ::4].max(0))  # noqa: E731
    plain = ClassicalITMO(average_cap=float("inf"))
    m = ClassicalITMO()
    with torch.inference_mode():
        big, small = torch.from_numpy(wall(0.4))[None], torch.from_numpy(wall(0.15))[None]
        free = plain(big)[0].numpy()
        held = m(big)[0].numpy()
        assert light(free) > 1.3 * ITMO_AVERAGE_CAP  # uncapped, the wall lifts the frame far above the cap
        assert abs(light(held) - ITMO_AVERAGE_CAP) < 1e-3 * ITMO_AVERAGE_CAP
        assert np.array_equal(held[:, :, 80:], wall(0.4)[:, :, 80:])  # recorded pixels as decoded
        assert float(held.max()) > 1.2  # still expanded, less
        assert light(plain(small)[0].numpy()) < ITMO_AVERAGE_CAP  # the small wall alone: under the cap
        bright = torch.from_numpy(wall(0.4, level=0.6))[None]  # above the cap before any expansion: none
        assert light(bright[0].numpy()) > ITMO_AVERAGE_CAP and torch.equal(m(bright), bright)
        # video: the small wall alone is under the cap; after the big wall in the same shot it keeps that factor
        m.enable_temporal()
        first = m(big)[0].numpy()
        after = m(small)[0].numpy()
        alone = plain(small)[0].numpy()
        assert float(after.max()) < float(alone.max()) - 0.1
        peaks = [float(m(small)[0].numpy().max()) for _ in range(2 * ITMO_CAP_WINDOW)]
        assert all(a <= b for a, b in zip(peaks, peaks[1:], strict=False)) and peaks[0] < peaks[-2]  # back slowly
        assert peaks[-1] == float(alone.max())
        m(big)
        m.reset_temporal()  # a scene cut
        assert np.array_equal(m(small)[0].numpy(), alone)
        np.testing.assert_array_equal(first, held)
    # the numpy path: the same factors and pictures, frame by frame
    fn = CappedItmo()
    fn.enable_temporal()
    for x, want in ((wall(0.4), first), (wall(0.15), after)):
        got = fn(x)
        assert np.abs(got - want).max() < 2e-5 * float(want.max())
    assert fn.mean_cap_factor() is not None and fn.mean_cap_factor() < 1


def test_bt2446a_inverse_model_expands_by_the_standard_curve():
    m = build("bt2446a")
    x = torch.tensor([0.0, 0.18, 1.0]).view(1, 1, 3, 1).expand(1, 3, 3, 1).contiguous()  # greys
    y = m(x)[0, 1, :, 0]
    assert float(y[0]) == 0.0
    white = 203 * 1.96  # nits of relative 1.0 at the default --level (bt2446a)
    assert abs(float(y[1]) * white - 71.5) < 0.5  # 18% grey -> 71.5 nits (worked in test_operators)
    assert abs(float(y[2]) * white - 999.5) < 1.0  # SDR white -> the 1000-nit peak


def test_shipped_expandnet_weights_load_and_keep_well_exposed_pixels_exact():
    spec = get("expandnet")
    assert spec.trained and spec.sha256 and spec.card
    from hdrvid.io.hashing import sha256_file
    from hdrvid.models.registry import weights_dir

    assert sha256_file(weights_dir() / spec.weights) == spec.sha256
    m = build("expandnet")
    x = torch.full((1, 3, 48, 64), 0.2)
    x[:, :, 10:20, 10:30] = 1.0  # clipped
    with torch.inference_mode():
        y = m(x)
    assert torch.equal(y[:, :, 30:, :], x[:, :, 30:, :])  # exactly linearised where nothing clipped
    assert float(y[0, 0, 15, 20]) > 1.0  # clipped highlights are expanded


def test_model_card_ships_with_the_package():
    from importlib import resources

    card = resources.files("hdrvid.models") / "cards" / "expandnet.md"
    text = card.read_text()
    assert "held-out" in text and "not reached" in text and "456,899" in text


def test_hdrunet_tiny_shapes_parts_and_recorded_pixels():
    from hdrvid.models.hdrunet import KNOTS, HDRUNet

    torch.manual_seed(0)
    m = HDRUNet(width=4, context=8).eval()
    x = torch.rand(2, 3, 16, 16) * 0.9
    x[0, :, 4:8, 4:8] = 1.0  # clipped
    with torch.inference_mode():
        f = m.field(x)
        assert f.shape == (2, 3 + KNOTS + 1, 16, 16)
        y = m(x)
        assert torch.allclose(y, m.apply(x, m.field_tile(x, m.context(x))))
    dark = x.amax(1, keepdim=True).expand_as(x) < 0.2
    assert torch.allclose(y[dark], x[dark], atol=1e-6)  # below the knee: exactly as decoded
    assert float(y[0, 0, 5, 5]) > 1.0  # clipped: expanded
    ramp = torch.linspace(0, 1, 256).view(1, 1, 1, 256).expand(1, 3, 1, 256)
    knots = torch.cumsum(torch.rand(1, KNOTS), 1) + 0.22
    c = m.inverse_response(ramp, knots)[0, 0, 0]
    assert bool((c[1:] >= c[:-1] - 1e-6).all())  # increasing


def test_in_unit_range_skips_the_copy_only_when_nothing_needs_clamping():
    """The detector's input: the frame itself when every value lies in [0, 1] (no 25 MB copy a frame at 1080p),
    else exactly ``clamp(0, 1)`` (light above white, negative light, NaN kept as clamp keeps it)."""
    from hdrvid.models.hdrunet import in_unit_range

    x = torch.rand(1, 3, 8, 9)
    x[0, 0, 0, 0], x[0, 1, 0, 0] = 0.0, 1.0
    assert in_unit_range(x) is x
    for bad in (1.0000001, -1e-9, 7.0, float("nan")):
        y = x.clone()
        y[0, 2, 3, 4] = bad
        out = in_unit_range(y)
        assert out is not y
        torch.testing.assert_close(out, y.clamp(0, 1), equal_nan=True, rtol=0, atol=0)


def test_hdrunet_lite_is_the_default_model_with_a_width_8_network_and_weights_decide_the_width(tmp_path: Path):
    """``hdrunet-lite`` (session 33's distilled network) is ``hdrunet-auto`` at width 8 with the same shoulder detector;
    a weights file's own width builds the model that fits (``--weights`` of a ``--model-arg width=N`` run), and the
    shipped width-16 file still builds the width-16 network."""
    from hdrvid.models.hdrunet import HDRUNet

    lite, auto = build("hdrunet-lite"), build("hdrunet-auto")
    assert lite.stem[0][0].weight.shape[0] == 8 and auto.stem[0][0].weight.shape[0] == 16
    assert sum(p.numel() for p in lite.parameters()) < 0.4 * sum(p.numel() for p in auto.parameters())
    for k, v in auto.state_dict().items():  # the same trained detector
        if k.startswith("shoulder."):
            assert torch.equal(v, lite.state_dict()[k]), k
    x = torch.rand(1, 3, 48, 64) ** 2.2
    x[..., 10:20, 10:30] = 1.0
    with torch.no_grad():
        assert torch.isfinite(lite(x)).all()
    path = tmp_path / "w8.pt"
    torch.save(lite.state_dict(), path)
    again = build("hdrunet-auto", path)
    assert again.stem[0][0].weight.shape[0] == 8
    assert HDRUNet.sizes_of(auto.state_dict()) == {}
    assert HDRUNet.sizes_of(HDRUNet(width=4, context=8).state_dict()) == {"width": 4, "context": 8}


def test_hdrunet_curve_moves_slowly_in_video_and_resets_at_cuts():
    from hdrvid.models.hdrunet import KNOTS, HDRUNet

    m = HDRUNet(width=4, context=8).eval()
    m.enable_temporal(0.1)
    a, b = torch.full((1, KNOTS), 1.0), torch.full((1, KNOTS), 2.0)
    assert torch.equal(m._smoothed(a), a)
    assert torch.allclose(m._smoothed(b), torch.full((1, KNOTS), 1.1))  # one step of the filter
    m.reset_temporal()
    assert torch.equal(m._smoothed(b), b)


def test_hdrunet_gate_leaves_camera_footage_exactly_as_decoded():
    """The learned inverse response is applied in proportion to the gate; a confident "camera" gate (p < 0.25)
    gives exactly the identity curve, so recorded pixels are untouched."""
    from hdrvid.models.hdrunet import HDRUNet

    torch.manual_seed(0)
    m = HDRUNet(width=4, context=8, curve=True).eval()
    x = torch.rand(1, 3, 32, 32) * 0.8
    with torch.inference_mode():
        m.gate[2].bias.fill_(-10.0)
        assert torch.equal(m(x), x.clamp(0, 1))  # nothing clipped, gate closed: the input itself
        m.curve[2].bias.add_(0.5)  # a curve other than the identity
        assert torch.equal(m(x), x.clamp(0, 1))
        m.gate[2].bias.fill_(10.0)
        assert not torch.allclose(m(x), x)  # gate open: the learned curve
        tails = m.tail_shares(x)
    assert tails.shape == (1, 17) and bool((tails[:, 1:] <= tails[:, :-1] + 1e-6).all())  # shares fall with level
    assert HDRUNet.gate_weight(torch.tensor([-5.0, 5.0])).tolist() == [0.0, 1.0]


def test_square_max_is_the_square_max_pool():
    import torch.nn.functional as F

    from hdrvid.models.itmo import square_max

    x = torch.rand(2, 1, 37, 53)
    for r in (1, 4, 20):
        assert torch.equal(square_max(x, r), F.max_pool2d(x, 2 * r + 1, stride=1, padding=r))


def test_bt2446a_expansion_keeps_grey_and_lifts_white():
    from hdrvid.color.operators import bt2446a_expansion, bt2446a_inverse_curve

    y = torch.tensor([0.01, 0.18, 0.5, 1.0])
    g = bt2446a_expansion(y)
    assert abs(float(g[1]) - 1.0) < 0.01  # mid-tones stay at the level's grey
    assert 2.4 < float(g[3]) < 2.6 and 0.7 < float(g[0]) < 0.8
    # the standard's own curve, in nits, at the default level (SDR white at 1.96 x 203 nits)
    assert torch.allclose(g * y * 203 * 1.96, bt2446a_inverse_curve(y) * 1000, rtol=1e-5)


def test_shoulder_features_are_size_independent_and_the_detector_separates_the_extremes():
    """The detector's features are taken at about ANALYSIS_SIDE whatever the frame size; the shipped detector
    calls a hard clip-at-white camera picture "camera" and a strongly graded one "graded"."""
    import numpy as np

    from hdrvid.models.registry import build
    from hdrvid.models.shoulder import FEATURES, features
    from hdrvid.synth.camera import shoot
    from hdrvid.synth.scenes import procedural_scenes

    x = torch.rand(1, 3, 90, 160) ** 2.2
    big = x.repeat_interleave(4, -1).repeat_interleave(4, -2)  # the same picture at 4x the size
    fa, fb = features(x), features(big)
    assert fa.shape == (1, FEATURES) and torch.isfinite(fa).all()
    assert torch.allclose(fa[:, :24], fb[:, :24], atol=0.02)  # histograms: the same codes
    model = build("hdrunet-auto")
    scene = procedural_scenes(1, size=(256, 170), seed=3)[0]
    probs = {}
    for setting in ("hard", "graded"):
        shots = [shoot(scene, np.random.default_rng([1, i]), setting) for i in range(4)]
        lin = torch.stack([torch.from_numpy(s.linear.transpose(2, 0, 1).copy()) for s in shots])
        with torch.inference_mode():
            probs[setting] = float(model.shoulder(lin).mean())
    assert probs["hard"] < 0.5 < probs["graded"], probs


def test_the_shoulder_detector_takes_the_width_of_the_weights_it_is_given():
    """The shipped detector is an ensemble (five MLPs' hidden units side by side, session 49): a detector built at
    the default width loads it, gives its logits, and stays frozen if it was; the numpy path reads it too."""
    from hdrvid.models.registry import load_state_dict, weights_dir
    from hdrvid.models.shoulder import FEATURES, ShoulderDetector
    from hdrvid.models.shoulder_arrays import ShoulderMLP

    torch.manual_seed(0)
    wide = ShoulderDetector(hidden=96).eval()
    det = ShoulderDetector().requires_grad_(False)
    det.load_state_dict(wide.state_dict())
    x = torch.randn(5, FEATURES)
    assert det.net[0].out_features == 96 and not any(p.requires_grad for p in det.parameters())
    assert torch.equal(det.logit_of(x), wide.logit_of(x))
    shipped = {k[len("shoulder."):]: v for k, v in load_state_dict(weights_dir() / "hdrunet.pt", None).items()
               if k.startswith("shoulder.")}
    det.load_state_dict(shipped)
    assert det.net[0].out_features == shipped["net.0.weight"].shape[0] == 320
    frame = torch.rand(3, 60, 80) ** 2.2
    mlp = ShoulderMLP({k: v.double().numpy() for k, v in shipped.items()})
    with torch.inference_mode():
        assert abs(mlp.probability(frame.numpy()) - float(det(frame[None])[0])) < 1e-5


def test_hdrunet_auto_is_hdrunet_times_the_bt2446a_curve_by_the_detector(monkeypatch: pytest.MonkeyPatch):
    """``hdrunet-auto`` = ``hdrunet`` where the detector says "camera" (every recorded pixel exactly as
    decoded), times BT.2446A's expansion of the input's luminance where it says "graded"; in video one decision
    per shot (the mean over its first frames, then held), made again after a cut."""
    from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_expansion, luminance
    from hdrvid.models import hdrunet
    from hdrvid.models.hdrunet import SETTLE_FRAMES, HDRUNet

    monkeypatch.setattr(hdrunet, "AVERAGE_CAP", float("inf"))  # the cap on bright frames: its own test
    torch.manual_seed(0)
    plain = HDRUNet(width=4, context=8, curve=False).eval()
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    auto.load_state_dict(plain.state_dict())
    auto.edge_gate = False  # the gate on soft-edged clipped areas of camera frames: its own test
    auto.blob_level = None  # each clipped blob's level: its own tests (tests/test_blob_level.py)
    x = torch.rand(1, 3, 32, 32) * 0.9
    x[..., 4:10, 4:10] = 1.0
    with torch.inference_mode():
        auto.shoulder.net[2].bias.fill_(-20.0)  # confident camera
        assert torch.equal(auto(x), plain(x))
        assert float(auto.last_shoulder) == 0.0
        auto.shoulder.net[2].bias.fill_(20.0)  # confident graded
        want = plain(x) * bt2446a_expansion(luminance(x, BT709_WEIGHTS))
        assert torch.allclose(auto(x), want, rtol=2e-4)  # the compiled pass reads the curve from a table
        ramp = torch.linspace(0, 1, 3 * 64 * 64).view(1, 3, 64, 64) ** 2
        w = torch.full((1, 1, 1, 1), 0.6)
        auto.shoulder_weight = lambda lin: w.flatten()  # type: ignore[method-assign]
        exact = ramp * torch.exp(w * torch.log(bt2446a_expansion(luminance(ramp, BT709_WEIGHTS))))
        assert torch.allclose(auto._graded(ramp, ramp.clone(), auto.frame_weight(ramp)), exact, rtol=2e-4, atol=1e-7)
        del auto.shoulder_weight
        auto.enable_temporal(0.1)
        auto.shoulder.net[2].bias.fill_(-20.0)
        auto(x)  # first frame: camera
        auto.shoulder.net[2].bias.fill_(20.0)
        assert torch.allclose(auto.shoulder_weight(x), torch.zeros(1))  # the shot's mean p 0.5: below 0.6
        auto.reset_temporal()
        assert torch.allclose(auto.shoulder_weight(x), torch.ones(1))  # a cut: the new shot's own
        for _ in range(SETTLE_FRAMES):
            auto.shoulder_weight(x)
        auto.shoulder.net[2].bias.fill_(-20.0)
        assert torch.allclose(auto.shoulder_weight(x), torch.ones(1))  # settled: held for the rest of the shot
        auto.shoulder.forward = lambda lin: pytest.fail("the detector ran after the shot's decision")
        assert torch.allclose(auto.shoulder_weight(torch.cat([x, x])), torch.ones(2))  # ... without the detector
        del auto.shoulder.forward
    with pytest.raises(ValueError, match="adaptive"):
        HDRUNet(curve=True, adaptive=True)


def test_hdrunet_auto_caps_the_frame_average_light_of_bright_frames_once_per_shot():
    """BT.2446A put a white office wall at 600-1000 nits (MaxFALL ~400): on a frame the curve would lift above
    AVERAGE_CAP on average, the mean max(R, G, B) is held at the cap. A frame whose top code is full (a camera's
    clip, where the detector's false "graded" calls are) gets the largest curve weight that keeps the mean at the
    cap (never below the frame without the curve); a frame whose top code is empty (a grade's shoulder) keeps the
    whole curve, its shape, and one gain on the finished frame brings it to the same mean. A dark frame keeps the
    whole curve; in video one factor and one gain per shot (the first frames' mean, then held, reset at a cut),
    and the report's curve weight and gain say what was applied."""
    from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_expansion
    from hdrvid.models.hdrunet import AVERAGE_CAP, SETTLE_FRAMES, HDRUNet

    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    auto.blob_level = None
    one = torch.ones(1)

    def mean_light(y: torch.Tensor) -> float:
        return float(y[:, :, ::4, ::4].amax(1).mean())

    def curved(x: torch.Tensor) -> torch.Tensor:  # the curve, the per-blob level (off) and the cap's gain
        return auto.graded_curve.gained(auto._graded(x, x.clone(), auto.frame_weight(x)))

    graded = torch.full((1, 3, 64, 64), 0.6)  # a bright wall, not clipped: the top code is empty
    graded[..., :, :8] = 0.1
    camera = graded.clone()
    camera[..., :4, :] = 1.0  # 6 % of the pixels at the top code: a camera's clip
    dark = torch.rand(1, 3, 64, 64) * 0.4
    with torch.inference_mode():
        auto.shoulder_weight = lambda lin: one.expand(lin.shape[0])  # type: ignore[method-assign]
        lowered = curved(camera)
        assert mean_light(camera) < AVERAGE_CAP < mean_light(camera * 2.5)  # the whole curve would go above the cap
        assert mean_light(lowered) == pytest.approx(AVERAGE_CAP, rel=2e-3)
        assert 0 < float(auto.last_curve) < 1 and auto.graded_curve.last_gain is None
        assert float((lowered[..., 8:] / camera[..., 8:]).mean()) > 1.05  # lowered, not switched off
        kept = curved(graded)
        assert float(auto.last_curve) == 1.0 and 0 < float(auto.graded_curve.last_gain) < 1
        assert mean_light(kept) == pytest.approx(AVERAGE_CAP, rel=2e-3)
        ratio = float(kept[0, 0, 0, 20] / kept[0, 0, 0, 0])  # the curve's shape between the wall and its shadow
        e = bt2446a_expansion(torch.tensor([0.6, 0.1]) * sum(BT709_WEIGHTS))
        assert ratio == pytest.approx(6 * float(e[0] / e[1]), rel=1e-4)
        as_dark = curved(dark)
        assert float(auto.last_curve) == 1.0 and auto.graded_curve.last_gain is None and mean_light(as_dark) < AVERAGE_CAP
        brighter = camera.clone().fill_(0.95)
        brighter[..., :4, :] = 1.0
        assert torch.equal(curved(brighter), brighter)
        assert float(auto.last_curve) == 0.0  # above the cap without the curve: none of it, the light as decoded
        brighter[..., :4, :] = 0.95  # the same without the top code: the curve, and the decoded frame's mean
        assert mean_light(curved(brighter)) == pytest.approx(0.95, rel=2e-3) and float(auto.last_curve) == 1.0
        auto.enable_temporal(0.1)
        for _ in range(SETTLE_FRAMES):
            curved(graded)
        held, gain = float(auto.last_curve), float(auto.graded_curve.last_gain)
        curved(dark)
        assert float(auto.last_curve) == pytest.approx(held)  # held for the rest of the shot
        assert float(auto.graded_curve.last_gain) == pytest.approx(gain)
        assert auto.mean_curve_weight() == pytest.approx(held) and auto.mean_shoulder_weight() == 1.0
        assert auto.mean_cap_gain() == pytest.approx(gain)
        auto.reset_temporal()
        curved(dark)
        assert float(auto.last_curve) == 1.0 and auto.graded_curve.last_gain is None  # a cut: the new shot's own


def test_hdrunet_auto_keeps_the_curves_shape_under_the_cap_on_frames_the_detector_is_sure_of():
    """A consumer camera's shoulder fills the top code as a camera's clip does, and the weight cap (a hedge against
    the detector's false "graded" calls on bright camera frames) flattened BT.2446A's curve on them: 2.4 dB lost in
    recorded pixels on validation, below `bt2446a` (session 51). As far as the detector is sure (its logit from
    CAP_SURE_LO to CAP_SURE_HI) the curve keeps its weight and one gain holds the frame's mean at the cap; an unsure
    call lowers the weight as before. The torch-free path reads the same probability the same way."""
    from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_expansion
    from hdrvid.engines.array_executor import auto_arrays_executor
    from hdrvid.engines.plan import ExecutionPlan
    from hdrvid.models.auto_params import CAP_SURE_HI, CAP_SURE_LO
    from hdrvid.models.hdrunet import AVERAGE_CAP, HDRUNet

    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    auto.blob_level = None
    arrays = auto_arrays_executor("hdrunet-auto", ExecutionPlan(infer_scale=0.5), 1).model
    camera = torch.full((1, 3, 64, 64), 0.6)
    camera[..., :, :8] = 0.1
    camera[..., :4, :] = 1.0  # 6 % of the pixels at the top code

    def mean_light(y: torch.Tensor) -> float:
        return float(y[:, :, ::4, ::4].amax(1).mean())

    def at(p: float) -> tuple[torch.Tensor, float, float]:
        def weight(lin: torch.Tensor) -> torch.Tensor:
            auto.last_p = torch.full((lin.shape[0],), p)
            return torch.ones(lin.shape[0])
        auto.shoulder_weight = weight  # type: ignore[method-assign]
        y = auto.graded_curve.gained(auto._graded(camera, camera.clone(), auto.frame_weight(camera)))
        gain = auto.graded_curve.last_gain
        arrays.last_p = p  # the torch-free path: the same weight and gain for the same probability
        lin = camera[0].numpy()
        assert arrays.capped_weight(lin, lin.copy(), 1.0) == pytest.approx(float(auto.last_curve), abs=1e-5)
        assert arrays.last_gain == pytest.approx(1.0 if gain is None else float(gain), abs=1e-5)
        return y, float(auto.last_curve), 1.0 if gain is None else float(gain)

    def prob(logit: float) -> float:
        return 1 / (1 + math.exp(-logit))

    with torch.inference_mode():
        unsure, w_unsure, g_unsure = at(prob(CAP_SURE_LO - 0.5))
        assert 0 < w_unsure < 1 and g_unsure == 1.0  # the weight lowered, as before
        sure, w_sure, g_sure = at(prob(CAP_SURE_HI + 0.5))
        assert w_sure == 1.0 and 0 < g_sure < 1  # the whole curve, held down by one gain
        half, w_half, g_half = at(prob((CAP_SURE_LO + CAP_SURE_HI) / 2))
        assert w_unsure < w_half < 1 and g_sure < g_half < 1
        for y in (unsure, sure, half):
            assert mean_light(y) == pytest.approx(AVERAGE_CAP, rel=2e-3)
        shape = float(sure[0, 0, 20, 20] / sure[0, 0, 20, 0])  # the wall over its shadow: the curve's whole shape
        e = bt2446a_expansion(torch.tensor([0.6, 0.1]) * sum(BT709_WEIGHTS))
        assert shape == pytest.approx(6 * float(e[0] / e[1]), rel=1e-4)
        assert float(unsure[0, 0, 20, 20] / unsure[0, 0, 20, 0]) < shape


def test_hdrunet_expands_near_neutral_highlights_as_one_and_saturated_ones_per_channel():
    """A white car's roof decoded as (254, 251, 255) turned magenta: per-channel masks expanded R and B and left
    G. Channels within a few codes of the brightest now share its gain (hue kept), a saturated highlight keeps
    per-channel expansion (only the clipped channel grows), and the change is continuous from one to the other.
    Every path agrees: whole frame, clipped pixels only and the compiled guided pass."""
    from hdrvid.models.hdrunet import SIGNAL_GAMMA, HDRUNet

    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    with torch.no_grad():
        auto.head.weight.zero_()
        auto.head.bias.fill_(3.0)  # the same large gain in every channel
        auto.shoulder.net[2].bias.fill_(-20.0)  # camera footage: the narrow mask (codes ~252.5-254.5)
    auto.edge_gate = False  # one row of test codes has no edges to speak of; the gate has its own test
    g = torch.linspace(255, 180, 151)  # R = B = 255, G from 255 down to saturated
    codes = torch.stack([torch.full_like(g, 255.0), g, torch.full_like(g, 255.0)])
    codes = torch.cat([codes, torch.tensor([[254.0, 255.0], [251.0, 200.0], [255.0, 100.0]])], 1)
    x = ((codes / 255) ** SIGNAL_GAMMA).view(1, 3, 1, -1).contiguous()
    with torch.inference_mode():
        field = auto.field(x)
        whole = auto.apply(x, field)
        where = auto.apply_where(x, lambda n, r, c: field[n, :3, r, c], field[:, 3:].mean((-2, -1)))
        guided = auto.apply_guided(x, torch.zeros(1, 3, 1, x.shape[-1]), field[:, :3], field[:, 3:].mean((-2, -1)))
    torch.testing.assert_close(where, whole, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(guided, whole, rtol=1e-4, atol=1e-6)
    for out in (whole, where, guided):
        px = out[0, :, 0]
        white, sat = px[:, -2], px[:, -1]
        assert float(white.max()) > 3 * float(x[0, :, 0, -2].max())  # expanded ...
        assert float(white.max() / white.min()) < 1.1  # ... as one: no magenta (was ~10x)
        assert torch.equal(sat[1:], x[0, 1:, 0, -1]) and float(sat[0]) > 3 * float(x[0, 0, 0, -1])
        ramp = px[1, :151]
        steps = (ramp[1:] / ramp[:-1]).log().abs()
        # continuous from shared to per channel: the fade spans 8 codes (half-code steps of at most ~1/10 of the
        # ~4.1 log gain; a switch would jump by all of it)
        assert float(steps.max()) < 0.5
        assert torch.equal(ramp[-20:], x[0, 1, 0, 131:151])  # far from neutral: G as decoded


def test_hdrunet_auto_leaves_near_white_codes_of_camera_footage_as_recorded(monkeypatch: pytest.MonkeyPatch):
    """On frames the detector calls camera footage the expansion starts at signal CAMERA_ALPHA_LO (code ~252),
    not at CLIP_LO (~246): a camera that clips at white recorded the codes below exactly. On graded frames the
    wide mask stays (near-white codes there are compressed highlights). Every path agrees: whole frame
    (``apply``), clipped pixels only (``apply_where``) and the compiled guided pass."""
    from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_expansion, luminance
    from hdrvid.models import hdrunet
    from hdrvid.models.hdrunet import CAMERA_ALPHA_LO, CLIP_LO, SIGNAL_GAMMA, HDRUNet

    monkeypatch.setattr(hdrunet, "AVERAGE_CAP", float("inf"))  # an all-bright frame: the cap has its own test
    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    auto.deblock = False  # the mask's codec-block filter pulls this ramp down at the frame's edge (its own tests)
    with torch.no_grad():
        auto.head.bias.fill_(3.0)  # gains well above 1 wherever the mask is open
    s = torch.linspace(0.9, 1.0, 48 * 48).view(1, 1, 48, 48).expand(1, 3, 48, 48).contiguous()
    x = s ** SIGNAL_GAMMA
    between = (s > CLIP_LO + 0.002) & (s < CAMERA_ALPHA_LO - 0.002)  # opened by the wide mask only
    top = s > 0.999
    assert int(between.sum()) > 300 and CAMERA_ALPHA_LO > CLIP_LO + 0.01
    for bias, changed in ((-20.0, False), (20.0, True)):  # camera, graded
        auto.shoulder.net[2].bias.fill_(bias)
        with torch.inference_mode():
            field = auto.field(x)
            whole = auto.apply(x, field)
            where = auto.apply_where(x, lambda n, r, c: field[n, :3, r, c], field[:, 3:].mean((-2, -1)))
            a = torch.zeros(1, 3, 48, 48)
            guided = auto.apply_guided(x, a, field[:, :3], field[:, 3:].mean((-2, -1)))
        for out in (whole, where, guided):
            curve = out / x.clamp(min=1e-12)
            if not changed:
                assert torch.equal(out[between], x[between])  # exactly as decoded
                assert bool((curve[top] > 1.5).all())
            else:  # beyond what the BT.2446A curve alone gives: the network's gain acts there too
                curve_only = x * bt2446a_expansion(luminance(x, BT709_WEIGHTS))
                assert bool((out[between] > curve_only[between] * 1.01).all())
        torch.testing.assert_close(where, whole, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(guided, whole, rtol=1e-4, atol=1e-6)


def test_hdrunet_auto_graded_boost_lifts_clipped_pixels_of_graded_frames_with_an_empty_top_code():
    """The graded boost: ``graded_boost_stops`` more light in the clipped pixels of a frame the detector calls graded
    (times its weight), gated off where many pixels reach the top code (a camera's clip), the same factor on every
    channel of a pixel; camera frames, recorded pixels and a boost of 0 leave the output as it was; every apply
    path boosts alike; in video one gate per shot."""
    from apply_paths import apply_paths_agree

    from hdrvid.models import hdrunet
    from hdrvid.models.hdrunet import SETTLE_FRAMES, HDRUNet

    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    auto.average_cap = float("inf")
    weight = torch.ones(1)
    auto.shoulder_weight = lambda lin: weight.expand(lin.shape[0])  # type: ignore[method-assign]
    graded = torch.rand(1, 3, 64, 64) * 0.8
    graded[..., 10:12, 10:12] = 1.0  # a lamp: 0.1 % of the pixels at the top code
    camera = graded.clone()
    camera[..., 30:50, 0:40] = 1.0  # a clipped wall: 20 %
    with torch.inference_mode():
        for x, gate in ((graded, 1.0), (camera, 0.0)):
            auto.graded_boost_stops = 0.0
            plain = auto(x)
            assert auto.last_boost is None
            auto.graded_boost_stops = 1.0
            boosted = auto(x)
            assert float(auto.last_boost) == pytest.approx(gate)
            clipped = x.amax(1, keepdim=True).expand_as(x) >= 1.0
            assert torch.allclose(boosted[clipped], plain[clipped] * 2 ** gate, rtol=1e-5)
            recorded = x.amax(1, keepdim=True).expand_as(x) < 0.9
            assert torch.equal(boosted[recorded], plain[recorded])
        # a bluish white whose blue alone reaches the mask: every channel gets the same factor (no hue shift)
        bluish = graded.clone()
        bluish[..., 40:44, 40:44] = torch.tensor([0.88, 0.92, 0.975]).view(3, 1, 1) ** 2.2
        auto.graded_boost_stops = 0.0
        plain = auto(bluish)[..., 40:44, 40:44]
        auto.graded_boost_stops = 1.0
        ratio = auto(bluish)[..., 40:44, 40:44] / plain
        assert float(ratio.min()) > 1.05 and torch.allclose(ratio, ratio[:, :1].expand_as(ratio), rtol=1e-5)
        weight = torch.zeros(1)  # camera footage: no boost
        assert torch.equal(auto(graded), auto.apply(graded, auto.field(graded))) and auto.last_boost is None
        weight = torch.full((1,), 0.5)  # half graded: half the stops
        auto(graded)
        assert float(auto.last_boost) == pytest.approx(0.5)
        # every apply path: the whole field, the gains read where they act, the compiled guided pass
        apply_paths_agree(auto, graded)
        # video: the gate is decided on the shot's first frames, then held; a cut decides again
        weight = torch.ones(1)
        auto.enable_temporal(0.1)
        for _ in range(SETTLE_FRAMES):
            auto(graded)
        auto(camera)
        assert float(auto.last_boost) == pytest.approx(1.0)
        auto.reset_temporal()
        auto(camera)
        assert float(auto.last_boost) == pytest.approx(0.0)
    assert hdrunet.TOP_CODE_LINEAR == pytest.approx((253.5 / 255) ** 2.2)


def _plateau_and_lamp(h: int, w: int) -> np.ndarray:
    """max(R, G, B) codes: a dim room (code 120) with a lamp on the left (a clipped disc whose glow falls 20 codes
    per pixel) and a lit wall on the right that reaches white through a gentle slope (a plateau: 1.2 codes per
    pixel), both at 384 across, scaled with the width."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    scale = w / 384
    lamp = np.hypot(yy - h / 2, xx - w / 4) / scale
    wall = np.hypot(yy - h / 2, xx - 3 * w / 4) / scale
    return np.clip(np.maximum(255 - 20 * (lamp - 20), 275 - 1.2 * wall), 120, 255).astype(np.float32)


def test_edge_exponents_tell_a_plateau_from_a_highlight_at_any_size():
    """A hard-edged clipped lamp keeps all its expansion (exponent 1); a wall that reaches white through a gentle
    slope gets EDGE_FLOOR; nothing clipped: None; the whole frame clipped (no ring): 1. Measured at EDGE_WIDTH, so
    the same scene at 4x the pixels gets the same exponents."""
    from hdrvid.models.clip_edges import EDGE_FLOOR, edge_exponents, working_size

    code = _plateau_and_lamp(288, 384)
    s = edge_exponents(code)
    assert s is not None and s.shape == code.shape
    assert float(s[144, 96]) == 1.0  # the lamp
    assert float(s[144, 288]) == pytest.approx(EDGE_FLOOR)  # the wall
    assert float(s[10, 10]) == 1.0  # recorded pixels: no area
    assert edge_exponents(np.full((32, 32), 200.0, np.float32)) is None
    assert np.all(edge_exponents(np.full((32, 32), 255.0, np.float32)) == 1.0)
    assert working_size(1152, 1536) == (288, 384) and working_size(100, 200) == (100, 200)


def test_hdrunet_auto_edge_gate_halves_a_plateaus_expansion_on_camera_frames_only():
    """hdrunet-auto on camera footage: the clipped pixels of a gentle plateau get the square root of the expansion
    ratio (exponent EDGE_FLOOR = 0.5), a hard-edged lamp all of it; recorded pixels stay exactly as decoded; on a
    frame called graded the gate is off; at 4x the size the plateau is still found; every apply path agrees."""
    from hdrvid.engines.executor import bilinear_at, guide, guided_coefficients, pick
    from hdrvid.models.hdrunet import SIGNAL_GAMMA, HDRUNet

    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    auto.average_cap = float("inf")
    with torch.no_grad():
        auto.head.bias.fill_(1.0)
    weight = torch.zeros(1)
    auto.shoulder_weight = lambda lin: weight.expand(lin.shape[0])  # type: ignore[method-assign]
    for h, w in ((288, 384), (576, 768), (360, 1280)):
        x = torch.from_numpy((_plateau_and_lamp(h, w) / 255) ** SIGNAL_GAMMA)[None, None].expand(1, 3, h, w).contiguous()
        lamp, wall = (slice(None), h // 2, w // 4), (slice(None), h // 2, 3 * w // 4)
        with torch.inference_mode():
            auto.edge_gate = False
            plain = auto(x)
            auto.edge_gate = True
            gated = auto(x)
        assert torch.equal(gated[0][lamp], plain[0][lamp])
        torch.testing.assert_close(gated[0][wall], x[0][wall] * (plain[0][wall] / x[0][wall]) ** 0.5)
        assert float((plain[0][wall] / x[0][wall]).min()) > 2  # the plain output expanded it
        recorded = x.amax(1, keepdim=True).expand_as(x) < 0.9
        assert torch.equal(gated[recorded], x[recorded])
    with torch.inference_mode():
        field = auto.field(x)
        means = field[:, 3:].mean((-2, -1))
        full = auto.apply_split(x, field[:, :3], means)
        g = guide(x)
        a, b = guided_coefficients(field[:, :3], g, 2, 1e-3)
        at = lambda n, r, c: bilinear_at(a, n, r, c, (h, w)) * guide(pick(x, n, r, c)) + bilinear_at(  # noqa: E731
            b, n, r, c, (h, w))
        where = auto.apply_where(x, at, means)
        torch.testing.assert_close(auto.apply_guided(x, a, b, means), where, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(auto.apply_where(x, lambda n, r, c: field[n, :3, r, c], means), full,
                                   rtol=1e-5, atol=1e-6)
        weight = torch.ones(1)  # graded: no gate
        auto.edge_gate = False
        plain = auto(x)
        auto.edge_gate = True
        assert torch.equal(auto(x), plain)


@pytest.mark.parametrize("size", [(720, 1280), (97, 131), (300, 1000)])
def test_edge_gate_reads_only_the_box_its_exponents_reach_and_gates_the_same_pixels(size):
    """``clip_edges._gated_pixels`` (the pixels above the start whose resized exponent is below 1, read inside the
    box of rows and columns the bilinear resize can carry a gentle area's exponent to) is the full-frame test's
    set, in the same order, wherever the gentle areas lie (near the edges too)."""
    import cv2

    from hdrvid.models.clip_edges import _box, _gated_pixels, working_size

    rng = np.random.default_rng(size[1])
    h, w = size
    hs, ws = working_size(h, w)
    start, checked = 0.9, 0
    frame = torch.from_numpy(rng.random((3, h, w), dtype=np.float32))
    for _ in range(12):
        small = np.ones((hs, ws), np.float32)
        y, x = rng.integers(0, hs), rng.integers(0, ws)
        small[y:y + rng.integers(1, 6), x:x + rng.integers(1, 6)] = 0.5
        s = torch.from_numpy(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) if (hs, ws) != (h, w) else small)
        full = ((frame.amax(0) > start) & (s < 1)).flatten().nonzero().flatten()
        box = _box(small, h, w)
        got = None if box is None else _gated_pixels(frame, s, box, start)
        if not len(full):
            assert got is None
            continue
        checked += 1
        assert got is not None and torch.equal(got, full)
    assert checked >= 4


@pytest.mark.parametrize("native", [True, False])
def test_edge_gate_kernel_is_the_torch_steps(native, monkeypatch):
    """``color.kernels.gate_ratios`` (one pass over the box; C, or numba's twin) gives what the torch steps give
    (``_gated_pixels`` + ``raise_ratios``) to float32 rounding and leaves every other pixel untouched: a ramp of
    exponents, ratios from 0 to 40, light around the start."""
    from hdrvid.color import kernels
    from hdrvid.models.clip_edges import _box, _gated_pixels, raise_ratios

    if native and not kernels.native_available():
        pytest.skip("C kernels not built")
    if not native:
        monkeypatch.setattr(kernels, "_library", lambda: None)
    rng = np.random.default_rng(7)
    h, w, start = 90, 159, 0.8
    lin = rng.uniform(0.6, 1.05, (3, h, w)).astype(np.float32)
    lin[:, :, :8] = 0  # black, and a ratio from 0
    out = (lin * rng.uniform(0.5, 40, (3, h, w))).astype(np.float32)
    small = np.ones((h // 3, w // 3), np.float32)
    small[5:20, 10:40] = np.linspace(0.5, 1.0, 30, dtype=np.float32)
    s = torch.from_numpy(np.repeat(np.repeat(small, 3, 0), 3, 1).copy())
    box = _box(small, h, w)
    assert box is not None and box != (0, h, 0, w)
    ref = torch.from_numpy(out.copy())
    flat = _gated_pixels(torch.from_numpy(lin), s, box, start)
    assert flat is not None and len(flat) > 500
    raise_ratios(torch.from_numpy(lin), ref, s, flat)
    got = out.copy()
    kernels.gate_ratios(lin, got, s.numpy(), box, start)
    np.testing.assert_allclose(got, ref.numpy(), rtol=2e-6, atol=0)
    untouched = np.ones((h, w), bool)
    untouched.flat[flat.numpy()] = False
    assert np.array_equal(got[:, untouched], out[:, untouched]) and not np.array_equal(got, out)


def test_deblock_mask_shift_averages_codec_blocks_and_keeps_edges():
    """The mask's signal moved towards its window's mean by the window's flatness: a near-white wall's 2-code block
    steps are averaged (the spread of the signal the mask reads falls by half or more), a clipped lamp's interior,
    a small clipped spot on texture and every pixel at or below the start (the room) keep their level; graded
    frames (weight 1) and frames with nothing near white: none."""
    from hdrvid.models.deblock import DEBLOCK_RADIUS, mask_shift
    from hdrvid.models.hdrunet import CLIP_START_LINEAR, SIGNAL_GAMMA

    code = blocky_plateau()
    x = torch.from_numpy((code / 255) ** SIGNAL_GAMMA)[None, None].expand(2, 3, *code.shape).contiguous()
    shift = mask_shift(x, torch.tensor([0.0, 0.5]), CLIP_START_LINEAR, SIGNAL_GAMMA)
    assert shift is not None and shift.shape == (2, 1, *code.shape)
    signal = torch.from_numpy(code / 255)
    inner = (slice(16 + DEBLOCK_RADIUS, 80 - DEBLOCK_RADIUS),) * 2
    raw, read = signal[inner], (signal + shift[0, 0])[inner]
    assert float(read.std()) < 0.5 * float(raw.std())
    assert abs(float(read.mean() - raw.mean())) < 0.5 / 255  # averaged, not moved
    torch.testing.assert_close(shift[1], 0.5 * shift[0])  # half a camera frame: half the shift
    room = torch.from_numpy(code <= 246)
    assert bool((shift[:, 0][:, room] == 0).all())
    assert float(shift[0, 0, 48, 130].abs()) < 1e-4  # the lamp's flat interior (float rounding: ~0.001 code)
    assert mask_shift(x, torch.ones(2), CLIP_START_LINEAR, SIGNAL_GAMMA) is None
    # a small clipped highlight on texture keeps its level (under half a code: the camera mask stays open)
    torch.manual_seed(0)
    spot = torch.rand(1, 3, 64, 64) * 0.9
    spot[..., 20:26, 20:26] = 1.0
    small = mask_shift(spot, torch.zeros(1), CLIP_START_LINEAR, SIGNAL_GAMMA)
    assert small is not None and float(small[0, 0, 20:26, 20:26].abs().max()) < 0.5 / 255
    assert mask_shift(x * 0.5, torch.zeros(2), CLIP_START_LINEAR, SIGNAL_GAMMA) is None


def test_hdrunet_auto_expands_a_blocky_near_white_wall_smoothly_on_camera_and_graded_frames():
    """hdrunet-auto on camera footage: across a near-white wall of codec blocks the expansion no longer switches
    block by block (the spread of the log expansion ratio falls several times against the mask on the raw
    signal); recorded pixels stay exactly as decoded; every apply path agrees. On a frame called graded (the wide
    mask, codes ~246-252.5) a wall of blocks inside that ramp is smoothed the same way (session 50)."""
    from hdrvid.engines.executor import bilinear_at, guide, guided_coefficients, pick
    from hdrvid.models.hdrunet import SIGNAL_GAMMA, HDRUNet

    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    auto.average_cap = float("inf")
    auto.edge_gate = False  # its own tests
    with torch.no_grad():
        auto.head.bias.fill_(1.0)
    weight = torch.zeros(1)
    auto.shoulder_weight = lambda lin: weight.expand(lin.shape[0])  # type: ignore[method-assign]
    code = blocky_plateau()
    h, w = code.shape
    x = torch.from_numpy((code / 255) ** SIGNAL_GAMMA)[None, None].expand(1, 3, h, w).contiguous()
    inner = (0, 0, slice(24, 72), slice(24, 72))
    with torch.inference_mode():
        auto.deblock = False
        plain = auto(x)
        auto.deblock = True
        smooth = auto(x)
    spread_plain = float((plain / x).log()[inner].std())
    spread = float((smooth / x).log()[inner].std())
    assert spread_plain > 0.3  # block by block: expanded or not
    assert spread < 0.5 * spread_plain
    recorded = x.amax(1, keepdim=True).expand_as(x) < 0.9
    assert torch.equal(smooth[recorded], x[recorded])
    with torch.inference_mode():
        field = auto.field(x)
        means = field[:, 3:].mean((-2, -1))
        torch.testing.assert_close(auto.apply_where(x, lambda n, r, c: field[n, :3, r, c], means),
                                   auto.apply_split(x, field[:, :3], means), rtol=1e-5, atol=1e-6)
        g = guide(x)
        a, b = guided_coefficients(field[:, :3], g, 2, 1e-3)
        at = lambda n, r, c: bilinear_at(a, n, r, c, (h, w)) * guide(pick(x, n, r, c)) + bilinear_at(  # noqa: E731
            b, n, r, c, (h, w))
        torch.testing.assert_close(auto.apply_guided(x, a, b, means), auto.apply_where(x, at, means),
                                   rtol=1e-5, atol=1e-6)
    weight = torch.ones(1)  # graded: the wide mask, a wall of blocks inside its ramp
    code = blocky_plateau(codes=(247.0, 250.0))
    x = torch.from_numpy((code / 255) ** SIGNAL_GAMMA)[None, None].expand(1, 3, h, w).contiguous()
    with torch.inference_mode():
        auto.deblock = False
        plain = auto(x)
        auto.deblock = True
        smooth = auto(x)
    spread_plain = float((plain / x).log()[inner].std())
    spread = float((smooth / x).log()[inner].std())
    assert spread_plain > 0.3
    assert spread < 0.5 * spread_plain
