"""Inference stage: runs each batch through an executor (see :mod:`hdrvid.runtime`), hands frames on one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hdrvid.engines import Executor
from hdrvid.errors import ModelError
from hdrvid.lazy import torch
from hdrvid.pipeline.frame import Batch, Frame, implausible
from hdrvid.pipeline.smoothing import SceneCuts


def boost_expansion(linear: torch.Tensor, out: torch.Tensor, boost: float) -> torch.Tensor:
    """``--highlight-boost``: the model's expansion of each pixel raised to ``boost`` (out = in x ratio^boost):
    1 keeps the model as trained, 0 gives the plain linearised input, 2 doubles every gain in stops.
    Pixels the model left alone stay alone whatever the boost."""
    if boost == 1.0:
        return out
    lin = linear.to(out.dtype)
    ok = lin > 1e-4
    ratio = (out / lin.clamp(min=1e-4)).clamp(min=1e-6)
    return torch.where(ok, lin * ratio.pow(boost), out)


def peak_magnitude(out: torch.Tensor) -> float:
    """The largest magnitude in ``out`` (NaN if it holds one): one min-max pass, no full-frame ``abs`` copy."""
    if not out.numel():
        return 0.0
    lo, hi = torch.aminmax(out)
    return max(float(hi), -float(lo))


class Inference:
    name = "infer"

    def __init__(self, executor: Executor, weights: str = "the model's weights", video: bool = False,
                 temporal_alpha: float = 0.1, cut_threshold: float = 0.3, boost: float = 1.0,
                 owns_executor: bool = True) -> None:
        """``video``: models with frame-wide state that should move slowly (``enable_temporal``) get it, reset
        at scene cuts (the same detector the smoother uses). ``boost``: see :func:`boost_expansion`."""
        self.executor = executor
        self.owns_executor = owns_executor
        """False: the executor outlives this run (``hdrvid batch`` reuses a worker's model); not closed here."""
        self.boost = boost
        self.weights = weights
        model = executor.model
        self._temporal = video and hasattr(model, "enable_temporal")
        self._cuts = SceneCuts(cut_threshold)
        if self._temporal:
            model.enable_temporal(temporal_alpha)
            if hasattr(model, "reset_temporal"):  # a run starts afresh (``hdrvid batch`` reuses a worker's model)
                model.reset_temporal()

    def process(self, batch: Batch) -> Iterator[Frame]:
        return self.finish(self.prepare(batch))

    def prepare(self, batch: Batch) -> Prepared:
        """The executor's stateless part of ``batch`` now (:meth:`hdrvid.engines.Executor.prepare`), the rest later."""
        prepare = getattr(self.executor, "prepare", None)
        rest = prepare(batch.tensor) if prepare is not None else (lambda: self.executor.infer(batch.tensor))
        return Prepared(batch, rest)

    def finish(self, item: Prepared) -> Iterator[Frame]:
        batch = item.batch
        if self._temporal and any(self._cuts.update(f.stats.hist) for f in batch.frames[: batch.valid]):
            self.executor.model.reset_temporal()  # type: ignore[operator]
        out = boost_expansion(batch.tensor, item.rest(), self.boost)
        if out.shape[0] != batch.tensor.shape[0]:
            raise RuntimeError(f"engine {self.executor.name} returned {out.shape[0]} frames for {batch.tensor.shape[0]}")
        what = implausible(peak_magnitude(out))
        if what:
            raise ModelError(f"{self.weights}: the model produced {what} on frame {batch.frames[0].index}; the "
                             f"weights are damaged or not for this model (use the shipped weights or retrain)")
        for i, frame in enumerate(batch.frames[: batch.valid]):
            frame.data = out[i]
            yield frame

    def stages(self) -> list[Any]:
        """This stage as the pipeline should run it: two stages (:class:`Network`, then :class:`Expand`, on their own
        threads) when the executor's network part is worth running beside the previous frame's expansion
        (:attr:`hdrvid.engines.Executor.overlaps`: hdrunet's fast mode, whose expansion at 1080p costs as much as
        the network), else itself. The same arithmetic in the same order per frame either way (tests)."""
        if getattr(self.executor, "overlaps", False):
            return [Network(self), Expand(self)]
        return [self]

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        if self.owns_executor:
            self.executor.close()


@dataclass
class Prepared:
    """A batch whose network part has run, and what is left to do for it (``rest()`` -> the model's output)."""

    batch: Batch
    rest: Callable[[], torch.Tensor]


class _Half:
    """One of the two stages of a split :class:`Inference` (what both halves share)."""

    def __init__(self, inference: Inference) -> None:
        self.inference = inference

    def flush(self) -> Iterator[Any]:
        return iter(())


class Network(_Half):
    """First half of a split :class:`Inference`: the executor's stateless network part, frame after frame."""

    name = "infer"

    def process(self, batch: Batch) -> Iterator[Prepared]:
        yield self.inference.prepare(batch)

    def close(self) -> None:
        pass  # the executor is closed by Expand, which uses it last


class Expand(_Half):
    """Second half of a split :class:`Inference`: the model's expansion of each frame, with its per-shot state and
    the scene cuts that reset it, in the frames' order."""

    name = "expand"
    max_queue = 2
    """At most this many prepared frames wait (each holds its full-size frame): the split costs two frames of
    memory, not a queue's worth."""

    def process(self, item: Prepared) -> Iterator[Frame]:
        return self.inference.finish(item)

    def close(self) -> None:
        self.inference.close()
