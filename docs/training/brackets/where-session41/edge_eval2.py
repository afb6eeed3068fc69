"""The log gain of a model's expansion lowered on the outer ring of each clipped area (where_err.py BY=dist: brackets
is too bright on the pixels at an area's edge): l' = l * min(1, Q + (1 - Q) * (d - 1) / (D - 1)), d the L2 distance
(pixels) to the nearest pixel below code 252.5, applied on the whole frame where the model applies its field
(brackets: `apply`; hdrunet-auto: `apply_split`'s gains), on cap_eval's validation views:
MODEL=brackets|hdrunet-auto Q=0.5 D=2 python edge_eval2.py SEED ..."""
import os, runpy, sys
from pathlib import Path
import cv2, numpy as np, torch
import hdrvid.models.brackets as B
import hdrvid.models.hdrunet as H
Q, D = float(os.environ.get("Q", 1.0)), float(os.environ.get("D", 2.0))
CAMERA_ONLY = os.environ.get("CAMERA_ONLY") == "1"  # the ring by (1 - the frame's shoulder weight): graded frames keep theirs


def ramp(linear, like, w=None):
    code = B.encode(linear.clamp(0, 1)).amax(1).float().cpu().numpy()
    out = []
    for c in code:
        m = (c >= 0.99).astype(np.uint8)
        d = cv2.distanceTransform(np.pad(m, 1, mode="edge"), cv2.DIST_L2, 5)[1:-1, 1:-1]
        out.append(np.clip(Q + (1 - Q) * (d - 1) / max(D - 1, 1e-6), Q, 1))
    r = torch.from_numpy(np.stack(out))[:, None].to(like.device, like.dtype)
    if w is not None:
        r = 1 - (1 - r) * (1 - w.reshape(-1, 1, 1, 1).to(r))
    return r


b_apply = B.BracketHDR.apply
def brackets_apply(self, linear, field):
    w = None
    if CAMERA_ONLY:
        with torch.no_grad():
            w = B._smoothstep(self.shoulder(B.in_unit_range(linear).float()), B.SHOULDER_LO, B.SHOULDER_HI)
    return b_apply(self, linear, torch.where(field > 0, field * ramp(linear, field, w), field))
B.BracketHDR.apply = brackets_apply

h_split = H.HDRUNet.apply_split
def hdrunet_split(self, linear, gains, frame):
    return h_split(self, linear, gains * ramp(linear, gains), frame)
H.HDRUNet.apply_split = hdrunet_split

print("Q", Q, "D", D, "camera only", CAMERA_ONLY, flush=True)
os.environ.setdefault("MODEL", "brackets")
os.environ.setdefault("CAPS", "250")
sys.argv = [str(Path(__file__).resolve().parents[2] / "hdrunet/cap-session40/cap_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
