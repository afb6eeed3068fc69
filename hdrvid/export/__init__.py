"""Export learned models to ONNX (checked, with parity against torch) and TensorRT engines."""

from typing import TYPE_CHECKING

from hdrvid.lazy import lazy_exports

_EXPORTS = {
    'onnx': ('ExportResult', 'cached_onnx', 'export_onnx', 'parity'),
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the names, for type checkers; at run time each submodule loads when first used
    from hdrvid.export.onnx import ExportResult, cached_onnx, export_onnx, parity  # noqa: F401
