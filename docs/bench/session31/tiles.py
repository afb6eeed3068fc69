"""Whole-frame vs tiled refine of hdrunet-2x on a 1080p frame: time (wall, process CPU) and max difference."""
import resource
import sys
import time

import torch

from hdrvid.models import build


def usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def tiled(m, x, base, tile, halo):
    n, c, h, w = x.shape
    out = torch.empty(n, 3, 2 * h, 2 * w)
    for r0 in range(0, h, tile):
        for c0 in range(0, w, tile):
            r1, c1 = min(r0 + tile, h), min(c0 + tile, w)
            a0, a1, b0, b1 = max(r0 - halo, 0), min(r1 + halo, h), max(c0 - halo, 0), min(c1 + halo, w)
            y = m.refine(x[..., a0:a1, b0:b1], base[..., a0:a1, b0:b1])
            out[..., 2 * r0:2 * r1, 2 * c0:2 * c1] = y[..., 2 * (r0 - a0):2 * (r1 - a0), 2 * (c0 - b0):2 * (c1 - b0)]
    return out


torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
m = build("hdrunet-2x")
torch.manual_seed(0)
x = torch.rand(1, 3, 1080, 1920) ** 2.2
x[..., 300:600, 500:900] = 1
with torch.no_grad():
    base = m.base(x)
    for name, fn in [("whole", lambda: m.refine(x, base))] + [
            (f"tile{t}/halo{hl}", (lambda t=t, hl=hl: tiled(m, x, base, t, hl))) for t, hl in ((256, 24), (384, 24), (512, 24))]:
        for rep in range(2):
            u0, s0 = usage(); t0 = time.perf_counter()
            y = fn()
            t1 = time.perf_counter(); u1, s1 = usage()
            if name == "whole":
                ref = y
            print(f"{name:16s} wall {t1 - t0:6.2f} s  user {u1 - u0:6.2f}  sys {s1 - s0:6.2f}  "
                  f"maxdiff {float((y - ref).abs().max()):.2e}", flush=True)
