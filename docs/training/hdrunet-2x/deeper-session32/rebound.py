"""A trained hdrunet-2x file with another run-time bound (sr.bound), as session 30 shipped its network (trained at 4,
run at 2):

    python docs/training/hdrunet-2x/deeper-session32/rebound.py IN.pt OUT.pt 2.0
"""
import sys

import torch

state = torch.load(sys.argv[1], weights_only=True)
state["sr.bound"] = torch.tensor(float(sys.argv[3]))
torch.save(state, sys.argv[2])
print(f"{sys.argv[2]}: sr.bound {float(state['sr.bound']):g}")
