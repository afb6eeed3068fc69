"""The default model's executor on one thread, per frame: the network half (``prepare``: the downscale, the sparse
mask, the network, the guided coefficients) and the expansion half, then torch's operator table.

    python docs/bench/session36/exec_prof.py CLIP [FRAMES]

Frames are decoded with PyAV and linearised with a plain 2.4 power (enough for timing; the pipeline's decoder is
exact). The model runs as in video (per-shot state on: the shoulder detector stops after a shot's first frames).
"""

import sys
import time

import av
import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from hdrvid.engines.backends import TorchBackend
from hdrvid.runtime.factory import auto_scale, make_executor
from hdrvid.runtime.options import EngineOptions

torch.set_num_threads(1)
clip = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 24
frames = []
with av.open(clip) as c:
    for i, f in enumerate(c.decode(video=0)):
        if i >= n:
            break
        a = f.to_ndarray(format="rgb24").astype(np.float32) / 255
        frames.append(torch.from_numpy(np.ascontiguousarray((a ** 2.4).transpose(2, 0, 1)))[None])
w = frames[0].shape[-1]
opts = EngineOptions(backend=TorchBackend(device="cpu", precision="auto"), infer_scale=auto_scale("cpu", w))
ex = make_executor("hdrunet-auto", opts=opts)
ex.model.enable_temporal(0.1)
print(ex.name)
for x in frames[:4]:
    ex.prepare(x)()
tp = tr = 0.0
for x in frames:
    t0 = time.perf_counter()
    rest = ex.prepare(x)
    t1 = time.perf_counter()
    rest()
    tp, tr = tp + t1 - t0, tr + time.perf_counter() - t1
print(f"per frame: network half {tp / len(frames) * 1000:.1f} ms, expansion half {tr / len(frames) * 1000:.1f} ms")
with profile(activities=[ProfilerActivity.CPU]) as p:
    for x in frames:
        ex.prepare(x)()
print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
