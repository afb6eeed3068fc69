"""The plain transcode (``convert --model none`` to HDR10) as one fused stage, without torch.

Where the output transform is a per-pixel function of the decoded codes (no model, no roll-off because the
input cannot exceed the mastering peak, no tone mapping), the decoder hands its R'G'B' codes here and this
stage goes straight to the encoder's planes: codes -> nits (a table per code value) -> BT.2020 (one 3x3
product) -> PQ (a table in the fourth root of light) -> Y'CbCr 4:2:0 10-bit with the same chroma filter and
luma adjustment as :class:`hdrvid.pipeline.output.OutputTransform`, in two compiled passes (``color.fused``).
The picture is the reference path's within one code value (``tests/test_fused.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from hdrvid.color.kernels import hdr10_planes
from hdrvid.color.transfer import pq_eotf, pq_inverse_eotf
from hdrvid.pipeline.decoder import transfer_lut
from hdrvid.pipeline.frame import Frame
from hdrvid.pipeline.output import OutputSpec
from hdrvid.pipeline.smoothing import SceneCuts

FUSED_TRANSFERS = ("bt709", "bt1886", "srgb", "gamma22", "gamma28")
"""Input transfers whose decode is one table per code value with white at relative 1.0 (SDR)."""


def fused_applies(spec: OutputSpec, transfer: str, primaries: str) -> bool:
    """Whether the fused stage reproduces the output transform for this input and output: HDR10, an SDR
    transfer (light tops out at reference white), white at or below the mastering peak (so the BT.2390
    roll-off is the identity) and BT.709 primaries (other primaries are converted to BT.709 by the decoder and
    their light outside it carried on to BT.2020 by the reference path, steps this stage does not reproduce)."""
    return (spec.format == "hdr10" and transfer in FUSED_TRANSFERS and primaries == "bt709"
            and spec.reference_white <= spec.peak_nits and not spec.measure_flicker)


class FusedHdr10:
    """Decoded R'G'B' codes -> HDR10 planes + CTA-861.3 frame statistics, in one stage (see the module)."""

    name = "transform"

    def __init__(self, spec: OutputSpec, transfer: str, primaries: str, cut_threshold: float = 0.3) -> None:
        if not fused_applies(spec, transfer, primaries):
            raise ValueError(f"the fused transcode does not cover {spec.format} from {transfer}/{primaries}")
        self.spec = spec
        self.transfer = transfer
        self.ceiling = float(pq_inverse_eotf(spec.peak_nits))
        self._luts: dict[int, np.ndarray] = {}
        self.frames = 0
        self.detector = SceneCuts(cut_threshold)  # scene cuts are reported as the smoother would
        self.cuts: list[int] = []

    def _lut(self, codes: np.ndarray) -> np.ndarray:
        bits = 16 if codes.dtype == np.uint16 else 8
        lut = self._luts.get(bits)
        if lut is None:
            lut = self._luts[bits] = (transfer_lut(self.transfer, bits).astype(np.float64)
                                      * self.spec.reference_white).astype(np.float32)
        return lut

    def process(self, frame: Frame) -> Iterator[Frame]:
        assert frame.codes is not None, "the fused transcode needs the decoder's codes (VideoDecoder.raw)"
        if self.detector.update(frame.stats.hist):
            frame.stats.scene_cut = True
            self.cuts.append(frame.index)
        frame.planes, peak, mean = hdr10_planes(frame.codes, self._lut(frame.codes), self.ceiling)
        # frame statistics on the even rows and columns (the light level in the file is measured on the
        # decoded stream: pipeline.encoder.DecodedLightMeter)
        frame.stats.max_nits, frame.stats.average_nits = float(pq_eotf(peak)), mean
        frame.codes = None
        self.frames += 1
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass

    def above_white_share(self) -> float:
        """Light never exceeds reference white here (``fused_applies``)."""
        return 0.0


__all__ = ["FUSED_TRANSFERS", "FusedHdr10", "fused_applies"]
