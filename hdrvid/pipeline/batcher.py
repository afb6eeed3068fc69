"""Batcher: groups frames into fixed-size batches; pads the last one (and inference trims it)."""

from __future__ import annotations

from collections.abc import Iterator

from hdrvid.lazy import torch
from hdrvid.pipeline.frame import Batch, Frame


class Batcher:
    name = "batch"

    def __init__(self, size: int = 1) -> None:
        if size < 1:
            raise ValueError("batch size must be at least 1")
        self.size = size
        self.pending: list[Frame] = []

    def _emit(self) -> Batch:
        frames, self.pending = self.pending, []
        tensors = [f.data for f in frames]
        valid = len(tensors)
        if self.size == 1:
            return Batch(frames=frames, tensor=tensors[0].unsqueeze(0), valid=1)  # no copy
        tensors += [tensors[-1]] * (self.size - valid)  # pad by repeating the last frame
        return Batch(frames=frames, tensor=torch.stack(tensors), valid=valid)

    def process(self, frame: Frame) -> Iterator[Batch]:
        if self.pending and self.pending[0].data.shape != frame.data.shape:
            yield self._emit()  # image folders: sizes differ, so never stack across sizes
        self.pending.append(frame)
        if len(self.pending) == self.size:
            yield self._emit()

    def flush(self) -> Iterator[Batch]:
        if self.pending:
            yield self._emit()

    def close(self) -> None:
        self.pending = []
