"""Modules imported on first use. ``import torch`` costs 2.5 s of a 3 s start-up on the project machines;
the plain transcode (``convert --model none``) never needs it, so the colour, pipeline and metrics modules
name torch through these proxies and pay for it only when a tensor is really made."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name``; the first attribute read imports it (later reads are one lookup)."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            object.__setattr__(self, "_module", module)
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{' (loaded)' if self._module is not None else ''}>"


torch: Any = LazyModule("torch")
F: Any = LazyModule("torch.nn.functional")
cv2: Any = LazyModule("cv2")
"""OpenCV: ~15 ms of every start, which the plain transcode never needs (session 37)."""

__all__ = ["F", "LazyModule", "cv2", "torch"]


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> tuple[Any, Any, list[str]]:
    """A package's ``__getattr__``, ``__dir__`` and ``__all__`` (PEP 562) that import the submodule holding a
    name when the name is first read: ``exports`` maps each submodule (relative to ``package``) to its names."""
    where = {name: f"{package}.{sub}" for sub, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)
