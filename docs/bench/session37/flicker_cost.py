"""tonemap of hdr1080.mp4 (24 frames, hable) with the flicker meter on (1) or off (0): wall and CPU seconds.
Run from the bench folder: python flicker_cost.py 1; python flicker_cost.py 0 (session 37)."""
import gc
import resource
import sys
import time
from pathlib import Path

from hdrvid.jobs.tonemap import TonemapOptions, tonemap
from hdrvid.machine import tune_allocator

gc.set_threshold(50_000, 20, 20); tune_allocator()
m = sys.argv[1] == "1"
t = time.perf_counter()
tonemap(TonemapOptions(Path("hdr1080.mp4"), Path(f"/tmp/f{int(m)}.mp4"), operator="hable", overwrite=True, measure_flicker=m))
ru = resource.getrusage(resource.RUSAGE_SELF)
print(f"flicker={int(m)} {time.perf_counter()-t:.2f} s cpu {ru.ru_utime+ru.ru_stime:.2f}", file=sys.stderr)
gc.freeze()
