"""``hdrunet``'s three apply paths held together: the whole field (``apply_split``), the gains read where they act
(``apply_where``) and the compiled guided pass (``apply_guided``). Call inside ``torch.inference_mode()``."""

from __future__ import annotations

import torch


def apply_paths_agree(model, x: torch.Tensor) -> torch.Tensor:
    """Asserts that the three paths give the same frame for ``x`` (1, 3, H, W); returns ``apply_split``'s."""
    from hdrvid.engines.executor import bilinear_at, guide, guided_coefficients, pick

    field = model.field(x)
    means = field[:, 3:].mean((-2, -1))
    full = model.apply_split(x, field[:, :3], means)
    where = model.apply_where(x, lambda n, r, c: field[n, :3, r, c], means)
    assert torch.allclose(where, full, rtol=1e-5, atol=1e-6)
    a, b = guided_coefficients(field[:, :3], guide(x), 2, 1e-3)
    size = tuple(x.shape[-2:])
    at = lambda n, r, c: bilinear_at(a, n, r, c, size) * guide(pick(x, n, r, c)) + bilinear_at(  # noqa: E731
        b, n, r, c, size)
    assert torch.allclose(model.apply_guided(x, a, b, means), model.apply_where(x, at, means), rtol=1e-5, atol=1e-6)
    return full
