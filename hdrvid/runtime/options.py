"""What every job is told about running a model: ``EngineOptions`` (a backend value from
:mod:`hdrvid.engines.backends` and how frames are fed to it). Torch-free, so options parse without it."""

from __future__ import annotations

from dataclasses import dataclass, field

from hdrvid.engines.backends import Backend, OrtBackend, TensorRTBackend, TorchBackend, backend_device
from hdrvid.errors import BackendError


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
