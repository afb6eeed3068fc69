"""Session 33: docs/bench/session32/prof_expand.py with the compiled kernels timed too (expand_clipped,
luminance_gain, gate_ratios), one thread, and the share of pixels above the expansion mask's start:

    python docs/bench/session33/prof_kernels.py CLIP.mp4
"""
import functools
import runpy
import sys
import time
from pathlib import Path

import hdrvid.models.clip_edges as CE
import hdrvid.models.hdrunet as H
from hdrvid.color import kernels as K

T2: dict[str, float] = {}


def timed(f, n):
    @functools.wraps(f)
    def g(*a, **k):
        t = time.perf_counter()
        r = f(*a, **k)
        T2[n] = T2.get(n, 0) + time.perf_counter() - t
        return r
    return g


for name in ("expand_clipped", "luminance_gain", "gate_ratios"):
    f = timed(getattr(K, name), name)
    for module in (K, H, CE):  # the modules that imported the kernel by name
        if hasattr(module, name):
            setattr(module, name, f)
K.kernel_threads = lambda: 1
sys.argv = [sys.argv[0], sys.argv[1]]
g = runpy.run_path(str(Path(__file__).resolve().parents[1] / "session32" / "prof_expand.py"))
for k, v in T2.items():
    print(f"kernel {k:15s} {v / len(g['frames']) * 1000:7.1f} ms/frame")
m = g["frames"][0][0].amax(0)
print("share above start", float((m > H.CLIP_START_LINEAR).float().mean()))
