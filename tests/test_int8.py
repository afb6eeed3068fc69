"""``--precision int8``: the default network's packaged int8 file, how it is chosen and refused, and the quantiser."""

import json
import math
import shutil

import numpy as np
import onnx
import pytest
import torch
from conftest import run_cli

import hdrvid.models.registry as registry
import hdrvid.runtime.factory as factory
from hdrvid.engines import OrtBackend, OrtEngine, TorchBackend
from hdrvid.errors import BackendError, ModelError
from hdrvid.export.onnx import export_onnx, parity_input
from hdrvid.export.quantize import float_nodes, quantize_int8
from hdrvid.models import build, get, int8_file
from hdrvid.models.hdrunet import HDRUNet
from hdrvid.runtime import EngineOptions, make_executor


def _opts(precision: str, scale: float = 1.0) -> EngineOptions:
    return EngineOptions(backend=TorchBackend(precision=precision, threads=1), infer_scale=scale)  # type: ignore[arg-type]


def test_the_packaged_int8_network_is_the_shipped_weights_quantised_but_for_two_convolutions():
    path = int8_file("hdrunet-auto")
    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["hdrvid.precision"] == "int8"
    assert meta["hdrvid.part"] == "field_tile"
    assert meta["hdrvid.weights_sha256"] == get("hdrunet-auto").sha256  # made from the weights hdrunet.pt holds
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("QLinearConv") == 19 and ops.count("Conv") == 2
    kept = {n.input[1] for n in proto.graph.node if n.op_type == "Conv"}
    assert kept == {f"model.{k}.weight" for k in HDRUNet.int8_keep_float}
    assert int8_file("hdrunet") == int8_file("hdrunet-graded") == path  # one network for the three names


def test_the_int8_network_stays_close_to_fp32_and_leaves_recorded_pixels_alone():
    """The log-gain field within a few hundredths of fp32's (the knots and the gate, computed in float from the
    context, to rounding), and through the executor every pixel below the expansion's mask exactly as fp32 has it."""
    model = build("hdrunet-auto")
    tile = OrtEngine(int8_file("hdrunet-auto"), OrtBackend(precision="int8", threads=1), known=True)
    x = parity_input(96, 160)
    with torch.inference_mode():
        ctx = model.context(x)
        want = model.field_tile(x, ctx)
    got = tile.infer(x, ctx)
    gain = (got[:, :3] - want[:, :3]).abs() * math.log(64)
    assert float(gain.max()) < 0.15 and float(gain.mean()) < 0.01
    assert torch.allclose(got[:, 3:], want[:, 3:], atol=1e-4)
    x = parity_input(180, 320, seed=3)
    fp32 = make_executor("hdrunet-auto", opts=_opts("fp32", 0.5)).infer(x)
    int8 = make_executor("hdrunet-auto", opts=_opts("int8", 0.5)).infer(x)
    calm = (x.amax(1, keepdim=True) < 0.85).expand_as(x)
    assert torch.equal(int8[calm], fp32[calm])
    assert not torch.equal(int8, fp32)  # the clipped pixels did go through the int8 network
    assert float((int8.log() - fp32.log()).abs().max()) < 0.2


def test_precision_auto_takes_int8_on_a_cpu_without_native_bf16_for_the_shipped_weights_only(monkeypatch, tmp_path):
    monkeypatch.setattr(factory, "native_bf16", lambda: False)
    auto = _opts("auto")
    assert make_executor("hdrunet-auto", opts=auto).name.startswith("onnxruntime-cpu-int8")
    tiles = make_executor("hdrunet-auto", opts=EngineOptions(backend=TorchBackend(precision="auto"), tile=256))
    assert tiles.name.startswith("onnxruntime-cpu-int8") and "tile 256" in tiles.name  # the network's engine names it
    assert make_executor("expandnet", opts=auto).name.startswith("torch-cpu-fp32")
    weights = tmp_path / "mine.pt"
    shutil.copy(registry.weights_dir() / "hdrunet.pt", weights)
    assert make_executor("hdrunet-auto", weights, opts=auto).name.startswith("torch-cpu-fp32")
    two_x = make_executor("hdrunet-2x", opts=auto)  # a wrapper's base holds its own copy of the weights: fp32
    assert "int8" not in two_x.name and two_x.base.name.startswith("torch-cpu-fp32")
    monkeypatch.setattr(factory, "native_bf16", lambda: True)
    assert make_executor("hdrunet-auto", opts=auto).name.startswith("torch-cpu-bf16")


def test_int8_is_refused_in_one_line_where_it_cannot_run(tmp_path, monkeypatch):
    weights = tmp_path / "mine.pt"
    shutil.copy(registry.weights_dir() / "hdrunet.pt", weights)
    with pytest.raises(BackendError, match="--weights"):
        make_executor("hdrunet-auto", weights, opts=_opts("int8"))
    for name in ("expandnet", "hdrunet-2x", "diffhdr-single"):
        with pytest.raises(ModelError, match="ships no int8 network"):
            make_executor(name, opts=_opts("int8"))
    with pytest.raises(BackendError, match="CPU"):
        TorchBackend(device="cuda", precision="int8")
    with pytest.raises(BackendError, match="CPU"):
        OrtBackend(provider="cuda", precision="int8")
    # a changed file is refused, never run
    bad = tmp_path / "weights"
    shutil.copytree(registry.weights_dir(), bad)
    (bad / "hdrunet-field_tile-int8.onnx").write_bytes(b"\0" * 64)
    monkeypatch.setattr(registry, "weights_dir", lambda: bad)
    with pytest.raises(ModelError, match="does not match the registry"):
        make_executor("hdrunet-auto", opts=_opts("int8"))


def test_quantize_int8_keeps_the_named_convolutions_in_float(tmp_path):
    fp32 = tmp_path / "expandnet.onnx"
    export_onnx("expandnet", fp32)
    convs = [n for n in onnx.load(str(fp32)).graph.node if n.op_type == "Conv"]
    keep = convs[0].input[1].removeprefix("model.").removesuffix(".weight")
    quantise, kept = float_nodes(fp32, [keep])
    assert kept == [convs[0].name] and len(quantise) == len(convs) - 1
    with pytest.raises(ModelError, match="no convolution"):
        float_nodes(fp32, ["no.such.layer"])
    rng = np.random.default_rng(0)
    feeds = [{"linear": rng.random((1, 3, 48, 64), dtype=np.float32)} for _ in range(2)]
    out = tmp_path / "int8.onnx"
    done = quantize_int8(fp32, out, feeds, keep_float=[keep])
    assert done == {"quantised_convs": len(convs) - 1, "float_convs": 1, "calibration_feeds": 2}
    proto = onnx.load(str(out))
    assert {p.key: p.value for p in proto.metadata_props}["hdrvid.precision"] == "int8"
    assert "QLinearConv" in [n.op_type for n in proto.graph.node]
    x = torch.from_numpy(feeds[0]["linear"])
    got = OrtEngine(out, OrtBackend(precision="int8")).infer(x)
    with torch.inference_mode():
        want = build("expandnet")(x)
    assert got.shape == want.shape and float((got - want).abs().mean()) < 0.05
    with pytest.raises(ModelError, match="at least one"):
        quantize_int8(fp32, tmp_path / "none.onnx", [])


def test_convert_runs_int8_and_says_so(clip, tmp_path):
    out, report = tmp_path / "out.mp4", tmp_path / "report.json"
    r = run_cli("convert", clip, out, "--precision", "int8", "--report", report)
    assert r.exit_code == 0, r.output
    assert json.loads(report.read_text())["engine"].startswith("onnxruntime-cpu-int8")
    r = run_cli("convert", clip, tmp_path / "x.mp4", "-m", "expandnet", "--precision", "int8")
    assert r.exit_code != 0 and "ships no int8 network" in r.output and not (tmp_path / "x.mp4").exists()
