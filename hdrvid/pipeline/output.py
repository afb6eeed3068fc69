"""Output transform: relative linear HDR frames -> what the encoder writes.

- ``hdr10``: absolute light = relative x reference white (203 nits, BT.2408); highlights above the
  mastering peak are rolled off with the BT.2390 EETF (on max(R,G,B), hue kept) from the temporally
  smoothed scene peak; BT.709 -> BT.2020 primaries; CTA-861.3 light level measured; PQ; Y'CbCr
  BT.2020 NCL, 4:2:0 (left-sited chroma), limited range, 10 bits.
- ``hlg``: same light, then the inverse HLG OOTF for a ``peak_nits`` display and the HLG OETF
  (reference white lands at 75% signal on a 1000-nit display).
- ``sdr``: Reinhard global (smoothed log-average and peak), BT.1886 (gamma 2.4) encoding, BT.709
  Y'CbCr, limited range, 8 bits.
- ``exr``/``hdr``: linear relative BT.709 light, (H, W, 3) float, unrotated to display orientation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color.gamut import BT709_TO_BT2020
from hdrvid.color.tonemap import eetf_bt2390, reinhard_global
from hdrvid.color.transfer import bt1886_inverse_eotf, hlg_inverse_ootf, hlg_oetf, pq_inverse_eotf
from hdrvid.color.ycbcr import quantize_chroma, quantize_luma, rgb_to_ycbcr
from hdrvid.color._xp import apply_matrix
from hdrvid.pipeline.frame import Frame

VIDEO_FORMATS = ("hdr10", "hlg", "sdr")
IMAGE_FORMATS = ("exr", "hdr")


@dataclass(frozen=True)
class OutputSpec:
    format: str = "hdr10"
    peak_nits: float = 1000.0
    """Mastering peak (HDR10), nominal display peak (HLG)."""
    reference_white: float = REFERENCE_WHITE_NITS
    """Nits that relative 1.0 (SDR reference white) maps to."""
    rotation: int = 0
    """For image outputs: rotate pixels to display orientation (counter-clockwise degrees)."""

    @property
    def bits(self) -> int:
        return 8 if self.format == "sdr" else 10

    @property
    def matrix(self) -> str:
        return "bt709" if self.format == "sdr" else "bt2020nc"


def to_yuv420(rgb_signal: torch.Tensor, matrix: str, bits: int) -> list[np.ndarray]:
    """Non-linear (3, H, W) in [0,1] -> limited-range Y, Cb, Cr planes (4:2:0, left-sited chroma).

    Odd sizes are padded by one replicated row/column (4:2:0 needs even dimensions).
    """
    _, h, w = rgb_signal.shape
    x = rgb_signal.clamp(0, 1).unsqueeze(0)
    if h % 2 or w % 2:
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    ycc = rgb_to_ycbcr(x[0], matrix, axis=0)
    y = quantize_luma(ycc[0], bits)
    c = ycc[1:].unsqueeze(0)
    c = 0.5 * (c[:, :, 0::2] + c[:, :, 1::2])  # vertical: between the two rows
    c = F.pad(c, (1, 0, 0, 0), mode="replicate")  # horizontal [1 2 1]/4 centred on even columns
    c = 0.25 * c[..., 0:-1:2] + 0.5 * c[..., 1::2] + 0.25 * c[..., 2::2]
    cb = quantize_chroma(c[0, 0], bits)
    cr = quantize_chroma(c[0, 1], bits)
    dt = np.uint8 if bits == 8 else np.uint16
    return [p.to(torch.int32).numpy().astype(dt) for p in (y, cb, cr)]


def roll_off(nits: torch.Tensor, source_peak: float, target_peak: float) -> torch.Tensor:
    """BT.2390 EETF on max(R,G,B), colour scaled by the same ratio (hue and saturation kept)."""
    m = nits.amax(0, keepdim=True).clamp(min=1e-6)
    if source_peak <= target_peak:
        return nits * (m.clamp(max=target_peak) / m)
    return nits * (eetf_bt2390(m, source_peak, target_peak) / m)


class OutputTransform:
    name = "transform"

    def __init__(self, spec: OutputSpec) -> None:
        self.spec = spec

    def _absolute_bt2020(self, frame: Frame) -> torch.Tensor:
        s = self.spec
        nits = frame.data.clamp(min=0) * s.reference_white
        src_peak = float(frame.stats.get("peak_smooth", frame.data.amax())) * s.reference_white
        nits = roll_off(nits, max(src_peak, s.peak_nits), s.peak_nits)
        return apply_matrix(nits, BT709_TO_BT2020, axis=0).clamp(0, s.peak_nits)

    def process(self, frame: Frame) -> Iterator[Frame]:
        s = self.spec
        if s.format in ("hdr10", "hlg"):
            light = self._absolute_bt2020(frame)
            maxrgb = light.amax(0)
            frame.stats["max_nits"] = float(maxrgb.max())
            frame.stats["average_nits"] = float(maxrgb.mean())
            if s.format == "hdr10":
                signal = pq_inverse_eotf(light)
            else:
                signal = hlg_oetf(hlg_inverse_ootf(light, s.peak_nits, axis=0).clamp(0, 1))
            frame.planes = to_yuv420(signal, "bt2020nc", 10)
        elif s.format == "sdr":
            disp = reinhard_global(
                frame.data.clamp(min=0),
                log_average=frame.stats.get("log_average_smooth", 0.18),
                white=frame.stats.get("peak_smooth", 1.0),
                axis=0,
            )
            frame.planes = to_yuv420(bt1886_inverse_eotf(disp), "bt709", 8)
        elif s.format in IMAGE_FORMATS:
            img = frame.data.permute(1, 2, 0).numpy()
            k = (s.rotation // 90) % 4
            frame.planes = [np.ascontiguousarray(np.rot90(img, k)) if k else img]
        else:
            raise ValueError(f"unknown output format {s.format!r}")
        frame.data = torch.empty(0)  # the linear frame is no longer needed; keep memory flat
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass
