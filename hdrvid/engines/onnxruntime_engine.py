"""ONNX Runtime backend: CPU, CUDA and TensorRT execution providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hdrvid.engines.backends import OrtBackend
from hdrvid.engines.base import cache_dir
from hdrvid.engines.onnx_file import check_onnx_file
from hdrvid.errors import BackendError
from hdrvid.lazy import torch

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}


def import_ort() -> Any:
    try:
        import onnxruntime as ort
    except ImportError:
        raise BackendError("the onnxruntime backend needs ONNX Runtime: pip install onnxruntime "
                           "(or hdrvid[gpu] for CUDA/TensorRT)") from None
    return ort


class OrtEngine:
    def __init__(self, onnx_path: Path, config: OrtBackend = OrtBackend(), known: bool = False) -> None:
        """``known``: the caller matched the file's sha256 against a record of that exact file (a packaged int8
        network, ``models.int8_file``), which holds no external data; the check for it is skipped (it imports
        onnx: ~0.8 s of a run's start)."""
        ort = import_ort()
        if not known:
            check_onnx_file(onnx_path)
        wanted = PROVIDERS[config.provider]
        if wanted not in ort.get_available_providers():
            raise BackendError(f"ONNX Runtime here has no {wanted} (available: {', '.join(ort.get_available_providers())}); "
                               f"install hdrvid[gpu] on a machine with CUDA, or use --device cpu")
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if config.threads:
            so.intra_op_num_threads = config.threads
        providers: list[Any] = []
        if config.provider == "tensorrt":
            trt_dir = config.trt_cache or cache_dir() / "ort-trt"
            trt_dir.mkdir(parents=True, exist_ok=True)
            providers.append((wanted, {"device_id": config.device_id, "trt_fp16_enable": config.precision == "fp16",
                                       "trt_engine_cache_enable": True, "trt_engine_cache_path": str(trt_dir)}))
        if config.provider in ("cuda", "tensorrt"):
            providers.append(("CUDAExecutionProvider", {"device_id": config.device_id}))
        providers.append("CPUExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(onnx_path), so, providers=providers)
        except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
            msg = str(e).splitlines()[0][:300]
            raise BackendError(f"{onnx_path}: ONNX Runtime cannot load it ({msg}); re-export with hdrvid export") from None
        if wanted not in self.session.get_providers():
            raise BackendError(f"ONNX Runtime could not start {wanted} (it fell back to {self.session.get_providers()}); "
                               f"check the CUDA/TensorRT installation")
        self.config = config
        self.gpu = config.provider != "cpu"
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.input_types = [i.type for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.name = config.label

    def infer(self, *inputs: torch.Tensor) -> torch.Tensor:
        if len(inputs) != len(self.inputs):
            raise BackendError(f"{self.name}: the network takes {len(self.inputs)} inputs, got {len(inputs)}")
        if self.gpu and self.config.io_binding:
            return self._infer_bound(inputs)
        feed = {n: _as_numpy(t, ty) for n, t, ty in zip(self.inputs, inputs, self.input_types)}
        out = self.session.run(self.outputs[:1], feed)[0]
        return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))

    def run(self, *inputs: np.ndarray) -> np.ndarray:
        """``infer`` on float32 arrays (CPU), its first output as an array: no torch."""
        if len(inputs) != len(self.inputs):
            raise BackendError(f"{self.name}: the network takes {len(self.inputs)} inputs, got {len(inputs)}")
        feed = {n: np.ascontiguousarray(a, np.float16 if "float16" in ty else np.float32)
                for n, a, ty in zip(self.inputs, inputs, self.input_types)}
        return self.session.run(self.outputs[:1], feed)[0]

    def _infer_bound(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """GPU: inputs go to CUDA once and ORT reads them in place; the output stays on the device until copied."""
        binding = self.session.io_binding()
        dev = torch.device("cuda", self.config.device_id)
        keep = []
        for name, t, ty in zip(self.inputs, inputs, self.input_types):
            dtype = torch.float16 if "float16" in ty else torch.float32
            g = t.to(dev, dtype=dtype, non_blocking=True).contiguous()
            keep.append(g)
            binding.bind_input(name, "cuda", self.config.device_id, np.float16 if dtype == torch.float16 else np.float32,
                               list(g.shape), g.data_ptr())
        binding.bind_output(self.outputs[0], "cuda", self.config.device_id)
        torch.cuda.synchronize(dev)
        self.session.run_with_iobinding(binding)
        out = binding.copy_outputs_to_cpu()[0]
        return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))

    def close(self) -> None:
        self.session = None  # type: ignore[assignment]


def _as_numpy(t: torch.Tensor, onnx_type: str) -> np.ndarray:
    a = t.detach().cpu().contiguous().numpy()
    return a.astype(np.float16) if "float16" in onnx_type else a.astype(np.float32, copy=False)
