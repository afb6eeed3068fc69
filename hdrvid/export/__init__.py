"""Export learned models to ONNX (checked, with parity against torch) and TensorRT engines."""

from hdrvid.export.onnx import ExportResult, cached_onnx, export_onnx, parity

__all__ = ["ExportResult", "cached_onnx", "export_onnx", "parity"]
