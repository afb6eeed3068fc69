"""Flicker of a conversion: the SDR input and the HDR10 output decoded with hdrvid's decoder, compared in PQ units.

    python tools/flicker.py INPUT.mp4 OUTPUT.mp4

Prints hdrvid.metrics.flicker's summary: the mean |change of mean log luminance| and the optical-flow warping
error, input and output, and their ratios (1 = the conversion added no flicker).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from hdrvid.color.transfer import pq_inverse_eotf
from hdrvid.metrics.flicker import FlickerMeter
from hdrvid.pipeline.decoder import VideoDecoder

W = np.array([0.2126, 0.7152, 0.0722], np.float32)


def lum(frame) -> np.ndarray:
    return np.tensordot(W, frame.data.numpy(), axes=1)


def main() -> None:
    src, out = VideoDecoder(Path(sys.argv[1])), VideoDecoder(Path(sys.argv[2]))
    meter = FlickerMeter(warp=True)
    for a, b in zip(src, out):
        ya, yb = lum(a) * 203, lum(b) * 203  # nits (relative x reference white), as the HDR decoder gives
        meter.add(np.asarray(pq_inverse_eotf(ya)), np.asarray(pq_inverse_eotf(yb)), ya, yb)
    src.close()
    out.close()
    print(json.dumps(meter.summary(), indent=2))


if __name__ == "__main__":
    main()
