"""Per-frame costs of the default model at the input's size (session 32): the executor's two halves and the model's
steps, one thread, on the first 12 frames of a clip (rgb24 decode, a 2.2 power as the linear light).

    python docs/bench/session32/prof_expand.py cut1080.mp4
"""
import functools
import sys
import time

import av
import numpy as np
import torch

torch.set_num_threads(1)
from hdrvid.engines import executor as E
from hdrvid.engines.backends import TorchBackend
from hdrvid.runtime.factory import make_executor
from hdrvid.runtime.options import EngineOptions

path = sys.argv[1]
frames = []
with av.open(path) as c:
    for i, f in enumerate(c.decode(video=0)):
        a = f.to_ndarray(format="gbrpf32le") if False else f.to_ndarray(format="rgb24")
        frames.append(torch.from_numpy((a.astype(np.float32) / 255) ** 2.2).permute(2, 0, 1)[None].contiguous())
        if i == 11: break
w = frames[0].shape[-1]
ex = make_executor("hdrunet-auto", None, EngineOptions(backend=TorchBackend(precision="auto"), infer_scale=320 / w))  # as convert
ex.model.enable_temporal(0.1) if hasattr(ex.model, "enable_temporal") else None
T = {}
def wrap(obj, name):
    f = getattr(obj, name)
    @functools.wraps(f)
    def g(*a, **k):
        t = time.perf_counter(); r = f(*a, **k); T[name] = T.get(name, 0) + time.perf_counter() - t; return r
    setattr(obj, name, g)
m = ex.model
for n in ("frame_weight", "graded_boost", "mask_shift", "edge_gated", "_graded", "apply_guided", "_smoothed", "alpha_bounds"):
    wrap(m, n)
for n in ("downscale", "active_blocks", "guided_coefficients"):
    f = getattr(E, n)
    def mk(f, n):
        def g(*a, **k):
            t = time.perf_counter(); r = f(*a, **k); T[n] = T.get(n, 0) + time.perf_counter() - t; return r
        return g
    setattr(E, n, mk(f, n))
wrap(ex, "_field")
tot = 0
for x in frames:
    t = time.perf_counter()
    fn = ex._prepare(x)
    t1 = time.perf_counter()
    out = fn()
    t2 = time.perf_counter()
    T["prepare"] = T.get("prepare", 0) + t1 - t; T["expand"] = T.get("expand", 0) + t2 - t1
n = len(frames)
for k, v in sorted(T.items(), key=lambda kv: -kv[1]):
    print(f"{k:22s} {v / n * 1000:7.1f} ms/frame")
