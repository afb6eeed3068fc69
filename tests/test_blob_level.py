"""The per-blob level of ``hdrunet-auto`` (hdrvid.models.blob_level; hdrunet card, session 39)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from hdrvid.errors import ModelError
from hdrvid.models import blob_level
from hdrvid.models.blob_level import EVERY, FOLLOW, RANGE, BlobLevel, blob_features, blob_masks, block_means


def constant_rule(tmp_path, stops: float, name: str = "rule.json") -> BlobLevel:
    """A rule giving every blob ``stops`` (zero weights, the bias set)."""
    n = 22
    doc = {"mean": [0.0] * n, "std": [1.0] * n, "w1": [[0.0] * n for _ in range(4)], "b1": [0.0] * 4,
           "w2": [0.0] * 4, "b2": stops}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return BlobLevel(path)


def frame(width: int = 256, height: int = 64, window: tuple[int, int] = (16, 24), size: tuple[int, int] = (8, 10)
          ) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, height, width, generator=g) * 0.7
    x[..., window[0]: window[0] + size[0], window[1]: window[1] + size[1]] = 1.0  # a window, clipped
    x[..., 32:35, 72:75] = 1.0  # a lamp
    x[..., 2, 5] = 1.0  # one clipped pixel: too small for a level
    return x


def test_every_clipped_blob_gets_its_factor_on_every_channel_and_recorded_pixels_stay(tmp_path):
    rule = constant_rule(tmp_path, 1.0)
    x = frame()
    model = x * torch.where(x.amax(1, keepdim=True) >= 1.0, 3.0, 1.0)  # the model's answer: clipped pixels x3
    out = rule(x, model.clone(), torch.ones(1))
    big = torch.zeros(64, 256, dtype=torch.bool)
    big[16:24, 24:34] = True
    big[32:35, 72:75] = True
    assert torch.allclose(out[..., big], model[..., big] * 2.0, rtol=1e-6)  # the same factor on R, G and B
    signal = x.amax(1)[0] ** (1 / 2.2)
    recorded = signal < blob_level.RAMP[0]
    assert torch.equal(out[..., recorded], model[..., recorded])
    assert torch.equal(out[..., 2, 5], model[..., 2, 5])  # a blob below MIN_PIXELS keeps the model's light
    assert rule.mean_stops() == pytest.approx(1.0, abs=0.05)
    # nothing clipped: the answer untouched; nor in a frame narrower than the rule was fitted for
    dim = x * 0.5
    assert torch.equal(rule(dim, dim.clone(), torch.ones(1)), dim)
    thumb = frame(blob_level.MIN_WIDTH - 2, 64)
    assert torch.equal(rule(thumb, thumb.clone(), torch.ones(1)), thumb)


def test_a_large_frame_is_read_on_a_working_copy_and_scaled_at_full_size(tmp_path):
    rule = constant_rule(tmp_path, 0.5)
    x = frame(1152, 768, window=(192, 288))  # three times the working width
    model = x.clone()
    out = rule(x, model.clone(), torch.zeros(1))
    inner = (slice(192 + 3, 192 + 8 - 3), slice(288 + 3, 288 + 10 - 3))
    assert torch.allclose(out[..., inner[0], inner[1]], model[..., inner[0], inner[1]] * 2 ** 0.5, rtol=1e-5)
    far = x.amax(1)[0] ** (1 / 2.2) < blob_level.RAMP[0]
    assert torch.equal(out[..., far], model[..., far])


def test_video_a_blob_factor_holds_between_readings_moves_a_share_of_the_way_and_a_cut_forgets(tmp_path):
    x = frame()
    rule = constant_rule(tmp_path, 1.0)
    rule.start(video=True)
    rule(x, x.clone(), torch.ones(1))
    rule.b2 = 0.0  # the picture now asks for no change

    def stops() -> float:
        out = rule(x, x.clone(), torch.ones(1))
        return float((out[0, 0, 18, 28] / x[0, 0, 18, 28]).log2())

    for _ in range(EVERY - 1):  # between readings the blob keeps its factor
        assert stops() == pytest.approx(1.0, abs=1e-5)
    assert stops() == pytest.approx(1.0 + FOLLOW * (0.0 - 1.0), abs=1e-5)  # read: a share of the way
    moved = torch.roll(x, shifts=2, dims=-1)  # the scene pans two pixels: the blobs keep their levels
    out = rule(moved, moved.clone(), torch.ones(1))
    assert float((out[0, 0, 18, 30] / moved[0, 0, 18, 30]).log2()) == pytest.approx(0.75, abs=1e-5)
    rule.b2 = 1.0
    x2 = x.clone()
    x2[..., 40:46, 10:16] = 1.0  # a highlight appears between readings: it starts from nothing (fades in)
    out = rule(x2, x2.clone(), torch.ones(1))
    assert torch.equal(out[..., 40:46, 10:16], x2[..., 40:46, 10:16])
    assert float((out[0, 0, 18, 28] / x2[0, 0, 18, 28]).log2()) == pytest.approx(0.75, abs=1e-5)  # held
    rule.cut()
    assert stops() == pytest.approx(1.0, abs=1e-5)  # a cut: the new shot's own reading


def test_features_are_the_fit_s_in_its_order():
    lin = np.full((64, 96, 3), 0.25)
    lin[20:28, 40:50] = 1.0
    pred = lin * 2.0
    clip = lin.max(-1) >= blob_level.CLIP_LINEAR
    masks = blob_masks(clip)
    feats = blob_features(lin, pred, clip, 0.7, masks)
    assert len(feats) == 1 and len(feats[0]) == 22
    f = feats[0]
    assert f[:4] == pytest.approx([-2.0] * 4)  # every ring at a quarter of white
    assert f[4:8] == [1.0] * 4
    assert f[8] == pytest.approx(math.log2(80)) and f[9] == pytest.approx(math.log2(80 / (64 * 96)))
    assert f[10] == 0.0 and f[11] == pytest.approx(23.5 / 64)
    assert f[12] == pytest.approx(1.0) and f[13] == pytest.approx(1.0)  # the model's level: 2x white
    assert f[14] == pytest.approx(0.0)  # neutral
    assert f[15] == pytest.approx(0.0) and f[16] == pytest.approx(0.0)
    assert f[17] == 0.7 and f[18] == pytest.approx(math.log2(80 / (64 * 96)))
    y0, x0, m = masks[0]
    assert (y0, x0, int(m.sum())) == (20, 40, 80)


def test_the_extra_features_read_the_climb_to_a_blob_and_whether_all_three_channels_clipped(tmp_path):
    lin = np.full((64, 96, 3), 0.25)
    lin[20:28, 40:50] = 1.0  # a white blob
    lin[19, 40:50] = 0.9  # its top neighbours nearly clipped: 10 of the innermost ring's pixels above 0.7
    lin[40:46, 10:20] = (1.0, 0.5, 0.4)  # a red surface: only R clipped
    clip = lin.max(-1) >= blob_level.CLIP_LINEAR
    masks = blob_masks(clip)
    plain = blob_features(lin, lin, clip, 0.5, masks)
    feats = blob_features(lin, lin, clip, 0.5, masks, extra=tuple(blob_level.EXTRA_FEATURES))
    assert [f[:22] for f in feats] == plain and all(len(f) == 25 for f in feats)
    white, red = feats  # the larger first
    assert 0.0 < white[22] < 0.5 and white[23] == pytest.approx(math.log2(0.9))
    assert white[24] == 1.0
    assert red[22] == 0.0 and red[23] == pytest.approx(math.log2(0.25)) and red[24] == 0.0
    # in the order a rule file names them
    two = ("share with R, G and B clipped", "log2 ring 0-2 peak")
    assert [f[22:] for f in blob_features(lin, lin, clip, 0.5, masks, extra=two)] == [f[:21:-1][:2] for f in feats]
    # a rule file naming some of them is read with them, one naming features hdrvid does not know refused
    n = 24
    doc = {"mean": [0.0] * n, "std": [1.0] * n, "w1": [[0.0] * n], "b1": [0.0], "w2": [0.0], "b2": 0.5,
           "features": ["x"] * 22 + list(two)}
    good = tmp_path / "extra.json"
    good.write_text(json.dumps(doc))
    assert BlobLevel(good).extra == two
    doc["features"] = ["x"] * 24
    bad = tmp_path / "unknown.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="unknown.json"):
        BlobLevel(bad)


def test_the_shipped_rules_load_and_stay_in_range_and_a_damaged_file_is_refused(tmp_path):
    from hdrvid.models.brackets import BLOB_LEVEL_FILE

    lin = np.full((64, 96, 3), 0.3)
    lin[10:20, 10:30] = 1.0
    clip = lin.max(-1) >= blob_level.CLIP_LINEAR
    feats = np.asarray(blob_features(lin, lin * 4, clip, 1.0, blob_masks(clip)))
    answers = []
    for path in (blob_level.WEIGHTS_FILE, BLOB_LEVEL_FILE):  # hdrunet-auto's rule and brackets' own
        g = BlobLevel(path).predict(feats)
        assert np.all((g >= RANGE[0]) & (g <= RANGE[1]))
        answers.append(g)
    assert not np.allclose(answers[0], answers[1])  # two fits, not one file twice
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match="bad.json"):  # the CLI's model-file error: one line, exit code 4
        BlobLevel(bad)


def test_hdrunet_auto_levels_blobs_alike_in_every_apply_path(tmp_path):
    from apply_paths import apply_paths_agree

    from hdrvid.models import hdrunet
    from hdrvid.models.hdrunet import HDRUNet

    torch.manual_seed(0)
    auto = HDRUNet(width=4, context=8, curve=False, adaptive=True).eval()
    assert auto.blob_level is not None
    assert blob_level.SIGNAL_GAMMA == hdrunet.SIGNAL_GAMMA  # the rule's mask reads the model's signal
    x = frame(256, 64)
    auto.blob_level = constant_rule(tmp_path, 0.5)  # the shipped rule's answer depends on its fit: a fixed one
    with torch.inference_mode():
        full = apply_paths_agree(auto, x)  # every apply path levels alike
        field = auto.field(x)
        means = field[:, 3:].mean((-2, -1))
        rule, auto.blob_level = auto.blob_level, None
        unlevelled = auto.apply_split(x, field[:, :3], means)
        auto.blob_level = rule
        recorded = x.amax(1)[0] ** (1 / 2.2) < blob_level.RAMP[0]
        assert torch.equal(full[..., recorded], unlevelled[..., recorded])
        window = full[..., 17:23, 25:33] / unlevelled[..., 17:23, 25:33]  # inside the window: the mask is fully open
        assert torch.allclose(window, torch.full_like(window, 2 ** 0.5), rtol=1e-5)


def test_brackets_levels_its_clipped_blobs_through_its_blend_mask_and_reports_it(tmp_path):
    from hdrvid.models import brackets
    from hdrvid.models.brackets import BracketHDR

    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    assert brackets.BLOB_LEVEL and m.blob_level is not None
    x = frame(256, 64)
    m.blob_level = constant_rule(tmp_path, 1.0)
    with torch.inference_mode():
        field = m.field(x)
        levelled = m.apply(x, field)
        rule, m.blob_level = m.blob_level, None
        plain = m.apply(x, field)
        m.blob_level = rule
    assert m.last_p is not None and m.last_p.shape == (1,)
    signal = x.amax(1)[0] ** (1 / 2.2)
    recorded = signal < brackets.BLEND[0]  # below the blend mask whatever the frame's weight (the wide one starts lowest)
    assert torch.equal(levelled[..., recorded], plain[..., recorded])  # recorded pixels stay as decoded
    window = levelled[..., 17:23, 25:33] / plain[..., 17:23, 25:33]  # inside the window: the mask fully open
    assert torch.allclose(window, torch.full_like(window, 2.0), rtol=1e-5)
    assert m.mean_blob_level() == pytest.approx(1.0, abs=0.05)
    # video: the rule follows the shot (started with the model's temporal state, forgotten at a cut)
    m.enable_temporal(0.1)
    assert m.blob_level.video and m.blob_level.frames == 0
    with torch.inference_mode():
        m.apply(x, field)
    assert m.blob_level._prev is not None
    m.reset_temporal()
    assert m.blob_level._prev is None


def test_the_working_copy_is_torch_s_block_average():
    """``block_means`` (OpenCV's area resize at an integer factor) gives ``F.avg_pool2d``'s means, the last partial
    row and column of blocks dropped, to float32 rounding; factor 1 is the frame itself."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    for h, w, f in ((720, 1280, 3), (97, 131, 4), (64, 64, 1), (1080, 1920, 5)):
        x = torch.rand((3, h, w), generator=g) ** 2.2
        want = F.avg_pool2d(x[None], f)[0].permute(1, 2, 0).double().numpy() if f > 1 else \
            x.permute(1, 2, 0).double().numpy()
        got = block_means(x, f)
        assert got.shape == want.shape and got.dtype == np.float64
        assert np.abs(got - want).max() < 1e-6


@pytest.mark.parametrize("reads_gained", [True, False])
def test_brackets_rule_reads_the_answer_after_the_average_light_cap_s_gain(monkeypatch, reads_gained):
    """``brackets``' rule is fitted on the finished answer (the blob study reads it after the average-light cap's one
    gain on the frame), so since session 53 it reads it there; the gain and a blob's factor multiply, so the picture
    is the same whatever the rule reads when its factor is."""
    from hdrvid.models import brackets
    from hdrvid.models.brackets import BracketHDR

    monkeypatch.setattr(brackets, "LEVEL_READS_GAINED", reads_gained)
    torch.manual_seed(0)
    m = BracketHDR(width=4, fusion_width=4).eval()
    m.shoulder.net[2].bias.fill_(20.0)  # called graded, sure of it
    x = torch.full((1, 3, 64, 96), 0.8)
    x[..., 20:30, 30:50] = 0.96  # a clipped blob (code ~250.5); the top code is empty: the cap acts by a gain

    class Spy:
        seen: torch.Tensor | None = None

        def __call__(self, linear, out, p, bounds, shift):
            Spy.seen = out.clone()
            return out

    m.blob_level = Spy()  # type: ignore[assignment]
    with torch.inference_mode():
        field = m.field(x)
        m.average_cap = float("inf")
        uncapped = m.apply(x, field)
        m.average_cap = float(uncapped[:, :, ::4, ::4].amax(1).mean()) / 2
        out = m.apply(x, field)
    gain = m.graded_curve.last_gain
    assert gain is not None and 0.4 < float(gain) < 0.6
    assert torch.allclose(out, uncapped * gain, rtol=1e-5)  # one gain on the whole frame
    assert torch.equal(Spy.seen, out) if reads_gained else torch.allclose(Spy.seen * gain, out, rtol=1e-6)
