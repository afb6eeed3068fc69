"""Inference backends behind one protocol: torch, ONNX Runtime, TensorRT; plus whole/tiled/scaled execution.

Names load with their submodule on first use (torch is imported only by the engines that need it)."""

from typing import TYPE_CHECKING

from hdrvid.lazy import lazy_exports

_EXPORTS = {
    'backends': ('BACKENDS', 'PRECISIONS', 'Backend', 'OrtBackend', 'TensorRTBackend', 'TorchBackend', 'backend_device', 'backend_from_options'),
    'base': ('Engine', 'cache_dir'),
    'executor': ('Executor', 'ModelPart', 'PartedModel'),
    'plan': ('ExecutionPlan',),
    'onnx_file': ('check_onnx_file',),
    'onnxruntime_engine': ('OrtEngine',),
    'tensorrt_engine': ('TensorRTEngine',),
    'torch_engine': ('TorchEngine',),
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the names, for type checkers; at run time each submodule loads when first used
    from hdrvid.engines.backends import (  # noqa: F401
        BACKENDS,
        PRECISIONS,
        Backend,
        OrtBackend,
        TensorRTBackend,
        TorchBackend,
        backend_device,
        backend_from_options,
    )
    from hdrvid.engines.base import Engine, cache_dir  # noqa: F401
    from hdrvid.engines.executor import Executor, ModelPart, PartedModel  # noqa: F401
    from hdrvid.engines.onnx_file import check_onnx_file  # noqa: F401
    from hdrvid.engines.onnxruntime_engine import OrtEngine  # noqa: F401
    from hdrvid.engines.plan import ExecutionPlan  # noqa: F401
    from hdrvid.engines.tensorrt_engine import TensorRTEngine  # noqa: F401
    from hdrvid.engines.torch_engine import TorchEngine  # noqa: F401
