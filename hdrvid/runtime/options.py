"""What every job is told about running a model: ``EngineOptions`` (a backend value from
:mod:`hdrvid.engines.backends` and how frames are fed to it). Torch-free, so options parse without it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hdrvid.engines.backends import Backend, OrtBackend, TensorRTBackend, TorchBackend, backend_device
from hdrvid.errors import BackendError
from hdrvid.machine import usable_cores


@dataclass(frozen=True)
class EngineOptions:
    """How to run the model: a backend value, and whole / tiled / reduced-scale execution."""

    backend: Backend = field(default_factory=TorchBackend)
    tile: int = 0
    overlap: int | None = None
    infer_scale: float | None = 1.0
    """Fraction of the frame size the network runs at; None = automatic (:func:`auto_scale`)."""
    max_size: tuple[int, int] = (2160, 3840)
    """Largest frame (h, w) a TensorRT engine's optimisation profile must cover."""
    steps: int | None = None
    """Diffusion models: DDIM steps (None: the model's default)."""
    seed: int = 0
    """Diffusion models: the seed of the clip's noise field."""
    noise_scale: float | None = None
    """Diffusion models: temperature of the starting noise (None: the model's default)."""
    diffusion_start: float | None = None
    """Diffusion models: where in the schedule the chain starts, in (0, 1] (SDEdit's strength; None: the
    model's default)."""

    def __post_init__(self) -> None:
        if not isinstance(self.backend, (TorchBackend, OrtBackend, TensorRTBackend)):
            raise BackendError(f"backend must be a backend value (see hdrvid.engines.backends), not {self.backend!r}")
        if self.tile < 0:
            raise BackendError(f"--tile must be 0 (whole frames) or a tile size in pixels, not {self.tile}")
        if self.overlap is not None and self.overlap < 0:
            raise BackendError(f"tile overlap must be >= 0, not {self.overlap}")
        if self.infer_scale is not None and not 0 < self.infer_scale <= 1:
            raise BackendError(f"--infer-scale must be in (0, 1] or auto, not {self.infer_scale}")
        if self.diffusion_start is not None and not 0 < self.diffusion_start <= 1:
            raise BackendError(f"the diffusion start must be in (0, 1], not {self.diffusion_start}")

    @property
    def device(self) -> str:
        """The torch device the backend computes on ("cpu" or "cuda:N")."""
        return backend_device(self.backend)


def streaming_threads(opts: EngineOptions, share: float, cores: int | None = None) -> EngineOptions:
    """``opts`` with the CPU engine's intra-op threads (torch or ONNX Runtime) planned beside a video encoder:
    ``share`` of the cores (at least one) when the user chose none; GPUs, TensorRT and an explicit ``--threads``
    unchanged.

    Why: torch's default is one thread per core, and x265 also starts one per core. For a model whose frame is a
    chain of small full-frame passes (``hdrunet-auto`` in the CPU fast mode: ~200 ops of a few ms each) the
    second thread of each op mostly waits for a core the encoder holds: on 2 cores, 720p, 48 frames, one
    torch thread instead of two took 6.0 instead of 6.55 s (system time 0.5 instead of 1.3 s) for the same
    bytes (ONNX Runtime: 9.7 instead of 10.1-11.0 s; BENCHMARKS.md, issue 17 session 22). A network that is the
    bottleneck (``expandnet`` 8.3 -> 12.3 s on one thread) keeps every core (``share`` 1)."""
    backend = opts.backend
    on_cpu = (isinstance(backend, TorchBackend) and backend.device == "cpu") or \
        (isinstance(backend, OrtBackend) and backend.provider == "cpu")
    if not on_cpu or backend.threads is not None or share >= 1:  # type: ignore[union-attr]
        return opts
    threads = max(1, int((cores or usable_cores()) * share))
    return replace(opts, backend=replace(backend, threads=threads))


FAST_WIDTH = 320
"""The fast mode's network width from 1280 px up: the network sees every frame of 1280 px or more at the same
size (320 px wide), so its cost stops growing with the frame and a 720p and a 1080p copy of a film get the same
expansion."""


def auto_scale(device: str, width: int) -> float:
    """``--infer-scale auto``: full resolution on a GPU; on a CPU the fast mode, by frame width
    (>= 1280: the network at FAST_WIDTH px wide, 0.25 at 1280, 1/6 at 1920; >= 640: 0.5; else 1). Measured
    cost: BENCHMARKS.md and the models' cards."""
    if device.startswith("cuda"):
        return 1.0
    return FAST_WIDTH / width if width >= 1280 else 0.5 if width >= 640 else 1.0
