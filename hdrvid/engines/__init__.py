"""Inference backends behind one protocol: torch, ONNX Runtime, TensorRT; plus whole/tiled/scaled execution."""

from hdrvid.engines.backends import (
    BACKENDS,
    PRECISIONS,
    Backend,
    OrtBackend,
    TensorRTBackend,
    TorchBackend,
    backend_device,
    backend_from_options,
)
from hdrvid.engines.base import Engine, cache_dir
from hdrvid.engines.executor import ExecutionPlan, Executor, ModelPart, PartedModel
from hdrvid.engines.onnx_file import check_onnx_file
from hdrvid.engines.onnxruntime_engine import OrtEngine
from hdrvid.engines.tensorrt_engine import TensorRTEngine
from hdrvid.engines.torch_engine import TorchEngine

__all__ = ["BACKENDS", "PRECISIONS", "Backend", "Engine", "ExecutionPlan", "Executor", "ModelPart", "OrtBackend",
           "OrtEngine", "PartedModel", "TensorRTBackend", "TensorRTEngine", "TorchBackend", "TorchEngine",
           "backend_device", "backend_from_options", "cache_dir", "check_onnx_file"]
