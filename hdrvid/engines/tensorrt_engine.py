"""Native TensorRT backend: engines built from our own ONNX files into our own cache, never loaded from elsewhere.

Cache key: sha256 of the ONNX file, the optimisation profile (min/opt/max shapes), precision, the
TensorRT version and the GPU's name and compute capability. Each engine sits beside a JSON record of its
key and its own sha256; an engine whose record is missing or differs (another GPU, another TensorRT, a
changed model, a truncated or foreign file) is rebuilt, never deserialised. Engines are written to a
temporary file and renamed, so a crash mid-build leaves no half engine.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch

from hdrvid.engines.backends import TensorRTBackend
from hdrvid.engines.base import cache_dir
from hdrvid.engines.onnx_file import check_onnx_file
from hdrvid.errors import BackendError
from hdrvid.io.atomic import write_bytes_atomic
from hdrvid.io.hashing import sign, verify

log = logging.getLogger("hdrvid")


def import_tensorrt() -> Any:
    try:
        import tensorrt as trt
    except ImportError:
        raise BackendError("the tensorrt backend needs NVIDIA TensorRT: pip install 'hdrvid[tensorrt]' on a machine "
                           "with a CUDA GPU (or use --backend onnxruntime)") from None
    return trt


def cached_engine_path(key: dict[str, Any], cache: Path) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    return cache / f"{digest}.engine"


def load_cached(path: Path, key: dict[str, Any]) -> bytes | None:
    """The engine's bytes if its record matches ``key`` and its checksum; None means: build it again."""
    record = path.with_suffix(".json")
    if not path.is_file() or not record.is_file():
        return None
    try:
        meta = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("key") != key:
        log.warning("%s: TensorRT engine was built for %s; rebuilding", path, meta.get("key"))
        return None
    if path.is_symlink() or path.with_suffix(".json").is_symlink():
        log.warning("%s: TensorRT engine or its record is a link; rebuilding", path)
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta.get("engine_sha256"):
        log.warning("%s: TensorRT engine does not match its record; rebuilding", path)
        return None
    if not verify(SIGN_PURPOSE, _signed(key, digest), meta.get("signature")):
        log.warning("%s: TensorRT engine record is not signed by this user's key (planted?); rebuilding", path)
        return None
    return data


SIGN_PURPOSE = "hdrvid-tensorrt-cache"


def _signed(key: dict[str, Any], digest: str) -> str:
    return json.dumps({"key": key, "engine_sha256": digest}, sort_keys=True)


def store(path: Path, key: dict[str, Any], data: bytes) -> None:
    """The engine, then its record (a record never describes a half-written engine)."""
    write_bytes_atomic(path, data, durable=True)
    digest = hashlib.sha256(data).hexdigest()
    record = {"key": key, "engine_sha256": digest, "signature": sign(SIGN_PURPOSE, _signed(key, digest))}
    write_bytes_atomic(path.with_suffix(".json"), json.dumps(record).encode(), durable=True)


def build_serialized(trt: Any, onnx_path: Path, config: TensorRTBackend) -> bytes:
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendError(f"{onnx_path}: TensorRT could not parse the ONNX model: {errors}")
    bc = builder.create_builder_config()
    bc.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, config.workspace_mib << 20)
    if config.precision == "fp16":
        bc.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        inp = network.get_input(i)
        shapes = [_fill(tuple(inp.shape), s) for s in (config.min_shape, config.opt_shape, config.max_shape)]
        profile.set_shape(inp.name, *shapes)
    bc.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, bc)
    if serialized is None:
        raise BackendError(f"{onnx_path}: TensorRT failed to build an engine (see the TensorRT log above)")
    return bytes(serialized)


def _fill(dims: tuple[int, ...], nhw: tuple[int, int, int]) -> tuple[int, ...]:
    """Dynamic dims (-1) of an NCHW input: batch from nhw[0], height/width from nhw[1:]."""
    out = list(dims)
    for axis, value in ((0, nhw[0]), (2, nhw[1]), (3, nhw[2])):
        if axis < len(out) and out[axis] == -1:
            out[axis] = value
    return tuple(out)


class TensorRTEngine:
    def __init__(self, onnx_path: Path, config: TensorRTBackend = TensorRTBackend()) -> None:
        trt = import_tensorrt()
        if not torch.cuda.is_available():
            raise BackendError("the tensorrt backend needs a CUDA GPU; torch sees none on this machine")
        check_onnx_file(onnx_path)
        self.device = torch.device("cuda", config.device_id)
        props = torch.cuda.get_device_properties(self.device)
        key = config.cache_key(Path(onnx_path), trt.__version__, props.name, f"{props.major}.{props.minor}")
        path = cached_engine_path(key, config.cache or cache_dir() / "tensorrt")
        data = load_cached(path, key)
        if data is None:
            log.warning("building a TensorRT engine for %s (once per model, shape range, GPU and TensorRT version)",
                        Path(onnx_path).name)
            data = build_serialized(trt, Path(onnx_path), config)
            store(path, key, data)
        self.engine_path = path
        self.runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = self.runtime.deserialize_cuda_engine(data)
        if self.engine is None:
            raise BackendError(f"{path}: TensorRT could not deserialise the engine it just built")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.outputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        self.dtypes = {n: _torch_dtype(trt, self.engine.get_tensor_dtype(n)) for n in names}
        self.stream = torch.cuda.Stream(self.device)
        self.config = config
        self.name = config.label

    def infer(self, *inputs: torch.Tensor) -> torch.Tensor:
        if len(inputs) != len(self.inputs):
            raise BackendError(f"{self.name}: the engine takes {len(self.inputs)} inputs, got {len(inputs)}")
        n, _, h, w = inputs[0].shape
        lo, hi = self.config.min_shape, self.config.max_shape
        if not (lo[0] <= n <= hi[0] and lo[1] <= h <= hi[1] and lo[2] <= w <= hi[2]):
            raise BackendError(f"{self.name}: input {n}x{h}x{w} is outside the engine's profile {lo}..{hi}; "
                               f"use --tile or a larger --max-shape")
        with torch.cuda.stream(self.stream):
            keep = []
            for name, t in zip(self.inputs, inputs):
                g = t.to(self.device, dtype=self.dtypes[name], non_blocking=True).contiguous()
                keep.append(g)
                self.context.set_input_shape(name, tuple(g.shape))
                self.context.set_tensor_address(name, g.data_ptr())
            outs = []
            for name in self.outputs:
                shape = tuple(self.context.get_tensor_shape(name))
                o = torch.empty(shape, dtype=self.dtypes[name], device=self.device)
                outs.append(o)
                self.context.set_tensor_address(name, o.data_ptr())
            if not self.context.execute_async_v3(self.stream.cuda_stream):
                raise BackendError(f"{self.name}: TensorRT execution failed")
            result = outs[0].float().cpu()
        self.stream.synchronize()
        return result

    def close(self) -> None:
        self.context = None
        self.engine = None


def _torch_dtype(trt: Any, dt: Any) -> torch.dtype:
    return {trt.float32: torch.float32, trt.float16: torch.float16, trt.int32: torch.int32}.get(dt, torch.float32)
