"""The Engine protocol: what the pipeline's inference stage calls, whatever the backend."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Engine(Protocol):
    """Runs one model on batches. ``infer`` takes and returns NCHW float32 CPU tensors."""

    name: str

    def infer(self, batch: torch.Tensor) -> torch.Tensor: ...

    def close(self) -> None: ...
