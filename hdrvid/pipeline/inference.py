"""Inference stage: runs each batch through an executor (see :mod:`hdrvid.runtime`), hands frames on one by one."""

from __future__ import annotations

import math
from collections.abc import Iterator

from hdrvid.engines import Executor
from hdrvid.errors import ModelError

MAX_RELATIVE = 1e4
"""Largest plausible output (relative to reference white): PQ ends at 10,000 nits, about 49x of 203 nits;
anything far beyond is a broken model, not a highlight."""
from hdrvid.pipeline.frame import Batch, Frame


class Inference:
    name = "infer"

    def __init__(self, executor: Executor, weights: str = "the model's weights") -> None:
        self.executor = executor
        self.weights = weights

    def process(self, batch: Batch) -> Iterator[Frame]:
        out = self.executor.infer(batch.tensor)
        if out.shape[0] != batch.tensor.shape[0]:
            raise RuntimeError(f"engine {self.executor.name} returned {out.shape[0]} frames for {batch.tensor.shape[0]}")
        peak = float(out.abs().amax()) if out.numel() else 0.0
        if not math.isfinite(peak) or peak > MAX_RELATIVE:
            what = "NaN or infinite values" if not math.isfinite(peak) else f"values up to {peak:.3g}x reference white"
            raise ModelError(f"{self.weights}: the model produced {what} on frame {batch.frames[0].index}; the "
                             f"weights are damaged or not for this model (use the shipped weights or retrain)")
        for i, frame in enumerate(batch.frames[: batch.valid]):
            frame.data = out[i]
            yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        self.executor.close()
