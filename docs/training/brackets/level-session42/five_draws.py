"""Means over validation draws of cap_eval-style outputs (clipped and unclipped PSNR-mu per camera at the 250-nit cap),
and the clipped margins over `hdrunet-auto` on the same draws: python five_draws.py NAME=file,file,... [NAME=...]
(the first group is the reference, `hdrunet-auto`)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "cap-session40"))
from summarise import read  # noqa: E402

groups = [(a.split("=")[0], a.split("=")[1].split(",")) for a in sys.argv[1:]]
ref = None
for name, files in groups:
    c = np.mean([read(f)[(250, "clipped")] for f in files], 0)
    u = np.mean([read(f)[(250, "unclipped")] for f in files], 0)
    ref = c if ref is None else ref
    print(f"{name:24s} ({len(files)}) clipped " + " / ".join(f"{v:.2f}" for v in c)
          + "  vs ref " + " / ".join(f"{v - r:+.2f}" for v, r in zip(c[:4], ref[:4]))
          + "  unclipped " + " / ".join(f"{v:.2f}" for v in u[:4]))
