"""Flicker of a conversion: the SDR input and the HDR10 output decoded with hdrvid's decoder, compared in PQ units.

    python tools/flicker.py INPUT.mp4 OUTPUT.mp4 [--level bt2446a|bt2408] [--reference-white 203] [--curve bt2446a]
    python tools/flicker.py INPUT.mp4 FRAMES/ [--curve bt2446a]     # convert's EXR frames (-f exr)

Prints hdrvid.metrics.flicker's summary: the mean |change of mean log luminance| and the optical-flow warping
error, input and output, and their ratios (1 = the conversion added no flicker). The input is placed at the
level the conversion put SDR white at (``convert``'s ``--level`` and ``--reference-white``; default: convert's
defaults, SDR white at 398 nits), as ``convert``'s own flicker measure does: compared at 203 nits, a conversion
that only raised the level would look less steady in PQ than its input. The frames must be aligned (convert
the whole clip, or cut the input first).

OUTPUT may be a folder of EXR frames (``hdrvid convert IN FRAMES/``): the conversion's own flicker, without the
output codec's. A 10-bit HEVC file at crf 18 adds its own temporal noise on still, flat areas (a phone clip of a
bottle on a table: 1.10 as HDR10, 1.00 as EXR) and removes some where the conversion boils (a white car driving
through a car park: 0.93 as HDR10, 1.09 as EXR; hdrunet card, session 38). EXR frames are relative to reference
white whatever ``--level`` (README), so the input is placed at ``--reference-white`` for them.

``--curve bt2446a``: the input also goes through the fixed BT.2446A expansion ``hdrunet-auto`` applies to graded
footage (weight 1). A fixed curve that expands contrast scales every change over time by its log-log slope (a
plain ``--model bt2446a`` conversion, a per-pixel map without any state, measures 1.2-1.6 against the bare
input); against the curved input, 1 again means that the conversion added nothing over time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.color.operators import bt2446a_expansion
from hdrvid.color.transfer import pq_inverse_eotf
from hdrvid.jobs.job import open_source
from hdrvid.metrics.flicker import FlickerMeter
from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder

W = np.array([0.2126, 0.7152, 0.0722], np.float32)


def lum(frame) -> np.ndarray:
    data = frame.data
    return np.tensordot(W, data if isinstance(data, np.ndarray) else data.numpy(), axes=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--level", choices=sorted(LEVEL_GAIN), default="bt2446a")
    ap.add_argument("--reference-white", type=float, default=REFERENCE_WHITE_NITS)
    ap.add_argument("--curve", choices=["none", "bt2446a"], default="none")
    args = ap.parse_args()
    frames = args.output.is_dir()  # EXR frames: relative to reference white, whatever the level
    white_in = args.reference_white * (1.0 if frames else LEVEL_GAIN[args.level])
    src, out = VideoDecoder(args.input), open_source(args.output, DecodeOptions())
    meter = FlickerMeter(warp=True)
    for a, b in zip(src, out):
        ya = lum(a)
        if args.curve == "bt2446a":
            ya = ya * bt2446a_expansion(torch.from_numpy(ya)).numpy()
        ya = ya * white_in  # SDR white where the conversion put it
        yb = lum(b) * REFERENCE_WHITE_NITS  # nits: the HDR decoder gives relative light x 203
        meter.add(np.asarray(pq_inverse_eotf(ya)), np.asarray(pq_inverse_eotf(yb)), ya, yb)
    src.close()
    out.close()
    print(json.dumps(meter.summary(), indent=2))


if __name__ == "__main__":
    main()
