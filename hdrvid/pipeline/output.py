"""Output transform: relative linear HDR frames -> what the encoder writes.

- ``hdr10``: absolute light = relative x reference white (203 nits, BT.2408); highlights above the
  mastering peak are rolled off with the BT.2390 EETF (on max(R,G,B), hue kept) from the temporally
  smoothed scene peak; BT.709 -> BT.2020 primaries; CTA-861.3 light level measured; PQ; Y'CbCr
  BT.2020 NCL, 4:2:0 (left-sited chroma), limited range, 10 bits.
- ``hlg``: same light, then the inverse HLG OOTF for a ``peak_nits`` display and the HLG OETF
  (reference white lands at 75% signal on a 1000-nit display).
- ``sdr``: gamut mapping to BT.709 (soft compression or clip), a tone mapping operator from
  :mod:`hdrvid.color.operators` driven by the smoothed statistics (Reinhard global by default for
  ``convert``, BT.2390 for ``tonemap``), BT.1886 (gamma 2.4) encoding, BT.709 Y'CbCr, limited, 8 bits.
- ``exr``/``hdr``: linear relative BT.709 light, (H, W, 3) float, unrotated to display orientation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color._xp import apply_matrix
from hdrvid.color.gamut import BT709_TO_BT2020, GAMUT_MODES, GamutMode, gamut_map, luminance
from hdrvid.color.levels import SDR_MAPPING_TRANSFER, SDR_MAPPINGS, SdrMapping
from hdrvid.color.operators import CURVE_SCALARS, OPERATORS, ToneStats, curve_gain
from hdrvid.color.packed import block_mean
from hdrvid.color.tonemap import roll_off
from hdrvid.color.transfer import (
    ENCODERS,
    hlg_inverse_ootf,
    hlg_oetf,
    pq_eotf,
    pq_inverse_eotf,
)
from hdrvid.color.ycbcr import (
    dequantize_chroma,
    dequantize_luma,
    quantize_chroma,
    quantize_luma,
    rgb_to_ycbcr_matrix,
)
from hdrvid.errors import OptionError, check_choice, check_range
from hdrvid.lazy import F, torch
from hdrvid.metrics.flicker import ANALYSIS_HEIGHT, FlickerMeter
from hdrvid.pipeline.frame import FlickerSample, Frame

VideoFormat = Literal["hdr10", "hlg", "sdr"]
ImageFormat = Literal["exr", "hdr"]
VIDEO_FORMATS: tuple[str, ...] = get_args(VideoFormat)
IMAGE_FORMATS: tuple[str, ...] = get_args(ImageFormat)
OUTPUT_FORMATS = VIDEO_FORMATS + IMAGE_FORMATS
PeakMode = Literal["auto", "metadata", "measure"]
PEAK_MODES: tuple[str, ...] = get_args(PeakMode)


MIN_PEAK_NITS, MAX_PEAK_NITS = 100.0, 10_000.0
"""Display / mastering peaks hdrvid writes: from an SDR-class display to PQ's ceiling (SMPTE ST 2084)."""


def check_content_light(cll: tuple[int, int], fmt: str, hdr10: str = "--format hdr10") -> None:
    """``--max-cll MAXCLL,MAXFALL``: HDR10 only, whole nits that fit the metadata's 16 bits, MaxFALL (a frame's
    average) at most MaxCLL (a pixel's maximum). ``hdr10``: the option that asks for HDR10 output."""
    if fmt != "hdr10":
        raise OptionError(f"--max-cll is HDR10 metadata and this output is {fmt}; drop it or add {hdr10}")
    if len(cll) != 2 or not all(isinstance(v, int) and 0 <= v <= 65535 for v in cll):
        raise OptionError(f"--max-cll {cll}: give MaxCLL,MaxFALL as whole nits from 0 to 65535, e.g. 1000,400")
    if cll[1] > cll[0]:
        raise OptionError(f"--max-cll {cll[0]},{cll[1]}: MaxFALL (a frame's average) cannot exceed MaxCLL (a pixel's "
                          f"maximum); give MaxCLL first")


@dataclass(frozen=True)
class OutputSpec:
    """What the output transform makes (user settings, validated when built; plus the input's static peak)."""

    format: VideoFormat | ImageFormat = "hdr10"
    peak_nits: float = 1000.0
    """Mastering peak (HDR10), nominal display peak (HLG)."""
    reference_white: float = REFERENCE_WHITE_NITS
    """Nits that relative 1.0 (SDR reference white) maps to."""
    rotation: int = 0
    """For image outputs: rotate pixels to display orientation (counter-clockwise degrees)."""
    operator: str = "reinhard"
    """SDR output: tone mapping operator (see hdrvid.color.operators.OPERATORS)."""
    gamut: GamutMode = "compress"
    """SDR output: "compress" (soft, hue-preserving) or "clip"."""
    peak_mode: PeakMode = "auto"
    """Source peak for tone mapping: "measure" (smoothed per-frame detection), "metadata" (the input's
    MaxCLL or mastering peak, constant), "auto" (detection capped by the metadata when there is any)."""
    metadata_peak: float | None = None
    """The input's static peak in relative units (nits / reference white), if it declares one."""
    measure_flicker: bool = False
    sdr_mapping: SdrMapping = "scene"
    """SDR output: the signal is the BT.709 OETF of relative light ("scene", the inverse of how SDR input is
    decoded by default) or the BT.1886 inverse EOTF ("display"); see :mod:`hdrvid.color.levels`."""
    sdr_exposure: float = 1.0
    """SDR output: relative input is multiplied by this before tone mapping (``hdrvid tonemap --level``:
    1 / the level's gain, so the HDR level's reference white becomes SDR white)."""
    content_light: tuple[int, int] | None = None
    """HDR10: (MaxCLL, MaxFALL) in nits given by the user (``--max-cll``), written as they are instead of
    measured on the decoded output."""

    def __post_init__(self) -> None:
        check_choice(self.format, OUTPUT_FORMATS, "--format")
        check_choice(self.sdr_mapping, SDR_MAPPINGS, "--sdr-mapping")
        check_choice(self.operator, OPERATORS, "--operator")
        check_choice(self.gamut, GAMUT_MODES, "--gamut")
        check_choice(self.peak_mode, PEAK_MODES, "--peak-source")
        check_range(self.peak_nits, "--peak-nits" if self.format != "sdr" else "--target-nits", MIN_PEAK_NITS,
                    MAX_PEAK_NITS)
        check_range(self.reference_white, "--reference-white", 0, MAX_PEAK_NITS, low_open=True)
        if self.metadata_peak is not None:
            check_range(self.metadata_peak, "the input's peak metadata", 0, low_open=True)
        if self.content_light is not None:
            check_content_light(self.content_light, self.format)

    @property
    def bits(self) -> int:
        return 8 if self.format == "sdr" else 10

    @property
    def matrix(self) -> str:
        return "bt709" if self.format == "sdr" else "bt2020nc"


def upsample_chroma(c: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(C, h/2, w/2) chroma -> (C, h, w) the way a decoder's bilinear upsampler reads it: horizontally
    co-sited with the even luma columns (left siting, BT.2020/BT.709 default), vertically between rows."""
    x = c.unsqueeze(0)
    # horizontal: sample k sits on luma column 2k; odd columns are the mean of their neighbours
    right = torch.cat([x[..., 1:], x[..., -1:]], dim=-1)
    x = torch.stack([x, 0.5 * (x + right)], dim=-1).flatten(-2)[..., :w]
    # vertical: sample k sits between rows 2k and 2k+1 (centre): bilinear with half-pixel offset
    x = F.interpolate(x, size=(h, x.shape[-1]), mode="bilinear", align_corners=False)
    return x[0]


def to_yuv420(rgb_signal: torch.Tensor, matrix: str, bits: int, ceiling: float | None = None
              ) -> tuple[list[np.ndarray], torch.Tensor | None]:
    """Non-linear (3, H, W) in [0,1] -> limited-range Y, Cb, Cr planes (4:2:0, left-sited chroma).

    Chroma is filtered on R'G'B' before the matrix (the filter and the matrix are both linear, so this
    equals filtering Cb/Cr and costs a quarter). Odd sizes are padded by one replicated row/column.

    ``ceiling`` (a signal value, e.g. PQ of the mastering peak): a simple luma adjustment (after Strom et al.
    2016): where the decoded picture (chroma upsampled back by any of nearest, bilinear or bicubic) would have a
    component above the ceiling, Y' is lowered by the overshoot, so saturated colours next to highlights never
    decode above the mastering peak (codec error aside). The decoded
    max(R',G',B') of the quantised planes is returned then (for MaxCLL/MaxFALL), else None.
    """
    _, h, w = rgb_signal.shape
    x = rgb_signal.clamp(0, 1).unsqueeze(0)
    if h % 2 or w % 2:
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    m = torch.as_tensor(rgb_to_ycbcr_matrix(matrix), dtype=x.dtype)
    x = x[0]
    hh, ww = x.shape[1:]
    y = (m[0:1] @ x.reshape(3, -1)).reshape(x.shape[1:])
    c = 0.5 * (x[:, 0::2] + x[:, 1::2])  # vertical: between the two rows
    c = F.pad(c.unsqueeze(0), (1, 0, 0, 0), mode="replicate")[0]  # horizontal [1 2 1]/4 on even columns
    c = 0.25 * c[..., 0:-1:2] + 0.5 * c[..., 1::2] + 0.25 * c[..., 2::2]
    cbcr = (m[1:] @ c.reshape(3, -1)).reshape(2, *c.shape[1:])
    cb = quantize_chroma(cbcr[0], bits)
    cr = quantize_chroma(cbcr[1], bits)
    decoded_max = None
    if ceiling is not None:
        inv = torch.as_tensor(np.linalg.inv(rgb_to_ycbcr_matrix(matrix)), dtype=x.dtype)
        cdq = torch.stack([dequantize_chroma(cb, bits), dequantize_chroma(cr, bits)])
        # R'G'B' = Y' + (columns 1-2 of the inverse matrix) . (Cb, Cr): the largest chroma term per sample
        lift_c = (inv[:, 1:] @ cdq.reshape(2, -1)).reshape(3, *cdq.shape[1:]).amax(0)
        # a decoder may upsample chroma by nearest, bilinear or bicubic: any of the chroma samples around a
        # pixel can end up on it, so bound Y' by the largest lift among its neighbours
        worst = F.max_pool2d(lift_c[None, None], 3, stride=1, padding=1)[0, 0]
        worst = worst.repeat_interleave(2, 0).repeat_interleave(2, 1)
        half_step = 0.5 / (219 * 2 ** (bits - 8))  # rounding Y' to a code must not lift it over the ceiling
        lift = (inv[:, 1:] @ upsample_chroma(cdq, hh, ww).reshape(2, -1)).reshape(3, hh, ww).amax(0)
        # never above the mastering peak whatever the decoder's chroma filter; and, as a bilinear decoder
        # sees it, never above the frame's own brightest component (4:2:0 fringes of saturated colours)
        y = torch.minimum(y, torch.minimum(ceiling - worst, float(x.amax()) - lift) - half_step)
        yq = quantize_luma(y, bits)
        decoded_max = (dequantize_luma(yq, bits) + lift).clamp(0, 1)[:h, :w]  # as a bilinear decoder sees it
    else:
        yq = quantize_luma(y, bits)
    if bits == 8:
        return [p.to(torch.uint8).numpy() for p in (yq, cb, cr)], decoded_max
    return [p.to(torch.int16).numpy().view(np.uint16) for p in (yq, cb, cr)], decoded_max


CURVE_TOP = 4096.0
"""The compiled SDR path's curve table covers the scalar (max(R,G,B) or luminance, relative) up to this (830,000
nits at 203-nit white: past PQ's ceiling even for a channel gamut compression raised); above it the last gain."""


class OutputTransform:
    name = "transform"

    def __init__(self, spec: OutputSpec, compiled: bool = True) -> None:
        if spec.operator not in OPERATORS:
            raise ValueError(f"unknown operator {spec.operator!r}; choose from {', '.join(OPERATORS)}")
        self.spec = spec
        self.compiled = compiled
        """HDR10 frames go through the compiled kernel (False: always the torch path, the reference the kernel is
        tested against)."""
        self.out_of_gamut_sum = 0.0
        self.above_white_sum = 0.0
        self.frames = 0

    def source_peak(self, frame: Frame) -> float:
        """The source peak (relative units) that tone mapping works from, per ``peak_mode``."""
        s = self.spec
        smooth = frame.stats.peak_smooth
        measured = float(smooth if smooth is not None else frame.data.max())
        if s.metadata_peak is None or s.peak_mode == "measure":
            return measured
        if s.peak_mode == "metadata":
            return s.metadata_peak
        return min(measured, s.metadata_peak)

    @property
    def takes_arrays(self) -> bool:
        """Whether every frame goes through a compiled kernel, so the source may hand numpy frames (no torch):
        HDR10, or SDR by a curve operator (``color.operators.CURVE_SCALARS``)."""
        s = self.spec
        return self.compiled and (s.format == "hdr10" or (s.format == "sdr" and s.operator in CURVE_SCALARS))

    @property
    def ceiling(self) -> float:
        """PQ signal of the mastering peak."""
        return float(pq_inverse_eotf(self.spec.peak_nits))

    def _absolute_bt2020(self, frame: Frame) -> torch.Tensor:
        s = self.spec
        # light outside BT.709 (negative in BT.709: wide-gamut sources) is clipped only after the conversion to
        # BT.2020, which holds it
        nits = frame.data * s.reference_white
        src_peak = self.source_peak(frame) * s.reference_white
        nits = roll_off(nits, max(src_peak, s.peak_nits), s.peak_nits)
        return apply_matrix(nits, BT709_TO_BT2020, axis=0).clamp(0, s.peak_nits)

    def _tone_map(self, frame: Frame) -> torch.Tensor:
        """Relative HDR (BT.709, possibly out of gamut) -> display-linear SDR (1.0 = white, not clipped)."""
        s = self.spec
        k = s.sdr_exposure
        x, oog = gamut_map(frame.data * k if k != 1.0 else frame.data, s.gamut, axis=0)
        frame.stats.out_of_gamut = oog
        self.out_of_gamut_sum += oog
        return OPERATORS[s.operator](x.clamp(min=0), self._tone_stats(frame))  # (> 1 is clipped by the Y'CbCr stage)

    def _tone_stats(self, frame: Frame) -> ToneStats:
        s = self.spec
        k = s.sdr_exposure
        la = frame.stats.log_average_smooth
        return ToneStats.for_frame(self.source_peak(frame) * k, (la if la is not None else 0.18) * k,
                                   s.reference_white / k)

    def _sdr_compiled(self, frame: Frame) -> None:
        """The SDR chain for a curve operator in one compiled pass (``color.kernels.sdr_planes_linear``: C, or
        numba where the C kernels were not built): the operator's gain as a table over its scalar, made each frame
        from the operator itself (``curve_gain``)."""
        s = self.spec
        from hdrvid.color.kernels import sdr_planes_linear
        from hdrvid.color.packed import curve_samples, curve_table, oetf_table

        samples = curve_samples(CURVE_TOP)
        gain = curve_gain(s.operator, samples, self._tone_stats(frame))
        planes, oog, above, lum = sdr_planes_linear(
            np.asarray(frame.data), s.sdr_exposure, (*curve_table(gain, CURVE_TOP), CURVE_SCALARS[s.operator] == "max"),
            oetf_table(SDR_MAPPING_TRANSFER[s.sdr_mapping]), gamut=s.gamut, luminance_out=s.measure_flicker,
            luminance_block=flicker_block(frame))
        frame.stats.out_of_gamut = oog
        self.out_of_gamut_sum += oog
        self.above_white_sum += above
        if lum is not None:  # (block means already: the kernel writes no full-size luminance)
            self._keep_for_flicker(frame, *lum)
        frame.planes = planes

    def process(self, frame: Frame) -> Iterator[Frame]:
        s = self.spec
        self.frames += 1
        arrays = isinstance(frame.data, np.ndarray)  # numpy frames (``takes_arrays``): no torch on this path
        sdr_kernel = s.format == "sdr" and self.compiled and s.operator in CURVE_SCALARS and frame.data.ndim == 3
        if not sdr_kernel:  # (the SDR kernel counts it as it reads the frame)
            top = frame.data[:, ::2, ::2].max(0) if arrays else frame.data[:, ::2, ::2].amax(0)
            self.above_white_sum += float((top > 1.001).mean()) if arrays else float((top > 1.001).float().mean())
        if s.format == "hdr10" and self.compiled and frame.data.ndim == 3:
            # the per-pixel chain (roll-off included) in one compiled kernel (color.kernels: C, or numba where not
            # built), within one code value of the torch path below (tests/test_fused.py); statistics on the even
            # pixels
            src = max(self.source_peak(frame) * s.reference_white, s.peak_nits)
            from hdrvid.color.kernels import hdr10_planes_linear

            frame.planes, signal, mean = hdr10_planes_linear(np.asarray(frame.data), s.reference_white, self.ceiling,
                                                             (src, s.peak_nits))
            frame.stats.max_nits, frame.stats.average_nits = float(pq_eotf(signal)), mean
        elif s.format in ("hdr10", "hlg"):
            light = self._absolute_bt2020(frame)
            if s.format == "hdr10":
                frame.planes, decoded = to_yuv420(pq_inverse_eotf(light), "bt2020nc", 10,
                                                  ceiling=float(pq_inverse_eotf(torch.tensor(s.peak_nits))))
                assert decoded is not None
                maxrgb = pq_eotf(decoded)  # CTA-861.3 on the frame as a decoder reconstructs it
            else:
                signal = hlg_oetf(hlg_inverse_ootf(light, s.peak_nits, axis=0).clamp(0, 1))
                frame.planes, _ = to_yuv420(signal, "bt2020nc", 10)
                maxrgb = light.amax(0)
            frame.stats.max_nits = float(maxrgb.max())
            frame.stats.average_nits = float(maxrgb.mean())
        elif sdr_kernel:
            self._sdr_compiled(frame)
        elif s.format == "sdr":
            disp = self._tone_map(frame)
            encoded = ENCODERS[SDR_MAPPING_TRANSFER[s.sdr_mapping]](disp.clamp(0, 1))
            if s.measure_flicker:
                f = flicker_block(frame)
                self._keep_for_flicker(frame, block_mean(luminance(frame.data.clamp(min=0), axis=0).numpy(), f),
                                       block_mean(luminance(disp.clamp(0, 1), axis=0).numpy(), f))
            frame.planes, _ = to_yuv420(encoded, "bt709", 8)
        elif s.format in IMAGE_FORMATS:
            img = frame.data.permute(1, 2, 0).numpy()
            k = (s.rotation // 90) % 4
            frame.planes = [np.ascontiguousarray(np.rot90(img, k)) if k else img]
        else:
            raise ValueError(f"unknown output format {s.format!r}")
        # the linear frame is no longer needed; keep memory flat
        frame.data = np.empty(0, np.float32) if arrays else torch.empty(0)
        yield frame

    def _keep_for_flicker(self, frame: Frame, y_in: np.ndarray, y_disp: np.ndarray) -> None:
        """Small luminance images of input and output for the flicker meter (``flicker_block`` means of the
        input's luminance, negative light as 0, and of the tone-mapped light as shown, channels clamped to [0, 1]),
        the input in nits, the output on a display whose white is the reference white."""
        y_out = y_disp.clip(0, 1)
        white = self.spec.reference_white
        frame.stats.flicker = FlickerSample(nits_in=y_in * white, display_out=y_out, white=white)

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass

    def above_white_share(self) -> float:
        """Share of pixels brighter than SDR reference white (relative 1.0): what the expansion added."""
        return self.above_white_sum / max(1, self.frames)

    def out_of_gamut_share(self) -> float:
        return self.out_of_gamut_sum / max(1, self.frames)


def flicker_block(frame: Frame) -> int:
    """The flicker meter's block size: about ``ANALYSIS_HEIGHT`` rows of block means."""
    return max(1, frame.data.shape[-2] // ANALYSIS_HEIGHT)


class FlickerStage:
    """Feeds the flicker meter from what the output transform kept; passes frames on unchanged."""

    name = "flicker"

    def __init__(self, warp: bool = True) -> None:
        self.meter = FlickerMeter(warp=warp)

    def process(self, frame: Frame) -> Iterator[Frame]:
        kept, frame.stats.flicker = frame.stats.flicker, None
        if kept is not None:
            if frame.stats.scene_cut:
                self.meter.mark_cut()
            pq_in, pq_out = kept.signals() if self.meter.warp else (None, None)
            self.meter.add(pq_in, pq_out, kept.nits_in, kept.display_out)
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass
