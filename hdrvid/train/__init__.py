"""Training: one loop (loop.py), model families that plug into it (single.py, merge.py), losses, data."""

from hdrvid.train.loop import TrainConfig, TrainSummary
from hdrvid.train.run import train

__all__ = ["TrainConfig", "TrainSummary", "train"]
