"""Choosing and building engines for a model: the options jobs pass and the executor factory."""

from hdrvid.runtime.factory import EngineOptions, auto_scale, make_executor

__all__ = ["EngineOptions", "auto_scale", "make_executor"]
