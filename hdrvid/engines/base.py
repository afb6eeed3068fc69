"""The Engine protocol: what the pipeline's inference stage calls, whatever the backend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch


@runtime_checkable
class Engine(Protocol):
    """Runs one network on batches. ``infer`` takes and returns NCHW float32 CPU tensors; networks split
    into parts take extra inputs (a tile and its frame's context)."""

    name: str

    def infer(self, *inputs: torch.Tensor) -> torch.Tensor: ...

    def close(self) -> None: ...


def cache_dir() -> Path:
    """Where exported ONNX files and TensorRT engines are kept: $HDRVID_CACHE, else $XDG_CACHE_HOME/hdrvid."""
    env = os.environ.get("HDRVID_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hdrvid"
