"""Per-frame time of the default's torch-free path on one thread: the network part (``prepare``: downscale, sparse
mask, ONNX Runtime's context and int8 network, guided coefficients) and the expansion, on the first 30 frames.

    python docs/bench/session47/expand_timing.py CLIP SCALE      # e.g. /work/bench/cut1080.mp4 0.16667
"""
import cProfile
import pstats
import sys
import time

import av
import numpy as np

from hdrvid.engines.array_executor import auto_arrays_executor
from hdrvid.engines.plan import ExecutionPlan

clip = sys.argv[1]; scale = float(sys.argv[2])
ax = auto_arrays_executor('hdrunet-auto', ExecutionPlan(infer_scale=scale), 1)
ax.model.enable_temporal()
frames = []
c = av.open(clip)
for i, f in enumerate(c.decode(video=0)):
    a = f.to_ndarray(format='rgb24').astype(np.float32) / 255
    frames.append(np.ascontiguousarray((a ** 2.4).transpose(2, 0, 1)).astype(np.float32))
    if len(frames) == 30: break
pr = cProfile.Profile(); tp = te = 0
pr.enable()
for x in frames:
    t0 = time.perf_counter(); r = ax.prepare(x); t1 = time.perf_counter(); r(); t2 = time.perf_counter(); tp += t1 - t0; te += t2 - t1
pr.disable()
print('prepare %.1f ms expand %.1f ms' % (tp / 30 * 1e3, te / 30 * 1e3))
pstats.Stats(pr).sort_stats('tottime').print_stats(22)
