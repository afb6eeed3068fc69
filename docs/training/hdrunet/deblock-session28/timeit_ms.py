import sys, time, atexit
import hdrvid.models.deblock as d
_call = d.MaskShift.__call__
tot = [0.0, 0]
def call(self, *a, **k):
    t = time.perf_counter(); r = _call(self, *a, **k); tot[0] += time.perf_counter() - t; tot[1] += 1; return r
d.MaskShift.__call__ = call
atexit.register(lambda: print(f"mask_shift {tot[0]*1e3/max(tot[1],1):.2f} ms x {tot[1]}", file=sys.stderr))
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
