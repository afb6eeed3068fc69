"""Inference: runs the engine on each batch and hands frames on one by one (padding dropped)."""

from __future__ import annotations

from collections.abc import Iterator

from hdrvid.engines.base import Engine
from hdrvid.pipeline.frame import Batch, Frame


class Inference:
    name = "infer"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def process(self, batch: Batch) -> Iterator[Frame]:
        out = self.engine.infer(batch.tensor)
        if out.shape[0] != batch.tensor.shape[0]:
            raise RuntimeError(f"engine {self.engine.name} returned {out.shape[0]} frames for {batch.tensor.shape[0]}")
        for i, frame in enumerate(batch.frames[: batch.valid]):
            frame.data = out[i]
            yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        self.engine.close()
