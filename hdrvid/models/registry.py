"""Model registry: every model hdrvid can run, by name, with its weights file and conventions.

The registry knows no model: model modules register themselves (``hdrvid.models.builtin``), and the
package's ``__init__`` imports them, so ``get`` sees every built-in model (BasicSR's pattern).

A learned model is only ever built with its trained weights: :func:`build` refuses a model whose weights
are not shipped, and checks the file's sha256 before loading it with ``torch.load(weights_only=True)``
(tensors only, never pickled code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from hdrvid.errors import ModelError
from hdrvid.io.hashing import sha256_file
from hdrvid.lazy import torch

if TYPE_CHECKING:
    from torch import nn

KINDS = ("classical", "single-exposure", "multi-exposure", "diffusion")

INPUT_LINEAR = "linear BT.709 RGB, relative (1.0 = SDR peak white), NCHW float32 in [0, 1]"
OUTPUT_RELATIVE = "linear BT.709 RGB, relative (1.0 = SDR reference white, 203 nits in HDR10), NCHW float32"


@dataclass(frozen=True)
class ModelSpec:
    """What the pipeline needs to know about a model."""

    name: str
    kind: str
    factory: Callable[..., nn.Module]
    """The model class (or a :class:`Deferred` one), called with ``factory_kwargs``."""
    summary: str
    weights: str | None = None
    """File name inside ``hdrvid/models/weights`` (a weights-only state dict), or None if parameter-free."""
    sha256: str | None = None
    card: str | None = None
    """File name inside ``hdrvid/models/cards``."""
    input_convention: str = INPUT_LINEAR
    output_convention: str = OUTPUT_RELATIVE
    trained: bool = True
    """False while the architecture exists but no trained weights ship: building it is refused."""
    factory_kwargs: dict[str, object] = field(default_factory=dict)
    single_exposure: str | None = None
    """A merge with a single-exposure sibling: the model ``--model NAME`` runs on single-exposure footage."""
    upscaled: str | None = None
    """The model ``--upscale 2`` runs (its joint 2x super-resolution variant), if it has one."""
    output_scale: int = 1
    """Output width and height over the input's (2: a super-resolution model; it runs on whole frames only,
    unless it has a ``base``)."""
    base: str | None = None
    """A model that refines another model's output (``hdrunet-2x``: ``hdrunet-auto``): that model runs first
    through its own executor, with the engine options it would have at the input's size (fast mode, tiles)."""
    encoder_thread_share: float = 1.0
    """Share of the CPU cores its engine (torch or ONNX Runtime on the CPU) takes when a video encoder runs
    beside it (``convert`` and ``batch`` to a video, no ``--threads``): 1 = all (a network that is the
    pipeline's bottleneck needs every core), 0.5 for a model whose per-frame work is a chain of small full-frame
    passes, where a second intra-op thread mostly waits on cores that x265 holds
    (``runtime.options.streaming_threads``)."""

    int8: str | None = None
    """File name inside ``hdrvid/models/weights`` of the int8 ONNX version of its network part ``field_tile``
    (``--precision int8``; made from the shipped weights by :mod:`hdrvid.export.quantize`, the card gives the
    command), or None."""
    int8_sha256: str | None = None
    arrays: dict[str, str] | None = None
    """File name -> sha256 of the packaged files its torch-free CPU path reads beside the int8 network (``hdrunet-auto``:
    the frame-wide context in ONNX and the shoulder detector's numbers; :mod:`hdrvid.models.auto_arrays`), or None."""

    @property
    def learned(self) -> bool:
        return self.kind != "classical"


_REGISTRY: dict[str, ModelSpec] = {}

CLASSICAL_MERGES = ("debevec", "flowmerge")
LEARNED_MERGES = ("ahdr", "kalantari")
DIFFUSION_MERGES = ("diffhdr",)
VIDEO_MERGES: tuple[str, ...] = CLASSICAL_MERGES + LEARNED_MERGES + DIFFUSION_MERGES
"""What ``convert --mode alternating --merge`` takes (names only: the merges load when built)."""


@dataclass(frozen=True)
class Deferred:
    """A model class named by module and attribute, imported when the model is first built: the registry
    (names, kinds, weights, cards) is read without importing torch."""

    module: str
    name: str

    def resolve(self) -> type:
        """The class itself (imported now)."""
        import importlib

        return getattr(importlib.import_module(self.module), self.name)

    def __call__(self, **kwargs: object) -> nn.Module:
        return self.resolve()(**kwargs)


def register(spec: ModelSpec) -> ModelSpec:
    if spec.kind not in KINDS:
        raise ValueError(f"model kind must be one of {KINDS}, not {spec.kind!r}")
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))}") from None


def for_single_exposure(name: str) -> str:
    """The registry name that ``--model name`` runs on single-exposure footage (``diffhdr`` ->
    ``diffhdr-single``; every other model is itself)."""
    return get(name).single_exposure or name


def for_upscale(name: str, factor: int) -> str:
    """The registry name that ``--model name --upscale factor`` runs; refuses models without a 2x variant."""
    if factor == 1:
        return name
    single = for_single_exposure(name)
    spec = get(single)
    if spec.output_scale == factor:
        return single
    if spec.upscaled is None or get(spec.upscaled).output_scale != factor:
        having = [n for n in names() if get(n).upscaled]
        raise ModelError(f"--upscale {factor}: model {name!r} has no super-resolution variant; use --model "
                         f"{' or '.join(having)} or drop --upscale")
    return spec.upscaled


def weights_dir() -> Path:
    return Path(str(resources.files("hdrvid.models") / "weights"))


def int8_file(name: str) -> Path:
    """The model's packaged int8 network (``ModelSpec.int8``), its sha256 checked against the registry: a changed
    or replaced file is refused, never run."""
    spec = get(name)
    if spec.int8 is None:
        having = [n for n in names() if get(n).int8]
        raise ModelError(f"--precision int8: model {name!r} ships no int8 network (those that do: "
                         f"{', '.join(having)}); use --precision fp32 or auto")
    return packaged_file(spec.int8, spec.int8_sha256, "int8 network")


def arrays_file(name: str, suffix: str, what: str) -> Path | None:
    """The model's packaged file for its torch-free CPU path (``ModelSpec.arrays``) whose name ends in ``suffix``
    (``.onnx``: the context network, ``.json``: the detector's numbers), checked by ``packaged_file``; None when it
    ships none."""
    files = get(name).arrays or {}
    file = next((f for f in files if f.endswith(suffix)), None)
    return None if file is None else packaged_file(file, files[file], what)


def packaged_file(file: str, sha256: str | None, what: str) -> Path:
    """``weights/FILE``, its sha256 checked against ``sha256`` (the registry's record): a changed or replaced file
    is refused, never read."""
    path = weights_dir() / file
    if not path.is_file():
        raise ModelError(f"{path}: {what} file not found (reinstall hdrvid)")
    got = sha256_file(path)
    if got != sha256:
        raise ModelError(f"{path}: sha256 {got[:12]}... does not match the registry "
                         f"({str(sha256)[:12]}...); reinstall hdrvid")
    return path


def load_state_dict(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    """Load a weights-only state dict, refusing files whose checksum differs or that hold anything but tensors."""
    if not path.is_file():
        raise ModelError(f"{path}: weights file not found")
    if expected_sha256 is not None:
        got = sha256_file(path)
        if got != expected_sha256:
            raise ModelError(f"{path}: sha256 {got[:12]}... does not match the registry ({expected_sha256[:12]}...)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle.UnpicklingError and friends: not a plain tensor file
        raise ModelError(f"{path}: refused to load (not a weights-only tensor file: {type(e).__name__})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path}: expected a flat state dict of tensors")
    return state


def build(name: str, weights: str | Path | None = None) -> nn.Module:
    """The model ``name`` ready for inference (eval mode, on CPU). ``weights`` overrides the shipped file."""
    spec = get(name)
    model = spec.factory(**spec.factory_kwargs)
    if spec.kind == "classical":
        return model.eval()
    path = Path(weights) if weights is not None else None
    if path is not None:
        state = load_state_dict(path, None)
    elif not spec.trained or spec.weights is None:
        raise ModelError(
            f"model {name!r} has no trained weights in this release; it refuses to run with random weights "
            f"(use --model itmo, or pass trained weights with --weights FILE)"
        )
    else:
        path = weights_dir() / spec.weights
        state = load_state_dict(path, spec.sha256)
    sizes = getattr(type(model), "sizes_of", None)  # a model whose size the weights file decides (hdrunet-2x)
    if sizes is not None:
        try:
            kwargs = {**spec.factory_kwargs, **sizes(state)}
        except ModelError as e:
            raise ModelError(f"{path}: {e}") from None
        if kwargs != spec.factory_kwargs:
            model = spec.factory(**kwargs)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ModelError(f"weights do not fit model {name!r}: {str(e).splitlines()[0]}") from None
    return model.eval()
