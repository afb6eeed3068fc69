"""The plain transcode (``convert --model none`` to HDR10) as one fused stage, without torch.

Where the output transform is a per-pixel function of the decoded codes (no model, no roll-off because the
input cannot exceed the mastering peak, no tone mapping), the decoder hands its R'G'B' codes here and this
stage goes straight to the encoder's planes: codes -> nits (a table per code value) -> BT.2020 (one 3x3
product) -> PQ (a table over the float bit patterns) -> Y'CbCr 4:2:0 10-bit with the same chroma filter and
luma adjustment as :class:`hdrvid.pipeline.output.OutputTransform` (packed, in OpenCV: ``color.fused``).
The picture is the reference path's within one code value (``tests/test_fused.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from hdrvid.color.fused import pq_decode, pq_encode_table, to_yuv420
from hdrvid.color.gamut import BT709_TO_BT2020
from hdrvid.color.transfer import pq_inverse_eotf
from hdrvid.pipeline.decoder import transfer_lut
from hdrvid.pipeline.frame import Frame
from hdrvid.pipeline.output import OutputSpec
from hdrvid.pipeline.smoothing import SceneCuts

FUSED_TRANSFERS = ("bt709", "bt1886", "srgb", "gamma22", "gamma28")
"""Input transfers whose decode is one table per code value with white at relative 1.0 (SDR)."""


def fused_applies(spec: OutputSpec, transfer: str, primaries: str) -> bool:
    """Whether the fused stage reproduces the output transform for this input and output: HDR10, an SDR
    transfer (light tops out at reference white), white at or below the mastering peak (so the BT.2390
    roll-off is the identity) and primaries the decoder takes as BT.709 (BT.2020 input is clipped to BT.709 by
    the reference path, a step this stage does not reproduce)."""
    return (spec.format == "hdr10" and transfer in FUSED_TRANSFERS and primaries != "bt2020"
            and spec.reference_white <= spec.peak_nits and not spec.measure_flicker)


class FusedHdr10:
    """Decoded R'G'B' codes -> HDR10 planes + CTA-861.3 frame statistics, in one stage (see the module)."""

    name = "transform"

    def __init__(self, spec: OutputSpec, transfer: str, primaries: str, cut_threshold: float = 0.3) -> None:
        if not fused_applies(spec, transfer, primaries):
            raise ValueError(f"the fused transcode does not cover {spec.format} from {transfer}/{primaries}")
        self.spec = spec
        self.transfer = transfer
        # one OpenCV thread: the encoder's threads have the cores; measured on 2 cores, 720p: 23 ms per frame
        # with one thread against 29 ms with two (the kernels are memory-bound, the hand-offs are not free)
        cv2.setNumThreads(1)
        self.matrix = np.asarray(BT709_TO_BT2020, np.float32)  # all entries >= 0: light stays >= 0
        self.ceiling = float(pq_inverse_eotf(spec.peak_nits))
        self._luts: dict[int, np.ndarray] = {}
        self.frames = 0
        self.detector = SceneCuts(cut_threshold)  # scene cuts are reported as the smoother would
        self.cuts: list[int] = []

    def _nits(self, codes: np.ndarray) -> np.ndarray:
        bits = 16 if codes.dtype == np.uint16 else 8
        lut = self._luts.get(bits)
        if lut is None:
            lut = self._luts[bits] = (transfer_lut(self.transfer, bits).astype(np.float64)
                                      * self.spec.reference_white).astype(np.float32)
            if float(lut.max()) > self.spec.peak_nits:
                raise ValueError("the fused transcode needs light at or below the mastering peak")
        if bits == 8:
            return cv2.LUT(codes, lut)
        return np.take(lut, codes)

    def process(self, frame: Frame) -> Iterator[Frame]:
        assert frame.codes is not None, "the fused transcode needs the decoder's codes (VideoDecoder.raw)"
        if self.detector.update(frame.stats.hist):
            frame.stats.scene_cut = True
            self.cuts.append(frame.index)
        nits = cv2.transform(self._nits(frame.codes), self.matrix)  # BT.709 light -> BT.2020, all >= 0
        signal = pq_encode_table(nits)
        frame.planes, decoded = to_yuv420(signal, "bt2020nc", 10, ceiling=self.ceiling, in_range=True)
        assert decoded is not None
        peak = float(decoded.max())
        frame.stats.max_nits = float(pq_decode(np.array([[peak]], np.float32))[0, 0])
        frame.stats.average_nits = float(pq_decode(decoded[::2, ::2]).mean())  # MaxFALL: a quarter of the pixels
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
