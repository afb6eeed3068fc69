"""The shoulder detector's probability p on the first frames of a clip, as `convert` computes it before a shot's
decision is held (session 38): python real_p.py CLIP.mp4 (writes /tmp/real_p.mp4)."""
import sys

import hdrvid.models.hdrunet as H

orig = H.HDRUNet.shoulder_weight
ps = []
def patched(self, linear):
    if not self._settled:
        ps.append(float(self.shoulder(linear).flatten()[0]))
    return orig(self, linear)
H.HDRUNet.shoulder_weight = patched
from hdrvid.cli import main

try:
    main(["-q", "convert", sys.argv[1], "/tmp/real_p.mp4", "--overwrite", "--frames", "24"], standalone_mode=False)
finally:
    print(sys.argv[1].split("/")[-1], "frames", len(ps), "mean p %.3f min %.3f max %.3f" % (sum(ps)/len(ps), min(ps), max(ps)))
