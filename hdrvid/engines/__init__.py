"""Inference backends behind one protocol. Only the torch engine is built in so far."""

from hdrvid.engines.base import Engine
from hdrvid.engines.torch_engine import TorchConfig, TorchEngine

__all__ = ["Engine", "TorchConfig", "TorchEngine"]
