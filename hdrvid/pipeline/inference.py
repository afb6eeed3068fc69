"""Inference stage: runs each batch through an executor (see :mod:`hdrvid.runtime`), hands frames on one by one."""

from __future__ import annotations

from collections.abc import Iterator

from hdrvid.engines import Executor
from hdrvid.pipeline.frame import Batch, Frame


class Inference:
    name = "infer"

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def process(self, batch: Batch) -> Iterator[Frame]:
        out = self.executor.infer(batch.tensor)
        if out.shape[0] != batch.tensor.shape[0]:
            raise RuntimeError(f"engine {self.executor.name} returned {out.shape[0]} frames for {batch.tensor.shape[0]}")
        for i, frame in enumerate(batch.frames[: batch.valid]):
            frame.data = out[i]
            yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        self.executor.close()
