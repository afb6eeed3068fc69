"""A classical model on numpy frames (``models.arrays``): the inference stage of a run that never loads torch.

``convert`` uses it for a model with a numpy implementation (``itmo``, ``none``) when every other stage takes
numpy frames too (HDR10 output through the compiled kernel, the smoother); the picture is the torch module's
within float rounding (tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from hdrvid.errors import ModelError
from hdrvid.pipeline.frame import Frame, implausible


class ArrayModel:
    """Runs ``fn`` ((3, H, W) float32 -> the same, ``models.arrays.ARRAY_MODELS``) on every frame's light, which
    is the frame's own (the decoder makes a new array per frame): ``fn`` may write its result there."""

    name = "infer"

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], model: str) -> None:
        self.fn = fn
        self.model = model

    def process(self, frame: Frame) -> Iterator[Frame]:
        out = self.fn(np.asarray(frame.data), overwrite=True)
        what = implausible(max(float(out.max()), -float(out.min())) if out.size else 0.0)
        if what:
            raise ModelError(f"{self.model} produced {what} on frame {frame.index}; the input frame holds values "
                             f"no picture has")
        frame.data = out
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass
