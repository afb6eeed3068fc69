"""The plain transcode's C colour passes on 24 real 1080p frames, one thread, three rounds (session 35):

    python docs/bench/session35/prof_none.py CLIP.mp4

prints ms per frame of `yuv420_u8_to_codes`, the first pass (`hdr10_pass1_u8`), the second (`hdr10_pass2`) and the
whole `hdr10_planes`. Run it with PYTHONPATH=REF (a worktree with its C extension built) for a before/after."""
import sys
import time

import av
import numpy as np

from hdrvid.color import kernels as K
from hdrvid.pipeline.decoder import plane_views_420

K.kernel_threads = lambda: 1
frames = []
with av.open(sys.argv[1]) as c:
    for f in c.decode(video=0):
        frames.append(f)
        if len(frames) == 24:
            break
lut = (np.linspace(0, 1, 256, dtype=np.float32) ** 2.4 * 203).astype(np.float32)
lib = K._library()
T: dict[str, float] = {}


class Timed:
    """A C entry point, timed."""

    def __init__(self, name: str) -> None:
        self.f, self.name = getattr(lib, name), name

    def __call__(self, *a):
        t = time.perf_counter()
        self.f(*a)
        T[self.name] = T.get(self.name, 0) + time.perf_counter() - t


class Lib:
    def __getattr__(self, name: str):
        return Timed(name)


for _ in range(3):
    for f in frames:
        t = time.perf_counter()
        codes = K.yuv420_u8_to_codes(*plane_views_420(f), False, "bt709")
        T["yuv420_u8_to_codes"] = T.get("yuv420_u8_to_codes", 0) + time.perf_counter() - t
        h, w = codes.shape[:2]
        t = time.perf_counter()
        K._hdr10(Lib(), (h, w), 1000.0, lambda rows, rest: K._parallel(
            Timed("hdr10_pass1_u8"), rows, codes.ctypes.data, h, w, K._p(lut, K._F32), *rest))
        T["hdr10_planes"] = T.get("hdr10_planes", 0) + time.perf_counter() - t
for k, v in T.items():
    print(f"{k:20s} {v / (3 * len(frames)) * 1000:6.2f} ms/frame")
