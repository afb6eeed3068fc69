"""Session 32: the shipped hdrunet-2x network made deeper or wider without changing what it computes.

Deeper: new residual blocks go after the trained ones with their second convolution at zero (each new block is the
identity until training moves it). Wider: new feature channels get their default initialisation, and every weight
from a new channel into a trained one (and into the tail) starts at zero, so the trained channels, and the output,
are the shipped network's until training moves those weights. Either way the run starts from the shipped output.

    python docs/training/hdrunet-2x/deeper-session32/make_init.py OUT.pt [--blocks B] [--width W] [--bound 4.0]
"""
import argparse

import torch

from hdrvid.models.superres import HDRUNet2x

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--blocks", type=int, default=6)
ap.add_argument("--width", type=int, default=32)
ap.add_argument("--weights", default="hdrvid/models/weights/hdrunet-2x.pt")
ap.add_argument("--bound", type=float, default=4.0, help="sr.bound the run trains at (the shipped file says 2)")
a = ap.parse_args()

old = torch.load(a.weights, weights_only=True)
sizes = HDRUNet2x.sizes_of(old)
n_old, w_old = sizes["blocks"], sizes["width"]
assert a.blocks >= n_old and a.width >= w_old
torch.manual_seed(0)
model = HDRUNet2x(width=a.width, blocks=a.blocks, max_residual=a.bound, shared=sizes["shared"])
state = model.state_dict()
w = w_old


def put(key: str, v: torch.Tensor, zero_new_inputs: bool = True) -> None:
    """The trained tensor into the top-left corner of the new one; weights from new input channels zeroed."""
    t = state[key]
    if v.dim() == 0:
        t.copy_(v)
        return
    if v.dim() == 4 and zero_new_inputs and t.shape[1] > v.shape[1]:
        t[:, v.shape[1]:] = 0
    t[tuple(slice(0, s) for s in v.shape)] = v


for k, v in old.items():
    if not k.startswith("sr.") or k == "sr.bound":
        if not k.startswith("sr."):
            state[k].copy_(v)
        continue
    key = k
    if k.startswith(f"sr.body.{n_old}."):  # the body's last convolution moves behind the new blocks
        key = k.replace(f"sr.body.{n_old}.", f"sr.body.{a.blocks}.")
    put(key, v, zero_new_inputs=not k.startswith("sr.head."))
# into the trained channels and the tail nothing from a new channel (done by put); new blocks are the identity
for i in range(n_old, a.blocks):
    state[f"sr.body.{i}.c2.weight"].zero_()
    state[f"sr.body.{i}.c2.bias"].zero_()
model.load_state_dict(state)

ref = HDRUNet2x(**sizes)
ref.load_state_dict(old)
ref.sr.max_residual = a.bound
x = model.example_input(48, 64)
with torch.no_grad():
    base = ref.base(x)
    d = (model.refine(x, base) - ref.refine(x, base)).abs().max().item()
print(f"{n_old} x {w_old} -> {a.blocks} x {a.width}, max difference to the shipped network {d:.2e}")
assert d < 1e-5
torch.save(model.state_dict(), a.out)
