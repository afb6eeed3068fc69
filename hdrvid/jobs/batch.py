"""``hdrvid batch``: many files, one or many machines; the same pipeline as ``convert``, segment-parallel.

Units of work are whole files or keyframe-aligned segments of them (:mod:`hdrvid.pipeline.segments`); frames
never travel between processes. A :class:`BatchWorker` loads the model once and runs the threaded pipeline
on one unit at a time, writing a video-only segment (``DIR/.hdrvid-work/<input hash>/seg-NNNNN.mov``: QuickTime keeps every codec, decode and presentation times exactly,
atomically) and a manifest beside it. Workers run in this process (``--engine local``) or as Ray Core actors,
one per GPU (``--engine ray``; Ray is an optional extra). The driver waits on results (``ray.wait``), retries
units whose worker died (at-least-once: a unit's output is replaced atomically, so a retry is harmless), and
does not retry bad input. When every segment of a file is there, the join remuxes them into the output with
the source's audio, subtitles and metadata copied once, then measures MaxCLL/MaxFALL over the whole joined
stream (HDR10) and renames it into place.

Results equal a single-process ``convert``: each segment decodes a pre-roll long enough for the temporal
statistics to forget their start (:func:`hdrvid.pipeline.segments.preroll_frames`) and a post-roll for
look-ahead windows; frame indices (the alternating merge's exposure phase) are the whole file's.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hdrvid.errors import HdrvidError, InputError, OptionError, OutputError, check_choice, check_range
from hdrvid.io.atomic import AtomicFile, check_destination, remove_stale, write_text_atomic
from hdrvid.io.hashing import sha256_file
from hdrvid.io.report import Report
from hdrvid.jobs.convert import (
    ConvertOptions,
    ConvertReport,
    Plan,
    check_sdr_source,
    light_stages,
    model_path,
    output_info,
    output_spec,
    single_engine_options,
)
from hdrvid.jobs.job import CONTAINERS, Job, execute, finish_hdr10
from hdrvid.pipeline.decoder import TRUNCATED_FIX, VideoDecoder, truncated_message
from hdrvid.pipeline.encoder import SegmentJoiner, VideoEncoder
from hdrvid.pipeline.segments import KeepRange, Segment, index_frames, plan_segments, preroll_frames
from hdrvid.runtime import make_executor

log = logging.getLogger("hdrvid")

ENGINES = ("local", "ray")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".ts", ".mts", ".m2ts", ".avi", ".mxf", ".mpg",
                  ".mpeg", ".flv", ".wmv", ".y4m")
WORK = ".hdrvid-work"
SEGMENT_FORMATS = {"ffv1": ("matroska", ".mkv")}
"""Segment containers: QuickTime (exact decode and presentation times for every codec it holds), Matroska
for FFV1 (intra-only: no reordering, so Matroska's lack of decode times does not matter)."""


def segment_format(codec: str | None) -> tuple[str, str]:
    return SEGMENT_FORMATS.get(codec or "", ("mov", ".mov"))
REPORT_NAME = "batch-report.json"
POSTROLL = 2
"""Frames decoded after a segment's own: the alternating merge looks one frame ahead."""


@dataclass(frozen=True)
class BatchConfig:
    inputs: tuple[str, ...]
    out: Path
    convert: ConvertOptions
    """Every ``convert`` option; ``input`` and ``output`` are set per file."""
    engine: str = "local"
    address: str | None = None
    workers: int = 1
    gpus_per_worker: float = 0.0
    segment_seconds: float = 60.0
    max_retries: int = 2
    resume: bool = False
    shard: tuple[int, int] | None = None
    """(i, N): process every N-th unit starting at the i-th (Slurm arrays, Kubernetes indexed jobs); the join
    is its own step (``join``)."""
    join: bool = False
    """Only join: every file's segments must already be there (after sharded runs)."""
    container: str = ".mp4"
    preroll: int | None = None
    """Frames decoded before each segment (None: from the smoothing period)."""

    def __post_init__(self) -> None:
        check_choice(self.engine, ENGINES, "--engine")
        check_range(self.workers, "--workers", 1, 4096)
        check_range(self.gpus_per_worker, "--gpus-per-worker", 0, 64)
        check_range(self.segment_seconds, "--segment-seconds", 0)
        check_range(self.max_retries, "--max-retries", 0, 100)
        if self.preroll is not None:
            check_range(self.preroll, "--preroll", 0)
        if self.shard is not None and not 0 <= self.shard[0] < self.shard[1]:
            raise OptionError(f"--shard {self.shard[0]}/{self.shard[1]}: give i/N with 0 <= i < N, e.g. 0/4")
        if self.container not in CONTAINERS or CONTAINERS[self.container] in ("mpegts",):
            raise OptionError(f"--container {self.container}: choose .mp4, .mov or .mkv")
        if self.convert.format in ("exr", "hdr"):
            raise OptionError("--format exr: hdrvid batch writes videos; convert files to EXR one by one with "
                              "hdrvid convert")
        if self.convert.decode.trimmed:
            raise OptionError("--start/--duration/--frames do not apply to hdrvid batch; it converts whole files")


@dataclass(frozen=True)
class Unit:
    """One unit of work: a segment of one input (a whole file is one segment)."""

    file: int
    input: Path
    key: str
    segment: Segment
    segments: int
    fmt: str
    codec: str | None = None

    @property
    def label(self) -> str:
        return f"{self.input.name} [{self.segment.number + 1}/{self.segments}]"


@dataclass
class FilePlan:
    input: Path
    output: Path
    key: str
    segments: list[Segment]
    frames: int

    def units(self, file: int, fmt: str, codec: str | None) -> list[Unit]:
        return [Unit(file, self.input, self.key, s, len(self.segments), fmt, codec) for s in self.segments]


@dataclass
class FileResult(Report):
    input: str
    output: str | None = None
    frames: int = 0
    segments: int = 0
    segments_done: int = 0
    seconds: float = 0.0
    """Worker time spent on this file (all segments, all attempts that succeeded)."""
    fps: float | None = None
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    max_cll: int | None = None
    max_fall: int | None = None
    joined: bool = False


@dataclass
class BatchReport(Report):
    engine: str
    workers: int
    out: str
    files: list[FileResult] = field(default_factory=list)
    units: int = 0
    seconds: float = 0.0
    failed: list[str] = field(default_factory=list)
    shard: str | None = None

    def __str__(self) -> str:
        done = sum(f.joined for f in self.files)
        frames = sum(f.frames for f in self.files)
        line = f"{done} of {len(self.files)} files converted ({frames} frames in {self.seconds:.1f} s"
        line += f", {self.units} units on {self.workers} {self.engine} worker(s))"
        if self.failed:
            line += f"; FAILED: {', '.join(self.failed)}"
        return line


# --- planning ---------------------------------------------------------------------------------------------

def expand_inputs(inputs: Iterable[str]) -> list[Path]:
    """Files, folders (their video files, sorted) and globs, in the order given, without repeats."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if any(ch in item for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            if not matches:
                raise InputError(f"{item}: no file matches this pattern; check it (quote it so the shell does not "
                                 f"expand it)")
            out.extend(m for m in matches if m.is_file())
        elif p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES
                           and WORK not in f.parts)
            if not found:
                raise InputError(f"{p}: no video files in this folder ({', '.join(VIDEO_SUFFIXES[:5])}, ...)")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder; check the path")
    seen: set[Path] = set()
    unique = []
    for f in out:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique


def options_key(opts: ConvertOptions) -> str:
    """A digest of everything that changes a segment's pictures or encoding (not the input or output name)."""
    d = asdict(replace(opts, input=Path("-"), output=Path("-"), overwrite=False))
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def input_key(path: Path, opts_key: str) -> str:
    """The work folder's name for an input: its size, its first and last MiB and the options' digest."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(size - (1 << 20))
            h.update(f.read(1 << 20))
    h.update(opts_key.encode())
    return f"{path.stem[:40]}-{h.hexdigest()[:16]}"


def work_dir(out: Path, key: str) -> Path:
    return out / WORK / key


def segment_path(out: Path, unit: Unit) -> Path:
    return work_dir(out, unit.key) / f"seg-{unit.segment.number:05d}{segment_format(unit.codec)[1]}"


def manifest_path(seg: Path) -> Path:
    return seg.with_suffix(".json")


def preroll_for(cfg: BatchConfig) -> int:
    """Frames of pre-roll: the smoother's IIR (and the models' frame-wide state, which move faster) must
    forget where a segment started; at least the alternating merge's one neighbour."""
    if cfg.preroll is not None:
        return cfg.preroll
    return max(POSTROLL, preroll_frames(cfg.convert.smoothing_period))


def plan_file(path: Path, cfg: BatchConfig, opts_key: str) -> FilePlan:
    index = index_frames(path)
    if index.declared and index.packets < index.declared and not cfg.convert.decode.allow_short:
        # as convert says it (VideoDecoder); a segment of such a file fails later with a less useful message
        raise InputError(truncated_message(path, index.packets, index.declared, len(index.pts)) + TRUNCATED_FIX)
    segments = plan_segments(index, cfg.segment_seconds, preroll_for(cfg), POSTROLL)
    output = cfg.out / (path.stem + cfg.container)
    return FilePlan(path, output, input_key(path, opts_key), segments, len(index.pts))


def valid_manifest(seg: Path, unit: Unit, opts_key: str) -> dict[str, Any] | None:
    """The segment's manifest if it describes this unit and the file beside it is intact, else None."""
    try:
        m = json.loads(manifest_path(seg).read_text())
    except (OSError, ValueError):
        return None
    ok = (isinstance(m, dict) and m.get("options") == opts_key and m.get("start") == unit.segment.start
          and m.get("end") == unit.segment.end and m.get("frames") == unit.segment.frames and seg.is_file()
          and seg.stat().st_size == m.get("bytes") and sha256_file(seg) == m.get("sha256"))
    return m if ok else None


# --- the worker --------------------------------------------------------------------------------------------

class BatchWorker:
    """Converts units; one per process (or Ray actor). The single-exposure model is loaded once and reused
    for every unit (an alternating merge is built per unit: its stage keeps per-clip state)."""

    def __init__(self, template: ConvertOptions, out: Path) -> None:
        self.template = template
        self.out = out
        self.opts_key = options_key(template)
        self._executor: Any = None
        self._executor_key: Any = None

    def _single_executor(self, opts: ConvertOptions, info: Any) -> Any:
        eng = single_engine_options(opts, info, streaming=True)  # every unit encodes a video segment
        key = (opts.single_model, str(opts.weights), eng)
        if self._executor_key != key:
            if self._executor is not None:
                self._executor.close()
            self._executor = make_executor(key[0], opts.weights, eng)
            self._executor_key = key
        return self._executor

    def run(self, unit: Unit) -> dict[str, Any]:
        """Convert one unit into its segment file and manifest; returns the manifest."""
        seg = segment_path(self.out, unit)
        seg.parent.mkdir(parents=True, exist_ok=True)
        s = unit.segment
        decode = replace(self.template.decode, pts_from=s.pts_from, pts_to=s.pts_to, first_index=s.decode_start)
        opts = replace(self.template, input=unit.input, output=seg, decode=decode, overwrite=True,
                       encode=replace(self.template.encode, copy_streams=False, hdr10plus=False))
        t0 = time.perf_counter()
        with Job(VideoDecoder(unit.input, opts.decode)) as job:
            info = job.source.info
            check_sdr_source(opts, info)
            spec = output_spec(opts, unit.fmt, info)
            reuse = (lambda: self._single_executor(opts, info)) if opts.mode == "single" else None
            fused, first, _, _, _ = model_path(opts, spec, info, Plan(unit.fmt, "video"), job.source, False,
                                               reuse=reuse)
            target = job.output(AtomicFile(seg, overwrite=True))
            writer = job.writer(VideoEncoder(target.path, segment_format(opts.encode.codec)[0], spec,
                                             output_info(opts, info),
                                             opts.encode, dest=seg))
            keep = KeepRange(s.start, s.end)
            stages = [*light_stages(opts, spec, info, fused, first)[2], keep, writer]
            execute(job.source, stages, writer, opts.queue_size, False, unit.label)
            if keep.kept != s.frames:
                raise InputError(f"{unit.input}: segment {s.number + 1} decoded {keep.kept} of its {s.frames} frames "
                                 f"(damaged file or timestamps that do not match its packets); use "
                                 f"--segment-seconds 0")
            light = writer.light
        manifest = {"options": self.opts_key, "input": str(unit.input), "segment": s.number, "start": s.start,
                    "end": s.end, "frames": s.frames, "bytes": seg.stat().st_size, "sha256": sha256_file(seg),
                    "max_cll": light.max_cll, "max_fall": light.max_fall,
                    "seconds": round(time.perf_counter() - t0, 3), "host": os.uname().nodename, "pid": os.getpid()}
        write_text_atomic(manifest_path(seg), json.dumps(manifest, indent=1) + "\n")
        return manifest

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None


Done = Callable[[Unit, dict[str, Any] | None, str | None, int], None]
"""(unit, manifest or None, error or None, retries) - called once per unit when it is finished."""


class LocalEngine:
    """Units one after another in this process, through the same worker class a Ray actor runs."""

    name = "local"

    def __init__(self, cfg: BatchConfig, worker: BatchWorker | None = None) -> None:
        self.cfg = cfg
        self.worker = worker or BatchWorker(cfg.convert, cfg.out)
        self.workers = 1

    def run(self, units: list[Unit], done: Done) -> None:
        try:
            for unit in units:
                attempt = 0
                while True:
                    try:
                        done(unit, self.worker.run(unit), None, attempt)
                        break
                    except HdrvidError as e:  # bad input or options: retrying cannot help
                        done(unit, None, str(e), attempt)
                        break
                    except (KeyboardInterrupt, SystemExit):
                        raise
                    except Exception as e:  # noqa: BLE001 - a crash of the unit: retried
                        if attempt >= self.cfg.max_retries:
                            done(unit, None, f"{type(e).__name__}: {e}", attempt)
                            break
                        attempt += 1
                        log.warning("%s: attempt %d failed (%s: %s); retrying", unit.label, attempt, type(e).__name__, e)
        finally:
            self.worker.close()


class RayEngine:
    """Ray Core actors, one per worker (``num_gpus`` each), each loading the model once; the driver submits a
    unit to every idle actor and waits (``ray.wait``). A worker that dies (OOM, crash, lost node) is
    replaced and its unit retried up to ``--max-retries`` times; an error from bad input is reported."""

    name = "ray"

    def __init__(self, cfg: BatchConfig, worker_class: type = BatchWorker) -> None:
        try:
            import ray
        except ImportError:
            raise OptionError('--engine ray needs Ray Core: pip install "hdrvid[ray]" (or --engine local)') from None
        self.ray = ray
        self.cfg = cfg
        self.workers = cfg.workers
        self._started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if cfg.address:
                kwargs["address"] = cfg.address
            else:
                kwargs["num_cpus"] = max(os.cpu_count() or 1, cfg.workers)
            self._init(kwargs)
            self._started = True
        cpus = max(1, (os.cpu_count() or 1) // cfg.workers) if not cfg.address else 1
        self.actor_class = ray.remote(num_cpus=cpus, num_gpus=cfg.gpus_per_worker, max_restarts=0)(worker_class)

    def _init(self, kwargs: dict[str, Any]) -> None:
        """``ray.init``; a local start that times out (Ray waits 30 s for its own processes, which a loaded 2-core
        machine can exceed) is tried once more before it is reported."""
        ray, address = self.ray, self.cfg.address
        for attempt in (1, 2):
            try:
                ray.init(**kwargs)
                return
            except (ConnectionError, RuntimeError, ValueError) as e:
                ray.shutdown()
                if address:
                    raise OptionError(f"--address {address}: cannot connect to a Ray cluster ({e}); check the "
                                      f"address or start one with `ray start --head`") from None
                if attempt == 2:
                    raise OptionError(f"--engine ray: Ray did not start on this machine ({e}); try again when the "
                                      f"machine is less busy, or use --engine local") from None
                log.warning("Ray did not start (%s); trying once more", e)

    def _actor(self) -> Any:
        return self.actor_class.remote(self.cfg.convert, self.cfg.out)

    def run(self, units: list[Unit], done: Done) -> None:
        ray = self.ray
        todo: deque[tuple[Unit, int]] = deque((u, 0) for u in units)
        idle = [self._actor() for _ in range(min(self.cfg.workers, len(units)))]
        pending: dict[Any, tuple[Unit, int, Any]] = {}
        try:
            while todo or pending:
                while todo and idle:
                    unit, attempt = todo.popleft()
                    actor = idle.pop()
                    pending[actor.run.remote(unit)] = (unit, attempt, actor)
                ready, _ = ray.wait(list(pending), num_returns=1)
                ref = ready[0]
                unit, attempt, actor = pending.pop(ref)
                try:
                    done(unit, ray.get(ref), None, attempt)
                    idle.append(actor)
                except ray.exceptions.RayTaskError as e:  # the unit raised: bad input is not retried
                    cause = getattr(e, "cause", None)
                    idle.append(actor)
                    if isinstance(cause, HdrvidError) or attempt >= self.cfg.max_retries:
                        done(unit, None, str(cause) if cause is not None else str(e).splitlines()[0], attempt)
                    else:
                        log.warning("%s: attempt %d failed (%s); retrying", unit.label, attempt + 1, cause)
                        todo.append((unit, attempt + 1))
                except ray.exceptions.RayError as e:  # the worker died (OOM, crash, node lost): a new one
                    ray.kill(actor, no_restart=True)
                    idle.append(self._actor())
                    if attempt >= self.cfg.max_retries:
                        done(unit, None, f"worker died {attempt + 1} times ({type(e).__name__})", attempt)
                    else:
                        log.warning("%s: worker died (%s); retrying on a new worker", unit.label, type(e).__name__)
                        todo.append((unit, attempt + 1))
        finally:
            for actor in idle + [a for _, _, a in pending.values()]:
                try:
                    ray.kill(actor, no_restart=True)
                except Exception:  # noqa: BLE001 - already gone
                    pass
            if self._started:
                ray.shutdown()


# --- the join ----------------------------------------------------------------------------------------------

def join_file(plan: FilePlan, cfg: BatchConfig, fmt: str, result: FileResult, opts_key: str) -> None:
    """Remux the file's segments into its output (audio, subtitles, metadata copied once from the source),
    HDR10 light levels measured over the whole joined stream; the output appears only when complete."""
    units = plan.units(0, fmt, cfg.convert.encode.codec)
    segs = [segment_path(cfg.out, u) for u in units]
    manifests = [valid_manifest(s, u, opts_key) for s, u in zip(segs, units)]
    missing = [u.segment.number + 1 for u, m in zip(units, manifests) if m is None]
    if missing:
        raise OutputError(f"{plan.input}: segment(s) {', '.join(map(str, missing))} of {len(units)} are missing or "
                          f"damaged; run hdrvid batch again (with --resume) to make them")
    opts = replace(cfg.convert, input=plan.input, output=plan.output)
    dec = VideoDecoder(plan.input, opts.decode)
    info = dec.info
    dec.close()
    spec = output_spec(opts, fmt, info)
    report = ConvertReport(input=str(plan.input), output=str(plan.output), format=fmt)
    with AtomicFile(plan.output, overwrite=opts.overwrite) as target:
        joiner = SegmentJoiner(target.path, CONTAINERS[cfg.container], spec, output_info(opts, info), segs, opts.encode,
                               dest=plan.output)
        try:
            joiner.join()
            joiner.flush()
            for m in manifests:
                assert m is not None
                joiner.light.update(m["max_cll"], m["max_fall"])
            if joiner.frames != plan.frames:
                raise OutputError(f"{plan.output}: the joined segments hold {joiner.frames} frames, the input "
                                  f"{plan.frames}; run again without --resume")
            if fmt == "hdr10":
                finish_hdr10(joiner, target, report, opts.peak_nits)
        finally:
            joiner.close()
    result.max_cll, result.max_fall, result.joined = report.max_cll, report.max_fall, True
    result.output = str(plan.output)
    shutil.rmtree(work_dir(cfg.out, plan.key), ignore_errors=True)  # the segments are in the output now
    try:
        (cfg.out / WORK).rmdir()
    except OSError:
        pass  # other files' segments are still there


# --- the driver --------------------------------------------------------------------------------------------

def run_batch(cfg: BatchConfig, progress: bool = False, engine: Any = None) -> BatchReport:
    """Plan every input, run the units (local or Ray), join finished files; returns the batch report.
    Files that fail are named in ``report.failed``; the others still complete."""
    t0 = time.perf_counter()
    files = expand_inputs(cfg.inputs)
    if not files:
        raise InputError("no inputs; give video files, folders or globs")
    out = cfg.out
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file; --out takes a folder")
    out.mkdir(parents=True, exist_ok=True)
    fmt = cfg.convert.format or "hdr10"
    opts_key = options_key(cfg.convert)
    report = BatchReport(engine=cfg.engine, workers=cfg.workers, out=str(out),
                         shard=f"{cfg.shard[0]}/{cfg.shard[1]}" if cfg.shard else None)
    plans: dict[int, FilePlan] = {}
    outputs: dict[Path, Path] = {}
    for i, f in enumerate(files):
        res = FileResult(input=str(f))
        report.files.append(res)
        try:
            plan = plan_file(f, cfg, opts_key)
            if plan.output.resolve() in outputs:
                raise OutputError(f"{f}: its output {plan.output.name} would also be {outputs[plan.output.resolve()]}'s; "
                                  f"rename one of them")
            outputs[plan.output.resolve()] = f
            if not cfg.join:
                check_destination([f], plan.output, cfg.convert.overwrite)
            plans[i] = plan
            res.frames, res.segments = plan.frames, len(plan.segments)
            remove_stale(work_dir(out, plan.key))
        except HdrvidError as e:
            res.errors.append(str(e))
            log.error("%s", e)  # named now, as a unit's failure is
    units = [u for i, p in plans.items() for u in p.units(i, fmt, cfg.convert.encode.codec)]
    if cfg.shard is not None:
        k, n = cfg.shard
        units = units[k::n]
    todo = []
    for u in units:
        if (cfg.resume or cfg.join) and valid_manifest(segment_path(out, u), u, opts_key) is not None:
            report.files[u.file].segments_done += 1
            continue
        todo.append(u)
    if cfg.join and todo:
        for u in todo:
            report.files[u.file].errors.append(f"segment {u.segment.number + 1} is missing")
        todo = []
    report.units = len(todo)
    bar = _bar(progress, sum(u.segment.frames for u in todo))

    def done(unit: Unit, manifest: dict[str, Any] | None, error: str | None, retries: int) -> None:
        res = report.files[unit.file]
        res.retries += retries
        if error is not None:
            res.errors.append(f"segment {unit.segment.number + 1}: {error}")
            log.error("%s: %s", unit.label, error)
        else:
            assert manifest is not None
            res.segments_done += 1
            res.seconds += manifest["seconds"]
        if bar is not None:
            bar.update(unit.segment.frames)
            bar.set_postfix_str(unit.label)

    if todo:
        runner = engine or (RayEngine(cfg) if cfg.engine == "ray" else LocalEngine(cfg))
        report.workers = runner.workers
        try:
            runner.run(todo, done)
        finally:
            if bar is not None:
                bar.close()
    for i, plan in plans.items():
        res = report.files[i]
        if res.errors or (cfg.shard is not None and not cfg.join):
            continue
        try:
            join_file(plan, cfg, fmt, res, opts_key)
            res.fps = round(res.frames / res.seconds, 3) if res.seconds > 0 else None
        except HdrvidError as e:
            res.errors.append(str(e))
    report.failed = [f.input for f in report.files if f.errors]
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def _bar(enabled: bool, total: int) -> Any:
    if not enabled or not sys.stderr.isatty() or not total:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", desc="batch", file=sys.stderr)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise OptionError(f"--shard {text!r}: give i/N, e.g. 0/4") from None
    return i, n

