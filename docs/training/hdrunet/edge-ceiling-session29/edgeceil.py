"""hdrunet-auto's edge gate with a ceiling above 1: areas whose edge rises faster than EDGE_HI codes/px expand
by an exponent rising linearly from 1 (at EDGE_HI) to CEIL (at HI2 codes/px and up). python edgeceil.py CEIL HI2 eval ..."""
import sys

import cv2
import numpy as np
import torch

import hdrvid.models.clip_edges as C

CEIL, HI2 = float(sys.argv[1]), float(sys.argv[2])

def edge_exponents(code):
    code = np.ascontiguousarray(code, np.float32)
    clipped = (code >= C.EDGE_CODE).astype(np.uint8)
    if not clipped.any():
        return None
    n, labels = cv2.connectedComponents(cv2.dilate(clipped, C._KERNEL3))
    blurred = cv2.GaussianBlur(code, (0, 0), 1.0)
    gy, gx = np.gradient(blurred)
    grad = np.hypot(gx, gy)
    near = cv2.dilate(labels.astype(np.float32), C._KERNEL5).astype(np.int64)
    ring = (labels == 0) & (near > 0)
    counts = np.bincount(near[ring], minlength=n)
    sums = np.bincount(near[ring], weights=grad[ring], minlength=n)
    edge = sums / np.maximum(counts, 1)
    s = C.EDGE_FLOOR + (1 - C.EDGE_FLOOR) * np.clip((edge - C.EDGE_LO) / (C.EDGE_HI - C.EDGE_LO), 0, 1)
    s = s + (CEIL - 1) * np.clip((edge - C.EDGE_HI) / (HI2 - C.EDGE_HI), 0, 1)
    s[counts == 0] = 1.0
    s[0] = 1.0
    return s.astype(np.float32)[labels]
C.edge_exponents = edge_exponents

def gate_expansion(linear, out, weight, start, gamma):
    if bool((weight >= 1).all()):
        return out
    small = C.exponent_maps(linear, gamma)
    if small is None:
        return out
    small = small + (1 - small) * weight.view(-1, 1, 1, 1)
    if not bool((small != 1).any()):
        return out
    h, w = linear.shape[-2:]
    s = small if small.shape[-2:] == (h, w) else torch.from_numpy(np.stack(
        [cv2.resize(m[0].numpy(), (w, h), interpolation=cv2.INTER_LINEAR) for m in small]))[:, None]
    active = (linear.amax(1, keepdim=True) > start) & (s != 1)
    for i in range(linear.shape[0]):
        flat = active[i, 0].flatten().nonzero().flatten()
        if len(flat):
            C.raise_ratios(linear[i], out[i], s[i, 0], flat)
    return out
C.gate_expansion = gate_expansion
import hdrvid.models.hdrunet as H

H.gate_expansion = gate_expansion
from hdrvid.cli import main

sys.argv = ["hdrvid"] + sys.argv[3:]
main()
