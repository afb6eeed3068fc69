"""Container-level HDR10 metadata in MP4/MOV: ``mdcv`` (SMPTE ST 2086 mastering display) and ``clli``
(CTA-861.3 content light level) boxes in the video sample entry.

Players and platforms that read only the container (not the HEVC/AV1 SEI) need them; FFmpeg writes them
only from stream side data, which PyAV cannot set. So they are added here, after muxing: the sample entry
(``hvc1``/``hev1``/``av01``) under moov/trak/mdia/minf/stbl/stsd gets the two boxes appended (any old ones
replaced), the sizes of its ancestors grow by the same amount, and when ``moov`` sits before ``mdat``
(fast start) every chunk offset (``stco``/``co64``) moves by it too. Box layout: ISO/IEC 14496-12 and the
MP4 HDR signalling that FFmpeg's mov muxer and demuxer use (primaries in G, B, R order, chromaticities in
0.00002 units, luminance in 0.0001 cd/m^2).
"""

from __future__ import annotations

import struct
from pathlib import Path

from hdrvid.color.metadata import MasteringDisplay
from hdrvid.errors import OutputError
from hdrvid.io.atomic import write_bytes_atomic

CONTAINERS = ("moov", "trak", "mdia", "minf", "stbl")
SAMPLE_ENTRIES = (b"hvc1", b"hev1", b"av01", b"apch", b"ap4h", b"ap4x", b"apcn")  # HEVC, AV1, ProRes
VISUAL_SAMPLE_ENTRY_HEADER = 78  # bytes of a VisualSampleEntry before its child boxes (after size + type)


def mdcv_box(display: MasteringDisplay) -> bytes:
    """The ``mdcv`` box: the same ST 2086 values (and units) as the bitstream's SEI."""
    body = b"".join(struct.pack(">HH", x, y) for x, y in display.chromaticities().values())
    body += struct.pack(">II", *display.luminances())
    return struct.pack(">I", 8 + len(body)) + b"mdcv" + body


def clli_box(cll: tuple[int, int]) -> bytes:
    """The ``clli`` box: MaxCLL, MaxFALL in nits."""
    return struct.pack(">I", 12) + b"clli" + struct.pack(">HH", *cll)


def _boxes(data: bytes, start: int, end: int) -> list[tuple[int, int, bytes]]:
    """(offset, size, type) of the boxes in data[start:end] (32-bit and 64-bit sizes)."""
    out = []
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        if size == 1:
            size = struct.unpack(">Q", data[i + 8:i + 16])[0]
        elif size == 0:
            size = end - i
        if size < 8 or i + size > end:
            raise OutputError("malformed MP4 box structure")
        out.append((i, size, kind))
        i += size
    return out


def add_hdr_boxes(path: Path, display: MasteringDisplay, cll: tuple[int, int]) -> None:
    """Rewrite ``path`` (an MP4/MOV hdrvid just wrote) with mdcv + clli in its video sample entry."""
    data = bytearray(path.read_bytes())
    top = _boxes(data, 0, len(data))
    moov = next(((o, s) for o, s, k in top if k == b"moov"), None)
    mdat = next((o for o, s, k in top if k == b"mdat"), None)
    if moov is None:
        raise OutputError(f"{path}: no moov box")
    new = mdcv_box(display) + clli_box(cll)
    # find the video sample entry: moov/trak/mdia/minf/stbl/stsd/<entry>
    entry_path: list[int] | None = None
    for t_off, t_size, t_kind in _boxes(data, moov[0] + 8, moov[0] + moov[1]):
        if t_kind != b"trak":
            continue
        chain = [moov[0], t_off]
        cur = (t_off, t_size)
        for name in (b"mdia", b"minf", b"stbl", b"stsd"):
            found = next(((o, s) for o, s, k in _boxes(data, cur[0] + 8, cur[0] + cur[1]) if k == name), None)
            if found is None:
                break
            chain.append(found[0])
            cur = found
        else:
            stsd_off, stsd_size = cur
            entries = _boxes(data, stsd_off + 16, stsd_off + stsd_size)  # (version/flags + entry count)
            video = [(o, s, k) for o, s, k in entries if k in SAMPLE_ENTRIES]
            if video:
                entry_path = chain + [video[0][0]]
                break
    if entry_path is None:
        raise OutputError(f"{path}: no HEVC/AV1 video sample entry to hold HDR metadata")
    entry = entry_path[-1]
    e_size = struct.unpack(">I", data[entry:entry + 4])[0]
    # drop old mdcv/clli, then append the new ones at the end of the sample entry
    kids = _boxes(data, entry + 8 + VISUAL_SAMPLE_ENTRY_HEADER, entry + e_size)
    kept = b"".join(bytes(data[o:o + s]) for o, s, k in kids if k not in (b"mdcv", b"clli"))
    head = bytes(data[entry:entry + 8 + VISUAL_SAMPLE_ENTRY_HEADER])
    body = head[8:] + kept + new
    replacement = struct.pack(">I", 8 + len(body)) + head[4:8] + body
    delta = len(replacement) - e_size
    for off in entry_path[:-1]:  # ancestors grow (32-bit sizes only: moov boxes of hdrvid's outputs are small)
        size = struct.unpack(">I", data[off:off + 4])[0]
        if size == 1:
            raise OutputError(f"{path}: 64-bit box sizes in moov are not supported for HDR boxes")
        data[off:off + 4] = struct.pack(">I", size + delta)
    data[entry:entry + e_size] = replacement
    if mdat is not None and moov[0] < mdat and delta:  # fast start: the media data moved
        _shift_chunk_offsets(data, moov[0], delta)
    write_bytes_atomic(path, bytes(data))


def _shift_chunk_offsets(data: bytearray, moov: int, delta: int) -> None:
    size = struct.unpack(">I", data[moov:moov + 4])[0]

    def walk(start: int, end: int) -> None:
        for o, s, k in _boxes(data, start, end):
            if k.decode("latin-1") in CONTAINERS:
                walk(o + 8, o + s)
            elif k == b"stco":
                n = struct.unpack(">I", data[o + 12:o + 16])[0]
                for i in range(n):
                    p = o + 16 + 4 * i
                    data[p:p + 4] = struct.pack(">I", struct.unpack(">I", data[p:p + 4])[0] + delta)
            elif k == b"co64":
                n = struct.unpack(">I", data[o + 12:o + 16])[0]
                for i in range(n):
                    p = o + 16 + 8 * i
                    data[p:p + 8] = struct.pack(">Q", struct.unpack(">Q", data[p:p + 8])[0] + delta)

    walk(moov + 8, moov + size)
