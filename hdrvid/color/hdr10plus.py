"""HDR10+ dynamic metadata (SMPTE ST 2094-40, application 4) as an HEVC prefix SEI.

One message per frame, from that frame's measured light: per-channel maximum (maxscl), average max(R,G,B),
nine max(R,G,B) percentiles (1, 5, 10, 25, 50, 75, 90, 95, 99 %) and the share of bright pixels, in the units
of ST 2094-40 (linear light where 1.0 = 10,000 nits, x 100,000). One processing window, no targeted-display
or mastering-display peak maps, no Bezier tone curve (a display builds its own curve from the statistics:
HDR10+ profile A). Carried in a user_data_registered_itu_t_t35 SEI (country 0xB5, provider 0x003C, oriented
code 0x0001, application identifier 4, version 1), the layout FFmpeg's parser reads back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PERCENTAGES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
BRIGHT_NITS = 1000.0  # "bright": the share of pixels whose max(R,G,B) is above this, for fraction_bright_pixels


@dataclass(frozen=True)
class FrameLight:
    """One frame's light statistics, nits (BT.2020 linear as displayed)."""

    maxscl: tuple[float, float, float]
    average_maxrgb: float
    percentiles: tuple[float, ...]
    fraction_bright: float

    @classmethod
    def measure(cls, rgb_nits: np.ndarray) -> FrameLight:
        """From a (3, H, W) or (H, W, 3) frame of linear nits."""
        x = np.asarray(rgb_nits, np.float32)
        if x.shape[0] == 3 and x.ndim == 3 and x.shape[-1] != 3:
            x = np.moveaxis(x, 0, -1)
        x = np.clip(x, 0, 10000)
        m = x.max(-1)
        pct = np.percentile(m[::2, ::2], PERCENTAGES)  # (a quarter of the pixels is plenty for percentiles)
        return cls(maxscl=tuple(float(v) for v in x.reshape(-1, 3).max(0)), average_maxrgb=float(m.mean()),
                   percentiles=tuple(float(v) for v in pct), fraction_bright=float((m > BRIGHT_NITS).mean()))


class _Bits:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def put(self, value: int, n: int) -> None:
        value = int(value)
        if not 0 <= value < (1 << n):
            raise ValueError(f"{value} does not fit in {n} bits")
        self.bits += [(value >> (n - 1 - i)) & 1 for i in range(n)]

    def bytes(self) -> bytes:
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def _rgb(nits: float) -> int:
    return min(100000, max(0, round(nits * 10)))  # (nits / 10000) * 100000


def t35_payload(light: FrameLight) -> bytes:
    """The ITU-T T.35 payload of one ST 2094-40 message."""
    b = _Bits()
    b.put(0xB5, 8)  # country: United States
    b.put(0x003C, 16)  # terminal provider: SMPTE
    b.put(0x0001, 16)  # provider-oriented code: ST 2094-40
    b.put(4, 8)  # application identifier
    b.put(1, 8)  # application version
    b.put(1, 2)  # num_windows
    b.put(0, 27)  # targeted_system_display_maximum_luminance (0: none; the mastering display's is in ST 2086)
    b.put(0, 1)  # targeted_system_display_actual_peak_luminance_flag
    for v in light.maxscl:
        b.put(_rgb(v), 17)
    b.put(_rgb(light.average_maxrgb), 17)
    b.put(len(PERCENTAGES), 4)
    for pct, v in zip(PERCENTAGES, light.percentiles):
        b.put(pct, 7)
        b.put(_rgb(v), 17)
    b.put(min(1000, round(light.fraction_bright * 1000)), 10)
    b.put(0, 1)  # mastering_display_actual_peak_luminance_flag
    b.put(0, 1)  # tone_mapping_flag
    b.put(0, 1)  # color_saturation_mapping_flag
    return b.bytes()


def _emulation_prevention(rbsp: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def hevc_sei_nal(light: FrameLight) -> bytes:
    """An HEVC prefix SEI NAL unit (header included, no start code or length) holding one message."""
    payload = t35_payload(light)
    body = bytearray([4])  # payload type 4: user_data_registered_itu_t_t35
    size = len(payload)
    while size >= 255:
        body.append(255)
        size -= 255
    body.append(size)
    body += payload
    body.append(0x80)  # rbsp trailing bits
    return bytes([39 << 1, 1]) + _emulation_prevention(bytes(body))


def insert_sei(packet: bytes, nal: bytes, length_size: int = 4) -> bytes:
    """``packet`` (one access unit, NAL units with ``length_size``-byte big-endian lengths, as in MP4/MOV/MKV)
    with ``nal`` inserted before its first VCL NAL unit (after parameter sets and other prefix SEIs)."""
    i = 0
    while i + length_size <= len(packet):
        n = int.from_bytes(packet[i:i + length_size], "big")
        nal_type = (packet[i + length_size] >> 1) & 0x3F if n else 63
        if nal_type < 32:  # VCL
            break
        i += length_size + n
    return packet[:i] + len(nal).to_bytes(length_size, "big") + nal + packet[i:]
