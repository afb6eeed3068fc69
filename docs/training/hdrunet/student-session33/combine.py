"""A distilled network's weights with the shipped shoulder detector's trained values (the training run never
trains the detector; its file holds the detector's initial values):

    python docs/training/hdrunet/student-session33/combine.py RUN/hdrunet.pt OUT.pt
"""
import sys

import torch

from hdrvid.models import build


def with_shipped_detector(path: str) -> dict[str, torch.Tensor]:
    """A run's weights file with its ``shoulder.*`` values replaced by the shipped ``hdrunet-auto``'s."""
    sd = torch.load(path, map_location="cpu", weights_only=True)
    shipped = build("hdrunet-auto").state_dict()
    out = {k: v for k, v in sd.items() if not k.startswith("shoulder.")}
    out.update({k: v.clone() for k, v in shipped.items() if k.startswith("shoulder.")})
    return out


if __name__ == "__main__":
    out = with_shipped_detector(sys.argv[1])
    torch.save(out, sys.argv[2])
    print(f"{sys.argv[2]}: {sum(v.numel() for k, v in out.items() if not k.startswith('shoulder.'))} network values, "
          f"{sum(v.numel() for k, v in out.items() if k.startswith('shoulder.'))} of the detector")
