"""`brackets` with its fused light's log gain lowered on the outer ring of each clipped area (where_err.py BY=dist:
brackets is too bright on the pixels at the area's edge), l' = l * min(1, Q + (1 - Q) * (d - 1) / (D - 1)), d the
L2 distance (pixels) to the nearest pixel below code 252.5, on cap_eval's validation views:
Q=0.5 D=2 python edge_eval.py SEED ..."""
import os, runpy, sys
from pathlib import Path
import cv2, numpy as np, torch
import hdrvid.models.brackets as B
Q, D = float(os.environ.get("Q", 1.0)), float(os.environ.get("D", 2.0))
orig = B.BracketHDR.field_tile


def field_tile(self, linear, context):
    f = orig(self, linear, context)
    code = B.encode(linear).amax(1).float().cpu().numpy()
    ramps = []
    for c in code:
        m = (c >= 0.99).astype(np.uint8)
        d = cv2.distanceTransform(np.pad(m, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
        ramps.append(np.clip(Q + (1 - Q) * (d - 1) / max(D - 1, 1e-6), Q, 1))
    r = torch.from_numpy(np.stack(ramps))[:, None].to(f.device, f.dtype)
    return torch.where(f > 0, f * r, f)


B.BracketHDR.field_tile = field_tile
print("Q", Q, "D", D, flush=True)
os.environ.setdefault("MODEL", "brackets")
os.environ.setdefault("CAPS", "250")
sys.argv = [str(Path(__file__).resolve().parents[2] / "hdrunet/cap-session40/cap_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
