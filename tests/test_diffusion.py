"""diffhdr: the DDIM schedule and step, the K-step loop around the engine parts (torch and ONNX Runtime agree
on the whole output), one noise field per clip, sliding-window noise estimation, the diffusion training step."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_cli
from media import ffprobe, make_clip, needs_ffprobe

from hdrvid.engines.backends import OrtBackend, TorchBackend
from hdrvid.engines.diffusion import sliding_windows
from hdrvid.errors import BackendError, ModelError
from hdrvid.models import build
from hdrvid.models.diffhdr import ALPHA_BAR_MIN, DiffHDRMerge, DiffHDRSingle, alpha_bar, ddim_step, ddim_timesteps
from hdrvid.models.hdrunet import HDRUNet
from hdrvid.runtime import EngineOptions, make_executor


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Untrained diffhdr weights (the shipped kalantari estimate inside): enough to test the machinery."""
    torch.manual_seed(0)
    m = DiffHDRMerge()
    m.base.load_state_dict(build("kalantari").state_dict())
    torch.nn.init.normal_(m.denoiser.out.weight, std=0.02)  # a head that is not zero: the noise matters
    path = tmp_path_factory.mktemp("diffhdr") / "diffhdr.pt"
    torch.save(m.state_dict(), path)
    return path


def test_schedule_and_timesteps():
    ab = alpha_bar()
    assert ab.shape == (1000,) and np.all(np.diff(ab) < 0) and ab[0] > 0.999 and abs(ab[-1] - ALPHA_BAR_MIN) < 1e-3
    assert ddim_timesteps(1) == [999] and ddim_timesteps(4) == [999, 666, 333, 0]
    assert len(ddim_timesteps(25)) == 25 and ddim_timesteps(25)[-1] == 0
    with pytest.raises(ValueError):
        ddim_timesteps(0)
    # a chain started lower in the schedule (SDEdit's strength) spreads its steps below the start
    assert ddim_timesteps(4, start=0.25) == [250, 167, 83, 0] and ddim_timesteps(1, start=0.25) == [250]
    for bad in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="start"):
            ddim_timesteps(4, start=bad)
    with pytest.raises(ValueError, match="start"):
        DiffHDRMerge(start=0.0)


def test_ddim_step_recovers_x0_from_the_true_noise():
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn((1, 3, 8, 8), generator=g), torch.randn((1, 3, 8, 8), generator=g)
    ab = alpha_bar()
    xt = float(np.sqrt(ab[600])) * x0 + float(np.sqrt(1 - ab[600])) * eps
    assert torch.allclose(ddim_step(xt, eps, float(ab[600]), 1.0), x0.clamp(-4, 4), atol=1e-5)
    x_mid = ddim_step(xt, eps, float(ab[600]), float(ab[300]))
    want = float(np.sqrt(ab[300])) * x0 + float(np.sqrt(1 - ab[300])) * eps
    assert torch.allclose(x_mid, want, atol=1e-5)


def test_a_zero_head_leaves_the_regression_estimate():
    """The denoiser's head starts at zero: the chain ends exactly where it started, at the kalantari estimate."""
    m = DiffHDRMerge().eval()
    m.base.load_state_dict(build("kalantari").state_dict())
    x = m.example_input(32, 48)
    with torch.inference_mode():
        assert float((m(x, 4) - build("kalantari")(x)).abs().max()) < 1e-5


def test_shipped_diffhdr_starts_from_the_shipped_kalantari():
    """The regression start inside diffhdr is the shipped kalantari, frozen during training."""
    d, k = build("diffhdr"), build("kalantari")
    assert all(torch.equal(v, k.state_dict()[name]) for name, v in d.base.state_dict().items())
    assert (d.start, d.steps, d.noise_scale) == (0.25, 4, 0.0)  # the defaults its weights were trained for
    with pytest.raises(ModelError, match="does not match"):
        from hdrvid.models.registry import load_state_dict, weights_dir

        load_state_dict(weights_dir() / "diffhdr.pt", "0" * 64)


def test_torch_and_onnxruntime_agree_on_the_whole_k_step_output(weights: Path):
    m = build("diffhdr", weights)
    x = m.example_input(40, 56)
    noise = torch.randn((1, 3, 40, 56), generator=torch.Generator().manual_seed(0))  # the executor's seed-0 field
    for steps in (1, 4):
        opts = dict(steps=steps, noise_scale=1.0)
        a = make_executor("diffhdr", weights, EngineOptions(backend=TorchBackend(), **opts)).infer(x)
        b = make_executor("diffhdr", weights, EngineOptions(backend=OrtBackend(provider="cpu"), **opts)).infer(x)
        with torch.inference_mode():
            c = m(x, steps, noise)
        assert a.shape == (1, 3, 40, 56)
        assert float((a - b).abs().max()) < 1e-4 and float((a - c).abs().max()) < 1e-5


def test_the_engines_run_the_chain_from_the_models_start(weights: Path):
    """A model whose chain starts at t = 250 runs from there on every backend (the executor reads the model's
    ``start``), and that is not the chain from the schedule's end."""
    m = build("diffhdr", weights)
    m.start = 0.25
    x = m.example_input(40, 56)
    noise = torch.randn((1, 3, 40, 56), generator=torch.Generator().manual_seed(0))
    opts = dict(steps=4, noise_scale=1.0)
    a = make_executor("diffhdr", weights, EngineOptions(backend=TorchBackend(), **opts), model=m)
    b = make_executor("diffhdr", weights, EngineOptions(backend=OrtBackend(provider="cpu"), **opts), model=m)
    assert "from t=250" in a.name
    ya, yb = a.infer(x), b.infer(x)
    with torch.inference_mode():
        want = m(x, 4, noise)
        m.start = 1.0
        full = m(x, 4, noise)
    assert float((ya - want).abs().max()) < 1e-5 and float((yb - want).abs().max()) < 1e-4
    assert float((want - full).abs().max()) > 1e-3


def test_eval_names_a_diffusion_setting_and_the_executor_takes_it(weights: Path):
    """NAME@K[:T[:S]] in `hdrvid eval`: steps, noise scale and where the chain starts; the executor uses the
    start it is given over the model's, and refuses one outside (0, 1]."""
    from hdrvid.errors import OptionError
    from hdrvid.jobs.evaluate import diffusion_options

    base = EngineOptions()
    assert diffusion_options("d", "", base) == base
    o = diffusion_options("d@4", "4", base)
    assert (o.steps, o.noise_scale, o.diffusion_start) == (4, None, None)
    o = diffusion_options("d@2:0.5:0.25", "2:0.5:0.25", base)
    assert (o.steps, o.noise_scale, o.diffusion_start) == (2, 0.5, 0.25)
    with pytest.raises(OptionError, match="NAME@STEPS"):
        diffusion_options("d@x", "x", base)
    ex = make_executor("diffhdr", weights, replace(o, noise_scale=0.0))
    assert ex.start == 0.25 and "from t=250" in ex.name
    with pytest.raises(BackendError, match="start"):
        make_executor("diffhdr", weights, replace(o, diffusion_start=1.5))


def test_one_noise_field_per_clip(weights: Path):
    """Same seed, same frame -> identical output (a static scene does not boil); the seed matters."""
    m = build("diffhdr", weights)
    x = m.example_input(32, 48)
    ex = make_executor("diffhdr", weights, EngineOptions(steps=2, seed=3, noise_scale=1.0))
    first, again = ex.infer(x), ex.infer(x)
    assert torch.equal(first, again)
    other = make_executor("diffhdr", weights, EngineOptions(steps=2, seed=4, noise_scale=1.0)).infer(x)
    assert float((first - other).abs().max()) > 1e-3
    assert ex.infer(m.example_input(24, 40)).shape[-2:] == (24, 40)  # other sizes crop the same field


def test_steps_are_checked():
    with pytest.raises(BackendError, match="--steps"):
        from hdrvid.engines.diffusion import DiffusionExecutor

        DiffusionExecutor(DiffHDRMerge(), {"condition": None, "denoise": None}, steps=0)  # type: ignore[dict-item]


def test_sliding_windows_average_to_the_whole_frame_for_a_per_pixel_denoiser():
    g = torch.Generator().manual_seed(0)
    x, cond = torch.randn((1, 3, 50, 70), generator=g), torch.randn((1, 5, 50, 70), generator=g)
    fn = lambda a, c: 2 * a + c[:, :3]  # noqa: E731
    out = sliding_windows(fn, x, cond, 32, 24)
    assert torch.allclose(out, fn(x, cond), atol=1e-5)


def test_windowed_sampling_is_close_to_whole_frames(weights: Path):
    m = build("diffhdr", weights)
    x = m.example_input(72, 96)
    whole = make_executor("diffhdr", weights, EngineOptions(steps=2, noise_scale=1.0)).infer(x)
    windows = make_executor("diffhdr", weights, EngineOptions(steps=2, tile=48, noise_scale=1.0)).infer(x)
    assert float((whole - windows).abs().mean()) < 0.02


def test_noise_scale_zero_starts_at_the_estimate_and_is_checked(weights: Path):
    m = build("diffhdr", weights)
    x = m.example_input(32, 48)
    a = make_executor("diffhdr", weights, EngineOptions(steps=2, seed=1, noise_scale=0.0)).infer(x)
    b = make_executor("diffhdr", weights, EngineOptions(steps=2, seed=2, noise_scale=0.0)).infer(x)
    assert torch.equal(a, b)  # no noise: the seed no longer matters
    with pytest.raises(BackendError, match="--noise-scale"):
        make_executor("diffhdr", weights, EngineOptions(noise_scale=3.0))


@pytest.fixture(scope="module")
def single_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Untrained single-exposure diffhdr weights (the shipped hdrunet inside), with a head that is not zero."""
    torch.manual_seed(0)
    m = DiffHDRSingle()
    m.base.load_state_dict(m.base.network_state(build("hdrunet").state_dict()))
    torch.nn.init.normal_(m.denoiser.out.weight, std=0.05)
    path = tmp_path_factory.mktemp("diffhdr-single") / "diffhdr-single.pt"
    torch.save(m.state_dict(), path)
    return path


def test_single_exposure_diffhdr_changes_clipped_pixels_only(single_weights: Path):
    """out = hdrunet's estimate x exp(alpha x residual): a zero head leaves the estimate; any head leaves every
    pixel the camera recorded (alpha = 0) exactly at the estimate."""
    zero = DiffHDRSingle().eval()
    zero.base.load_state_dict(zero.base.network_state(build("hdrunet").state_dict()))
    x = zero.example_input(48, 64)
    with torch.inference_mode():
        est = build("hdrunet")(x)
        assert float((zero(x, 4) - est).abs().max()) < 1e-5
        m = build("diffhdr-single", single_weights)
        y = m(x, 2, torch.randn((1, 3, 48, 64), generator=torch.Generator().manual_seed(0)))
        recorded = (HDRUNet.clip_mask(HDRUNet._signal(x)) == 0)
    assert float((y - est)[recorded].abs().max()) < 1e-5 * float(est.max())
    assert float((y - est)[~recorded].abs().max()) > 1e-3  # the clipped patch did move


def test_single_exposure_diffhdr_torch_and_onnxruntime_agree(single_weights: Path):
    """The condition part takes the frame and the regression estimate (run by hdrunet's own executor, torch);
    ONNX Runtime runs condition and denoise; the whole K-step output agrees with torch."""
    m = build("diffhdr-single", single_weights)
    x = m.example_input(40, 56)
    opts = dict(steps=2, noise_scale=1.0)
    a = make_executor("diffhdr-single", single_weights, EngineOptions(backend=TorchBackend(), **opts))
    b = make_executor("diffhdr-single", single_weights, EngineOptions(backend=OrtBackend(provider="cpu"), **opts))
    assert "hdrunet" in b.name or "from" in b.name
    ya, yb = a.infer(x), b.infer(x)
    assert ya.shape == (1, 3, 40, 56)
    assert float((ya - yb).abs().max()) < 1e-4 * max(1.0, float(ya.max()))


def test_model_diffhdr_on_single_exposure_footage_is_the_single_exposure_version():
    from hdrvid.models import for_single_exposure

    assert for_single_exposure("diffhdr") == "diffhdr-single"
    assert for_single_exposure("hdrunet") == "hdrunet"


def test_shipped_single_exposure_diffhdr_runs_from_its_own_frozen_hdrunet():
    """diffhdr-single carries the hdrunet weights it was trained from (session 4's); the pipeline computes its
    regression start with them, so changing the shipped hdrunet does not change diffhdr-single."""
    d = build("diffhdr-single")
    assert d.steps == 2 and d.noise_scale == 0.0 and not d.base.use_curve
    ex = make_executor("diffhdr-single")
    assert ex.base is not None and torch.equal(ex.base.model.head.weight, d.base.head.weight)
    assert not torch.equal(build("hdrunet").head.weight, d.base.head.weight)  # not the shipped hdrunet


@needs_ffprobe
def test_convert_model_diffhdr_end_to_end(tmp_path):
    """`hdrvid convert --model diffhdr` on single-exposure video runs the single-exposure diffusion (hdrunet's
    estimate refined by 1 DDIM step here) to a valid HDR10 file with its report."""
    clip = make_clip(tmp_path / "in.mp4", frames=3, size=(64, 48))
    r = run_cli("-q", "convert", clip, tmp_path / "out.mp4", "--model", "diffhdr", "--steps", "1",
                "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["frames"] == 3 and "ddim 1" in rep["engine"] and "hdrunet" not in rep["model"]
    v = ffprobe(tmp_path / "out.mp4", "-show_streams")["streams"][0]
    assert (v["codec_name"], v["color_transfer"], int(v["nb_frames"])) == ("hevc", "smpte2084", 3)
