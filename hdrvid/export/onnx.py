"""ONNX export: every learned model, whole or in parts, with metadata, onnx.checker and a parity check.

Files are written into a folder of their own (``PATH`` plus any external data beside it) through a
temporary name and renamed when complete. Metadata keys (``metadata_props``): hdrvid.model,
hdrvid.version, hdrvid.part, hdrvid.weights_sha256, hdrvid.precision, hdrvid.input, hdrvid.output,
hdrvid.inputs (comma-separated input names in order).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hdrvid import __version__
from hdrvid.engines import OrtBackend, OrtEngine
from hdrvid.engines.base import cache_dir
from hdrvid.engines.executor import ModelPart
from hdrvid.errors import ModelError
from hdrvid.export.parts import INPUTS as _INPUTS
from hdrvid.export.parts import OUTPUTS as _OUTPUTS
from hdrvid.io.atomic import write_bytes_atomic, write_text_atomic
from hdrvid.io.hashing import sha256_file, sign, verify
from hdrvid.models import build, get

log = logging.getLogger("hdrvid")

DEFAULT_OPSET = 17
EXPORT_REVISION = 2
"""Bumped whenever export code changes what a file contains, so cached exports are redone."""
PARITY_TOLERANCE = {"fp32": 1e-4, "fp16": 2e-2}
"""Largest accepted |onnx - torch| on the parity input (outputs are O(1) fields or relative radiance)."""



@dataclass
class ExportResult:
    path: str
    model: str
    part: str
    precision: str
    opset: int
    dynamic: bool
    bytes: int
    max_abs_diff: float
    tolerance: float
    parity_ok: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Cast(nn.Module):
    """fp16 body with fp32 inputs and outputs, so callers never change."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner.half()

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.inner(*(x.half() for x in xs)).float()


def parity_input(h: int = 96, w: int = 160, seed: int = 0) -> torch.Tensor:
    """A fixed linear frame with smooth gradients, texture and clipped highlights (what the field acts on)."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = torch.stack([xx, yy, 0.5 * (xx + yy)]) ** 2.2
    noise = 0.1 * torch.rand((3, h, w), generator=g)
    img = (base + noise).clamp(0, 1)
    img[:, h // 4:h // 2, w // 4:w // 2] = 1.0  # a clipped window
    img[2, :h // 8] = 1.0  # one clipped channel (sky)
    return img[None]


def _example_inputs(model: nn.Module, part: str, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    if part == "field_tile":
        with torch.inference_mode():
            return (x, model.context(x))  # type: ignore[operator]
    if (part == "condition" and getattr(model, "single", False)) or part == "refine":  # the frame, its estimate
        with torch.inference_mode():
            return (x, model.base(x))  # type: ignore[operator]
    if part == "denoise":  # a noisy residual at a mid timestep, and the frame's real condition
        with torch.inference_mode():
            cond = model.condition(x)  # type: ignore[operator]
        g = torch.Generator().manual_seed(1)
        return (torch.randn((x.shape[0], 3, *x.shape[-2:]), generator=g), torch.full((x.shape[0],), 500.0), cond)
    return (x,)


def export_onnx(name: str, path: Path, *, weights: Path | None = None, part: str = "full", opset: int = DEFAULT_OPSET,
                fp16: bool = False, dynamic: bool = True, check_parity: bool = True) -> ExportResult:
    """Export model ``name`` (one part of it) to ``path``; returns sizes and the measured parity."""
    import onnx

    spec = get(name)
    if not spec.learned:
        raise ModelError(f"{name} is a classical model; it runs in torch and has nothing to export "
                         f"(export one of the learned models: see hdrvid models)")
    model = build(name, weights)
    if not getattr(model, "exportable", True):
        raise ModelError(f"{name} cannot be exported to ONNX in this release (it runs on the torch backend); "
                         f"export the default hdrunet-auto, expandnet, ahdr or kalantari")
    if getattr(model, "diffusion", False) and part == "full":
        raise ModelError(f"{name} is a diffusion model: export its parts (--part condition and --part denoise); "
                         f"the DDIM loop runs around them")
    if getattr(model, "superres", False) and part != "refine":
        raise ModelError(f"{name} exports its super-resolution network only (--part refine); its base model "
                         f"{getattr(model, 'base_model')} runs on torch")
    module = ModelPart(model, part).eval()
    runnable: nn.Module = _Cast(ModelPart(build(name, weights), part)).eval() if fp16 else module
    x = model.example_input() if hasattr(model, "example_input") else parity_input()
    example = _example_inputs(model, part, x)
    in_names = _INPUTS[part] + (["base"] if part == "condition" and getattr(model, "single", False) else [])
    out_name = _OUTPUTS[part]
    axes: dict[str, dict[int, str]] = {}
    if dynamic:
        axes = {"linear": {0: "batch", 2: "height", 3: "width"}, out_name: {0: "batch", 2: "height", 3: "width"}}
        if part == "field_tile":
            axes["context"] = {0: "batch"}
        if part == "context":
            axes[out_name] = {0: "batch"}
        if part == "condition":
            axes.update({n: {0: "batch", 2: "height", 3: "width"} for n in in_names})
        if part == "refine":  # the output is twice the size of the inputs
            axes.update({n: {0: "batch", 2: "height", 3: "width"} for n in in_names})
            axes[out_name] = {0: "batch", 2: "height2", 3: "width2"}
        if part == "denoise":
            axes = {n: {0: "batch", 2: "height", 3: "width"} for n in ("residual", "condition", out_name)}
            axes["timestep"] = {0: "batch"}
    buf = io.BytesIO()
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)  # the TorchScript exporter's own notice
        torch.onnx.export(runnable, example, buf, input_names=in_names, output_names=[out_name], opset_version=opset,
                          dynamic_axes=axes or None, dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    sha = spec.sha256 if weights is None else sha256_file(Path(weights))
    meta = {"hdrvid.model": name, "hdrvid.version": __version__, "hdrvid.part": part,
            "hdrvid.weights_sha256": sha or "none (parameter-free)", "hdrvid.precision": "fp16" if fp16 else "fp32",
            "hdrvid.input": spec.input_convention, "hdrvid.inputs": ",".join(in_names),
            "hdrvid.output": spec.output_convention if part == "full" else f"model part {part!r}; see hdrvid.engines.executor"}
    for k, v in meta.items():
        p = proto.metadata_props.add()
        p.key, p.value = k, v
    proto.doc_string = f"hdrvid {__version__}: {spec.summary} (part {part})"
    proto.producer_name = "hdrvid"
    onnx.checker.check_model(proto, full_check=True)
    path = Path(path)
    write_bytes_atomic(path, proto.SerializeToString())
    diff = parity(path, module, example) if check_parity else float("nan")
    if check_parity and dynamic:  # a second size: catches sizes baked into the graph while tracing
        x2 = model.example_input(72, 120) if hasattr(model, "example_input") else parity_input(72, 120)
        diff = max(diff, parity(path, module, _example_inputs(model, part, x2)))
    tol = PARITY_TOLERANCE["fp16" if fp16 else "fp32"]
    return ExportResult(str(path), name, part, "fp16" if fp16 else "fp32", opset, dynamic, path.stat().st_size,
                        diff, tol, bool(diff <= tol) if check_parity else True)


def parity(path: Path, reference: nn.Module, inputs: tuple[torch.Tensor, ...]) -> float:
    """max |onnxruntime(path) - torch| on ``inputs`` (CPU)."""
    engine = OrtEngine(path, OrtBackend(provider="cpu"))
    try:
        got = engine.infer(*inputs)
    finally:
        engine.close()
    with torch.inference_mode():
        want = reference(*inputs).float()
    return float((got - want).abs().max())


@functools.lru_cache(maxsize=1)
def model_code_digest() -> str:
    """sha256 of the models' source (``hdrvid/models/*.py``): part of a cached export's key, so a change to what a
    model computes (session 34: ``brackets``' stage-2 ensemble, with the same weights and version) exports again."""
    h = hashlib.sha256()
    for f in sorted(Path(__file__).resolve().parents[1].joinpath("models").glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def cached_onnx(name: str, part: str, *, weights: Path | None = None, fp16: bool = False,
                opset: int = DEFAULT_OPSET, root: Path | None = None) -> Path:
    """The ONNX file for a model part, exported once into the cache and reused (keyed on weights, versions)."""
    spec = get(name)
    sha = sha256_file(Path(weights)) if weights is not None else (spec.sha256 or "classical")
    key = f"{name}|{part}|{sha}|{fp16}|{opset}|{__version__}|{torch.__version__}|{EXPORT_REVISION}|{model_code_digest()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = (root or cache_dir() / "onnx") / f"{name}-{part}-{'fp16' if fp16 else 'fp32'}-{digest}" / "model.onnx"
    if _verified(path):
        return path
    if path.exists() or path.is_symlink():
        log.warning("%s: cached ONNX file failed verification (changed, planted or a link); exporting it again", path)
    log.info("exporting %s (%s) to %s", name, part, path)
    if path.is_symlink():
        path.unlink()
    result = export_onnx(name, path, weights=weights, part=part, opset=opset, fp16=fp16)
    if not result.parity_ok:
        path.unlink(missing_ok=True)
        raise ModelError(f"{name}: the ONNX export differs from torch by {result.max_abs_diff:.3g} "
                         f"(> {result.tolerance}); use --backend torch")
    record = {"sha256": sha256_file(path), "signature": sign(SIGN_PURPOSE, sha256_file(path))}
    write_text_atomic(_record(path), json.dumps(record) + "\n")
    return path


SIGN_PURPOSE = "hdrvid-onnx-cache"


def _record(path: Path) -> Path:
    return path.with_name(path.name + ".sig.json")


def _verified(path: Path) -> bool:
    """A cached export is used only if it is a regular file (no link), its sha256 matches the record written
    when hdrvid exported it, and that record carries this user's signature (a planted file and record cannot)."""
    if path.is_symlink() or path.parent.is_symlink() or not path.is_file():
        return False
    try:
        record = json.loads(_record(path).read_text())
    except (OSError, ValueError):
        return False
    digest = sha256_file(path)
    return record.get("sha256") == digest and verify(SIGN_PURPOSE, digest, record.get("signature"))


def read_metadata(path: Path) -> dict[str, str]:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}

