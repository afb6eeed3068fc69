"""A super-resolution model's two stages: its base model's executor at the input's size, then the ``refine``
engine (the network and the composition, ``hdrvid.models.superres``) on the frame and that estimate."""

from __future__ import annotations

import torch
from torch import nn

from hdrvid.engines.base import Engine
from hdrvid.engines.diffusion import BaseExecutor
from hdrvid.engines.executor import tiled

REFINE_TILE = 384
"""On the CPU the refining network runs on tiles of this many input pixels a side (each with its receptive field
around it) when its whole-frame feature maps would be larger than glibc's largest ``mmap`` threshold (32 MiB,
``MMAP_LIMIT``): a tile's maps (32 x 422 x 422 floats, 23 MB) stay below it, so the allocator reuses them, where on
whole frames each layer's output at 1280x720 (118 MB) was mapped, faulted in, zeroed and unmapped again.
Measured (the shipped network, 2 threads, fp32; BENCHMARKS.md session 31): one 1920x1080 frame 8.4 s whole (8.2 s of
it in the kernel), 4.6-5.0 s in tiles of 256, 4.8-5.1 s in tiles of 384, 9.1-9.3 s in tiles of 512; 1280x720 3.8 ->
2.0 s; the same numbers out. A 640x360 frame (29 MB maps) runs whole: tiles only added work there (in bf16, 48
frames end to end, 18.3 -> 24.2 s in tiles of 256)."""
MMAP_LIMIT = 32 * 1024 * 1024


class SuperResExecutor:
    def __init__(self, model: nn.Module, refine: Engine, base: BaseExecutor, tile: int | None = None) -> None:
        """``tile``: run the refining network on tiles of this size (input pixels; with the model's
        ``receptive_radius`` around each, so the result is the whole frame's) when its feature maps on the whole
        frame would exceed MMAP_LIMIT; None: whole frames always (GPUs)."""
        self.model = model.eval()
        self.engines = {"refine": refine}
        self.base = base
        self.tile = tile
        self.halo = int(getattr(model, "receptive_radius"))
        self.name = f"{refine.name} 2x from {base.name}"

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        base = self.base.infer(x).float()
        refine = self.engines["refine"]
        n, _, h, w = x.shape
        maps = n * h * w * int(getattr(self.model, "refine_features")) * 4  # one float32 feature map, whole frames
        if self.tile is None or maps <= MMAP_LIMIT:
            return refine.infer(x, base)
        c = x.shape[1]  # the frame and its estimate tiled together, split again for the network
        return tiled(lambda t: refine.infer(t[:, :c], t[:, c:]), torch.cat([x, base], 1), self.tile, self.halo,
                     scale=2)

    @property
    def active_share(self) -> float | None:
        """Share of tiles the base model's sparse path ran its network on (None: not sparse)."""
        return getattr(self.base, "active_share", None)

    def close(self) -> None:
        self.engines["refine"].close()
        self.base.close()
