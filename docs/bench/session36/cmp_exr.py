"""Two folders of EXR frames from `hdrvid convert ... -f exr` (1.0 = 203 nits unless given) compared as 10-bit PQ
codes: the largest code difference, the share of samples that differ, the largest relative difference in light.

    python docs/bench/session36/cmp_exr.py BEFORE/ AFTER/ [WHITE_NITS]
"""

import glob
import os
import sys
from pathlib import Path

import colour
import numpy as np

from hdrvid.io.images import read_image

a_dir, b_dir = sys.argv[1:3]
white = float(sys.argv[3]) if len(sys.argv) > 3 else 203.0
worst, differ, total, rel = 0.0, 0, 0, 0.0
for fa in sorted(glob.glob(os.path.join(a_dir, "*.exr"))):
    a = read_image(Path(fa))[0]
    b = read_image(Path(b_dir) / os.path.basename(fa))[0]
    ca, cb = (np.round(colour.models.eotf_inverse_ST2084(np.clip(v, 0, None) * white) * 1023) for v in (a, b))
    d = np.abs(ca - cb)
    worst, differ, total = max(worst, float(d.max())), differ + int((d > 0).sum()), total + d.size
    rel = max(rel, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-3))))
print(f"max PQ code difference {worst:.0f}, share differing {differ / total:.2e}, max relative light difference {rel:.2e}")
