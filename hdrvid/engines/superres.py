"""A super-resolution model's two stages: its base model's executor at the input's size, then the ``refine``
engine (the network and the composition, ``hdrvid.models.superres``) on the frame and that estimate."""

from __future__ import annotations

import torch
from torch import nn

from hdrvid.engines.base import Engine
from hdrvid.engines.diffusion import BaseExecutor


class SuperResExecutor:
    def __init__(self, model: nn.Module, refine: Engine, base: BaseExecutor) -> None:
        self.model = model.eval()
        self.engines = {"refine": refine}
        self.base = base
        self.name = f"{refine.name} 2x from {base.name}"

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        return self.engines["refine"].infer(x, self.base.infer(x).float())

    @property
    def active_share(self) -> float | None:
        """Share of tiles the base model's sparse path ran its network on (None: not sparse)."""
        return getattr(self.base, "active_share", None)

    def close(self) -> None:
        self.engines["refine"].close()
        self.base.close()
