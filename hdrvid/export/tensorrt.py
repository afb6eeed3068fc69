"""TensorRT export: an engine built from the model's checked ONNX export, with its key record beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from hdrvid.engines import TensorRTBackend
from hdrvid.engines.tensorrt_engine import build_serialized, import_tensorrt, store
from hdrvid.errors import BackendError
from hdrvid.export.onnx import cached_onnx


def export_tensorrt(name: str, path: Path, *, weights: Path | None = None, part: str = "full",
                    config: TensorRTBackend = TensorRTBackend()) -> dict[str, Any]:
    """Build a TensorRT engine for ``name`` into ``path`` (+ ``.json`` record). Needs TensorRT and a CUDA GPU.

    hdrvid itself only ever runs engines from its own cache (see hdrvid.engines.tensorrt_engine); this file is
    for deploying elsewhere, and its record says what it was built for."""
    trt = import_tensorrt()
    if not torch.cuda.is_available():
        raise BackendError("building a TensorRT engine needs a CUDA GPU; torch sees none on this machine")
    onnx_path = cached_onnx(name, part, weights=weights)
    props = torch.cuda.get_device_properties(config.device_id)
    key = config.cache_key(onnx_path, trt.__version__, props.name, f"{props.major}.{props.minor}")
    data = build_serialized(trt, onnx_path, config)
    store(Path(path), key, data)
    return {"path": str(path), "bytes": len(data), "key": key, "onnx": str(onnx_path)}
