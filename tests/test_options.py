"""Options are validated when built (before any file is opened); the CLI's choices are the library's; one
atomic writer; typed reports."""

import json
import re
from fractions import Fraction
from pathlib import Path

import click
import pytest

from hdrvid.cli import main
from hdrvid.color.operators import OPERATORS
from hdrvid.engines import BACKENDS, PRECISIONS, OrtBackend, TensorRTBackend, TorchBackend, backend_from_options
from hdrvid.errors import BackendError, ModelError, OptionError
from hdrvid.io.atomic import AtomicFile, AtomicFolder
from hdrvid.io.report import Report, write_report
from hdrvid.jobs.bench import BenchConfig
from hdrvid.jobs.convert import ConvertOptions, ConvertReport
from hdrvid.jobs.tonemap import TonemapOptions
from hdrvid.pipeline.decoder import DecodeOptions
from hdrvid.pipeline.encoder import EncodeOptions
from hdrvid.pipeline.output import OutputSpec
from hdrvid.runtime import EngineOptions

NOWHERE = Path("/nonexistent/in.mp4")


@pytest.mark.parametrize("make, option", [
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), mode="both"), "--mode"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), merge="average"), "--merge"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), format="dolby"), "--format"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), peak_nits=0), "--peak-nits"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), peak_nits=1e9), "--peak-nits"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), peak_nits=float("nan")), "--peak-nits"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), reference_white=-5), "--reference-white"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), batch_size=0), "--batch-size"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), queue_size=0), "--queue-size"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), rate=Fraction(0)), "--rate"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), exposures=(-1000.0, 1000.0)), "--exposures"),
    (lambda: ConvertOptions(NOWHERE, Path("o.mp4"), exposures=(float("nan"), 2.0)), "--exposures"),
    (lambda: DecodeOptions(transfer="gamma9"), "--input-transfer"),
    (lambda: DecodeOptions(deinterlace="maybe"), "--deinterlace"),
    (lambda: EncodeOptions(codec="foo"), "--codec"),
    (lambda: EncodeOptions(crf=99), "--crf"),
    (lambda: OutputSpec("sdr", operator="magic"), "--operator"),
    (lambda: OutputSpec("sdr", gamut="squash"), "--gamut"),
    (lambda: OutputSpec("sdr", peak_mode="guess"), "--peak-source"),
    (lambda: TonemapOptions(NOWHERE, Path("o.mp4"), target_nits=-5), "--target-nits"),
    (lambda: TonemapOptions(NOWHERE, Path("o.mp4"), operator="magic"), "--operator"),
    (lambda: BenchConfig(modes=("fastest",)), "--mode"),
    (lambda: BenchConfig(backends=("cuda",)), "--backend"),
])
def test_bad_option_values_are_refused_when_built(make, option):
    with pytest.raises(OptionError, match=re.escape(option)):
        make()


def test_unknown_model_is_refused_when_the_options_are_built():
    with pytest.raises(ModelError, match="known models"):
        ConvertOptions(NOWHERE, Path("o.mp4"), model="magicnet")


@pytest.mark.parametrize("make, words", [
    (lambda: TorchBackend(device="gpu"), "--device"),
    (lambda: TorchBackend(precision="fp8"), "--precision"),
    (lambda: TorchBackend(threads=0), "--threads"),
    (lambda: OrtBackend(provider="directml"), "provider"),
    (lambda: TensorRTBackend(precision="bf16"), "fp32 or fp16"),
    (lambda: TensorRTBackend(min_shape=(1, 64, 64), opt_shape=(1, 32, 32)), "min <= opt <= max"),
    (lambda: backend_from_options("tensorrt", device="cpu"), "--device cuda"),
    (lambda: backend_from_options("openvino"), "--backend"),
    (lambda: EngineOptions(infer_scale=1.5), "--infer-scale"),
    (lambda: EngineOptions(tile=-1), "--tile"),
])
def test_backend_values_validate_themselves(make, words):
    with pytest.raises(BackendError, match=re.escape(words)):
        make()


def test_backend_values_own_their_cache_keys(tmp_path):
    assert OrtBackend(precision="fp16").cache_key() != OrtBackend().cache_key()
    assert OrtBackend(provider="tensorrt", precision="fp16").fp16_export is False  # TensorRT builds fp16 itself
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"graph")
    a = TensorRTBackend().cache_key(onnx, "10.3", "GPU", "8.9")
    assert a != TensorRTBackend(precision="fp32").cache_key(onnx, "10.3", "GPU", "8.9")
    assert a != TensorRTBackend(max_shape=(1, 2160, 3840)).cache_key(onnx, "10.3", "GPU", "8.9")
    onnx.write_bytes(b"other graph")
    assert a != TensorRTBackend().cache_key(onnx, "10.3", "GPU", "8.9")


def _choices(command: str, option: str) -> list[str]:
    cmd = main.commands[command]
    param = next(p for p in cmd.params if option in getattr(p, "opts", []))
    assert isinstance(param.type, click.Choice)
    return list(param.type.choices)


def test_the_cli_reads_its_choices_from_the_library():
    assert _choices("convert", "--backend") == list(BACKENDS) == _choices("bench", "--backend")
    assert _choices("convert", "--precision") == list(PRECISIONS)
    assert _choices("tonemap", "--operator") == list(OPERATORS)


def test_atomic_file_commits_on_success_and_leaves_the_old_file_on_failure(tmp_path: Path):
    dest = tmp_path / "out.json"
    dest.write_text("old")
    with pytest.raises(RuntimeError):
        with AtomicFile(dest) as f:
            f.path.write_text("half")
            raise RuntimeError("boom")
    assert dest.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    with AtomicFile(dest, durable=True) as f:
        assert f.path.parent == tmp_path and f.path.suffix == ".json"
        f.path.write_text("new")
    assert dest.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    with AtomicFolder(tmp_path / "frames") as d:
        (d.path / "a.exr").write_bytes(b"x")
    assert (tmp_path / "frames" / "a.exr").read_bytes() == b"x"


def test_one_atomic_writer_in_the_package():
    """Temporary names and renames live in hdrvid/io/atomic.py only (no second implementation)."""
    root = Path(__file__).resolve().parents[1] / "hdrvid"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py") if p.name != "atomic.py"
                 and re.search(r"os\.replace\(|mkstemp\(|mkdtemp\(|\.replace\(path\)|\.rename\(", p.read_text())]
    assert offenders == []


def test_reports_are_typed_and_written_by_one_function(tmp_path: Path):
    r = ConvertReport(input="in.mp4", output="out.mp4", format="hdr10", frames=3, fps=2.5, model="itmo",
                      max_cll=400, max_fall=100)
    assert isinstance(r, Report)
    d = r.as_dict()
    assert d["frames"] == 3 and d["max_cll"] == 400 and "network_tile_share" not in d  # None left out
    assert r["model"] == "itmo" and "MaxCLL 400" in str(r)
    write_report(r, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == d


def test_torch_threads_are_planned_beside_a_video_encoder():
    """`streaming_threads`: a share of the cores for the torch CPU engine when the user chose none; every other
    case unchanged (explicit --threads, GPUs, other backends, a model that keeps every core)."""
    from hdrvid.runtime import streaming_threads

    cpu = EngineOptions(backend=TorchBackend(precision="bf16"))
    assert streaming_threads(cpu, 0.5, cores=2).backend == TorchBackend(precision="bf16", threads=1)
    assert streaming_threads(cpu, 0.5, cores=8).backend.threads == 4
    assert streaming_threads(cpu, 0.5, cores=1).backend.threads == 1
    assert streaming_threads(cpu, 1.0, cores=8) == cpu
    mine = EngineOptions(backend=TorchBackend(threads=2))
    assert streaming_threads(mine, 0.5, cores=8) == mine
    assert streaming_threads(EngineOptions(backend=OrtBackend()), 0.5, cores=8).backend == OrtBackend(threads=4)
    for other in (EngineOptions(backend=TorchBackend(device="cuda")), EngineOptions(backend=OrtBackend("cuda")),
                  EngineOptions(backend=TensorRTBackend())):
        assert streaming_threads(other, 0.5, cores=8) == other
    assert OrtBackend(threads=2).label == "onnxruntime-cpu-fp32 2 threads"
    assert TorchBackend(threads=1).label == "torch-cpu-fp32 1 thread"
    assert TorchBackend(threads=3).label == "torch-cpu-fp32 3 threads" and TorchBackend().label == "torch-cpu-fp32"


def test_bench_labels_say_how_the_model_runs():
    """`hdrvid bench -m NAME[@SCALE|@auto]`: whole frames, the fast mode at a scale, or convert's own choice
    (the default: the default model as convert runs it); a bad scale is refused when the options are built."""
    from hdrvid.jobs.bench import model_scale

    assert BenchConfig().models == ("hdrunet-auto@auto",) and BenchConfig().precisions == ("auto",)
    assert [model_scale(m) for m in ("expandnet", "expandnet@0.25", "hdrunet-auto@auto")] == [1.0, 0.25, None]
    for bad in ("expandnet@fast", "expandnet@0", "expandnet@2"):
        with pytest.raises(OptionError, match=re.escape(f"--model {bad}")):
            BenchConfig(models=(bad,))
    from hdrvid.jobs.bench import resolved_precision

    assert resolved_precision("auto", "torch-cpu-bf16 1 thread sparse scale 0.25") == "bf16"
    assert resolved_precision("auto", "onnxruntime-cpu-fp32") == "fp32"
    assert resolved_precision("fp16", "tensorrt-fp16") == "fp16" and resolved_precision("auto", "") == "auto"


def test_convert_s_command_line_defaults_are_the_job_s_defaults():
    """A default changed in one place (``--average-cap`` moved 320 -> 250 in session 40) is changed in both: the click
    option and ``ConvertOptions`` give the same value, and the cap is the model's own default at the default level."""
    import dataclasses

    from hdrvid.color.levels import LEVEL_GAIN
    from hdrvid.models.hdrunet import AVERAGE_CAP

    params = {p.name: p.default for p in main.commands["convert"].params}
    fields = {f.name: f.default for f in dataclasses.fields(ConvertOptions)}
    for name in ("model", "peak_nits", "reference_white", "level", "highlight_boost", "average_cap", "batch_size",
                 "queue_size", "mode", "start_number"):
        assert params[name] == fields[name], name
    assert int(params["upscale"]) == fields["upscale"]
    assert fields["average_cap"] == pytest.approx(AVERAGE_CAP * 203.0 * LEVEL_GAIN[fields["level"]])
