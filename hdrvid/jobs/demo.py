"""``hdrvid demo``: a built-in scene through the whole chain, with a preview to look at."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from hdrvid.color.gamut import luminance
from hdrvid.color.transfer import bt709_oetf
from hdrvid.io.images import write_png
from hdrvid.io.sheets import false_colour, label, legend
from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.pipeline.decoder import VideoDecoder
from hdrvid.runtime import EngineOptions
from hdrvid.synth.scenes import camera, dynamic_range_stops, interior_with_window


def write_demo_input(path: Path, frames: int = 48, size: tuple[int, int] = (640, 360), fps: int = 24) -> float:
    """The procedural room as a camera would record it: 8-bit BT.709 H.264 with an AAC tone.

    Returns the scene's dynamic range in stops (what the camera clipped away is what HDR must recover).
    """
    w, h = size
    stops = 0.0
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"crf": "16", "preset": "fast"}
        cc = v.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, 1, 1, 1  # BT.709, limited
        a = out.add_stream("aac", rate=48000)
        a.layout = "stereo"
        for i in range(frames):
            hdr = interior_with_window(i / max(1, frames - 1), w, h)
            stops = max(stops, dynamic_range_stops(hdr))
            f = av.VideoFrame.from_ndarray(camera(hdr), format="rgb24")
            f = f.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
            f.pts = i
            for p in v.encode(f):
                out.mux(p)
        samples = int(48000 * frames / fps)
        t = np.arange(samples) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for k in range(0, samples - 1024 + 1, 1024):
            af = av.AudioFrame.from_ndarray(np.stack([tone[k:k + 1024]] * 2), format="fltp", layout="stereo")
            af.sample_rate, af.pts = 48000, k
            for p in a.encode(af):
                out.mux(p)
        for s in (v, a):
            for p in s.encode(None):
                out.mux(p)
    return stops


def _middle_frame(path: Path) -> np.ndarray:
    dec = VideoDecoder(path)
    try:
        frames = list(dec)  # tiny demo clip
        return frames[len(frames) // 2].data.permute(1, 2, 0).numpy()
    finally:
        dec.close()


def preview(sdr_in: Path, hdr10: Path, sdr_out: Path, png: Path, reference_white: float = 203.0) -> None:
    """Side by side: the SDR input, the HDR10 output's luminance (false colour) and the tone-mapped SDR."""
    # SDR files decode through the inverse BT.709 OETF, so the OETF gives back their code values
    signal = lambda x: (bt709_oetf(np.clip(x, 0, 1)) * 255 + 0.5).astype(np.uint8)[:, :, ::-1]
    hdr = _middle_frame(hdr10)
    panels = [signal(_middle_frame(sdr_in)), false_colour(luminance(hdr) * reference_white),
              signal(_middle_frame(sdr_out))]
    labels = ["SDR input", "HDR10 output: nits", "SDR tone-mapped"]
    strip = np.concatenate([label(p, t) for p, t in zip(panels, labels)], axis=1)
    write_png(png, np.concatenate([strip, legend(strip.shape[1])], axis=0))


def run_demo(outdir: Path, frames: int = 48, size: tuple[int, int] = (640, 360), progress: bool = False,
             model: str = "hdrunet-auto") -> dict[str, str]:
    outdir.mkdir(parents=True, exist_ok=True)
    src = outdir / "demo_input_sdr.mp4"
    stops = write_demo_input(src, frames, size)
    hdr = outdir / "demo_hdr10.mp4"
    sdr = outdir / "demo_sdr.mp4"
    auto = EngineOptions(infer_scale=None)  # the fast mode on a CPU, as `hdrvid convert` does by default
    r1 = convert(ConvertOptions(input=src, output=hdr, model=model, overwrite=True, engine=auto), progress=progress)
    r2 = convert(ConvertOptions(input=src, output=sdr, model=model, format="sdr", overwrite=True, engine=auto),
                 progress=progress)
    png = outdir / "demo_preview.png"
    preview(src, hdr, sdr, png)
    return {
        "input": f"{src} ({frames} frames, scene dynamic range {stops:.1f} stops, clipped by the camera)",
        "hdr10": f"{hdr} (MaxCLL {r1.max_cll} nits, MaxFALL {r1.max_fall} nits, {r1.fps} fps)",
        "sdr": f"{sdr} ({r2.fps} fps)",
        "preview": str(png),
    }
