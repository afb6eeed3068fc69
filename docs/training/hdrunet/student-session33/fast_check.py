"""The distilled network against the shipped one in the CPU fast mode (session 33): both as ``hdrunet-auto`` at
the same network scale on the validation views at WIDTH (tools/fast_width_check.py's pictures and rows: PSNR-mu
over all / clipped / unclipped pixels and PU21-PSNR per camera, means over pictures as ``hdrvid eval`` has them).

    python docs/training/hdrunet/student-session33/fast_check.py WIDTH SCALE STUDENT.pt [STUDENT_WIDTH]

STUDENT.pt: a run's ``hdrunet.pt`` (the network; the shoulder detector's trained values are taken from the
shipped file). One thread; reads ../shared/hdri-train (run from the repository root).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hdrvid.models.hdrunet import HDRUNet
from hdrvid.runtime import EngineOptions
from hdrvid.runtime.factory import make_executor

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tools"))
from fast_width_check import score  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from combine import with_shipped_detector  # noqa: E402


def student(path: Path, width: int) -> HDRUNet:
    m = HDRUNet(width=width, curve=False, adaptive=True)
    m.load_state_dict(with_shipped_detector(str(path)))
    return m.eval()

def main() -> None:
    width, scale, path = int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
    sw = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    opts = EngineOptions(infer_scale=scale)
    score({f"shipped@{scale:.4f}": make_executor("hdrunet-auto", None, opts),
           f"student-w{sw}@{scale:.4f}": make_executor("hdrunet-auto", None, opts, model=student(path, sw))}, width)

if __name__ == "__main__":
    main()
