"""Single-thread CPU of each part of `hdrvid tonemap`'s 1080p chain (session 38), from /work/bench:

    HDRVID_KERNEL_THREADS=1 python tonemap_parts.py hdr1080.mp4 [OPERATOR]

decode alone (PyAV), decode + linear light (the decoder's C kernel), the smoother's statistics, and the SDR
output kernel (gamut, curve, BT.1886, Y'CbCr 4:2:0, the flicker meter's block sums), ms per frame."""
import sys
import time
from pathlib import Path

import av

from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder
from hdrvid.pipeline.output import OutputSpec, OutputTransform
from hdrvid.pipeline.smoothing import TemporalSmoother, frame_statistics

path, op = Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "reinhard"
with av.open(str(path)) as c:
    t0, n = time.perf_counter(), 0
    for _ in c.decode(video=0):
        n += 1
    print(f"decode {1e3 * (time.perf_counter() - t0) / n:.1f} ms")
d = VideoDecoder(path, DecodeOptions())
d.arrays = True
t0, n = time.perf_counter(), 0
for _ in d:
    n += 1
print(f"decode + linear {1e3 * (time.perf_counter() - t0) / n:.1f} ms")
d = VideoDecoder(path, DecodeOptions())
d.arrays = True
frames = list(d)
t0 = time.perf_counter()
for f in frames:
    frame_statistics(f.data)
print(f"statistics {1e3 * (time.perf_counter() - t0) / len(frames):.1f} ms")
sm, tr = TemporalSmoother(), OutputTransform(OutputSpec("sdr", 1000.0, 203.0, operator=op, measure_flicker=True))
frames = [next(sm.process(f)) for f in frames]
t0 = time.perf_counter()
for f in frames:
    list(tr.process(f))
print(f"sdr output ({op}) {1e3 * (time.perf_counter() - t0) / len(frames):.1f} ms")
