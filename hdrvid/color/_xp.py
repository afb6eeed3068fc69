"""Tiny array-namespace helper: the colour maths runs unchanged on numpy arrays and torch tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # numpy.ndarray or torch.Tensor


def xp(x: Array) -> Any:
    """Return the module (numpy or torch) that owns ``x``."""
    if isinstance(x, np.ndarray) or np.isscalar(x):
        return np
    import torch

    if isinstance(x, torch.Tensor):
        return torch
    raise TypeError(f"expected a numpy array or torch tensor, got {type(x).__name__}")


def asarray(x: Array) -> Array:
    """Numpy scalars/lists become float arrays; tensors pass through."""
    if isinstance(x, (list, tuple, float, int)) or np.isscalar(x):
        return np.asarray(x, dtype=np.float64)
    return x


def where(cond: Array, a: Array, b: Array) -> Array:
    m = xp(cond)
    if m is np:
        return np.where(cond, a, b)
    import torch

    if not isinstance(a, torch.Tensor):
        a = torch.as_tensor(a, dtype=b.dtype if isinstance(b, torch.Tensor) else torch.float32, device=cond.device)
    if not isinstance(b, torch.Tensor):
        b = torch.as_tensor(b, dtype=a.dtype, device=cond.device)
    return torch.where(cond, a, b)


def apply_matrix(x: Array, m: np.ndarray, axis: int = -1) -> Array:
    """Multiply the 3-vectors along ``axis`` of ``x`` by the 3x3 matrix ``m`` (out = m @ v)."""
    mod = xp(x)
    if mod is np:
        v = np.moveaxis(x, axis, -1)
        return np.moveaxis(v @ np.asarray(m, dtype=v.dtype if v.dtype.kind == "f" else np.float64).T, -1, axis)
    import torch

    mt = torch.as_tensor(np.asarray(m).T, dtype=x.dtype, device=x.device)
    v = torch.movedim(x, axis, -1)
    return torch.movedim(v @ mt, -1, axis)
