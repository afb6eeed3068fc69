"""usage: nitsview.py FRAME OUT.png LO,HI HDR10.mp4...: the frame's PQ luma as nits, log-stretched LO..HI to grey,
one clip under the other."""
import sys, av, numpy as np, cv2
from colour.models.rgb.transfer_functions import eotf_ST2084
n = int(sys.argv[1]); out = sys.argv[2]; LO, HI = map(float, sys.argv[3].split(",")); rows = []
for p in sys.argv[4:]:
    c = av.open(p)
    for i, f in enumerate(c.decode(video=0)):
        if i == n:
            y = f.to_ndarray(format='yuv420p10le')[:f.height].astype(np.float64)
            break
    nits = eotf_ST2084((y - 64) / 876)
    print(p, 'median', np.median(nits), 'p99', np.percentile(nits, 99))
    g = np.clip((np.log2(np.maximum(nits, 1)) - np.log2(LO)) / (np.log2(HI) - np.log2(LO)), 0, 1)
    rows.append((g * 255).astype(np.uint8))
cv2.imwrite(out, np.concatenate(rows, 0))
