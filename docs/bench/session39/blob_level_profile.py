import time, av, numpy as np, torch, cProfile, pstats
torch.set_num_threads(1)
import hdrvid.jobs.evaluate as E
from hdrvid.engines.backends import backend_from_options
from hdrvid.runtime import EngineOptions
c = av.open("/work/bench/cut1080.mp4")
xs = [E.model_input(f.to_ndarray(format="rgb24"), "bt709") for i, f in zip(range(40), c.decode(video=0))]
net = E.executor_for("hdrunet-auto", None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=0.25))
m = net.model
rule = m.blob_level
reads = {"n": 0}
orig = rule.predict
def counted(f):
    reads["n"] += 1
    return orig(f)
rule.predict = counted
with torch.inference_mode():
    for lab in ("off", "on", "off", "on"):
        m.blob_level = None if lab == "off" else rule
        m.enable_temporal(0.1)
        t = time.perf_counter()
        for x in xs: net.infer(x)
        print(lab, "%.1f ms/frame" % (1000 * (time.perf_counter() - t) / len(xs)), "reads", reads["n"])
    m.enable_temporal(0.1)
    pr = cProfile.Profile(); pr.enable()
    for x in xs: net.infer(x)
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(14)
