"""The packaged int8 network against fp32 in the CPU fast mode (session 46): both as ``hdrunet-auto`` at the same
network scale on the validation views at WIDTH (tools/fast_width_check.py's pictures and rows: PSNR-mu over all /
clipped / unclipped pixels and PU21-PSNR per camera, means over pictures as ``hdrvid eval`` has them).

    python docs/training/hdrunet/int8-session46/int8_check.py WIDTH SCALE

One thread; reads ../shared/hdri-train (run from the repository root).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hdrvid.engines import TorchBackend
from hdrvid.runtime import EngineOptions
from hdrvid.runtime.factory import make_executor

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tools"))
from fast_width_check import score  # noqa: E402


def main() -> None:
    width, scale = int(sys.argv[1]), float(sys.argv[2])
    score({f"{p}@{scale:.4f}": make_executor("hdrunet-auto", None,
                                             EngineOptions(backend=TorchBackend(precision=p, threads=1),
                                                           infer_scale=scale))
           for p in ("fp32", "int8")}, width)


if __name__ == "__main__":
    main()
