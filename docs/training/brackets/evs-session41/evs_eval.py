"""`brackets` with a longer synthetic stack in its Debevec share, on cap_eval's validation views:
python evs_eval.py SEED ...   environment: CAPS=250, SHARE=0.3 (Debevec share), and
  EVS=-5,-4,-3,-2,-1,1,2,3   the EV-conditioned generator asked for EVs beyond its training range (-3..+3)
  CHAIN=-6[,-9]              deeper frames made by chaining: the generator at -3 EV on the -3 EV picture (its own
                             frame-wide vector), and so on; they join the Debevec merge
  GATE=1                     frames below -3 EV weigh in only where the -3 EV picture leaves its well-exposed range"""
import os, runpy, sys
from pathlib import Path
import torch
import hdrvid.models.brackets as B
if os.environ.get("EVS"):
    B.STACK_EVS = tuple(float(e) for e in os.environ["EVS"].split(","))
if os.environ.get("SHARE"):
    B.BracketHDR.debevec_share = float(os.environ["SHARE"])
CHAIN = [float(e) for e in os.environ.get("CHAIN", "").split(",") if e]
GATE = os.environ.get("GATE") == "1"


def merge(frames, evs):
    if not GATE:
        return B.debevec_merge(frames, evs)
    lins = [B.decode(f).float() for f in frames]
    ref = lins[evs.index(-3.0)].clamp(0, 1).amax(1, keepdim=True) ** (1 / B.GAMMA)
    gate = B._smoothstep(ref, 0.86, 0.97)
    num = torch.zeros_like(lins[0]); den = torch.zeros_like(lins[0][:, :1])
    for lin, ev in zip(lins, evs):
        sig = lin.clamp(0, 1) ** (1 / B.GAMMA)
        w = (1 - B._smoothstep(sig.amax(1, keepdim=True), 0.86, 0.97)) * B._smoothstep(sig.mean(1, keepdim=True), 0.0, 0.08)
        if ev < -3:
            w = w * gate
        num = num + w * (lin * 2.0 ** -ev); den = den + w
        pass
    short, long_ = min(range(len(evs)), key=lambda i: evs[i]), max(range(len(evs)), key=lambda i: evs[i])
    bright = lins[short].clamp(0, 1).amax(1, keepdim=True) ** (1 / B.GAMMA) > 0.5
    fb = torch.where(bright, lins[short] * 2.0 ** -evs[short], lins[long_] * 2.0 ** -evs[long_])
    alpha = (den / 1e-2).clamp(0, 1)
    return alpha * num / den.clamp(min=1e-6) + (1 - alpha) * fb


def field_tile(self, linear, context):
    signal = B.encode(linear)
    share = float(self.debevec_share)
    floor = torch.log(linear.clamp(min=B.FLOOR))
    evs = list(B.STACK_EVS)
    stack = self.brackets(signal, evs, context)
    fused = self.fuse_pair(signal, stack[evs.index(-self.ev)], stack[evs.index(self.ev)])
    prev, prev_ev = stack[evs.index(-3.0)], -3.0
    for e in CHAIN:
        prev = self.brackets(prev, [e - prev_ev])[0]
        prev_ev = e
        stack.append(prev); evs.append(e)
    merged = merge(stack + [signal], evs + [0.0])
    return B.mixed_log_light(fused, merged, share) - floor


B.BracketHDR.field_tile = field_tile
print("evs", B.STACK_EVS, "chain", CHAIN, "gate", GATE, "share", B.BracketHDR.debevec_share, flush=True)
os.environ.setdefault("MODEL", "brackets")
os.environ.setdefault("CAPS", "250")
sys.argv = [str(Path(__file__).resolve().parents[2] / "hdrunet/cap-session40/cap_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
