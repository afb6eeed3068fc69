# Session 33: docs/bench/session32/prof_expand.py with the compiled kernels timed too (expand_clipped, luminance_gain,
# gate_ratios), one thread:  python docs/bench/session33/prof_kernels.py CLIP.mp4
import sys, time, functools
sys.argv = [sys.argv[0], sys.argv[1]]
from hdrvid.color import kernels as K
import hdrvid.models.hdrunet as H
T2 = {}
for n in ("expand_clipped", "luminance_gain", "gate_ratios"):
    import hdrvid.models.clip_edges as CE
    f = getattr(K, n)
    def mk(f, n):
        @functools.wraps(f)
        def g(*a, **k):
            t = time.perf_counter(); r = f(*a, **k); T2[n] = T2.get(n, 0) + time.perf_counter() - t; return r
        return g
    setattr(K, n, mk(f, n))
    if hasattr(H, n): setattr(H, n, getattr(K, n))
    if hasattr(CE, n): setattr(CE, n, getattr(K, n))
K.kernel_threads = lambda: 1
exec(open('/work/main/docs/bench/session32/prof_expand.py').read())
for k, v in T2.items(): print(f"kernel {k:15s} {v/12*1000:7.1f} ms/frame")
x = frames[0][0]
m = x.amax(0)
print("share above start", float((m > H.CLIP_START_LINEAR).float().mean()))
