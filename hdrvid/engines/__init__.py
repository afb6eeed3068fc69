"""Inference backends behind one protocol: torch, ONNX Runtime, TensorRT; plus whole/tiled/scaled execution."""

from hdrvid.engines.base import BACKENDS, PRECISIONS, Engine, cache_dir
from hdrvid.engines.executor import ExecutionPlan, Executor, ModelPart, PartedModel
from hdrvid.engines.onnx_file import check_onnx_file
from hdrvid.engines.onnxruntime_engine import OrtConfig, OrtEngine
from hdrvid.engines.tensorrt_engine import TensorRTConfig, TensorRTEngine
from hdrvid.engines.torch_engine import TorchConfig, TorchEngine

__all__ = ["BACKENDS", "PRECISIONS", "Engine", "ExecutionPlan", "Executor", "ModelPart", "OrtConfig", "OrtEngine",
           "PartedModel", "TensorRTConfig", "TensorRTEngine", "TorchConfig", "TorchEngine", "cache_dir",
           "check_onnx_file"]
