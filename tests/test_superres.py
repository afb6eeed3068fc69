"""``hdrunet-2x`` (``--upscale 2`` with the default model): hdrunet-auto, then a super-resolution network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import run_cli
from media import ffprobe, make_clip, needs_ffprobe

from hdrvid.models import build, get
from hdrvid.models.superres import Brackets2x, HDRUNet2x, bicubic2x


def _model(perturb: bool, cls: type = HDRUNet2x, **kw: float):
    """The registered architecture (``cls``) with its shipped base model (``hdrunet-auto``, ``brackets``); ``perturb``:
    a non-zero head (a network that does something, for parity tests), else the initial head (bicubic upscaling
    exactly)."""
    torch.manual_seed(0)
    m = cls(**kw)
    m.base.load_state_dict(build(cls.base_model).state_dict())
    if perturb:
        with torch.no_grad():
            m.sr.tail.weight.normal_(0, 0.02)
            m.sr.tail.bias.normal_(0, 0.01)
    return m.eval()


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sr") / "hdrunet-2x.pt"
    torch.save(_model(perturb=True).state_dict(), path)
    return path


def test_an_untrained_network_is_bicubic_upscaling_of_the_default_model() -> None:
    """The head starts at zero: the output is bicubic upscaling of hdrunet-auto's (the issue's reference), at
    twice the size, odd sizes included."""
    m = _model(perturb=False, width=8, blocks=1)
    x = torch.rand(1, 3, 37, 53) ** 2.2
    x[..., 10:20, 10:30] = 1.0
    with torch.no_grad():
        y = m(x)
        ref = bicubic2x(m.base(x))
    assert y.shape == (1, 3, 74, 106)
    assert torch.allclose(y, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("window", [1, 5])
def test_the_network_changes_detail_only_within_its_bound(window: int) -> None:
    """A trained-like head changes the upscaled estimate (in the log encoding) by a bounded residual whose level
    is zero: over the four output pixels of each input pixel (window 1, the session-12 form), or over every 5x5
    input pixels while single input pixels may move (window 5: noise and blocks at the input's pixel scale).
    Detail, never the level the base model chose (light pushed below 0 is clamped there)."""
    import torch.nn.functional as F

    from hdrvid.models.superres import decode, encode

    m = _model(perturb=True, level_window=window)
    x = torch.rand(1, 3, 32, 48) ** 2.2
    with torch.no_grad():
        base = m.base(x)
        r = m.sr.residual(x, base)
        y = m(x)
    up = bicubic2x(base)
    assert 0.001 < float(r.abs().max()) <= 0.5 + 1e-5
    blocks = F.avg_pool2d(r, 2)
    if window == 1:
        assert float(blocks.abs().max()) < 1e-6
    else:  # a smooth high-pass: single input pixels move, 5x5 neighbourhoods keep (nearly) their level
        local = F.avg_pool2d(F.pad(blocks, (window // 2,) * 4, mode="replicate"), window, stride=1)
        assert float(blocks.abs().max()) > 0.02
        assert float(local.abs().max()) < 0.2 * float(blocks.abs().max())
    assert torch.allclose(y, decode(encode(up) + r), rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # a head that shifts everything (a level, not detail) changes nothing
        m.sr.tail.bias.add_(0.1)
        assert torch.allclose(m.sr.residual(x, base), r, atol=1e-6)


def test_weights_without_a_level_window_load_as_the_block_mean_form(tmp_path: Path) -> None:
    """The window travels in the weights file; a file without it (the session-12 network) is the block-mean form."""
    state = _model(perturb=True, level_window=1).state_dict()
    assert "sr.level" not in state
    torch.save(state, tmp_path / "old.pt")
    assert build("hdrunet-2x", tmp_path / "old.pt").sr.level_window == 1
    torch.save(_model(perturb=True, level_window=5).state_dict(), tmp_path / "new.pt")
    assert build("hdrunet-2x", tmp_path / "new.pt").sr.level_window == 5
    from hdrvid.errors import ModelError

    for bad in (0, 4, 1001):  # a damaged file is refused in one line, never run with a strange window
        state = _model(perturb=True, level_window=5).state_dict()
        state["sr.level"] = torch.tensor(bad)
        torch.save(state, tmp_path / "bad.pt")
        with pytest.raises(ModelError, match=f"sr.level = {bad}"):
            build("hdrunet-2x", tmp_path / "bad.pt")


def test_the_residual_bound_travels_in_the_weights_file(tmp_path: Path) -> None:
    """A network trained with another bound (``train --model-arg max_residual=1.0``) carries it and loads with it;
    files without it (sessions 12-29) keep the first bound, 0.25; a damaged bound is refused in one line."""
    from hdrvid.errors import ModelError
    from hdrvid.models.superres import MAX_RESIDUAL

    state = _model(perturb=True).state_dict()
    assert "sr.bound" not in state
    torch.save(state, tmp_path / "old.pt")
    assert build("hdrunet-2x", tmp_path / "old.pt").sr.max_residual == MAX_RESIDUAL == 0.25
    wide = _model(perturb=True, max_residual=1.0)
    with torch.no_grad():
        wide.sr.tail.weight.mul_(100)  # residuals beyond the old bound
    torch.save(wide.state_dict(), tmp_path / "wide.pt")
    m = build("hdrunet-2x", tmp_path / "wide.pt").eval()
    assert m.sr.max_residual == 1.0
    x = torch.rand(1, 3, 32, 48) ** 2.2
    with torch.no_grad():
        r = m.sr.residual(x, m.base(x))
    assert 0.5 < float(r.abs().max()) <= 2.0 + 1e-5
    state = wide.state_dict()
    state["sr.bound"] = torch.tensor(50.0)
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(ModelError, match="sr.bound = 50"):
        build("hdrunet-2x", tmp_path / "bad.pt")


def test_a_shared_residual_is_one_for_the_three_channels_and_travels_in_the_weights_file(tmp_path: Path) -> None:
    """``shared=True`` (``train --model-arg shared=true``): one residual for R, G and B (light, never colour: a
    residual per channel drew a red line along an office's white wall and dark skirting board at bound 2). The
    flag is in the weights file; files without it keep a residual per channel."""
    m = _model(perturb=True, max_residual=2.0, shared=True)
    x = torch.rand(1, 3, 32, 48) ** 2.2
    with torch.no_grad():
        r = m.sr.residual(x, m.base(x))
    assert float(r.abs().max()) > 0.001
    assert torch.equal(r[:, 0], r[:, 1]) and torch.equal(r[:, 1], r[:, 2])
    torch.save(m.state_dict(), tmp_path / "shared.pt")
    loaded = build("hdrunet-2x", tmp_path / "shared.pt")
    assert loaded.sr.shared and loaded.sr.max_residual == 2.0
    torch.save(_model(perturb=True).state_dict(), tmp_path / "own.pt")
    assert not build("hdrunet-2x", tmp_path / "own.pt").sr.shared


def test_a_log_start_is_bicubic_upscaling_in_the_log_encoding_and_travels_in_the_weights_file(tmp_path: Path) -> None:
    """``log_start=True`` (``train --model-arg log_start=true``, session 45): the residual refines the estimate
    upscaled bicubically in E = log(x + 0.001) instead of in linear light, so an untrained head gives exactly that;
    beside an expanded highlight it spills less light onto the dark pixels next to it than linear bicubic does. The
    flag is in the weights file; files without it start from linear bicubic upscaling as before."""
    import torch.nn.functional as F

    from hdrvid.models.superres import decode, encode

    m = _model(perturb=False, width=8, blocks=1, log_start=True)
    x = torch.full((1, 3, 24, 32), 0.02)
    x[..., 8:16, 8:16] = 1.0  # a clipped square on a dark ground: the base expands it
    with torch.no_grad():
        base = m.base(x)
        y = m.refine(x, base)
    log_up = decode(F.interpolate(encode(base), scale_factor=2, mode="bicubic", align_corners=False))
    assert torch.allclose(y, log_up, rtol=1e-5, atol=1e-6)
    lin_up = bicubic2x(base)
    assert float(base[..., 8:16, 8:16].min()) > 1.5  # expanded
    ring = (slice(None), slice(None), slice(12, 15), slice(16, 32))  # the dark pixels just above the square
    assert float(y[ring].max()) < float(lin_up[ring].max())
    assert float((y - lin_up).abs().max()) > 0.05
    torch.save(_model(perturb=True, log_start=True).state_dict(), tmp_path / "log.pt")
    assert build("hdrunet-2x", tmp_path / "log.pt").sr.log_start
    torch.save(_model(perturb=True).state_dict(), tmp_path / "own.pt")
    assert not build("hdrunet-2x", tmp_path / "own.pt").sr.log_start


@pytest.mark.parametrize("name", ["hdrunet-2x", "brackets-2x", "hdrunet-2x-log"])
def test_refine_part_exports_and_onnxruntime_runs_it_like_torch(tmp_path: Path, weights: Path, name: str) -> None:
    from hdrvid.engines import OrtBackend, OrtEngine
    from hdrvid.export.onnx import export_onnx
    from hdrvid.runtime import EngineOptions
    from hdrvid.runtime.factory import make_executor

    if name == "brackets-2x":
        weights = tmp_path / "b2x.pt"
        torch.save(_brackets2x(perturb=True).state_dict(), weights)
    if name == "hdrunet-2x-log":  # the log-light start (session 45)
        name, weights = "hdrunet-2x", tmp_path / "log.pt"
        torch.save(_model(perturb=True, max_residual=2.0, shared=True, log_start=True).state_dict(), weights)
    r = export_onnx(name, tmp_path / "refine.onnx", part="refine", weights=weights)
    assert r.parity_ok and r.max_abs_diff < 1e-4, r
    m = build(name, weights)
    x = torch.rand(1, 3, 40, 64) ** 2.2
    with torch.no_grad():
        base = m.base(x)
        ort = OrtEngine(tmp_path / "refine.onnx", OrtBackend(threads=2)).infer(x, base)
        ref = m.refine(x, base)
    assert ort.shape == (1, 3, 80, 128) and float((ort - ref).abs().max()) < 1e-4
    ex = make_executor(name, weights, EngineOptions(infer_scale=1.0))
    with torch.no_grad():
        assert torch.allclose(ex.infer(x), m(x), rtol=1e-4, atol=1e-5)  # the executor: base, then refine
    with pytest.raises(Exception, match="--part refine"):
        export_onnx(name, tmp_path / "full.onnx", weights=weights)


def test_default_model_upscales_and_the_others_refuse() -> None:
    from hdrvid.models import for_upscale

    assert for_upscale("hdrunet-auto", 2) == "hdrunet-2x" and get("hdrunet-2x").output_scale == 2
    assert get("hdrunet-2x").base == "hdrunet-auto"


@needs_ffprobe
def test_cli_convert_upscale_2_with_the_default_model(tmp_path: Path, weights: Path) -> None:
    src = make_clip(tmp_path / "in.mp4", frames=4, size=(64, 48), audio=True)
    r = run_cli("convert", src, tmp_path / "out.mp4", "--upscale", "2", "--weights", weights)
    assert r.exit_code == 0, r.output
    streams = ffprobe(tmp_path / "out.mp4", "-show_streams")["streams"]
    v = next(s for s in streams if s["codec_type"] == "video")
    assert (v["width"], v["height"], v["color_transfer"], v["pix_fmt"]) == (128, 96, "smpte2084", "yuv420p10le")
    assert int(v["nb_frames"]) == 4 and any(s["codec_type"] == "audio" for s in streams)


def test_eval_upscale_scores_the_variant_beside_its_bicubic_reference(tmp_path: Path) -> None:
    """``eval --upscale 2`` adds NAME+bicubic beside a model's 2x variant; an untrained network (zero head) is
    exactly that reference, so the two rows score the same."""
    from hdrvid.io.images import write_exr
    from hdrvid.jobs.evaluate import evaluate
    from hdrvid.synth.scenes import interior_with_window

    d = tmp_path / "hdr"
    d.mkdir()
    write_exr(d / "scene0.exr", interior_with_window(0.5, 96, 64, seed=0))
    w = tmp_path / "zero.pt"
    torch.save(_model(perturb=False).state_dict(), w)
    r = evaluate(["hdrunet-auto"], [d], settings=("srgb-mid",), width=96, all_images=True, upscale=2,
                 weights={"hdrunet-auto": w})
    assert r["models"] == ["none", "itmo", "hdrunet-auto", "hdrunet-auto+bicubic"]
    a, b = r["scores"]["hdrunet-auto"]["srgb-mid"], r["scores"]["hdrunet-auto+bicubic"]["srgb-mid"]
    assert a["all/psnr_mu"] == pytest.approx(b["all/psnr_mu"], abs=1e-3)


def test_shipped_weights_carry_the_shipped_default_model_as_their_base() -> None:
    """hdrunet-2x ships (sha-checked) with the hdrunet-auto it was trained on; its estimate is the default
    model's, so --upscale 2 keeps the 1x picture's level and adds detail."""
    m = build("hdrunet-2x")
    auto = build("hdrunet-auto")
    for k, v in auto.state_dict().items():
        assert torch.equal(m.base.state_dict()[k], v), k
    assert m.sr.level_window == 5  # session 26: the residual's level is zero over 5x5 input pixels
    assert m.sr.shared and m.sr.max_residual == 2.0  # session 30: one residual for R, G, B, bounded at 2 (log light)
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 48) ** 2.2
    x[..., 4:28, 6:42] = 0.3  # a flat area: the network may sharpen and denoise, never relight it
    with torch.no_grad():
        base = m.base(x)
        y, up = m.refine(x, base), bicubic2x(base)
    assert float((y - up).abs().max()) > 0.01  # it does change the textured part
    inside = (..., slice(24, 40), slice(30, 66))  # the flat area's inside, 8 input pixels from its edges
    assert float(y[inside].mean() / up[inside].mean()) == pytest.approx(1.0, abs=0.003)
    assert float((y - up)[inside].abs().max()) < 0.01


def test_a_wider_network_loads_from_its_weights_file_alone(tmp_path: Path) -> None:
    """A run trained with other sizes (``model_kwargs``) is scored and used by ``--weights`` alone: the registry
    builds the network the file holds; a file that fits no size is refused with one line."""
    path = tmp_path / "wide.pt"
    wide = _model(perturb=True, width=16, blocks=2)
    torch.save(wide.state_dict(), path)
    m = build("hdrunet-2x", path)
    assert (m.sr.head.out_channels, len(m.sr.body) - 1) == (16, 2)
    x = m.example_input(32, 48)
    with torch.no_grad():
        assert torch.equal(m(x), wide(x))
    bad = {k: v for k, v in wide.state_dict().items() if not k.startswith("sr.body.1.")}
    torch.save(bad, tmp_path / "bad.pt")
    from hdrvid.errors import ModelError

    with pytest.raises(ModelError, match="weights do not fit model 'hdrunet-2x'"):
        build("hdrunet-2x", tmp_path / "bad.pt")


def test_a_sharpened_shot_has_edge_lines_and_decodes_its_own_codes() -> None:
    """``synth.camera.sharpened`` (``train --sharpen-share``): an edge gains the light and dark lines an unsharp mask
    draws (over- and undershoot beside it), flat areas stay, ``linear`` is the nominal decode of the new codes."""
    import numpy as np

    from hdrvid.color.transfer import srgb_eotf
    from hdrvid.synth.camera import sharpened, shoot

    hdr = np.full((32, 32, 3), 0.05, np.float32)
    hdr[:, 16:] = 0.4  # a vertical edge
    hdr[:6, :16] = 8.0  # what the camera clips (its exposure leaves the edge below white)
    rng = np.random.default_rng(0)
    shot = shoot(hdr, rng, "srgb-mid")
    sharp = sharpened(shot, rng)
    row, srow = shot.signal[16, :, 1].astype(int), sharp.signal[16, :, 1].astype(int)
    assert srow[:12].min() == row[:12].min() and srow[20:].max() == row[20:].max()  # flat areas kept
    assert srow[14:16].min() < row[14:16].min() and srow[16:18].max() > row[16:18].max()  # under- and overshoot
    np.testing.assert_allclose(sharp.linear, srgb_eotf(sharp.signal.astype(np.float32) / 255), rtol=1e-6)
    assert sharp.exposure == shot.exposure and sharp.target is shot.target


def _brackets2x(perturb: bool, **kw: float) -> Brackets2x:
    return _model(perturb, Brackets2x, **kw)


def test_brackets_upscales_through_its_estimate_and_a_super_resolution_network() -> None:
    """``--model brackets --upscale 2`` is ``brackets-2x``: the two-stage model at the input's size, then the
    super-resolution network on the picture and that estimate (untrained: bicubic upscaling of brackets' output
    exactly); the CF-Net joint variant stays reachable by name."""
    from hdrvid.models import for_upscale
    from hdrvid.models.brackets import BracketHDR2x

    assert for_upscale("brackets", 2) == "brackets-2x"
    assert get("brackets-2x").base == "brackets" and get("brackets-2x").output_scale == 2
    assert get("brackets-cf2x").output_scale == 2
    assert isinstance(build("brackets-cf2x"), BracketHDR2x)
    m = _brackets2x(perturb=False, width=8, blocks=1)
    x = m.example_input(40, 56)
    with torch.no_grad():
        y, ref = m(x), bicubic2x(m.base(x))
    assert y.shape == (1, 3, 80, 112)
    assert torch.allclose(y, ref, rtol=1e-5, atol=1e-6)
    assert float(ref[..., 20:40, 40:56].max()) > 1.5  # the clipped patch was expanded by brackets


def test_brackets_2x_weights_load_by_their_own_sizes_and_run_in_a_conversion(tmp_path: Path) -> None:
    """A ``brackets-2x`` file holds brackets' networks (``base.*``) and the super-resolution network (``sr.*``); the
    registry builds the size the file holds, and ``convert --model brackets --upscale 2`` runs it end to end."""
    m = _brackets2x(perturb=True, width=8, blocks=1, max_residual=2.0, shared=True)
    w = tmp_path / "b2x.pt"
    torch.save(m.state_dict(), w)
    b = build("brackets-2x", w)
    assert (b.sr.head.out_channels, b.sr.shared, b.sr.max_residual) == (8, True, 2.0)
    x = m.example_input(32, 48)
    with torch.no_grad():
        assert torch.equal(b(x), m(x))
    src = make_clip(tmp_path / "in.mp4", frames=3, size=(64, 48))
    r = run_cli("convert", src, tmp_path / "out.mp4", "--model", "brackets", "--upscale", "2", "--weights", w)
    assert r.exit_code == 0, r.output
    import av

    with av.open(str(tmp_path / "out.mp4")) as f:
        frames = [fr for fr in f.decode(video=0)]
    assert len(frames) == 3 and (frames[0].width, frames[0].height) == (128, 96)


@pytest.mark.parametrize("name", ["hdrunet-2x", "brackets-2x", "hdrunet-2x-log"])
def test_the_network_on_tiles_gives_the_whole_frames_numbers(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the CPU the refining network runs on tiles with its receptive radius around each (feature maps small
    enough for the allocator to reuse: BENCHMARKS.md session 31); the output is the whole frame's. A halo smaller
    than the radius the model declares changes it (the radius is not overstated into a no-op)."""
    import hdrvid.engines.superres as superres_engine
    from hdrvid.engines.executor import tiled
    from hdrvid.engines.superres import SuperResExecutor
    from hdrvid.engines.torch_engine import TorchEngine
    from hdrvid.runtime import EngineOptions
    from hdrvid.runtime.factory import make_executor

    log = name.endswith("-log")  # the log-light start (session 45): its bicubic taps fit inside the same halo
    name = name.removesuffix("-log")
    m = _model(True, HDRUNet2x if name == "hdrunet-2x" else Brackets2x, width=8, blocks=2, log_start=log)
    assert m.receptive_radius == 3 + 2 * 2 + 2 * (m.sr.level_window // 2)
    x = m.example_input(70, 90)
    ex = make_executor(name, None, EngineOptions(infer_scale=1.0), model=m)
    assert isinstance(ex, SuperResExecutor) and ex.tile is not None
    ex.tile = 32
    monkeypatch.setattr(superres_engine, "MMAP_LIMIT", 70 * 90 * 8 * 4 - 1)  # this frame's maps: just over the limit
    with torch.no_grad():
        whole = m(x)
        assert torch.allclose(ex.infer(x), whole, rtol=0, atol=1e-5)
        ex.halo = m.receptive_radius // 2
        assert float((ex.infer(x) - whole).abs().max()) > 1e-4
        monkeypatch.setattr(superres_engine, "MMAP_LIMIT", 70 * 90 * 8 * 4)  # at the limit: whole frames
        assert torch.allclose(ex.infer(x), whole, rtol=0, atol=1e-5)
    covered = tiled(lambda t: torch.ones_like(t).repeat_interleave(2, -2).repeat_interleave(2, -1),
                    torch.zeros(1, 1, 70, 90), 32, 5, scale=2)  # every output pixel written once, by its own tile
    assert covered.shape == (1, 1, 140, 180) and bool((covered == 1).all())
    assert isinstance(ex.engines["refine"], TorchEngine)
