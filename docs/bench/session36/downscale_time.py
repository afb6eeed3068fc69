"""The fast mode's downscale of one 3-channel frame to 320x180, C (``kernels.downscale_aa``) against torch's
``F.interpolate(antialias=True)``, one thread each, mean of 20 calls after two warm-up rounds.

    HDRVID_KERNEL_THREADS=1 python docs/bench/session36/downscale_time.py
"""

import time

import torch
import torch.nn.functional as F

from hdrvid.color.kernels import downscale_aa

torch.set_num_threads(1)
for h, w in ((720, 1280), (1080, 1920), (2160, 3840)):
    x = torch.rand(1, 3, h, w) ** 2.2
    a = x.numpy()
    for _ in range(2):
        t = time.perf_counter()
        for _ in range(20):
            downscale_aa(a, 180, 320)
        c = (time.perf_counter() - t) / 20
    t = time.perf_counter()
    for _ in range(20):
        F.interpolate(x, size=(180, 320), mode="bilinear", antialias=True, align_corners=False)
    r = (time.perf_counter() - t) / 20
    print(f"{w}x{h}: C {c * 1000:.2f} ms, torch {r * 1000:.2f} ms")
