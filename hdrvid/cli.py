"""Command line: parse, call the library, print. No conversion logic lives here."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

# numpy's OpenBLAS starts one thread per core when numpy loads, and they spin after each call: this program plans
# its own threads (stages, kernels, the encoder's) and calls BLAS only on 3x3 matrices (measured: ~1 % of a plain
# 720p transcode's CPU spent spinning). Set before anything imports numpy; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

from hdrvid import __version__
from hdrvid.color.gamut import GAMUT_MODES
from hdrvid.color.levels import LEVELS, SDR_MAPPINGS
from hdrvid.color.operators import OPERATORS
from hdrvid.color.transfer import INPUT_TRANSFERS
from hdrvid.errors import HdrvidError, Interrupted, OptionError
from hdrvid.machine import tune_allocator
from hdrvid.pipeline.decoder import DEINTERLACE
from hdrvid.pipeline.output import OUTPUT_FORMATS, PEAK_MODES

# Stages run in parallel threads and several of them call torch: with OpenMP's default busy-waiting, idle
# worker threads of one stage spin on the cores another stage needs (measured: fast mode at 720p pipelined
# 1.16 fps with spinning, 1.89 fps with passive waiting, on 2 cores). Set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Start-up (torch's import, a model's construction) allocates hundreds of thousands of long-lived objects and
# almost no cycles: with CPython's default thresholds that ran ~40 collections, 0.3 s of a default conversion
# (three full ones of 30-180 ms). A command-line process collects rarely instead (library callers keep theirs).
gc.set_threshold(50_000, 20, 20)


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """A click choice whose values are a module's tuple, imported when help or validation first needs them:
    the modules behind `bench`, `eval`, and `merge` import torch, and the plain
    transcode (`convert --model none`) starts without it."""

    def __init__(self, module: str, attr: str) -> None:
        self._where = (module, attr)
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        import importlib

        return tuple(getattr(importlib.import_module(self._where[0]), self._where[1]))


BENCH_MODES = LazyChoice("hdrvid.jobs.bench", "MODES")
# The choices of options that only `convert`, `batch`, `export` and `bench` have: their modules (the models'
# registry, the engines, the convert job) are not `tonemap`'s or `probe`'s to import.
BACKENDS = LazyChoice("hdrvid.engines.backends", "BACKENDS")
PRECISIONS = LazyChoice("hdrvid.engines.backends", "PRECISIONS")
PARTS = LazyChoice("hdrvid.export.parts", "PARTS")
MODES = LazyChoice("hdrvid.jobs.convert", "MODES")
VIDEO_MERGES = LazyChoice("hdrvid.models.registry", "VIDEO_MERGES")
METRICS = LazyChoice("hdrvid.jobs.evaluate", "SCORES")
METHODS = LazyChoice("hdrvid.jobs.merge_stills", "METHODS")
RESPONSES = LazyChoice("hdrvid.jobs.merge_stills", "RESPONSES")


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"hdrvid: {record.levelname.lower()}: {record.getMessage()}"


def _setup_logging(verbose: bool, quiet: bool) -> None:
    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(_OneLine())
    log = logging.getLogger("hdrvid")
    log.handlers[:] = [h]
    log.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING)
    log.propagate = False


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map library errors to one line on stderr and an exit code; tracebacks only with --verbose."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verbose = click.get_current_context().find_root().params.get("verbose", False)
        try:
            return fn(*args, **kwargs)
        except Interrupted as e:
            click.echo(f"hdrvid: {e}", err=True)
            # The temporary output is already gone. Leave without interpreter finalisation: native
            # threads of codec or torch thread pools can abort the process ("terminate called without
            # an active exception") if their owners are torn down while a signal cut them short.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(e.exit_code)
        except BrokenPipeError:  # `hdrvid info FILE | head`: the reader has what it wanted; leave quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("hdrvid: interrupted", err=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        except HdrvidError as e:
            if verbose:
                traceback.print_exc()
            click.echo(f"hdrvid: error: {e}", err=True)
            sys.exit(e.exit_code)
        except (click.exceptions.Exit, click.ClickException):
            raise  # usage errors: click prints them with the usage line and exits 2
        except Exception as e:  # a bug: say so, keep it to one line unless asked
            if verbose:
                traceback.print_exc()
            click.echo(f"hdrvid: internal error: {type(e).__name__}: {e} (run with --verbose for a traceback)", err=True)
            sys.exit(1)

    return wrapper


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        root = ctx.find_root()
        root.obj = root.obj or {}
        root.obj[param.name] = True
        root.params[param.name] = True
        _setup_logging(root.params.get("verbose", False), root.params.get("quiet", False))


def verbosity(fn: Callable[..., Any]) -> Callable[..., Any]:
    """-q/-v accepted after the command name too (`hdrvid convert -q ...`)."""
    fn = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_flag,
                      help="Only errors; no progress bar.")(fn)
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_set_flag,
                        help="Debug logging and tracebacks.")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hdrvid")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging and tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bar.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """hdrvid: SDR or alternating-exposure video to HDR10, HLG, SDR or EXR."""
    _setup_logging(verbose, quiet)
    tune_allocator()
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def engine_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--backend/--device/--precision/--threads/--tile/--infer-scale/--steps/--seed, shared by convert and eval."""
    for opt in reversed([
        click.option("--backend", type=BACKENDS, default="torch",
                     show_default=True, help="Inference backend (onnxruntime: exported once into the cache)."),
        click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:N]."),
        click.option("--precision", type=PRECISIONS, default="auto", show_default=True,
                     help="auto: bf16 for models validated in it (hdrunet, brackets) on a CPU with native bf16; "
                          "without it, the default model's packaged int8 network (ONNX Runtime); else fp32."),
        click.option("--threads", type=int, help="CPU threads for inference (default: all cores; half of them "
                                                  "for the hdrunet models beside a video encoder)."),
        click.option("--tile", default=0, show_default=True,
                     help="Run the network on tiles of this size (0: whole frames); for 4K inside a memory budget."),
        click.option("--infer-scale", default="auto", show_default=True,
                     help="Fast mode: run the network at this fraction of the size (e.g. 0.25) and apply its result "
                          "at full resolution through an edge-aware upsampled field. auto: 1 on a GPU; on a CPU "
                          "0.25 from 1280 px wide, 0.5 from 640, else 1."),
        click.option("--steps", type=int, help="Diffusion models (diffhdr): DDIM steps; fewer is faster, more adds "
                                               "detail (default: the model's, see its card)."),
        click.option("--seed", default=0, show_default=True,
                     help="Diffusion models: seed of the clip's noise field (one field for every frame)."),
        click.option("--noise-scale", type=float,
                     help="Diffusion models: temperature of the starting noise, 0-2 (0: refine the regression "
                          "estimate deterministically; default: the model's, see its card)."),
    ]):
        fn = opt(fn)
    return fn


def _engine_options(backend: str, device: str, precision: str, threads: int | None, tile: int,
                    infer_scale: str, steps: int | None = None, seed: int = 0,
                    noise_scale: float | None = None) -> Any:
    from hdrvid.engines import backend_from_options
    from hdrvid.runtime import EngineOptions

    if infer_scale.strip().lower() == "auto":
        scale = None
    else:
        try:
            scale = float(infer_scale)
        except ValueError:
            raise click.BadParameter(f"{infer_scale!r}: give a number in (0, 1] or auto",
                                     param_hint="--infer-scale") from None
    if steps is not None and steps < 1:
        raise click.BadParameter(f"{steps}: give at least 1", param_hint="--steps")
    return EngineOptions(backend=backend_from_options(backend, device, precision, threads), tile=tile,
                         infer_scale=scale, steps=steps, seed=seed, noise_scale=noise_scale)


def _content_light(_ctx: Any, _param: Any, value: str | None) -> tuple[int, int] | None:
    """``--max-cll 1000,400`` -> (1000, 400); the ranges are checked with the other options (ConvertOptions)."""
    if value is None:
        return None
    parts = value.replace(" ", "").split(",")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise click.BadParameter(f"{value!r}: give MaxCLL,MaxFALL as whole nits, e.g. 1000,400")
    return int(parts[0]), int(parts[1])


def conversion_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Every option of a conversion (model, output format and levels, encoder, decoder, engine, alternating
    mode), shared by convert and batch; :func:`_conversion` turns them into ConvertOptions."""
    options = [
        click.option("-m", "--model", default="hdrunet-auto", show_default=True, help="Model name (see `hdrvid models`)."),
        click.option("--weights", type=click.Path(path_type=Path), help="Trained weights file (weights-only state dict)."),
        click.option("-f", "--format", "fmt", type=click.Choice(OUTPUT_FORMATS),
                     help="Output format; default from OUTPUT: .mp4/.mkv/.mov (and a still to .avif) -> hdr10, "
                          "folder or %05d.exr -> exr."),
        click.option("--peak-nits", default=1000.0, show_default=True, help="Mastering peak (HDR10) / display peak (HLG)."),
        click.option("--reference-white", default=203.0, show_default=True, help="Nits of SDR reference white (BT.2408)."),
        click.option("--max-cll", callback=_content_light, metavar="MAXCLL,MAXFALL",
                     help="HDR10: write these content light levels (nits, e.g. 1000,400) instead of measuring them "
                          "on the encoded output (which costs a decode of it while encoding)."),
        click.option("--level", type=click.Choice(LEVELS), default="bt2446a", show_default=True,
                     help="Where SDR tones land in HDR10/HLG: bt2446a = BT.2446 Method A's mid-tone level (1.96x "
                          "--reference-white, SDR white ~398 nits); bt2408 = SDR white at --reference-white."),
        click.option("--highlight-boost", default=1.0, show_default=True,
                     help="Strength of the model's highlight expansion: each gain raised to this power (0 = none, "
                          "1 = as trained, 1.5 = stronger; see the model card)."),
        click.option("--average-cap", default=250.0, show_default=True, metavar="NITS",
                     help="hdrunet-auto and brackets on graded footage, and itmo: hold frames whose average light "
                          "(FALL) the model would lift above this at it (white walls, snow); the default's BT.2446A "
                          "curve once per shot: by a lower "
                          "curve where the top code is full, by one gain where it is empty; itmo: by scaling its "
                          "expansion down; 0 = no cap."),
        click.option("--upscale", type=click.Choice(["1", "2"]), default="1", show_default=True,
                     help="2: output twice the width and height (models with a 2x variant: the default, brackets)."),
        click.option("--codec", help="Video encoder: libx265 (default for HDR), libsvtav1 (AV1), libx264 (SDR)."),
        click.option("--crf", type=int, help="Constant-quality value passed to the encoder."),
        click.option("--preset", help="Encoder preset passed through (x265/x264 names, SVT-AV1 numbers)."),
        click.option("--hdr10plus", is_flag=True,
                     help="HDR10 (HEVC): add per-frame HDR10+ (SMPTE ST 2094-40) metadata measured on the written frames."),
        click.option("--input-transfer", type=click.Choice(INPUT_TRANSFERS), help="Override the input's transfer tag."),
        click.option("--sdr-mapping", type=click.Choice(SDR_MAPPINGS), default="scene", show_default=True,
                     help="BT.709 video as scene light (camera curve) or display light (BT.1886, as zscale/BT.2408); "
                          "also how --format sdr is encoded."),
        click.option("--deinterlace", type=click.Choice(DEINTERLACE), default="auto", show_default=True),
        click.option("--max-decode-errors", default=10, show_default=True, help="Fail above this many corrupt packets."),
        click.option("--allow-short", is_flag=True, help="Accept a truncated input (fewer frames than declared)."),
        click.option("--batch-size", default=1, show_default=True, help="Frames per inference batch."),
        click.option("--queue-size", default=8, show_default=True, help="Capacity of each queue between stages."),
        engine_options,
        click.option("--mode", type=MODES, default="single", show_default=True,
                     help="alternating: frames cycle through 2 or 3 exposures; merge each with its neighbours."),
        click.option("--exposures", default="auto", show_default=True,
                     help="Alternating mode: EV of each frame in the cycle, e.g. -2,+2 or -2,0,+2; auto measures it. "
                          "The phase (which frame is which) is always measured."),
        click.option("--merge", "merge_method", type=VIDEO_MERGES,
                     default="kalantari", show_default=True,
                     help="Alternating mode: how neighbours are merged (kalantari: best on the realistic validation "
                          "clips; flowmerge: 10x faster)."),
        click.option("--no-copy", is_flag=True, help="Do not copy audio and subtitle streams."),
        click.option("--overwrite", is_flag=True, help="Replace an existing output."),
        click.option("--max-pixels", default=7680 * 4320, show_default=True,
                     help="Refuse pictures larger than this many pixels (width x height) before decoding them."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def _conversion(input: Path, output: Path, kw: dict[str, Any], *, start: float = 0.0, duration: float | None = None,
                max_frames: int | None = None, start_number: int = 0, rate: Any = None) -> Any:
    """ConvertOptions from the values of :func:`conversion_options` (``kw``) and the command's own."""
    from hdrvid.jobs.convert import ConvertOptions
    from hdrvid.pipeline.decoder import DecodeOptions
    from hdrvid.pipeline.encoder import EncodeOptions

    return ConvertOptions(
        input=input, output=output, model=kw["model"], weights=kw["weights"], format=kw["fmt"],
        peak_nits=kw["peak_nits"], reference_white=kw["reference_white"], level=kw["level"], max_cll=kw["max_cll"],
        highlight_boost=kw["highlight_boost"], average_cap=kw["average_cap"], upscale=int(kw["upscale"]),
        encode=EncodeOptions(codec=kw["codec"], crf=kw["crf"], preset=kw["preset"], copy_streams=not kw["no_copy"],
                             hdr10plus=kw["hdr10plus"]),
        decode=DecodeOptions(transfer=kw["input_transfer"], sdr_mapping=kw["sdr_mapping"],
                             max_decode_errors=kw["max_decode_errors"], start=start, duration=duration,
                             max_frames=max_frames, allow_short=kw["allow_short"], deinterlace=kw["deinterlace"],
                             max_pixels=kw["max_pixels"]),
        engine=_engine_options(kw["backend"], kw["device"], kw["precision"], kw["threads"], kw["tile"],
                               kw["infer_scale"], kw["steps"], kw["seed"], kw["noise_scale"]),
        batch_size=kw["batch_size"], queue_size=kw["queue_size"], start_number=start_number,
        overwrite=kw["overwrite"], rate=rate if rate is not None else _parse_rate("24"), mode=kw["mode"],
        exposures=_parse_exposures(kw["exposures"]), merge=kw["merge_method"],
    )


@main.command()
@verbosity
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path), required=False)
@click.option("--preview", "preview_png", type=click.Path(path_type=Path),
              help="Write one converted frame as a PNG sheet (SDR input | HDR for an SDR screen | false-colour nits).")
@click.option("--at", "at_time", help="--preview: the frame at this time (seconds or HH:MM:SS[.ms]; default: middle).")
@click.option("--start", "start_time", help="Convert from this time (seconds or HH:MM:SS[.ms]); audio and subtitles follow.")
@click.option("--duration", "duration_time", help="Convert this long a part (seconds or HH:MM:SS[.ms]).")
@click.option("--frames", "max_frames", type=int, help="Convert at most this many frames.")
@conversion_options
@click.option("--start-number", default=0, show_default=True, help="First number of EXR sequence files.")
@click.option("--rate", default="24", show_default=True, help="Frame rate for image sequences written as video.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Write a JSON run report here.")
@click.pass_context
@handle_errors
def convert(ctx: click.Context, input: Path, output: Path | None, preview_png: Path | None, at_time: str | None,
            start_time: str | None, duration_time: str | None, max_frames: int | None, start_number: int, rate: str,
            report_path: Path | None, **kw: Any) -> None:
    """Convert INPUT (video, image or folder of images) to HDR OUTPUT."""
    from hdrvid.jobs.convert import convert as run_convert

    if output is None and preview_png is None:
        raise click.UsageError("give an OUTPUT file, or --preview PNG")
    opts = _conversion(input, output or preview_png, kw,
                       start=_parse_time(start_time, "--start") if start_time else 0.0,
                       duration=_parse_time(duration_time, "--duration") if duration_time else None,
                       max_frames=max_frames, start_number=start_number, rate=_parse_rate(rate))
    if preview_png is not None:
        from hdrvid.jobs.preview import preview

        shown = preview(opts, preview_png, _parse_time(at_time, "--at") if at_time else None, kw["overwrite"])
        if not ctx.obj["quiet"]:
            click.echo(str(shown), err=output is not None)
        if output is None:
            return
    _check_report(report_path, [input, output], kw["overwrite"])
    report = run_convert(opts, progress=not ctx.obj["quiet"])
    _finish(ctx, report, report_path, kw["overwrite"])


@main.command()
@verbosity
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for the outputs (one per input, named after it), the work folder and the report.")
@click.option("--engine", "engine_kind", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process; ray: Ray Core actors on this machine or a cluster (pip install \"hdrvid[ray]\").")
@click.option("--address", help="Ray cluster to join (auto or HOST:PORT; default: start one on this machine).")
@click.option("--workers", default=1, show_default=True, help="Ray actors (one per GPU on a GPU cluster).")
@click.option("--gpus-per-worker", default=0.0, show_default=True, help="GPUs each Ray actor reserves.")
@click.option("--segment-seconds", default=60.0, show_default=True,
              help="Split files into keyframe-aligned segments of about this length (0: whole files).")
@click.option("--max-retries", default=2, show_default=True, help="Retries of a unit whose worker died.")
@click.option("--resume", is_flag=True, help="Skip segments a previous run finished (valid manifest).")
@click.option("--shard", help="i/N: process every N-th unit from the i-th (Slurm arrays); join with --join.")
@click.option("--join", "join_only", is_flag=True, help="Only join the segments earlier (sharded) runs made.")
@click.option("--container", type=click.Choice([".mp4", ".mov", ".mkv"]), default=".mp4", show_default=True,
              help="Output container (file suffix).")
@click.option("--preroll", type=int, help="Frames decoded before each segment (default: from the smoothing period).")
@conversion_options
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write the batch report here (default: OUT/batch-report.json).")
@click.pass_context
@handle_errors
def batch(ctx: click.Context, inputs: tuple[str, ...], out_dir: Path, engine_kind: str, address: str | None,
          workers: int, gpus_per_worker: float, segment_seconds: float, max_retries: int, resume: bool,
          shard: str | None, join_only: bool, container: str, preroll: int | None, report_path: Path | None,
          **kw: Any) -> None:
    """Convert many INPUTS (files, folders, globs) into --out, locally or on a Ray cluster, segment-parallel."""
    from hdrvid.errors import OutputError
    from hdrvid.io.report import write_report
    from hdrvid.jobs.batch import REPORT_NAME, BatchConfig, parse_shard, run_batch

    template = _conversion(Path("-"), Path("-"), kw)
    cfg = BatchConfig(inputs=inputs, out=out_dir, convert=template, engine=engine_kind, address=address,
                      workers=workers, gpus_per_worker=gpus_per_worker, segment_seconds=segment_seconds,
                      max_retries=max_retries, resume=resume, shard=parse_shard(shard), join=join_only,
                      container=container, preroll=preroll)
    report = run_batch(cfg, progress=not ctx.obj["quiet"])
    write_report(report, report_path or out_dir / REPORT_NAME)
    if not ctx.obj["quiet"]:
        click.echo(str(report), err=True)
    if report.failed:
        raise OutputError(f"{len(report.failed)} of {len(report.files)} file(s) failed: {', '.join(report.failed)} "
                          f"(details in {report_path or out_dir / REPORT_NAME})")


def _parse_time(text: str, option: str) -> float:
    """Seconds from "12.5", "1:02" or "00:01:02.5"."""
    try:
        parts = [float(p) for p in text.strip().split(":")]
        if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
            raise ValueError
    except ValueError:
        raise OptionError(f"{option} {text!r}: give seconds (62.5) or HH:MM:SS (00:01:02.5)") from None
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def _parse_rate(text: str) -> Any:
    from fractions import Fraction

    try:
        rate = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter(f"{text!r}: give frames per second, like 24, 23.976 or 24000/1001",
                                 param_hint="--rate") from None
    if rate <= 0 or rate > 1000:
        raise click.BadParameter(f"{text!r}: a frame rate must be above 0 and at most 1000", param_hint="--rate")
    return rate


def _check_report(report_path: Path | None, files: list[Path], overwrite: bool) -> None:
    """A report obeys the rules of outputs, checked before the run: never the input or the output, never an
    existing file without --overwrite."""
    from hdrvid.io.atomic import check_destination

    if report_path is not None:
        check_destination(files, report_path, overwrite)


def _finish(ctx: click.Context, report: Any, report_path: Path | None, overwrite: bool) -> None:
    """Write the run's report (if asked; exclusive unless --overwrite) and print its one-line summary."""
    from hdrvid.io.report import write_report

    if report_path is not None:
        write_report(report, report_path, overwrite=overwrite)
    if not ctx.obj["quiet"]:
        click.echo(str(report), err=True)


def parse_model_args(items: tuple[str, ...]) -> dict[str, Any]:
    """``train --model-arg KEY=VALUE`` (repeated) -> constructor keyword arguments: int, float, true/false, or text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise OptionError(f"--model-arg {item!r}: give KEY=VALUE, e.g. --model-arg max_residual=1.0")
        value: Any = text.strip()
        for kind in (int, float):
            try:
                value = kind(value)
                break
            except ValueError:
                pass
        if value in ("true", "false"):
            value = value == "true"
        out[key.strip()] = value
    return out


def _parse_exposures(text: str) -> tuple[float, ...] | None:
    if text.strip().lower() == "auto":
        return None
    try:
        evs = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r}: give EVs separated by commas, like -2,+2 or -2,0,+2",
                                 param_hint="--exposures") from None
    if len(evs) not in (2, 3):
        raise click.BadParameter("alternating footage cycles through 2 or 3 exposures", param_hint="--exposures")
    return evs


@main.command()
@verbosity
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path), required=False)
@click.option("-o", "--operator", type=click.Choice(list(OPERATORS)), default="bt2390", show_default=True)
@click.option("--target-nits", type=float, help="Write HDR10 at this lower peak (BT.2390 EETF) instead of SDR.")
@click.option("--max-cll", callback=_content_light, metavar="MAXCLL,MAXFALL",
              help="With --target-nits: write these content light levels instead of measuring them.")
@click.option("--gamut", type=click.Choice(GAMUT_MODES), default="compress", show_default=True,
              help="BT.2020 -> BT.709: hue-preserving soft compression, or clip.")
@click.option("--two-pass", is_flag=True, help="Analyse the whole input first; one tone curve per scene.")
@click.option("--peak-source", "peak_mode", type=click.Choice(PEAK_MODES), default="auto",
              show_default=True, help="auto: measured peak capped by MaxCLL/mastering metadata when present.")
@click.option("--reference-white", default=203.0, show_default=True, help="Nits of SDR white (BT.2408).")
@click.option("--level", type=click.Choice(LEVELS), default="bt2446a", show_default=True,
              help="The HDR level that becomes SDR white: --reference-white x 1.96 (bt2446a, the inverse of "
                   "convert's default) or x 1 (bt2408).")
@click.option("--sdr-mapping", type=click.Choice(SDR_MAPPINGS), default="scene", show_default=True,
              help="SDR signal as the BT.709 camera curve of the light (scene, convert's inverse) or BT.1886 display "
                   "light (display, as zscale).")
@click.option("--rate", default="24", show_default=True, help="Frame rate for EXR sequence input.")
@click.option("--start", "start_time", help="Tone map from this time (seconds or HH:MM:SS[.ms]); audio and subtitles "
                                           "follow.")
@click.option("--duration", "duration_time", help="Tone map this long a part (seconds or HH:MM:SS[.ms]).")
@click.option("--frames", "max_frames", type=int, help="Tone map at most this many frames.")
@click.option("--flicker-warp", is_flag=True, help="Also report the optical-flow warping error (slower).")
@click.option("--preview", type=click.Path(path_type=Path), help="Write a contact sheet of all operators (PNG).")
@click.option("--frame", "frame_index", type=int, help="Frame for --preview (default: the middle one).")
@click.option("--codec", help="Encoder (libx264 for SDR, libx265/libsvtav1 for --target-nits).")
@click.option("--crf", type=int)
@click.option("--preset")
@click.option("--overwrite", is_flag=True)
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Write a JSON run report here.")
@click.pass_context
@handle_errors
def tonemap(ctx: click.Context, input: Path, output: Path | None, operator: str, target_nits: float | None,
            max_cll: tuple[int, int] | None, gamut: str, two_pass: bool, peak_mode: str, reference_white: float,
            level: str, sdr_mapping: str, rate: str, start_time: str | None, duration_time: str | None,
            max_frames: int | None, flicker_warp: bool, preview: Path | None, frame_index: int | None,
            codec: str | None, crf: int | None, preset: str | None, overwrite: bool, report_path: Path | None) -> None:
    """Tone map HDR INPUT (HDR10, HLG, EXR folder) to SDR BT.709 OUTPUT, or to a lower-peak HDR10."""

    from hdrvid.jobs.tonemap import TonemapOptions, preview_sheet
    from hdrvid.jobs.tonemap import tonemap as run_tonemap
    from hdrvid.pipeline.decoder import DecodeOptions
    from hdrvid.pipeline.encoder import EncodeOptions

    if output is None and preview is None:
        raise click.UsageError("give an OUTPUT file, or --preview PNG")
    if preview is not None:
        timings = preview_sheet(input, preview, index=frame_index, reference_white=reference_white, level=level,
                                sdr_mapping=sdr_mapping)
        if not ctx.obj["quiet"]:
            click.echo(f"{preview}: " + ", ".join(f"{k} {v:g} ms" for k, v in timings.items()), err=True)
    if output is None:
        return
    opts = TonemapOptions(
        input=input, output=output, operator=operator, gamut=gamut, target_nits=target_nits, max_cll=max_cll,
        two_pass=two_pass,
        peak_mode=peak_mode, reference_white=reference_white, level=level, sdr_mapping=sdr_mapping,
        rate=_parse_rate(rate),
        encode=EncodeOptions(codec=codec, crf=crf, preset=preset), overwrite=overwrite, flicker_warp=flicker_warp,
        decode=DecodeOptions(start=_parse_time(start_time, "--start") if start_time else 0.0,
                             duration=_parse_time(duration_time, "--duration") if duration_time else None,
                             max_frames=max_frames),
    )
    _check_report(report_path, [input, output], overwrite)
    report = run_tonemap(opts, progress=not ctx.obj["quiet"])
    _finish(ctx, report, report_path, overwrite)


@main.command()
@verbosity
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def info(file: Path, as_json: bool) -> None:
    """Show streams, size, rate, colour tags, HDR metadata and frame count of FILE."""
    from hdrvid.io.probe import describe

    d = describe(file)
    if as_json:
        click.echo(json.dumps(d, indent=2))
        return
    click.echo(f"{d['path']}  ({d['format']}, {d['duration_s'] or 0:.3f} s)")
    for s in d["streams"]:
        line = f"  #{s['index']} {s['type']:<8} {s['codec']:<10}"
        if s["type"] == "video":
            line += (f" {s['width']}x{s['height']} {s['pix_fmt']} {s.get('bit_depth', '?')}-bit @ {s['rate']} fps,"
                     f" {s['frames']} frames | {s['primaries']} / {s['transfer']} / {s['matrix']} / {s['range']}")
            if s.get("sample_aspect"):
                line += f" | pixels {s['sample_aspect']}"
            if s.get("timecode"):
                line += f" | timecode {s['timecode']}"
            if s.get("rotation"):
                line += f" | rotation {s['rotation']}"
            if s.get("interlaced"):
                line += " | interlaced"
        elif s["type"] == "audio":
            line += f" {s.get('sample_rate')} Hz, {s['frames'] or '?'} packets"
        elif s["type"] == "attachment" and s.get("filename"):
            line += f" {s['filename']}"
        click.echo(line)
        md, cl = s.get("mastering_display"), s.get("content_light_level")
        if md:
            prim = " ".join(f"{k[0].upper()}({v[0]:.4f},{v[1]:.4f})" for k, v in md.items() if isinstance(v, tuple))
            click.echo(f"      mastering display: {prim} L {md.get('min_nits', 0):g}-{md.get('max_nits', 0):g} nits")
        if cl:
            click.echo(f"      content light level: MaxCLL {cl['max_cll']} nits, MaxFALL {cl['max_fall']} nits")
    if d.get("decoded_as"):
        click.echo(f"  decoded as {d['decoded_as']['primaries']} primaries, {d['decoded_as']['transfer']} curve "
                   f"(its ICC profile, or sRGB without one)")


@main.command()
@verbosity
@click.option("-m", "--model", default="expandnet", show_default=True)
@click.option("--data", "data", multiple=True, required=True, type=click.Path(path_type=Path),
              help="Folder(s) of .exr/.hdr images (repeat the option); the held-out set is never used.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Run folder (resumes if present).")
@click.option("--steps", default=2000, show_default=True)
@click.option("--batch", default=8, show_default=True)
@click.option("--patch", default=128, show_default=True)
@click.option("--lr", default=3e-4, show_default=True)
@click.option("--procedural", default=40, show_default=True, help="Procedural HDR scenes added to the data.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--fp32", is_flag=True, help="No bf16 autocast.")
@click.option("--seed", default=0, show_default=True)
@click.option("--minutes", type=float, help="Stop after this many minutes (the schedule still spans --steps).")
@click.option("--samples", default=600, show_default=True, help="Merge models: rendered samples kept in memory.")
@click.option("--validation", default=48, show_default=True,
              help="Fixed validation samples (from the validation scenes) that checkpoints are chosen on.")
@click.option("--graded-share", default=0.4, show_default=True,
              help="Single-exposure models: share of training pictures made as graded SDR (tone curve with a shoulder).")
@click.option("--threads", type=int, help="CPU threads for training (default: all cores).")
@click.option("--adversarial", is_flag=True, help="Add a patch discriminator on tone-mapped HDR (non-saturating GAN loss).")
@click.option("--checkpoint-every", default=100, show_default=True, help="Validate and checkpoint every N steps.")
@click.option("--init", "init", type=click.Path(path_type=Path),
              help="Start a new run from these weights (fine-tuning); new parts of the model keep their init.")
@click.option("--temporal-weight", default=0.0, show_default=True,
              help="Merge models: train on realistic clips in consecutive pairs with this weight on the temporal loss.")
@click.option("--sampler-weight", default=0.0, show_default=True,
              help="Diffusion merge (diffhdr): also train through its deterministic 2/4-step sampler, with this weight.")
@click.option("--stage", default="", help="Two-stage models (brackets): generator, fusion, fusion-2x or joint (generator + fusion end to end).")
@click.option("--loss", type=click.Choice(["expandnet", "psnr-mu"]), default=None,
              help="Single-exposure models: ExpandNet's loss (default) or the metric's own: squared error of "
                   "PSNR-mu's encoding in the clipped pixels, per picture in dB; brackets --stage joint: "
                   "psnr-mu adds the metric's loss on the blended output; super-resolution networks "
                   "(hdrunet-2x, brackets-2x): psnr-mu is the metric over every pixel instead of its L1.")
@click.option("--model-arg", "model_args", multiple=True, metavar="KEY=VALUE",
              help="Build the model with this constructor argument (repeat; a number or a word, e.g. "
                   "max_residual=1.0 for hdrunet-2x); recorded in the run's config, and in the weights where the "
                   "model keeps it.")
@click.option("--sharpen-share", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Super-resolution (hdrunet-2x, brackets-2x): share of training shots sharpened as phones and TV cameras do "
                   "(unsharp mask on the codes); validation stays unsharpened.")
@click.option("--teacher", metavar="MODEL",
              help="Single-exposure models: also learn to match this shipped model's output (distillation, e.g. a "
                   "smaller hdrunet for the CPU fast mode: -m hdrunet --model-arg width=8 --teacher hdrunet).")
@click.option("--teacher-weight", default=1.0, show_default=True, type=click.FloatRange(0),
              help="Weight of the distillation loss (mean |log(1 + y) - log(1 + teacher's y)|).")
@click.pass_context
@handle_errors
def train(ctx: click.Context, model: str, data: tuple[Path, ...], out: Path, steps: int, batch: int, patch: int,
          lr: float, procedural: int, device: str, fp32: bool, seed: int, minutes: float | None, samples: int,
          graded_share: float, threads: int | None, adversarial: bool, checkpoint_every: int,
          init: Path | None, temporal_weight: float, sampler_weight: float, stage: str, loss: str | None,
          validation: int, model_args: tuple[str, ...], sharpen_share: float, teacher: str | None,
          teacher_weight: float) -> None:
    """Train MODEL on HDR images through the camera simulation; checkpoints and resumes in --out."""
    from hdrvid.train import TrainConfig
    from hdrvid.train import train as run_train

    model_kwargs = parse_model_args(model_args)

    cfg = TrainConfig(model=model, data=[str(d) for d in data], out=str(out), steps=steps, batch=batch, patch=patch,
                      lr=lr, procedural=procedural, device=device, bf16=not fp32, seed=seed, minutes=minutes,
                      samples=samples, adversarial=adversarial, checkpoint_every=checkpoint_every,
                      graded_share=graded_share, threads=threads, init=str(init) if init else None,
                      temporal_weight=temporal_weight, sampler_weight=sampler_weight, stage=stage, loss=loss or "",
                      validation=validation, model_kwargs=model_kwargs, sharpen_share=sharpen_share,
                      teacher=teacher or "", teacher_weight=teacher_weight)
    summary = run_train(cfg, progress=not ctx.obj["quiet"])
    click.echo(json.dumps(summary.as_dict(), indent=2))


@main.command("eval")
@verbosity
@click.option("-m", "--model", "models", multiple=True, default=("expandnet",), show_default=True)
@click.option("--data", "data", multiple=True, required=True, type=click.Path(path_type=Path),
              help="Folder(s) of .exr/.hdr images; the project's held-out images are used from them.")
@click.option("--weights", type=click.Path(path_type=Path), help="Weights for the (first) model instead of the shipped.")
@click.option("--width", default=512, show_default=True, help="Images are resized to this width.")
@click.option("--all-images", is_flag=True, help="Use every image, not only the held-out ones.")
@click.option("--metric", default="pu21_psnr", show_default=True,
              type=METRICS)
@click.option("--json", "as_json", type=click.Path(path_type=Path), help="Write all scores as JSON here.")
@click.option("--mode", type=MODES, default="single", show_default=True,
              help="alternating: merges (-m debevec/flowmerge/ahdr/kalantari) on semi-synthetic moving clips.")
@click.option("--dataset", type=click.Choice(["hdri", "kalantari"]), default="hdri", show_default=True,
              help="kalantari: DATA folders in the Kalantari 2017 layout (short/medium/long .tif, HDRImg.hdr).")
@click.option("--split", "split_name", type=click.Choice(["held-out", "validation"]), default="held-out",
              show_default=True, help="held-out panoramas, or the validation split checkpoints are chosen on.")
@click.option("--views", default=0, show_default=True,
              help="Score this many rectilinear views per panorama instead of the whole panorama.")
@click.option("--graded", is_flag=True, help="Also score graded SDR (tone curve with a shoulder) as a camera setting.")
@click.option("--upscale", type=click.Choice(["1", "2"]), default="1", show_default=True,
              help="2: cameras shoot the picture downscaled 2x; outputs scored at full size (models without a 2x "
                   "variant upscaled bicubically).")
@click.option("--stack", is_flag=True, help="Score the brackets model's synthetic exposures per EV (--weights: its "
              "weights) against the camera's own, on rectilinear views (--views, default 2).")
@click.option("--frames", default=24, show_default=True, help="Alternating mode: frames per clip.")
@click.option("--size", default="480x270", show_default=True, help="Alternating mode: clip size WxH.")
@click.option("--realistic", is_flag=True,
              help="Alternating mode: realistic clips (rectilinear views, exposure ratios 4-16, areas clipped in every "
                   "exposure, objects from another scene, motion blur, other camera responses, H.264 crf 18-26).")
@engine_options
@handle_errors
def evaluate_cmd(models: tuple[str, ...], data: tuple[Path, ...], weights: Path | None, width: int, all_images: bool,
                 metric: str, as_json: Path | None, mode: str, dataset: str, split_name: str, views: int,
                 graded: bool, upscale: str, stack: bool, frames: int, size: str, realistic: bool, backend: str,
                 device: str, precision: str, threads: int | None, tile: int, infer_scale: str, steps: int | None,
                 seed: int, noise_scale: float | None) -> None:
    """Score models on simulated cameras over held-out HDR images, beside itmo and plain linearisation.

    A model given as NAME@SCALE (e.g. expandnet@0.25) runs in the fast mode at that --infer-scale; A+B scores the
    geometric mean of the models' outputs (an ensemble, e.g. hdrunet-auto+brackets); a diffusion
    merge given as NAME@K[:T[:S]] (e.g. diffhdr@4:0.5) at K DDIM steps, noise scale T, the chain started at S
    of the schedule; --weights applies to the first model or merge.
    With --mode alternating, score merges against ground truth on moving alternating-exposure clips;
    with --dataset kalantari, on still brackets in the Kalantari 2017 layout."""
    from hdrvid.io.report import write_report
    from hdrvid.jobs.evaluate import evaluate
    from hdrvid.jobs.merge_eval import evaluate_alternating, evaluate_kalantari

    engine = _engine_options(backend, device, precision, threads, tile, infer_scale, steps, seed, noise_scale)
    result: Any
    if stack:
        from hdrvid.jobs.evaluate import evaluate_stack

        result = evaluate_stack(list(data), weights, views=views or 2, split_name=split_name)
        click.echo(str(result))
    elif dataset == "kalantari" or mode == "alternating":
        merges = [m for m in models if m != "expandnet"]
        if dataset == "kalantari":
            result = evaluate_kalantari(merges, list(data), engine=engine)
        else:
            w, h = (int(v) for v in size.lower().split("x"))
            mw = {merges[0].partition("@")[0]: weights} if weights and merges else None
            result = evaluate_alternating(merges, list(data), frames=frames, size=(w, h), all_images=all_images,
                                          engine=engine, realistic=realistic, split_name=split_name, weights=mw)
        click.echo(str(result))
    else:
        wts = {models[0].partition("@")[0].partition("~")[0]: weights} if weights else None
        from hdrvid.synth.camera import ALL_SETTINGS, SETTINGS

        result = evaluate(list(models), list(data), width=width, weights=wts, all_images=all_images, engine=engine,
                          split_name=split_name, views=views, settings=ALL_SETTINGS if graded else SETTINGS,
                          upscale=int(upscale))
        click.echo(f"{len(result.images)} images: {', '.join(result.images)}")
        click.echo(result.table(metric))
        if metric != "psnr_mu":
            click.echo(result.table("psnr_mu"))
    if as_json is not None:
        write_report(result, as_json)


@main.command("export")
@verbosity
@click.option("-m", "--model", required=True, help="A learned model (see `hdrvid models`).")
@click.option("--format", "fmt", type=click.Choice(["onnx", "tensorrt"]), default="onnx", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="File to write (.onnx or .engine); keep it in a folder of its own.")
@click.option("--part", type=PARTS, default="full",
              show_default=True, help="Whole model, or the network parts hdrvid runs (field; context + field_tile "
                                      "for tiling).")
@click.option("--opset", default=17, show_default=True)
@click.option("--fp16", is_flag=True, help="fp16 weights and arithmetic (inputs and outputs stay fp32).")
@click.option("--dynamic/--static", default=True, show_default=True, help="Dynamic batch, height and width.")
@click.option("--weights", type=click.Path(path_type=Path), help="Trained weights instead of the shipped ones.")
@click.option("--max-shape", default="1x1088x1920", show_default=True, help="TensorRT profile maximum NxHxW.")
@handle_errors
def export_cmd(model: str, fmt: str, output: Path, part: str, opset: int, fp16: bool, dynamic: bool,
               weights: Path | None, max_shape: str) -> None:
    """Export MODEL to ONNX (checked, with torch parity) or to a TensorRT engine."""
    if fmt == "onnx":
        from hdrvid.export.onnx import export_onnx, read_metadata

        r = export_onnx(model, output, weights=weights, part=part, opset=opset, fp16=fp16, dynamic=dynamic)
        click.echo(f"{r.path}: {r.bytes / 1e6:.2f} MB, opset {r.opset}, {r.precision}, "
                   f"{'dynamic' if r.dynamic else 'static'} shapes; parity vs torch max |diff| {r.max_abs_diff:.2e} "
                   f"({'ok' if r.parity_ok else 'FAILED'}, tolerance {r.tolerance:g})")
        for k, v in read_metadata(output).items():
            click.echo(f"  {k}: {v}")
        if not r.parity_ok:
            sys.exit(4)
        return
    from hdrvid.engines import TensorRTBackend
    from hdrvid.export.tensorrt import export_tensorrt

    n, h, w = (int(v) for v in max_shape.lower().split("x"))
    cfg = TensorRTBackend(precision="fp16" if fp16 else "fp32", max_shape=(n, h, w),
                         opt_shape=(1, min(h, 720), min(w, 1280)))
    r2 = export_tensorrt(model, output, weights=weights, part=part, config=cfg)
    click.echo(f"{r2['path']}: {r2['bytes'] / 1e6:.2f} MB TensorRT {r2['key']['tensorrt']} engine for "
               f"{r2['key']['gpu']} (record: {Path(r2['path']).with_suffix('.json')})")


@main.command()
@verbosity
@click.argument("input", type=click.Path(path_type=Path), required=False)
@click.option("-m", "--model", "models", multiple=True, default=("hdrunet-auto@auto",), show_default=True,
              help="Model(s) to measure (repeat); NAME@SCALE is the fast mode at that --infer-scale, NAME@auto the "
                   "scale convert picks (the default: the default model as convert runs it).")
@click.option("--backend", "backends", multiple=True, default=("torch", "onnxruntime"), show_default=True,
              type=BACKENDS)
@click.option("--precision", "precisions", multiple=True, default=("auto",), show_default=True,
              type=PRECISIONS, help="auto: what convert uses (bf16 where validated and native, else int8 where packaged; fp16 "
                   "on TensorRT).")
@click.option("--resolution", "resolutions", multiple=True, default=("1280x720",), show_default=True,
              help="WxH of the generated input (repeat); ignored with INPUT.")
@click.option("--frames", default=12, show_default=True, help="Frames of generated input.")
@click.option("--mode", "modes", multiple=True, default=("model", "pipelined", "sequential"), show_default=True,
              type=BENCH_MODES)
@click.option("--no-transcode", is_flag=True, help="Skip the plain-transcode ceiling.")
@click.option("--merge", "merges", multiple=True, type=VIDEO_MERGES,
              help="Also measure alternating-exposure merges on a generated EV -2/+2 clip (repeat).")
@click.option("--steps", "steps", multiple=True, type=int,
              help="Diffusion merges: measure at this many DDIM steps (repeat; default: the model's).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--threads", type=int, help="CPU threads for inference.")
@click.option("--preset", help="Encoder preset for all runs.")
@click.option("--json", "as_json", type=click.Path(path_type=Path), help="Write the full results as JSON here.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), help="Write a bar chart PNG here.")
@click.pass_context
@handle_errors
def bench(ctx: click.Context, input: Path | None, models: tuple[str, ...], backends: tuple[str, ...],
          precisions: tuple[str, ...], resolutions: tuple[str, ...], frames: int, modes: tuple[str, ...],
          no_transcode: bool, merges: tuple[str, ...], steps: tuple[int, ...], device: str, threads: int | None,
          preset: str | None, as_json: Path | None, plot_path: Path | None) -> None:
    """Measure fps across models, backends, precisions and resolutions; pipelined vs sequential vs transcode."""
    from hdrvid.io.report import write_report
    from hdrvid.jobs.bench import BenchConfig, plot, run_bench
    from hdrvid.pipeline.encoder import EncodeOptions

    if input is not None and not input.is_file():
        raise click.BadParameter(f"{input}: no such file", param_hint="INPUT")
    res = tuple(tuple(int(v) for v in r.lower().split("x")) for r in resolutions)
    cfg = BenchConfig(input=input, models=models, backends=backends, precisions=precisions,
                      resolutions=res, frames=frames, modes=modes, transcode=not no_transcode,  # type: ignore[arg-type]
                      device=device, threads=threads, encode=EncodeOptions(preset=preset), merges=merges,
                      steps=steps)
    result = run_bench(cfg, progress=not ctx.obj["quiet"])
    click.echo(str(result))
    if as_json is not None:
        write_report(result, as_json)
    if plot_path is not None:
        plot(result, plot_path)


@main.command("merge")
@verbosity
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Merged HDR image (.exr or .hdr).")
@click.option("--exposures", help="EV of each image (e.g. -2,0,2), or a Kalantari exposure.txt; default: what `hdrvid "
              "brackets` recorded for its stack, else EXIF, else measured.")
@click.option("--method", type=METHODS,
              default="flowmerge", show_default=True,
              help="robertson/mertens: OpenCV's (mertens is exposure fusion: a display-referred image, not radiance); "
                   "cfnet: the brackets model's fusion network on the darkest and brightest images.")
@click.option("--crf", "crf", type=RESPONSES, default="srgb",
              show_default=True, help="Camera response: a known curve, or calibrated from the brackets (Debevec).")
@click.option("--reference", type=int, help="Index of the reference image (default: the middle one).")
@click.option("--weights", type=click.Path(path_type=Path), help="--method cfnet: brackets weights instead of the shipped.")
@click.option("--overwrite", is_flag=True)
@handle_errors
def merge_cmd(images: tuple[Path, ...], output: Path, exposures: str | None, method: str, crf: str,
              reference: int | None, weights: Path | None, overwrite: bool) -> None:
    """Merge bracketed IMAGES (or one folder in the Kalantari layout, or one `hdrvid brackets` wrote) into one HDR
    image."""
    from hdrvid.jobs.merge_stills import merge_stills

    r = merge_stills(list(images), output, exposures=exposures, method=method, crf=crf, reference=reference,
                     overwrite=overwrite, weights=weights)
    click.echo(str(r))


@main.command("brackets")
@verbosity
@click.argument("image", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Folder for the bracket.")
@click.option("--ev", "evs", default="-3,-2,-1,1,2,3", show_default=True, help="Exposures to synthesise, in stops.")
@click.option("--weights", type=click.Path(path_type=Path), help="Trained brackets weights instead of the shipped.")
@click.option("--overwrite", is_flag=True)
@handle_errors
def brackets_cmd(image: Path, output: Path, evs: str, weights: Path | None, overwrite: bool) -> None:
    """Synthesise an exposure bracket of one IMAGE (the brackets model's first stage)."""
    from hdrvid.jobs.brackets import brackets, parse_evs

    click.echo(str(brackets(image, output, parse_evs(evs), weights, overwrite)))


@main.group()
def synth() -> None:
    """Generate test footage with ground truth."""


@synth.command("alternating")
@verbosity
@click.option("--hdri", type=click.Path(path_type=Path), help="HDR image (.exr/.hdr); default: a procedural room.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="The alternating clip (.mp4).")
@click.option("--gt", "gt_dir", type=click.Path(path_type=Path), help="Folder for ground-truth EXR frames.")
@click.option("--exposures", default="-2,2", show_default=True, help="EV cycle, e.g. -2,2 or -2,0,2.")
@click.option("--frames", default=48, show_default=True)
@click.option("--size", default="480x270", show_default=True)
@click.option("--fps", default=24, show_default=True)
@click.option("--pan", default=2.0, show_default=True, help="Camera speed, pixels per frame.")
@click.option("--objects", default=2, show_default=True, help="Independently moving objects.")
@click.option("--object-speed", default=4.0, show_default=True)
@click.option("--crf", default=18, show_default=True, help="H.264 quality.")
@click.option("--seed", default=0, show_default=True)
@handle_errors
def synth_alternating_cmd(hdri: Path | None, output: Path, gt_dir: Path | None, exposures: str, frames: int, size: str,
                          fps: int, pan: float, objects: int, object_speed: float, crf: int, seed: int) -> None:
    """A moving alternating-exposure clip (semi-synthetic) rendered from an HDR image, with ground truth."""
    from hdrvid.synth.alternating import SynthConfig, synth_alternating

    evs = _parse_exposures(exposures)
    if evs is None:
        raise click.BadParameter("give the cycle, e.g. -2,2", param_hint="--exposures")
    w, h = (int(v) for v in size.lower().split("x"))
    if hdri is not None:
        from hdrvid.io.images import read_hdr

        if not hdri.is_file():
            raise click.BadParameter(f"{hdri}: no such file", param_hint="--hdri")
        img = read_hdr(hdri)
    else:
        from hdrvid.synth.scenes import interior_with_window

        img = interior_with_window(0.5, 2 * w, 2 * h, seed=seed)
    cfg = SynthConfig(exposures=evs, frames=frames, size=(w, h), fps=fps, pan=pan, objects=objects,
                      object_speed=object_speed, crf=crf, seed=seed)
    synth_alternating(img, output, gt_dir, cfg)
    click.echo(f"{output}: {frames} frames {w}x{h}, exposures {list(evs)} EV" + (f", ground truth in {gt_dir}" if gt_dir else ""))


@main.command()
def models() -> None:
    """List the registered models."""
    from hdrvid.models import get, names

    width = max(len(n) for n in names())
    for n in names():
        s = get(n)
        state = "" if (not s.learned or s.trained) else "  [no trained weights yet]"
        click.echo(f"{n:<{width}}  {s.kind:<16} {s.summary}{state}")


@main.command()
@verbosity
@click.argument("outdir", type=click.Path(path_type=Path), default=Path("hdrvid-demo"))
@click.option("--frames", default=48, show_default=True)
@click.option("--size", default="640x360", show_default=True, help="WxH of the generated input.")
@click.pass_context
@handle_errors
def demo(ctx: click.Context, outdir: Path, frames: int, size: str) -> None:
    """Generate a built-in scene, convert it to HDR10 and SDR, and write a side-by-side preview."""
    from hdrvid.jobs.demo import run_demo

    w, h = (int(v) for v in size.lower().split("x"))
    result = run_demo(outdir, frames=frames, size=(w, h), progress=not ctx.obj["quiet"])
    for k, v in result.items():
        click.echo(f"{k:>10}: {v}")


def run() -> None:
    """The ``hdrvid`` command: :func:`main` as the process's whole life. When the command is done (outputs
    closed and renamed, or an error printed) every object is frozen out of the collector (``gc.freeze``) so the
    interpreter's closing collection does not walk them: with torch loaded (~200,000 objects) that collection
    and its teardown cost ~0.3 s of every run (``python -c "import torch"`` 1.35 s, 1.09 s with the freeze;
    BENCHMARKS.md, session 37). Not done for ``main`` itself, which library callers and tests run in their own
    long-lived processes."""
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
