"""The default model's torch-free CPU path (``models.auto_arrays``, ``engines.array_executor``): the same numbers as the
torch executor with the same int8 network, and a conversion that never loads torch."""

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from media import make_clip, pattern

from hdrvid.color.kernels import native_available

pytestmark = pytest.mark.skipif(not native_available(), reason="the torch-free path runs on the C kernels")


def _room_frame(i: int, w: int = 640, h: int = 360) -> np.ndarray:
    """Linear light of a dim room with a clipped window and a small sun that moves: what a camera that clips at white
    records (codes below white exact, a hard clip)."""
    rng = np.random.default_rng(i)
    yy, xx = np.mgrid[0:h, 0:w]
    x = np.stack([0.05 + 0.2 * xx / w, 0.04 + 0.15 * yy / h, np.full((h, w), 0.03)]).astype(np.float32)
    x[:, 60:160, 300 + 4 * i:420 + 4 * i] = np.array([0.9, 1.6, 2.5], np.float32)[:, None, None]
    x[:, np.hypot(yy - 250, xx - 100 - 3 * i) < 12] = 40.0
    x *= 1 + 0.02 * rng.standard_normal((1, h, w)).astype(np.float32)
    codes = np.round(np.clip(x, 0, 1) ** (1 / 2.2) * 255)
    return np.ascontiguousarray((codes / 255) ** 2.2, np.float32)


def _graded_frame(i: int, w: int = 640, h: int = 360) -> np.ndarray:
    codes = pattern(i, w, h).astype(np.float32).transpose(2, 0, 1)
    return np.ascontiguousarray((codes / 255) ** 2.2, np.float32)


def test_shoulder_features_are_the_torch_computation():
    """Spot checks of the numpy detector features against torch's own ops on the same picture: the histogram of
    max(R, G, B) codes (``torch.histc``) and the median Sobel gradient of a band (``torch.median``, the lower middle)."""
    import torch.nn.functional as F

    from hdrvid.models.shoulder_arrays import BANDS, HIST_BINS, features

    x = _graded_frame(3, 256, 144)
    f = features(x)
    t = torch.from_numpy(x)
    m = ((t.clamp(0, 1) ** (1 / 2.2)) * 255).round().amax(0).flatten()
    bright = max(int((m >= 128).sum()), 1)
    assert np.allclose(f[1:1 + HIST_BINS], (torch.histc(m, HIST_BINS, 128, 256) / bright).numpy(), atol=1e-6)
    ms = ((t.clamp(0, 1) ** (1 / 2.2)).amax(0) * 255).round()[None, None]
    k = torch.tensor([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]]])
    gx, gy = F.conv2d(ms, k, padding=1)[0, 0], F.conv2d(ms, k.transpose(-1, -2), padding=1)[0, 0]
    g = torch.sqrt(gx * gx + gy * gy)[1:-1, 1:-1].flatten()
    mg = ms[0, 0, 1:-1, 1:-1].flatten()
    start = 1 + HIST_BINS + 6 + 1 + 5
    checked = 0
    for j, (lo, hi) in enumerate(BANDS):
        sel = (mg >= lo) & (mg < hi)
        if int(sel.sum()) >= 8:
            assert f[start + 3 * j + 1] == pytest.approx(float(torch.log(g[sel].median() + 1)), abs=1e-5)
            checked += 1
    assert checked >= 2


def _executors(scale: float):
    from hdrvid.engines.array_executor import auto_arrays_executor
    from hdrvid.engines.backends import TorchBackend
    from hdrvid.engines.plan import ExecutionPlan
    from hdrvid.runtime import EngineOptions, make_executor

    torch_path = make_executor("hdrunet-auto", None, EngineOptions(
        backend=TorchBackend(device="cpu", precision="int8", threads=1), infer_scale=scale))
    torch_path.model.enable_temporal(0.1)
    arrays = auto_arrays_executor("hdrunet-auto", ExecutionPlan(infer_scale=scale), 1)
    arrays.model.enable_temporal()
    return torch_path, arrays


def test_the_torch_free_path_is_the_torch_executors_picture_on_a_video():
    """Two shots (a room with a clipped window and sun, then a moving gradient with a clipped patch), the per-shot
    state reset at the cut on both; the detector calls one graded and the other camera footage, so both branches
    run: every frame within float rounding of the torch executor with the same int8 network, and the run's means
    (shoulder and curve weight, graded boost, blob level) the same."""
    torch_path, arrays = _executors(0.5)
    frames = [_room_frame(i) for i in range(4)] + [_graded_frame(i) for i in range(4)]
    ps = []
    for i, x in enumerate(frames):
        if i == 4:
            torch_path.model.reset_temporal()
            arrays.model.reset_temporal()
        want = torch_path.prepare(torch.from_numpy(x.copy())[None])()[0].numpy()
        got = arrays.prepare(x)()
        assert got.shape == want.shape and got.dtype == np.float32
        rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-3)
        assert rel.max() < 1e-4, (i, rel.max())
        ps.append(arrays.model.last_p)
        assert arrays.model.last_p == pytest.approx(float(torch_path.model.last_p[0]), abs=1e-5)
    assert min(ps) < 0.6 and max(ps) > 0.95  # a camera shot and a graded one
    assert (got > 1.5).any() and (want > 1.5).any()  # highlights were expanded on both
    for name in ("mean_shoulder_weight", "mean_curve_weight", "mean_cap_gain", "mean_graded_boost", "mean_blob_level"):
        a, b = getattr(arrays.model, name)(), getattr(torch_path.model, name)()
        assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, abs=1e-4)), name
    assert arrays.active_share == torch_path.active_share


def test_the_torch_free_path_holds_the_average_light_of_a_graded_shot_by_the_torch_paths_gain():
    """A graded shot whose top code is empty, under a low average-light cap: both paths keep the whole curve and hold
    the frames' light down by the same per-shot gain (hdrunet card, session 48), within float rounding."""
    torch_path, arrays = _executors(0.5)
    for m in (torch_path.model, arrays.model):
        m.average_cap = 0.15
    for i in range(3):
        codes = np.minimum(pattern(i, 640, 360).astype(np.float32).transpose(2, 0, 1), 245)  # nothing at the top code
        x = np.ascontiguousarray((codes / 255) ** 2.2, np.float32)
        want = torch_path.prepare(torch.from_numpy(x.copy())[None])()[0].numpy()
        got = arrays.prepare(x)()
        assert (np.abs(got - want) / np.maximum(np.abs(want), 1e-3)).max() < 1e-4
        assert arrays.model.last_p > 0.95 and 0.5 < arrays.model.last_gain < 0.95
    assert arrays.model.mean_curve_weight() == torch_path.model.mean_curve_weight() == 1.0
    assert arrays.model.mean_cap_gain() == pytest.approx(torch_path.model.mean_cap_gain(), abs=1e-6)
    assert torch_path.model.mean_cap_gain() < 0.95


def test_the_torch_free_path_on_a_frame_the_network_size_does_not_divide():
    """A 2.39:1 frame (960x400 with the network at a third: 320x133, bins of 3-4 rows) gives the torch executor's
    picture too (the sparse mask's overlapping bins, the guided coefficients at that size)."""
    torch_path, arrays = _executors(1 / 3)
    for i in range(3):
        x = _room_frame(i, 960, 400)
        want = torch_path.prepare(torch.from_numpy(x.copy())[None])()[0].numpy()
        got = arrays.prepare(x)()
        rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-3)
        assert rel.max() < 1e-4, (i, rel.max())
    assert arrays.active_share == torch_path.active_share


def test_the_torch_free_path_runs_the_network_on_the_active_tiles_only():
    """A dim frame with one small clipped lamp: the network runs on the tiles around it (share below 1), and the
    picture is the torch executor's."""
    torch_path, arrays = _executors(0.25)
    x = np.full((3, 720, 1280), 0.05, np.float32)
    x[:, 100:110, 200:212] = 1.0
    want = torch_path.prepare(torch.from_numpy(x.copy())[None])()[0].numpy()
    got = arrays.prepare(x)()
    assert np.abs(got - want).max() / np.abs(want).max() < 1e-4 and got.max() > 1.0
    assert arrays.active_share == torch_path.active_share and 0 < arrays.active_share < 1


def test_a_changed_packaged_file_is_refused(tmp_path, monkeypatch):
    from hdrvid.errors import ModelError
    from hdrvid.models import registry

    fake = tmp_path / "weights"
    fake.mkdir()
    (fake / "hdrunet-shoulder.json").write_text("{}")
    monkeypatch.setattr(registry, "weights_dir", lambda: fake)
    with pytest.raises(ModelError, match="does not match the registry"):
        registry.packaged_file("hdrunet-shoulder.json", "0" * 64, "shoulder detector")


def _codes(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="yuv420p10le").astype(np.int32) for f in c.decode(video=0)]


def test_convert_runs_the_default_without_torch_and_as_the_torch_path(tmp_path, monkeypatch):
    """``convert`` with the default model (``--precision int8``: what ``auto`` picks on a CPU without native bf16)
    never imports torch, and writes the torch path's picture within one code value (FFV1: lossless)."""
    src = make_clip(tmp_path / "in.mp4", frames=6, size=(640, 360))
    out = tmp_path / "free.mkv"
    code = ("import sys; from hdrvid.cli import main\n"
            "try:\n"
            f"    main(['convert', {str(src)!r}, {str(out)!r}, '--precision', 'int8', '--codec', 'ffv1', '-q'])\n"
            "except SystemExit as e:\n"
            "    assert not e.code, e.code\n"
            "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"

    from conftest import run_cli

    import hdrvid.jobs.convert as convert_job

    monkeypatch.setattr(convert_job, "auto_arrays", lambda *a, **k: None)
    ref = tmp_path / "torch.mkv"
    r = run_cli("convert", src, ref, "--precision", "int8", "--codec", "ffv1", "-q", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    a, b = _codes(out), _codes(ref)
    assert len(a) == len(b) == 6
    assert max(int(np.abs(x - y).max()) for x, y in zip(a, b)) <= 1
