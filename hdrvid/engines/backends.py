"""Backends by value (vs-mlrt's pattern): one frozen dataclass per backend, validated when it is built.

A backend value says *how* a network runs: ``TorchBackend(device="cuda", precision="bf16")``,
``OrtBackend(provider="cpu", threads=2)``, ``TensorRTBackend(precision="fp16", max_shape=(1, 2160, 3840))``.
Each one checks its own fields (a bad value raises :class:`BackendError` naming the option and its choices
before any file is opened) and owns its cache key: what an exported or compiled artefact for it depends on.
``BACKENDS`` is the registry the command line reads its ``--backend`` choices from; :func:`backend_from_options`
turns the CLI's (backend, device, precision, threads) into a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Union, get_args

from hdrvid.errors import BackendError
from hdrvid.io.hashing import sha256_file

Precision = Literal["fp32", "fp16", "bf16", "int8", "auto"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
"""``auto``: torch on a CPU with native bf16 runs a model validated in bf16 (``cpu_bf16``) in bf16; on a CPU
without it, a model that ships an int8 network (``ModelSpec.int8``) runs that through ONNX Runtime; everything
else in fp32 (``runtime.factory.auto_precision``); onnxruntime fp32, TensorRT fp16. ``int8`` (CPU only): the
model's packaged int8 network part, the rest of the model in fp32."""
OrtProvider = Literal["cpu", "cuda", "tensorrt"]

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def _choice(value: object, choices: tuple[str, ...], option: str) -> None:
    if value not in choices:
        raise BackendError(f"{option} must be one of {', '.join(choices)}, not {value!r}")


def _threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise BackendError(f"--threads must be at least 1, not {threads}")


def _thread_label(threads: int | None) -> str:
    """A label's thread count: ' 1 thread', ' 4 threads' ('' for the library's default, one per core)."""
    return f" {threads} thread{'s' if threads > 1 else ''}" if threads else ""


def device_id(device: str) -> int:
    """``cuda:N`` -> N (``cuda`` -> 0)."""
    return int(device.split(":", 1)[1]) if ":" in device else 0


@dataclass(frozen=True)
class TorchBackend:
    """PyTorch eager (optionally ``torch.compile``).

    device: "cpu" or "cuda[:N]". precision: "fp32"; "bf16" runs under autocast (AMX CPUs gain ~1.5x);
    "fp16" needs CUDA; "auto" is resolved per model when the executor is built (``runtime.factory``). threads: intra-op threads on CPU (None keeps torch's default: one per core).
    channels_last: NHWC tensors for oneDNN's convolutions (default). On the 2-core AVX-512 CPU, 1280x720,
    fp32 / bf16 seconds per frame, NCHW -> NHWC: kalantari 3.40 -> 2.32 / 1.71 -> 1.40, ahdr 11.9 -> 7.5 /
    5.8 -> 3.8, hdrunet 1.25 -> 0.91 / 0.75 -> 0.46; expandnet and itmo unchanged (within 2 %).
    """

    name: ClassVar[str] = "torch"
    device: str = "cpu"
    precision: Precision = "fp32"
    threads: int | None = None
    channels_last: bool = True
    compile: bool = False

    def __post_init__(self) -> None:
        if not _DEVICE.match(self.device):
            raise BackendError(f"--device must be cpu or cuda[:N], not {self.device!r}")
        _choice(self.precision, PRECISIONS, "--precision")
        _threads(self.threads)
        if self.precision == "fp16" and not self.device.startswith("cuda"):
            raise BackendError("fp16 needs --device cuda; on CPU use bf16 or fp32")
        if self.precision == "int8" and self.device != "cpu":
            raise BackendError("--precision int8 runs on the CPU; on a GPU use fp16 or auto")

    @property
    def label(self) -> str:
        return f"torch-{self.device}-{self.precision}{_thread_label(self.threads)}"

    def cache_key(self) -> dict[str, Any]:
        """Nothing is cached for eager torch; the key still says what the run depended on."""
        return {"backend": self.name, "device": self.device, "precision": self.precision}

    @classmethod
    def from_options(cls, device: str = "cpu", precision: str = "fp32", threads: int | None = None) -> TorchBackend:
        return cls(device=device, precision=precision, threads=threads)  # type: ignore[arg-type]


@dataclass(frozen=True)
class OrtBackend:
    """ONNX Runtime on the CPU, CUDA or TensorRT execution provider (the last two: ``pip install hdrvid[gpu]``).

    precision: "fp32" or "fp16" (an fp16 ONNX export; the TensorRT provider builds fp16 kernels itself).
    threads: intra-op threads on CPU (None: one per core). io_binding: keep tensors on the GPU between calls.
    trt_cache: where the TensorRT provider keeps its engines (default: the hdrvid cache).
    """

    name: ClassVar[str] = "onnxruntime"
    provider: OrtProvider = "cpu"
    device_id: int = 0
    precision: Precision = "fp32"
    threads: int | None = None
    io_binding: bool = True
    trt_cache: Path | None = None

    def __post_init__(self) -> None:
        _choice(self.provider, get_args(OrtProvider), "ONNX Runtime provider")
        if self.precision == "bf16":
            raise BackendError("the onnxruntime backend runs fp32, fp16 or int8; use --backend torch for bf16")
        _choice(self.precision, ("fp32", "fp16", "int8"), "--precision")
        if self.precision == "int8" and self.provider != "cpu":
            raise BackendError("--precision int8 runs on the CPU; on a GPU use fp16 or fp32")
        _threads(self.threads)
        if self.device_id < 0:
            raise BackendError(f"CUDA device index must be >= 0, not {self.device_id}")

    @property
    def label(self) -> str:
        return f"onnxruntime-{self.provider}-{self.precision}{_thread_label(self.threads)}"

    @property
    def fp16_export(self) -> bool:
        """The ONNX file this backend runs: fp16 weights for the CPU/CUDA providers asked for fp16; TensorRT
        builds its own fp16 kernels from the fp32 graph."""
        return self.precision == "fp16" and self.provider != "tensorrt"

    def cache_key(self) -> dict[str, Any]:
        """What the cached ONNX export depends on (besides the model and its weights)."""
        return {"backend": self.name, "fp16": self.fp16_export}

    @classmethod
    def from_options(cls, device: str = "cpu", precision: str = "fp32", threads: int | None = None) -> OrtBackend:
        precision = "fp32" if precision == "auto" else precision
        if device.startswith("cuda"):
            return cls(provider="cuda", device_id=device_id(device), precision=precision)  # type: ignore[arg-type]
        return cls(provider="cpu", precision=precision, threads=threads)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TensorRTBackend:
    """Native TensorRT (``pip install 'hdrvid[tensorrt]'`` on a CUDA machine).

    Shapes are (batch, height, width) of the image input (other input dims are fixed). Engines are built
    from hdrvid's own checked ONNX export into hdrvid's cache and keyed by :meth:`cache_key`.
    """

    name: ClassVar[str] = "tensorrt"
    device_id: int = 0
    precision: Precision = "fp16"
    min_shape: tuple[int, int, int] = (1, 64, 64)
    opt_shape: tuple[int, int, int] = (1, 720, 1280)
    max_shape: tuple[int, int, int] = (1, 1088, 1920)
    workspace_mib: int = 2048
    cache: Path | None = None

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "fp16"):
            raise BackendError("the tensorrt backend builds fp32 or fp16 engines")
        if self.device_id < 0:
            raise BackendError(f"CUDA device index must be >= 0, not {self.device_id}")
        for lo, opt, hi in zip(self.min_shape, self.opt_shape, self.max_shape):
            if not 1 <= lo <= opt <= hi:
                raise BackendError(f"TensorRT shapes must satisfy 1 <= min <= opt <= max, got "
                                   f"{self.min_shape}, {self.opt_shape}, {self.max_shape}")

    @property
    def label(self) -> str:
        return f"tensorrt-cuda-{self.precision}"

    def cache_key(self, onnx_path: Path, trt_version: str, gpu: str, capability: str) -> dict[str, Any]:
        """An engine is reused only when all of these match: the ONNX file's sha256, the optimisation
        profile, the precision, the TensorRT version, the GPU's name and compute capability."""
        return {"onnx_sha256": sha256_file(onnx_path), "min": list(self.min_shape), "opt": list(self.opt_shape),
                "max": list(self.max_shape), "precision": self.precision, "tensorrt": trt_version, "gpu": gpu,
                "capability": capability}

    @classmethod
    def from_options(cls, device: str = "cuda", precision: str = "fp16", threads: int | None = None) -> TensorRTBackend:
        if not device.startswith("cuda"):
            raise BackendError("the tensorrt backend runs on a CUDA GPU: add --device cuda")
        precision = "fp16" if precision == "auto" else precision
        return cls(device_id=device_id(device), precision=precision)  # type: ignore[arg-type]


Backend = Union[TorchBackend, OrtBackend, TensorRTBackend]
BACKENDS: dict[str, type[TorchBackend] | type[OrtBackend] | type[TensorRTBackend]] = {
    b.name: b for b in (TorchBackend, OrtBackend, TensorRTBackend)
}
"""The registry: ``--backend`` choices, in the order the CLI shows them."""


def backend_from_options(name: str, device: str = "cpu", precision: str = "fp32", threads: int | None = None) -> Backend:
    """A backend value from the command line's words."""
    _choice(name, tuple(BACKENDS), "--backend")
    return BACKENDS[name].from_options(device=device, precision=precision, threads=threads)


def backend_device(backend: Backend) -> str:
    """The torch device string a backend computes on ("cpu" or "cuda:N")."""
    if isinstance(backend, TorchBackend):
        return backend.device
    if isinstance(backend, OrtBackend) and backend.provider == "cpu":
        return "cpu"
    return f"cuda:{backend.device_id}"
