"""Static int8 quantisation of an exported network part with ONNX Runtime's quantiser (``--precision int8``).

The convolutions become ``QLinearConv`` (weights int8 per output channel, activations uint8 per tensor, their
ranges measured on calibration inputs: MinMax), except those a model names in ``int8_keep_float`` (module paths:
``hdrunet``'s first convolution, which reads the clip mask's steep ramp, and its output head, whose values go
through a sigmoid into a gain of up to 64x). The file carries the fp32 export's metadata with
``hdrvid.precision = int8``. Packaged int8 files are made by this module once, from the shipped weights and
training views (the model card gives the command), and verified by sha256 when they are used; nothing is
quantised at run time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from hdrvid.errors import ModelError
from hdrvid.io.atomic import write_bytes_atomic


def float_nodes(model_path: Path, keep_float: Sequence[str]) -> tuple[list[str], list[str]]:
    """(convolutions to quantise, convolutions kept in float) of an ONNX file, by node name; a convolution is kept
    in float when its weight initialiser belongs to one of the module paths ``keep_float`` (``stem.0.0``,
    ``head``: the exported weight is ``model.stem.0.0.weight``)."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    quantise, kept, found = [], [], set()
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        weight = node.input[1].removeprefix("model.").removesuffix(".weight")
        (kept if weight in keep_float else quantise).append(node.name)
        found.add(weight)
    missing = [k for k in keep_float if k not in found]
    if missing:
        raise ModelError(f"{model_path}: no convolution with the weights {missing} to keep in float")
    return quantise, kept


def quantize_int8(fp32_path: Path, out: Path, calibration: Iterable[dict[str, np.ndarray]],
                  keep_float: Sequence[str] = ()) -> dict[str, object]:
    """Write ``out``, the int8 version of the fp32 ONNX file ``fp32_path``, with activation ranges from the
    ``calibration`` feeds (input name -> array); returns what was done (node counts, feeds read)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    feeds = list(calibration)
    if not feeds:
        raise ModelError("int8 quantisation needs at least one calibration input")
    quantise, kept = float_nodes(fp32_path, keep_float)

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.left = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.left, None)

    with tempfile.TemporaryDirectory(prefix="hdrvid-int8-") as tmp:
        raw = Path(tmp) / "int8.onnx"
        quantize_static(str(fp32_path), str(raw), Reader(), quant_format=QuantFormat.QOperator, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_quantize=quantise,
                        extra_options={"CalibTensorRangeSymmetric": False})
        proto = onnx.load(str(raw))
    source = {p.key: p.value for p in onnx.load(str(fp32_path), load_external_data=False).metadata_props}
    source["hdrvid.precision"] = "int8"
    source["hdrvid.int8_float_convs"] = ",".join(keep_float)
    del proto.metadata_props[:]
    for k, v in source.items():
        p = proto.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(proto)
    write_bytes_atomic(Path(out), proto.SerializeToString())
    return {"quantised_convs": len(quantise), "float_convs": len(kept), "calibration_feeds": len(feeds)}
