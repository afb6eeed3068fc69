"""End to end: convert on the onnxruntime backend / fast mode / tiles, sequential vs pipelined, export, bench."""

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import run_cli
from media import make_clip

from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.pipeline.decoder import ImageSource


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HDRVID_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def bright_clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "bright.mp4", frames=6, size=(96, 64))


def _exr_frames(folder: Path) -> list[np.ndarray]:
    src = ImageSource(folder)
    try:
        return [f.data.numpy() for f in src]
    finally:
        src.close()


def test_convert_on_onnxruntime_equals_torch(bright_clip: Path, tmp_path: Path):
    outs = {}
    for backend in ("torch", "onnxruntime"):
        r = run_cli("convert", bright_clip, tmp_path / backend, "-m", "expandnet", "--backend", backend, "-q",
                    "--report", tmp_path / f"{backend}.json")
        assert r.exit_code == 0, r.output
        outs[backend] = _exr_frames(tmp_path / backend)
        assert json.loads((tmp_path / f"{backend}.json").read_text())["engine"].startswith(backend)
    assert len(outs["torch"]) == len(outs["onnxruntime"]) == 6
    for a, b in zip(outs["torch"], outs["onnxruntime"]):
        assert np.abs(a - b).max() < 1e-3 * max(1.0, float(a.max()))
    assert list((tmp_path / "cache" / "onnx").glob("expandnet-field-fp32-*/model.onnx"))  # exported once, cached


def test_fast_mode_and_tiles_run_end_to_end(bright_clip: Path, tmp_path: Path):
    r = run_cli("convert", bright_clip, tmp_path / "o.mp4", "-m", "expandnet", "--backend", "onnxruntime",
                "--infer-scale", "0.5", "--tile", "32", "-q", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["frames"] == 6 and "scale 0.5" in rep["engine"] and "tile 32" in rep["engine"]


def test_sequential_baseline_gives_the_same_frames(bright_clip: Path, tmp_path: Path):
    frames = {}
    for seq in (False, True):
        out = tmp_path / f"seq{seq}"
        rep = convert(ConvertOptions(bright_clip, out, model="itmo", sequential=seq))
        assert rep["frames"] == 6
        frames[seq] = _exr_frames(out)
    for a, b in zip(frames[False], frames[True]):
        np.testing.assert_array_equal(a, b)


def test_bad_backend_choice_is_one_line(bright_clip: Path, tmp_path: Path):
    r = run_cli("convert", bright_clip, tmp_path / "o.mp4", "-m", "expandnet", "--backend", "onnxruntime",
                "--precision", "bf16")
    assert r.exit_code == 5 and "bf16" in r.output and r.output.count("\n") == 1
    assert not (tmp_path / "o.mp4").exists()


def test_export_cli_writes_a_checked_onnx_with_metadata(tmp_path: Path):
    out = tmp_path / "m" / "expandnet.onnx"
    r = run_cli("export", "-m", "expandnet", "-o", out, "--part", "field")
    assert r.exit_code == 0, r.output
    assert "parity vs torch" in r.output and "(ok" in r.output
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["hdrvid.part"] == "field" and meta["hdrvid.model"] == "expandnet"
    r = run_cli("export", "-m", "itmo", "-o", tmp_path / "i.onnx")
    assert r.exit_code == 4 and "classical" in r.output


def test_bench_cli_table_json_and_plot(tmp_path: Path):
    clip = make_clip(tmp_path / "b.mp4", frames=8, size=(96, 64))
    r = run_cli("bench", clip, "-m", "expandnet@0.5", "-m", "itmo", "--backend", "torch", "--backend", "onnxruntime",
                "--backend", "tensorrt", "--json", tmp_path / "b.json", "--plot", tmp_path / "b.png", "-q")
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "b.json").read_text())
    modes = {(row["model"], row["backend"], row["mode"]) for row in res["rows"]}
    for backend in ("torch", "onnxruntime"):
        for mode in ("model", "pipelined", "sequential"):
            assert ("expandnet@0.5", backend, mode) in modes
    assert ("none", "-", "transcode") in modes and ("itmo", "torch", "pipelined") in modes
    piped = [row for row in res["rows"] if row["mode"] == "pipelined"]
    assert all(row["fps"] > 0 and row["slowest_stage"] and row["vs_transcode"] and row["vs_sequential"] for row in piped)
    assert all(set(row["stages_busy_s"]) >= {"decode", "infer", "encode"} for row in piped)
    assert any(s["backend"] == "tensorrt" for s in res["skipped"])  # not installed here: reported, not fatal
    assert (tmp_path / "b.png").stat().st_size > 1000
    assert "e2e/slowest" in r.output
    # the machine it ran on, for a report sent back from elsewhere (issue 17)
    m = res["machine"]
    assert m["cores"] >= 1 and isinstance(m["native_bf16"], bool) and isinstance(m["gpus"], list)
    assert set(m["flags"]) <= {"avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}
    assert m["versions"]["torch"] and m["versions"]["onnxruntime"] and m["versions"]["hdrvid"]
    assert f"{m['cores']} cores" in r.output.splitlines()[0]


def test_a_model_without_onnx_export_says_so(bright_clip: Path, tmp_path: Path):
    """brackets-debevec's per-shot stack choice is state: torch only, said in one line."""
    r = run_cli("convert", bright_clip, tmp_path / "o.mp4", "-m", "brackets-debevec", "--backend", "onnxruntime")
    assert r.exit_code == 5 and "--backend torch" in r.output and "internal error" not in r.output
    r = run_cli("export", "-m", "brackets-debevec", "-o", tmp_path / "x" / "m.onnx")
    assert r.exit_code == 4 and "torch backend" in r.output


def test_default_model_runs_on_onnxruntime_like_torch(bright_clip: Path, tmp_path: Path):
    """hdrunet-auto (the default) on ONNX Runtime: its three network parts exported for any frame size, the
    detector, curve and cap in torch; the same light as the torch backend in fp32 (the EXR frames are half
    floats: a few half-float steps apart at most)."""
    outs = {}
    for backend in ("torch", "onnxruntime"):
        r = run_cli("convert", bright_clip, tmp_path / backend, "--backend", backend, "--precision", "fp32", "-q",
                    "--report", tmp_path / f"{backend}.json")
        assert r.exit_code == 0, r.output
        rep = json.loads((tmp_path / f"{backend}.json").read_text())
        assert rep["model"] == "hdrunet-auto" and rep["engine"].startswith(backend)
        outs[backend] = _exr_frames(tmp_path / backend)
    assert len(outs["torch"]) == len(outs["onnxruntime"]) == 6
    for a, b in zip(outs["torch"], outs["onnxruntime"]):
        assert np.abs(a - b).max() < 4e-3 * max(1.0, float(a.max()))
    assert sorted(p.parent.name.split("-fp32")[0] for p in (tmp_path / "cache" / "onnx").glob("*/model.onnx")) \
        == ["hdrunet-auto-context", "hdrunet-auto-field", "hdrunet-auto-field_tile"]
