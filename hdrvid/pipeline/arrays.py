"""Models on numpy frames: the inference stages of a run that never loads torch.

``convert`` uses :class:`ArrayModel` for a model with a numpy implementation (``itmo``, ``none``), and
:class:`AutoNetwork` + :class:`AutoExpand` for the default model's torch-free CPU path
(:mod:`hdrvid.engines.array_executor`), when every other stage takes numpy frames too (HDR10 output through the
compiled kernel, the smoother); the picture is the torch path's within float rounding (tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from hdrvid.errors import ModelError
from hdrvid.pipeline.frame import Frame, implausible
from hdrvid.pipeline.smoothing import SceneCuts


def checked(out: np.ndarray, message: str) -> np.ndarray:
    """``out`` if it holds a picture's values, else a ModelError: ``message`` with ``{what}`` (NaN, infinite, absurd)."""
    what = implausible(max(float(out.max()), -float(out.min())) if out.size else 0.0)
    if what:
        raise ModelError(message.format(what=what))
    return out


class ArrayModel:
    """Runs ``fn`` ((3, H, W) float32 -> the same, made by ``models.arrays.ARRAY_MODELS``) on every frame's light,
    which is the frame's own (the decoder makes a new array per frame): ``fn`` may write its result there. An
    ``fn`` with state between frames (``reset_temporal``: ``itmo``'s average-light cap) gets it in video, reset at
    scene cuts (the detector the smoother uses)."""

    name = "infer"

    def __init__(self, fn: Callable[..., np.ndarray], model: str, video: bool = True,
                 cut_threshold: float = 0.3) -> None:
        self.fn = fn
        self.model = model
        self._cuts = SceneCuts(cut_threshold) if video and hasattr(fn, "reset_temporal") else None
        if self._cuts is not None:
            fn.enable_temporal()  # type: ignore[attr-defined]

    def process(self, frame: Frame) -> Iterator[Frame]:
        if self._cuts is not None and self._cuts.update(frame.stats.hist):
            self.fn.reset_temporal()  # type: ignore[attr-defined]
        out = self.fn(np.asarray(frame.data), overwrite=True)
        frame.data = checked(out, f"{self.model} produced {{what}} on frame {frame.index}; the input frame holds "
                                  f"values no picture has")
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass


@dataclass
class PreparedFrame:
    """A frame whose network part has run, and what is left to do for it (``rest()`` -> the expanded light)."""

    frame: Frame
    rest: Callable[[], np.ndarray]


class AutoNetwork:
    """First of the two stages of ``hdrunet-auto``'s torch-free path (:class:`hdrvid.engines.array_executor.
    ArrayExecutor`): the network's part of each frame (stateless), beside the previous frame's expansion, as
    :class:`hdrvid.pipeline.inference.Network` does for the torch executor."""

    name = "infer"

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def process(self, frame: Frame) -> Iterator[PreparedFrame]:
        yield PreparedFrame(frame, self.executor.prepare(np.asarray(frame.data)))

    def flush(self) -> Iterator[PreparedFrame]:
        return iter(())

    def close(self) -> None:
        pass  # closed by AutoExpand, which uses the executor last


class AutoExpand:
    """Second stage: the model's expansion of each frame in the frames' order, its per-shot state reset at scene
    cuts (the detector ``Inference`` uses), and the check that the output is a picture."""

    name = "expand"
    max_queue = 2
    """At most this many prepared frames wait (each holds its full-size frame)."""

    def __init__(self, executor: Any, model: str, cut_threshold: float = 0.3) -> None:
        self.executor = executor
        self.model = model
        self._cuts = SceneCuts(cut_threshold)
        executor.model.enable_temporal()

    def process(self, item: PreparedFrame) -> Iterator[Frame]:
        frame = item.frame
        if self._cuts.update(frame.stats.hist):
            self.executor.model.reset_temporal()
        frame.data = checked(item.rest(), f"the shipped {self.model} files: the model produced {{what}} on frame "
                                          f"{frame.index}; reinstall hdrvid")
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        self.executor.close()
