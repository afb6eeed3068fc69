"""Engines, execution plans (tiling, fast mode), ONNX export and its safety, TensorRT cache rules."""

import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from hdrvid.color import kernels
from hdrvid.engines import (
    ExecutionPlan,
    Executor,
    ModelPart,
    OrtBackend,
    OrtEngine,
    TensorRTBackend,
    TorchBackend,
    TorchEngine,
    check_onnx_file,
)
from hdrvid.engines.tensorrt_engine import cached_engine_path, load_cached, store
from hdrvid.errors import BackendError, ModelError
from hdrvid.export.onnx import export_onnx, parity_input, read_metadata
from hdrvid.models import build
from hdrvid.runtime import EngineOptions, make_executor

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def expandnet():
    return build("expandnet")


@pytest.fixture(scope="module")
def frame():
    return torch.nn.functional.interpolate(parity_input(), size=(150, 230), mode="bilinear", align_corners=False)


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx")
    results = {part: export_onnx("expandnet", d / part / "model.onnx", part=part)
               for part in ("full", "field", "context", "field_tile")}
    return d, results


def test_export_checks_parity_and_embeds_metadata(onnx_dir):
    d, results = onnx_dir
    for part, r in results.items():
        assert r.parity_ok and r.max_abs_diff < 1e-4, (part, r)
        onnx.checker.check_model(onnx.load(str(d / part / "model.onnx")))
    meta = read_metadata(d / "full" / "model.onnx")
    assert meta["hdrvid.model"] == "expandnet" and meta["hdrvid.part"] == "full"
    assert meta["hdrvid.weights_sha256"].startswith("65f4db02")
    assert "linear" in meta["hdrvid.input"] and meta["hdrvid.inputs"] == "linear"


def test_onnxruntime_matches_torch_on_a_frame(onnx_dir, expandnet, frame):
    d, _ = onnx_dir
    ort_out = OrtEngine(d / "full" / "model.onnx", OrtBackend(threads=2)).infer(frame)
    torch_out = TorchEngine(expandnet).infer(frame)
    assert ort_out.shape == torch_out.shape == frame.shape
    assert float((ort_out - torch_out).abs().max()) < 1e-4
    assert float((torch_out - frame).abs().max()) > 0.05  # the model does expand the clipped window


def test_fp16_export_is_close(tmp_path):
    r = export_onnx("expandnet", tmp_path / "m.onnx", part="field", fp16=True)
    assert r.parity_ok and r.precision == "fp16" and r.max_abs_diff < 2e-2
    assert r.bytes < 1.1e6  # half the fp32 weights


def test_tiled_equals_untiled_and_context_runs_once_per_frame(expandnet, frame):
    calls = {"context": 0, "field_tile": 0}

    class Counting:
        def __init__(self, part):
            self.part, self.inner = part, TorchEngine(ModelPart(expandnet, part))
            self.name = "counting"

        def infer(self, *xs):
            calls[self.part] += 1
            return self.inner.infer(*xs)

        def close(self):
            pass

    whole = Executor(expandnet, {"field": TorchEngine(ModelPart(expandnet, "field"))}, ExecutionPlan(sparse=False)).infer(frame)
    tiled = Executor(expandnet, {p: Counting(p) for p in calls}, ExecutionPlan(tile=64, sparse=False)).infer(frame)
    assert float((whole - tiled).abs().max()) < 1e-5
    assert calls["context"] == 1 and calls["field_tile"] == 3 * 4  # 150x230 in 64-pixel tiles


def test_tiling_through_onnxruntime(frame):
    whole = make_executor("expandnet").infer(frame)
    tiled = make_executor("expandnet", opts=EngineOptions(backend=OrtBackend(), tile=96)).infer(frame)
    assert float((whole - tiled).abs().max()) < 1e-4


def test_a_4k_frame_runs_tiled_with_the_global_branch_on_the_whole_frame(expandnet):
    """Peak memory of a tile is bounded by the tile size; check the stitching at 3840x2160 on the cheap
    context and a stand-in field (the real network on 4K costs minutes on 2 cores)."""
    x = torch.nn.functional.interpolate(parity_input(), size=(2160, 3840), mode="nearest")
    seen = []

    class Field:
        name = "stand-in"

        def infer(self, tile, ctx):
            seen.append(tuple(tile.shape[-2:]))
            return tile.mean(1, keepdim=True).expand(-1, 3, -1, -1) * 0 + ctx.mean()

        def close(self):
            pass

    ex = Executor(expandnet, {"context": TorchEngine(ModelPart(expandnet, "context")), "field_tile": Field()},
                  ExecutionPlan(tile=512, sparse=False))
    y = ex.infer(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert max(h for h, _ in seen) <= 512 + 16 and max(w for _, w in seen) <= 512 + 16
    assert len(seen) == 5 * 8


def test_fast_mode_keeps_unclipped_pixels_exact_and_highlights_close(expandnet, frame):
    full = make_executor("expandnet").infer(frame)
    fast = make_executor("expandnet", opts=EngineOptions(infer_scale=0.5)).infer(frame)
    mask = expandnet.clip_mask(frame.clamp(1e-8, 1) ** (1 / 2.2)) == 0
    assert torch.equal(fast[mask], frame[mask])  # exactly linearised wherever the input was not clipped
    err = (torch.log(fast.clamp(min=1e-4)) - torch.log(full.clamp(min=1e-4))).abs()
    assert float(err[~mask].mean()) < 0.25  # log-gain field brought back from half resolution
    assert float((fast - frame).abs().max()) > 0.05


def test_plans_that_cannot_work_are_refused(expandnet):
    itmo = build("itmo")
    with pytest.raises(BackendError, match="whole frames only"):
        make_executor("itmo", opts=EngineOptions(tile=256))
    with pytest.raises(BackendError, match="infer-scale"):
        Executor(expandnet, {"field": TorchEngine(ModelPart(expandnet, "field"))}, ExecutionPlan(infer_scale=1.5))
    with pytest.raises(BackendError, match="not built in parts"):
        ModelPart(itmo, "field")
    with pytest.raises(BackendError, match="receptive radius"):
        Executor(expandnet, {"context": None, "field_tile": None}, ExecutionPlan(tile=64, overlap=4))


def test_missing_backends_and_devices_name_the_fix():
    with pytest.raises(BackendError, match=r"hdrvid\[tensorrt\]") if not _has("tensorrt") else _nothing():
        make_executor("expandnet", opts=EngineOptions(backend=TensorRTBackend()))
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="CUDA"):
            TorchEngine(torch.nn.Identity(), TorchBackend(device="cuda"))
        with pytest.raises(BackendError, match="hdrvid\\[gpu\\]"):
            make_executor("expandnet", opts=EngineOptions(backend=OrtBackend(provider="cuda")))
    with pytest.raises(BackendError, match="bf16"):
        make_executor("expandnet", opts=EngineOptions(backend=OrtBackend(precision="bf16")))
    with pytest.raises(BackendError, match="fp16 needs"):
        TorchEngine(torch.nn.Identity(), TorchBackend(precision="fp16"))


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


# --- ONNX external data: only from the model's own folder ----------------------------------------------------

def _external_model(folder: Path, location: str) -> Path:
    """A one-node model whose weight lives in an external file at ``location`` (relative to folder)."""
    w = numpy_helper.from_array(np.full((3,), 2.0, np.float32), "w")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "12")):
        e = w.external_data.add()
        e.key, e.value = k, v
    w.ClearField("raw_data")
    graph = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_external_data_inside_the_folder_loads_and_runs(tmp_path):
    path = _external_model(tmp_path / "m", "weights.bin")
    (tmp_path / "m" / "weights.bin").write_bytes(np.full((3,), 2.0, np.float32).tobytes())
    check_onnx_file(path)
    out = OrtEngine(path).infer(torch.ones(3))
    assert torch.allclose(out, torch.full((3,), 2.0))


@pytest.mark.parametrize("where", ["parent", "absolute", "symlink", "missing"])
def test_external_data_outside_the_folder_is_refused_before_loading(tmp_path, where):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 12)
    folder = tmp_path / "m"
    if where == "parent":
        path = _external_model(folder, "../secret.bin")
    elif where == "absolute":
        path = _external_model(folder, str(secret))
    elif where == "symlink":
        path = _external_model(folder, "link.bin")
        os.symlink(secret, folder / "link.bin")
    else:
        path = _external_model(folder, "gone.bin")
    with pytest.raises(ModelError, match="outside the model's folder" if where != "missing" else "missing"):
        check_onnx_file(path)
    with pytest.raises(ModelError):
        OrtEngine(path)


# --- TensorRT engine cache (pure Python; the build itself needs a GPU) ---------------------------------------

def test_tensorrt_cache_loads_only_matching_untampered_engines(tmp_path):
    key = {"onnx_sha256": "ab", "min": [1, 64, 64], "opt": [1, 720, 1280], "max": [1, 1088, 1920],
           "precision": "fp16", "tensorrt": "10.3", "gpu": "Test GPU", "capability": "8.9"}
    path = cached_engine_path(key, tmp_path)
    assert load_cached(path, key) is None  # nothing cached yet
    store(path, key, b"engine-bytes")
    assert load_cached(path, key) == b"engine-bytes"
    assert load_cached(path, {**key, "gpu": "Other GPU"}) is None  # another GPU: rebuild
    assert load_cached(path, {**key, "tensorrt": "10.4"}) is None  # another TensorRT: rebuild
    path.write_bytes(b"foreign engine")  # replaced behind our back: rebuild, never deserialise
    assert load_cached(path, key) is None
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["key"] == key and len(record["engine_sha256"]) == 64
    assert not list(tmp_path.glob(".tmp-*"))  # written atomically
    assert not list(tmp_path.glob(".*partial*"))  # (the temporary names AtomicFile uses)
    assert cached_engine_path(key, tmp_path) != cached_engine_path({**key, "precision": "fp32"}, tmp_path)


# --- GPU paths (skipped on machines without CUDA) --------------------------------------------------------------

@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("precision,tol", [("fp32", 1e-3), ("fp16", 3e-2)])
def test_torch_cuda_matches_cpu(expandnet, frame, precision, tol):
    cpu = make_executor("expandnet").infer(frame)
    gpu = make_executor("expandnet", opts=EngineOptions(backend=TorchBackend(device="cuda", precision=precision))).infer(frame)
    assert float((cpu - gpu).abs().max()) < tol


@pytest.mark.gpu
@needs_cuda
def test_default_model_on_cuda_matches_cpu(frame):
    """hdrunet-auto on CUDA: the detector's features and the curve's torch path on the GPU, the network in fp32."""
    cpu = make_executor("hdrunet-auto").infer(frame)
    gpu = make_executor("hdrunet-auto", opts=EngineOptions(backend=TorchBackend(device="cuda",
                                                                               precision="fp32"))).infer(frame)
    assert float(((cpu - gpu.cpu()).abs() / cpu.abs().clamp(min=1e-3)).max()) < 1e-2


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_default_model_on_tensorrt_matches_torch(frame, tmp_path, monkeypatch, scale):
    """hdrunet-auto's network parts as TensorRT engines (fp16 kernels), the rest in torch on the GPU."""
    pytest.importorskip("tensorrt")
    monkeypatch.setenv("HDRVID_CACHE", str(tmp_path))
    cpu = make_executor("hdrunet-auto", opts=EngineOptions(infer_scale=scale)).infer(frame)
    trt = make_executor("hdrunet-auto", opts=EngineOptions(backend=TensorRTBackend(), infer_scale=scale)).infer(frame)
    assert float(((cpu - trt.cpu()).abs() / cpu.abs().clamp(min=1e-3)).max()) < 5e-2


@pytest.mark.parametrize("size", [(150, 230), (37, 53), (64, 64)])
def test_hdrunet_size_dependent_steps_are_torchs_own(size):
    """hdrunet's frame-wide area resize (two products with pooling matrices) and its U-Net padding (clamped
    gathers), written so that ONNX follows the input's size, are torch's adaptive pooling (to float summation
    order) and replicate padding (exactly)."""
    from hdrvid.models.hdrunet import area_resize, pad_to_multiple

    x = torch.rand(2, 4, *size, generator=torch.Generator().manual_seed(0))
    assert float((area_resize(x, 64) - F.interpolate(x, size=(64, 64), mode="area")).abs().max()) < 1e-6
    h, w = size
    assert torch.equal(pad_to_multiple(x, 16), F.pad(x, (0, (-w) % 16, 0, (-h) % 16), mode="replicate"))
    # eager torch keeps adaptive pooling bit for bit (the shipped output does not move with the export form)
    m = build("hdrunet-auto").eval()
    lin = x[:1, :3]
    with torch.inference_mode():
        want = torch.cat([m.glob(F.interpolate(m._features(lin), (64, 64), mode="area")),
                          m.tail_shares(lin)[..., None, None]], 1)
        assert torch.equal(m.context(lin), want)


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_default_model_on_onnxruntime_matches_torch(frame, tmp_path, monkeypatch, scale):
    """hdrunet-auto's exported parts at a frame size the export never saw (whole frames and the fast mode)."""
    monkeypatch.setenv("HDRVID_CACHE", str(tmp_path))
    cpu = make_executor("hdrunet-auto", opts=EngineOptions(infer_scale=scale)).infer(frame)
    ort = make_executor("hdrunet-auto", opts=EngineOptions(backend=OrtBackend(), infer_scale=scale))
    assert ort.name.startswith("onnxruntime-cpu")
    assert float(((cpu - ort.infer(frame)).abs() / cpu.abs().clamp(min=1e-3)).max()) < 1e-3


@pytest.mark.gpu
@needs_cuda
def test_onnxruntime_cuda_matches_cpu(frame):
    pytest.importorskip("onnxruntime")
    cpu = make_executor("expandnet").infer(frame)
    gpu = make_executor("expandnet", opts=EngineOptions(backend=OrtBackend(provider="cuda"))).infer(frame)
    assert float((cpu - gpu).abs().max()) < 1e-3


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("precision,tol", [("fp32", 1e-3), ("fp16", 3e-2)])
def test_tensorrt_matches_torch_and_reuses_its_cache(frame, tmp_path, monkeypatch, precision, tol):
    pytest.importorskip("tensorrt")
    monkeypatch.setenv("HDRVID_CACHE", str(tmp_path))
    cpu = make_executor("expandnet").infer(frame)
    trt = make_executor("expandnet", opts=EngineOptions(backend=TensorRTBackend(precision=precision)))
    assert float((cpu - trt.infer(frame)).abs().max()) < tol
    engines = list((tmp_path / "tensorrt").glob("*.engine"))
    assert len(engines) == 1
    stamp = engines[0].stat().st_mtime_ns
    make_executor("expandnet", opts=EngineOptions(backend=TensorRTBackend(precision=precision)))
    assert engines[0].stat().st_mtime_ns == stamp  # loaded from the cache, not rebuilt
    assert TensorRTBackend().max_shape[1] >= 1080


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_sparse_execution_equals_dense(expandnet, scale):
    """Tiles with no clipped pixel (grown by the upsampling's reach) are skipped; the result is unchanged."""
    x = torch.full((1, 3, 192, 256), 0.2)
    x[:, :, 20:50, 30:70] = 1.0  # one clipped window in a dull frame
    x[:, 2, 150:160, 200:210] = 1.0  # a lone clipped blue patch
    x = x + 0.05 * torch.rand_like(x)
    sparse = make_executor("expandnet", opts=EngineOptions(infer_scale=scale))
    dense = make_executor("expandnet", opts=EngineOptions(infer_scale=scale))
    dense.sparse = False
    a, b = dense.infer(x), sparse.infer(x)
    assert float((a - b).abs().max()) < 1e-5
    assert sparse.active_share is not None and sparse.active_share < 0.7
    assert "sparse" in sparse.name
    flat = torch.full((1, 3, 96, 128), 0.3)  # nothing clipped: no network run at all, output = input
    assert torch.equal(sparse.infer(flat), flat)


def test_hdrunet_sparse_tiles_equal_the_whole_frame():
    """hdrunet's wide receptive field: a bordered tile is nearly the frame, so the executor runs the tile
    only when that is cheaper, and the tile's core equals the whole-frame result."""
    x = torch.full((1, 3, 448, 448), 0.2) + 0.05 * torch.rand(1, 3, 448, 448)
    x[:, :, 200:220, 210:240] = 1.0  # one clipped lamp
    sparse = make_executor("hdrunet", opts=EngineOptions(infer_scale=1.0))
    dense = make_executor("hdrunet", opts=EngineOptions(infer_scale=1.0))
    dense.sparse = False
    a, b = dense.infer(x), sparse.infer(x)
    assert sparse.active_share is not None and sparse.active_share < 0.2  # one tile of 49 ran
    assert float((a - b).abs().max()) < 1e-4
    flat = torch.full((1, 3, 96, 128), 0.3)
    assert torch.equal(sparse.infer(flat), flat)  # nothing clipped: recorded pixels as decoded, no network


def test_fast_mode_reads_the_field_only_where_hdrunet_acts():
    """hdrunet (curve off) changes clipped pixels only: the fast mode upsamples its field there alone
    (``apply_where``), the same output as upsampling the whole field; other pixels leave exactly as decoded."""
    from hdrvid.engines.backends import TorchBackend
    from hdrvid.engines.executor import ExecutionPlan, Executor, ModelPart, downscale, guide, guided_upsample
    from hdrvid.engines.torch_engine import TorchEngine

    torch.manual_seed(0)
    x = torch.rand(1, 3, 90, 161) ** 0.5
    x[..., 20:40, 30:80] = 1.0
    x[..., 50:60, 100:110] = torch.tensor([1.0, 0.3, 0.1]).view(3, 1, 1)
    model = build("hdrunet").eval()
    assert model.acts_where_clipped
    plan = ExecutionPlan(infer_scale=0.5, sparse=False)
    ex = Executor(model, {p: TorchEngine(ModelPart(model, p), TorchBackend()) for p in plan.parts(model)}, plan)
    with torch.inference_mode():
        out = ex.infer(x)
        small = downscale(x, 0.5)
        field = model.field(small)
        full = guided_upsample(field[:, :3], guide(small), guide(x), plan.guide_radius, plan.guide_eps)
        ref = model.apply_split(x, full, field[:, 3:].mean((-2, -1)))
    assert torch.allclose(out, ref, rtol=1e-5, atol=1e-6)
    calm = x.amax(1, keepdim=True).expand_as(x) < 0.9
    assert torch.equal(out[calm], x.clamp(0, 1)[calm])
    assert (out > 1.01).any()  # and the clipped pixels were expanded
    # one CPU frame takes the compiled pass (apply_guided); a batch the torch gathers (apply_where): the same
    from hdrvid.engines.executor import bilinear_at, guided_coefficients, pick

    a, b = guided_coefficients(field[:, :3], guide(small), plan.guide_radius, plan.guide_eps)
    means = field[:, 3:].mean((-2, -1))
    with torch.inference_mode():
        where = model.apply_where(x, lambda n, r, c: bilinear_at(a, n, r, c, (90, 161)) * guide(pick(x, n, r, c))
                                  + bilinear_at(b, n, r, c, (90, 161)), means)
        batch = ex.infer(torch.cat([x, x]))
    assert torch.allclose(model.apply_guided(x, a, b, means), where, rtol=1e-5, atol=1e-6)
    assert torch.allclose(batch, torch.cat([out, out]), rtol=1e-5, atol=1e-6)


def test_precision_auto_is_bf16_only_for_validated_models_on_native_bf16(monkeypatch):
    """``--precision auto``: hdrunet and brackets (validated in bf16) in bf16 where the CPU computes it natively, fp32
    elsewhere (hdrunet: int8) and for other models; an engine never sees "auto"."""
    import hdrvid.runtime.factory as factory
    from hdrvid.engines.backends import TorchBackend, backend_from_options
    from hdrvid.engines.torch_engine import TorchEngine
    from hdrvid.errors import BackendError

    auto = EngineOptions(backend=backend_from_options("torch", "cpu", "auto"), infer_scale=1.0)
    for native, want in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(factory, "native_bf16", lambda native=native: native)
        # hdrunet without native bf16: its packaged int8 network (tests/test_int8.py)
        assert make_executor("hdrunet", opts=auto).name.startswith("torch-cpu-bf16" if native else
                                                                   "onnxruntime-cpu-int8")
        assert make_executor("expandnet", opts=auto).name.startswith("torch-cpu-fp32")
        assert make_executor("brackets", opts=auto).name.startswith(f"torch-cpu-{want}")  # validated (session 34)
        assert make_executor("brackets-debevec", opts=auto).name.startswith("torch-cpu-fp32")
    assert backend_from_options("onnxruntime", "cpu", "auto").precision == "fp32"
    with pytest.raises(BackendError, match="auto"):
        TorchEngine(build("expandnet"), TorchBackend(precision="auto"))


def test_fast_mode_runs_the_network_at_a_fixed_width_from_1280_px():
    """--infer-scale auto on a CPU: the network sees every frame of 1280 px or more 320 px wide (its cost stops
    growing with the frame; a 720p and a 1080p copy of a film get the same expansion); smaller frames keep
    their scales; a GPU runs at full resolution."""
    from hdrvid.runtime import auto_scale

    assert [round(auto_scale("cpu", w) * w) for w in (1280, 1920, 2560, 3840)] == [320] * 4
    assert (auto_scale("cpu", 960), auto_scale("cpu", 640), auto_scale("cpu", 480)) == (0.5, 0.5, 1.0)
    assert auto_scale("cuda", 1920) == 1.0


def test_guided_coefficients_opencv_box_is_torch_box_and_dilation_is_max_pool():
    """The fast mode's box means through OpenCV (float32 CPU, no autograd) agree with torch's cumulative sums
    (the autograd / GPU path) to float rounding, and the separable dilation of the active mask is max_pool2d."""
    import torch.nn.functional as F

    from hdrvid.engines.executor import guided_coefficients
    from hdrvid.models.itmo import box_filter, box_filter_cumsum, square_max

    g = torch.Generator().manual_seed(3)
    x = torch.rand(2, 3, 37, 53, generator=g)
    for r in (1, 2, 5):
        assert torch.allclose(box_filter(x, r), box_filter_cumsum(x, r), atol=2e-6)
    guide = torch.rand(1, 1, 37, 53, generator=g)
    field = torch.randn(1, 3, 37, 53, generator=g)
    a, b = guided_coefficients(field, guide, 2, 1e-3)
    field.requires_grad_(True)  # the torch path
    a_ref, b_ref = guided_coefficients(field, guide, 2, 1e-3)
    assert torch.allclose(a, a_ref.detach(), rtol=1e-4, atol=1e-4)
    assert torch.allclose(b, b_ref.detach(), rtol=1e-4, atol=1e-4)
    active = (torch.rand(1, 1, 37, 53, generator=g) > 0.97).float()
    assert torch.equal(square_max(active, 6), F.max_pool2d(active, 13, stride=1, padding=6))


@pytest.mark.parametrize("n_in, n_out", [(1280, 320), (1920, 320), (720, 180), (1080, 180), (70, 17), (33, 33), (40, 90)])
def test_the_c_downscale_takes_torchs_taps_bit_for_bit(n_in, n_out):
    """``kernels.aa_taps`` are the weights torch's antialiased bilinear resize uses, bit for bit (read back from
    torch by resizing one-hot rows), upscales and borders included."""
    from hdrvid.color.kernels import aa_taps

    first, size, wts = aa_taps(n_in, n_out)
    eye = torch.eye(n_in)[:, None, None, :]
    ref = F.interpolate(eye, size=(1, n_out), mode="bilinear", antialias=True, align_corners=False)[:, 0, 0].numpy()
    for i in range(n_out):
        mine = np.zeros(n_in, np.float32)
        mine[first[i]:first[i] + size[i]] = wts[i, :size[i]]
        assert np.array_equal(mine, ref[:, i]), i


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
@pytest.mark.parametrize("shape, scale", [((1, 3, 720, 1280), 0.25), ((1, 3, 1080, 1920), 1 / 6), ((2, 3, 90, 160), 0.5),
                                          ((1, 3, 37, 53), 0.3)])
def test_the_fast_modes_c_downscale_is_torchs_within_float_rounding(shape, scale, monkeypatch):
    """The fast mode's network input (``executor.downscale``) in C is ``F.interpolate(antialias=True)`` within a
    few float32 ulps (the passes in the other order), and torch's own where the C kernels are not built."""
    from hdrvid.engines.executor import downscale

    g = torch.Generator().manual_seed(shape[-1])
    x = torch.rand(shape, generator=g) ** 2.2
    x[..., : shape[-2] // 3, : shape[-1] // 4] = 1.0  # a clipped block with hard edges
    size = (max(16, round(shape[-2] * scale)), max(16, round(shape[-1] * scale)))
    ref = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    fast = downscale(x, scale)
    assert fast.shape == ref.shape and fast.dtype == torch.float32
    assert torch.allclose(fast, ref, rtol=4e-7, atol=2e-7), (fast - ref).abs().max()
    assert not torch.equal(fast, ref)  # the C path ran (torch's own would be equal)
    monkeypatch.setattr(kernels, "_library", lambda: None)
    assert torch.equal(downscale(x, scale), ref)


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
def test_the_default_models_fast_mode_with_the_c_downscale_is_within_one_pq_code(monkeypatch):
    """The default model in its fast mode with the C downscale gives the output of torch's downscale within one
    10-bit PQ code on a frame with clipped highlights (the network runs in bf16: an ulp in its input may move
    a gain by a bf16 step)."""
    from hdrvid.color.transfer import pq_inverse_eotf

    g = torch.Generator().manual_seed(11)
    x = F.interpolate(torch.rand(1, 3, 45, 80, generator=g), size=(360, 640), mode="bicubic").clamp(0, 1) ** 2.2
    x[..., 60:160, 100:300] = 1.0
    x[..., 200:260, 400:600] = torch.tensor([1.0, 0.93, 0.7])[:, None, None]
    run = make_executor("hdrunet-auto", opts=EngineOptions(infer_scale=0.5))
    fast = run.infer(x)
    monkeypatch.setattr(kernels, "_library", lambda: None)  # the same executor code, torch's F.interpolate
    ref = make_executor("hdrunet-auto", opts=EngineOptions(infer_scale=0.5)).infer(x)
    assert not torch.equal(fast, ref)
    codes = [np.round(pq_inverse_eotf(y.clamp(min=0).numpy() * 203) * 1023) for y in (fast, ref)]
    assert np.abs(codes[0] - codes[1]).max() <= 1


@pytest.mark.parametrize("n, size, small", [(1, (720, 1280), (180, 320)), (2, (96, 160), (24, 40)), (1, (90, 160), (45, 80)),
                                           (1, (64, 64), (8, 8)), (1, (800, 1920), (133, 320)),
                                           (1, (1080, 1440), (240, 320)), (1, (101, 77), (37, 30))])
def test_the_sparse_mask_in_numpy_is_the_torch_pools(n, size, small):
    """``executor.active_blocks`` (max(R, G, B) above the model's threshold in any frame, any per block, grown by k
    blocks; numpy and OpenCV) gives exactly what the torch path gives (``active_mask``, ``adaptive_max_pool2d``,
    ``square_max``), clipped spots at the frame's edges and corners included, whether the network's size divides the
    frame's or not (2.39:1 and 4:3 frames in the fast mode); it declines what it does not cover."""
    from hdrvid.engines.executor import active_blocks
    from hdrvid.models.itmo import square_max

    rng = np.random.default_rng(size[1] + n)
    h, w = size
    x = torch.from_numpy(rng.random((n, 3, h, w), dtype=np.float32) * 0.8)
    for y0, x0 in ((0, 0), (h - 1, w - 1), (0, w - 3), (h // 2, w // 3)):
        x[rng.integers(0, n), rng.integers(0, 3), y0, x0] = 0.99
    for _ in range(20):  # single rows and columns: where neighbouring bins overlap, both must see them
        x[0, 1, int(rng.integers(0, h)), :] = torch.where(torch.rand(w) < 0.05, 0.99, x[0, 1, 0, 0])
    for k in (0, 3, 6):
        full = (x.amax(1, keepdim=True) > 0.95).any(0, keepdim=True).float()
        expected = square_max(F.adaptive_max_pool2d(full, small), k)
        got = active_blocks(x, 0.95, small, k)
        assert got is not None and got.dtype == torch.float32 and torch.equal(got, expected)
    assert active_blocks(x, None, small, 3) is None  # a model without a threshold
    assert active_blocks(x, 0.95, (h, w), 3) is None  # no downscaling
    assert active_blocks(x.double(), 0.95, small, 3) is None
