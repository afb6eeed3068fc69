"""PyTorch eager backend."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from hdrvid.engines.backends import TorchBackend
from hdrvid.errors import BackendError

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class TorchEngine:
    def __init__(self, model: nn.Module, config: TorchBackend = TorchBackend()) -> None:
        if config.device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError("--device cuda asked for, but torch sees no CUDA GPU on this machine")
        if config.precision == "auto":
            raise BackendError("precision auto is resolved per model before an engine is built "
                               "(runtime.factory.auto_precision)")
        if config.threads:
            torch.set_num_threads(config.threads)
        self.name = config.label
        self.config = config
        self.device = torch.device(config.device)
        model = model.to(self.device).eval()
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model: nn.Module = torch.compile(model) if config.compile else model  # type: ignore[assignment]

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.config.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=_DTYPES[self.config.precision])

    @torch.inference_mode()
    def infer(self, *inputs: torch.Tensor) -> torch.Tensor:
        if self.config.threads and torch.get_num_threads() != self.config.threads:
            torch.set_num_threads(self.config.threads)  # a thread that started after a job gave the count back
        xs = [t.to(self.device, non_blocking=True) for t in inputs]
        if self.config.channels_last:
            xs = [t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t for t in xs]
        with self._autocast():
            y = self.model(*xs)
        return y.float().contiguous().cpu()

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]
