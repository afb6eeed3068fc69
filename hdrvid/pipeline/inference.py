"""Inference stage: runs each batch through an executor (see :mod:`hdrvid.runtime`), hands frames on one by one."""

from __future__ import annotations

from collections.abc import Iterator

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

    def process(self, batch: Batch) -> Iterator[Frame]:
        if self._temporal and any(self._cuts.update(f.stats.hist) for f in batch.frames[: batch.valid]):
            self.executor.model.reset_temporal()  # type: ignore[operator]
        out = boost_expansion(batch.tensor, self.executor.infer(batch.tensor), self.boost)
        if out.shape[0] != batch.tensor.shape[0]:
            raise RuntimeError(f"engine {self.executor.name} returned {out.shape[0]} frames for {batch.tensor.shape[0]}")
        what = implausible(peak_magnitude(out))
        if what:
            raise ModelError(f"{self.weights}: the model produced {what} on frame {batch.frames[0].index}; the "
                             f"weights are damaged or not for this model (use the shipped weights or retrain)")
        for i, frame in enumerate(batch.frames[: batch.valid]):
            frame.data = out[i]
            yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        if self.owns_executor:
            self.executor.close()
