"""hdrvid: SDR or alternating-exposure video to HDR video, streaming, with its own trained models."""

__version__ = "0.1.0"

__all__ = ["__version__"]
