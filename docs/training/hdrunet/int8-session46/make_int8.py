"""The packaged int8 network of ``hdrunet`` / ``hdrunet-auto`` (``weights/hdrunet-field_tile-int8.onnx``, session 46).

    python docs/training/hdrunet/int8-session46/make_int8.py OUT.onnx [VIEWS_PER_SCENE]

Calibration: the training scenes only (the validation eight and the held-out six never), 2 views each (seed
[46, i]) at 1280 px through the five cameras (one camera a view, in turn), each picture area-downscaled to the CPU
fast mode's 320 px as the executor feeds the network, with its frame-wide context from the shipped model in torch.
The fp32 part is exported from the shipped weights (``export_onnx``) and quantised by ``export.quantize``:
every convolution but the first and the head (``HDRUNet.int8_keep_float``). Reads ../shared/hdri-train (run from
the repository root); one thread.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from hdrvid.engines.executor import downscale
from hdrvid.export.onnx import export_onnx
from hdrvid.export.quantize import quantize_int8
from hdrvid.io.hashing import sha256_file
from hdrvid.io.images import list_hdr, read_hdr
from hdrvid.jobs.evaluate import model_input, panorama_views
from hdrvid.models import build
from hdrvid.synth.camera import ALL_SETTINGS, shoot
from hdrvid.train.data import split, validation_split

DATA = [Path("../shared/hdri-train") / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")]


def main() -> None:
    out = Path(sys.argv[1])
    per_scene = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(1)
    model = build("hdrunet-auto").eval()
    scenes = validation_split(split(list_hdr(DATA))[0])[0]
    feeds = []
    for i, f in enumerate(scenes):
        for j, view in enumerate(panorama_views(read_hdr(f), per_scene, 1280, [46, i])):
            cam = ALL_SETTINGS[(i * per_scene + j) % len(ALL_SETTINGS)]
            shot = shoot(view, np.random.default_rng([46, i, j]), cam)
            x = downscale(model_input(shot.signal, shot.nominal), 0.25)
            with torch.inference_mode():
                ctx = model.context(x)
            feeds.append({"linear": x.numpy(), "context": ctx.numpy()})
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_onnx("hdrunet-auto", fp32, part="field_tile")
        done = quantize_int8(fp32, out, feeds, keep_float=type(model).int8_keep_float)
    done.update(scenes=len(scenes), sha256=sha256_file(out), bytes=out.stat().st_size)
    print(json.dumps(done))


if __name__ == "__main__":
    main()
