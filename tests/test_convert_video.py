"""End-to-end conversion of video files, checked with ffprobe and by decoding again with PyAV."""

import re
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch
from conftest import run_cli
from media import (
    ffprobe,
    make_clip,
    make_flat_yuv_clip,
    make_raw_h264,
    needs_ffprobe,
    packets,
    video_pts_seconds,
)

from hdrvid.io.images import read_exr
from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.pipeline.decoder import VideoDecoder
from hdrvid.pipeline.encoder import EncodeOptions


def first_frame_side_data(path: Path) -> list[dict]:
    d = ffprobe(path, "-show_frames", "-read_intervals", "%+#1", "-select_streams", "v")
    return d["frames"][0].get("side_data_list", [])


@needs_ffprobe
def test_hdr10_from_h264_aac(clip: Path, tmp_path: Path):
    out = tmp_path / "out.mp4"
    report_file = tmp_path / "r.json"
    r = run_cli("convert", clip, out, "--model", "itmo", "--report", report_file)
    assert r.exit_code == 0, r.output
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert (v["codec_name"], v["pix_fmt"], v["color_transfer"], v["color_primaries"], v["color_space"],
            v["color_range"], v["codec_tag_string"]) == ("hevc", "yuv420p10le", "smpte2084", "bt2020", "bt2020nc",
                                                          "tv", "hvc1")
    sd = {s["side_data_type"]: s for s in first_frame_side_data(out)}
    md = sd["Mastering display metadata"]
    assert md["max_luminance"] == "10000000/10000"
    cll = sd["Content light level metadata"]
    import json

    rep = json.loads(report_file.read_text())
    assert cll["max_content"] == rep["max_cll"] and cll["max_average"] == rep["max_fall"]
    # MaxCLL describes the decoded frames (issue 11): codec overshoot on this 64x48 synthetic clip included
    assert 203 <= rep["max_cll"] <= 1000 * 1.35 and 0 < rep["max_fall"] <= rep["max_cll"]
    # same frames and timestamps, audio packets byte-identical
    assert video_pts_seconds(out) == video_pts_seconds(clip)
    assert packets(out, "audio") == packets(clip, "audio")
    for key in ("frames", "seconds", "fps", "stages", "queues"):
        assert key in rep
    assert rep["frames"] == 12 and set(rep["stages"]) >= {"decode", "infer", "smooth", "transform", "encode"}


@needs_ffprobe
@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_given_content_light_is_written_as_given_without_measuring(clip: Path, tmp_path: Path, suffix: str,
                                                                    monkeypatch):
    """--max-cll: the values go into the bitstream (and the container's copies) as given; the output is neither
    decoded again nor remuxed (both would fail here), and the report says where they came from."""
    import hdrvid.jobs.job as job_module

    def refuse(*_a, **_k):
        raise AssertionError("measured or remuxed although --max-cll was given")

    monkeypatch.setattr(job_module, "decoded_light_level", refuse)
    monkeypatch.setattr(job_module, "remux_with_light_level", refuse)
    out, report_file = tmp_path / f"out{suffix}", tmp_path / "r.json"
    r = run_cli("convert", clip, out, "--model", "none", "--max-cll", "1100,180", "--report", report_file)
    assert r.exit_code == 0, r.output
    assert "MaxCLL 1100 / MaxFALL 180 nits (given by --max-cll)" in r.output
    cll = {s["side_data_type"]: s for s in first_frame_side_data(out)}["Content light level metadata"]
    assert (cll["max_content"], cll["max_average"]) == (1100, 180)
    if suffix == ".mp4":  # the container's clli box holds them too
        v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
        box = {s["side_data_type"]: s for s in v.get("side_data_list", [])}["Content light level metadata"]
        assert (box["max_content"], box["max_average"]) == (1100, 180)
    import json

    rep = json.loads(report_file.read_text())
    assert (rep["max_cll"], rep["max_fall"], rep["light_level"]) == (1100, 180, "given")
    assert [d for _, d in packets(out, "audio")] == [d for _, d in packets(clip, "audio")]
    a, b = video_pts_seconds(out), video_pts_seconds(clip)
    # (Matroska output starts 21 ms late here, with or without --max-cll: Matroska has no negative timestamps
    # for the AAC priming, so every stream moves by it; the steps are kept)
    assert np.allclose(np.diff(a), np.diff(b), atol=1e-3) and (suffix == ".mkv" or a == b)


@pytest.mark.parametrize("args, message", [
    (["--max-cll", "400,900"], "MaxFALL (a frame's average) cannot exceed MaxCLL"),
    (["--max-cll", "70000,400"], "whole nits from 0 to 65535"),
    (["--max-cll", "1000"], "give MaxCLL,MaxFALL as whole nits"),
    (["--max-cll", "1000,400", "--format", "hlg"], "--max-cll is HDR10 metadata"),
])
def test_given_content_light_is_checked_before_anything_is_written(clip: Path, tmp_path: Path, args, message):
    out = tmp_path / "out.mp4"
    r = run_cli("convert", clip, out, "--model", "none", *args)
    assert r.exit_code != 0 and message in r.output, r.output
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["in.mp4"]


def test_maxcll_is_measured_from_written_frames(clip: Path, tmp_path: Path):
    """A brighter mastering peak lets more highlight through, and the signalled MaxCLL follows it."""
    r1 = convert(ConvertOptions(clip, tmp_path / "a.mp4", model="itmo", peak_nits=1000, encode=EncodeOptions(crf=0)))
    r2 = convert(ConvertOptions(clip, tmp_path / "b.mp4", model="itmo", peak_nits=400))
    r3 = convert(ConvertOptions(clip, tmp_path / "c.mp4", model="none", level="bt2408", encode=EncodeOptions(crf=0)))
    # (MaxCLL describes the decoded frames: chroma fringes and codec overshoot of this 64x48 clip included)
    assert r2["max_cll"] <= 400 * 1.35 < r1["max_cll"]
    # no expansion: the brightest pixel is reference white (203 nits in the planes handed to x265; crf 0 is not
    # lossless, and its overshoot on this 64x48 pattern moves the decoded peak by up to ~11 %)
    assert r3["max_cll"] <= 203 * 1.15
    # decode what was written and measure it independently: the brightest highlight is neutral (clipped
    # white), so the largest luma code value, through the PQ EOTF, is its max(R,G,B) in nits (crf 0 keeps
    # compression ringing out of the comparison)
    from hdrvid.color.transfer import pq_eotf

    with av.open(str(tmp_path / "a.mp4")) as c:
        top = max(int(f.to_ndarray()[: f.height].max()) for f in c.decode(video=0))
    peak = float(pq_eotf((top - 64) / 876))
    assert abs(peak - r1["max_cll"]) / r1["max_cll"] < 0.05


def test_hdr10_round_trip_is_exact_linearisation(tmp_path: Path):
    """--model none --level bt2408: decoding the HDR10 output gives back the input's linear light (x reference
    white)."""
    src = make_clip(tmp_path / "in.mp4", frames=4, size=(96, 64))
    out = tmp_path / "out.mp4"
    convert(ConvertOptions(src, out, model="none", level="bt2408", encode=EncodeOptions(crf=4)))
    a, b = VideoDecoder(src), VideoDecoder(out)
    for fa, fb in zip(a, b):
        x, y = fa.data.numpy(), fb.data.numpy()
        assert abs(float(np.median(y / np.maximum(x, 1e-3))[()]) - 1.0) < 0.03  # the scale is preserved
        assert np.abs(y - x).mean() < 0.01
    a.close(), b.close()


@needs_ffprobe
def test_hlg_output(clip: Path, tmp_path: Path):
    out = tmp_path / "hlg.mp4"
    r = run_cli("convert", clip, out, "--format", "hlg", "--model", "none", "--crf", "4", "--level", "bt2408")
    assert r.exit_code == 0, r.output
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert (v["codec_name"], v["pix_fmt"], v["color_transfer"], v["color_primaries"]) == (
        "hevc", "yuv420p10le", "arib-std-b67", "bt2020")
    assert video_pts_seconds(out) == video_pts_seconds(clip)
    # the clipped white patch is reference white: it comes back at 1.0 (203 nits) when decoded as HLG on a
    # 1000-nit display, at 75% HLG signal (BT.2408)
    firsts = []
    for p in (clip, out):
        dec = VideoDecoder(p)
        firsts.append(next(iter(dec)).data[:, 14:18, 24:30])  # inside the white patch of media.pattern
        dec.close()
    assert abs(float(firsts[0].mean()) - 1.0) < 0.1  # the input patch is (nearly) clipped white...
    assert abs(float(firsts[1].mean() / firsts[0].mean()) - 1.0) < 0.03  # ...and HLG brings it back at 1.0
    with av.open(str(out)) as c:
        y = next(c.decode(video=0)).to_ndarray()[14:18, 24:30]
    assert abs((float(y.mean()) - 64) / 876 - 0.75) < 0.01


@needs_ffprobe
def test_sdr_output_tags(clip: Path, tmp_path: Path):
    out = tmp_path / "sdr.mp4"
    r = run_cli("convert", clip, out, "--format", "sdr")
    assert r.exit_code == 0, r.output
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert (v["codec_name"], v["pix_fmt"], v["color_transfer"], v["color_primaries"], v["color_space"]) == (
        "h264", "yuv420p", "bt709", "bt709", "bt709")
    assert packets(out, "audio") == packets(clip, "audio")


@needs_ffprobe
def test_av1_hdr10(clip: Path, tmp_path: Path):
    out = tmp_path / "av1.mkv"
    rep = convert(ConvertOptions(clip, out, encode=EncodeOptions(codec="libsvtav1", preset="12")))
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert (v["codec_name"], v["color_transfer"], v["color_primaries"]) == ("av1", "smpte2084", "bt2020")
    sd = {s["side_data_type"]: s for s in first_frame_side_data(out)}
    assert Fraction(sd["Mastering display metadata"]["max_luminance"]) == 1000  # AV1 stores 24.8 fixed point
    cll = sd["Content light level metadata"]
    assert (cll["max_content"], cll["max_average"]) == (rep["max_cll"], rep["max_fall"])


def test_variable_frame_rate_timestamps_survive(tmp_path: Path):
    pts = [0, 40, 80, 200, 210, 220, 400, 440, 460, 900]  # ms, irregular
    src = make_clip(tmp_path / "vfr.mkv", frames=len(pts), pts=pts, time_base=Fraction(1, 1000))
    out = tmp_path / "out.mkv"
    convert(ConvertOptions(src, out))
    assert video_pts_seconds(out) == video_pts_seconds(src) == [p / 1000 for p in pts]


def test_raw_h264_without_timestamps(tmp_path: Path):
    src = make_raw_h264(tmp_path / "raw.h264", frames=10)
    out = tmp_path / "out.mp4"
    rep = convert(ConvertOptions(src, out))
    assert rep["frames"] == 10
    t = video_pts_seconds(out)
    assert len(t) == 10 and t == sorted(set(t))
    np.testing.assert_allclose(np.diff(t), 1 / 25, atol=1e-3)


@needs_ffprobe
def test_rotation_metadata_is_kept(tmp_path: Path):
    src = make_clip(tmp_path / "rot.mp4", rotation=90)
    out = tmp_path / "out.mp4"
    convert(ConvertOptions(src, out))
    sd = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]["side_data_list"]
    assert any(s.get("rotation") == 90 for s in sd)


@needs_ffprobe
def test_odd_dimensions_are_padded(tmp_path: Path):
    src = make_clip(tmp_path / "odd.mkv", size=(65, 49), codec="libx264rgb", pix_fmt="rgb24")
    out = tmp_path / "out.mp4"
    r = run_cli("convert", src, out)
    assert r.exit_code == 0, r.output
    assert "odd" in r.output  # the warning says what happened
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert (v["width"], v["height"]) == (66, 50) and int(v["nb_frames"]) == 12


def test_decoder_opens_and_decodes_the_file_once(tmp_path: Path, monkeypatch):
    """The probe's first frame is the pass's first frame: one opening, no frame decoded twice; the frames are
    PyAV's own, in order, with every packet counted; a second pass opens the file again and gives the same."""
    import hdrvid.pipeline.decoder as decoder

    src = make_clip(tmp_path / "in.mp4", frames=9, size=(64, 48), audio=True)
    opened = []
    real = decoder.open_input
    monkeypatch.setattr(decoder, "open_input", lambda p, *a: opened.append(p) or real(p, *a))
    dec = VideoDecoder(src)
    dec.raw = True
    first = [(f.pts, f.codes.copy()) for f in dec]
    assert len(opened) == 1 and dec.packets == 9 and dec.frames_out == 9
    again = [(f.pts, f.codes.copy()) for f in dec]
    assert len(opened) == 2 and dec.packets == 9
    dec.close()
    with av.open(str(src)) as c:
        want = [(f.pts, f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    assert len(first) == len(want) == len(again) == 9
    for i, ((pa, a), (pb, b), (pw, _)) in enumerate(zip(first, again, want)):
        assert pa == pb == pw
        np.testing.assert_array_equal(a, b)
        # the nearest of PyAV's pictures is the one with the same index (swscale's chroma differs a little)
        assert np.argmin([np.abs(a.astype(int) - w.astype(int)).mean() for _, w in want]) == i


def test_ten_bit_input_keeps_precision(tmp_path: Path):
    src = make_clip(tmp_path / "ten.mkv", size=(1024, 16), codec="libx265", pix_fmt="yuv420p10le", gradient10=True,
                    frames=2)
    dec = VideoDecoder(src)
    assert dec.info.bit_depth == 10
    f = next(iter(dec))
    dec.close()
    row = f.data[1, 8].numpy()
    assert len(np.unique(np.round(row, 7))) > 600  # far more than 8-bit's 220 levels


def test_full_and_limited_range_are_honoured(tmp_path: Path):
    for rng, name in ((1, "limited"), (2, "full")):
        path = tmp_path / f"{name}.mkv"
        with av.open(str(path), "w") as out:
            s = out.add_stream("ffv1", rate=25)
            s.width, s.height, s.pix_fmt = 16, 16, "yuv444p"
            s.codec_context.color_range = rng
            y = np.full((16, 16), 235 if rng == 1 else 255, np.uint8)
            c = np.full((16, 16), 128, np.uint8)
            f = av.VideoFrame.from_ndarray(np.stack([y, c, c]), format="yuv444p")
            f.color_range = rng
            f.pts = 0
            for p in s.encode(f):
                out.mux(p)
            for p in s.encode(None):
                out.mux(p)
        dec = VideoDecoder(path)
        fr = next(iter(dec))
        dec.close()
        assert abs(float(fr.data.mean()) - 1.0) < 0.01, name  # white is white in both ranges


def test_interlaced_input_is_detected_and_deinterlaced(tmp_path: Path):
    src = make_clip(tmp_path / "int.mp4", size=(64, 48), interlaced=True, frames=10)
    dec = VideoDecoder(src)
    assert dec.info.interlaced
    dec.close()
    rep = convert(ConvertOptions(src, tmp_path / "out.mp4"))
    assert rep["deinterlaced"] is True and rep["frames"] == 10
    assert video_pts_seconds(tmp_path / "out.mp4") == video_pts_seconds(src)


def test_batches_pad_and_trim(clip: Path, tmp_path: Path):
    rep = convert(ConvertOptions(clip, tmp_path / "o.mp4", batch_size=5))  # 12 = 5 + 5 + 2 (padded)
    assert rep["frames"] == 12
    assert video_pts_seconds(tmp_path / "o.mp4") == video_pts_seconds(clip)


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
def test_subtitles_and_audio_copied_packet_for_packet(tmp_path: Path):
    import subprocess

    from media import FFMPEG

    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,200\nhello\n\n2\n00:00:00,240 --> 00:00:00,400\nworld\n")
    src = make_clip(tmp_path / "v.mkv", frames=12, audio=True)
    mkv = tmp_path / "subs.mkv"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-i", str(srt), "-map", "0", "-map", "1", "-c", "copy",
                    "-c:s", "srt", str(mkv)], check=True)
    out = tmp_path / "out.mkv"
    rep = convert(ConvertOptions(mkv, out))
    assert packets(out, "subtitle") == packets(mkv, "subtitle") and len(packets(mkv, "subtitle")) == 2
    assert packets(out, "audio") == packets(mkv, "audio")
    assert rep["packets_copied"] == len(packets(mkv, "subtitle")) + len(packets(mkv, "audio"))
    # Matroska's own HDR elements (Colour/MasteringMetadata, MaxCLL/MaxFALL) carry the SEI's values
    st = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    side = {d["side_data_type"]: d for d in st.get("side_data_list", [])}
    assert side["Content light level metadata"]["max_content"] == rep["max_cll"]
    assert side["Mastering display metadata"]["max_luminance"] in ("1000/1", "10000000/10000")


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
def test_a_stream_copy_cut_starts_picture_and_sound_together_in_matroska(tmp_path: Path):
    """A cut made by stream copy (ffmpeg -ss T -c copy) keeps the audio from the keyframe before T, marked for
    discarding by the MP4 edit list; copied as is, Matroska (no edit lists) started the sound 0.5 s before the
    picture (a second on the Big Buck Bunny cut)."""
    import subprocess

    import av
    from media import FFMPEG

    src = make_clip(tmp_path / "v.mp4", frames=75, audio=True, gop=25)
    cut = tmp_path / "cut.mp4"
    subprocess.run([FFMPEG, "-v", "error", "-ss", "1.5", "-i", str(src), "-c", "copy", str(cut)], check=True)
    with av.open(str(cut)) as c:
        discarded = sum(p.is_discard for p in c.demux(c.streams.audio[0]) if p.size)
    assert discarded > 10  # the pre-roll the test is about
    out = tmp_path / "out.mkv"
    convert(ConvertOptions(cut, out))
    starts = {s["codec_type"]: float(s["start_time"]) for s in ffprobe(out, "-show_streams")["streams"]}
    assert abs(starts["video"] - starts["audio"]) < 0.05, starts
    dur_in = float(ffprobe(cut, "-show_format")["format"]["duration"])
    assert float(ffprobe(out, "-show_format")["format"]["duration"]) < dur_in + 0.05


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
def test_text_subtitles_are_re_encoded_for_a_container_that_cannot_hold_them(tmp_path: Path):
    """MP4's mov_text cannot go into Matroska nor SubRip into MP4: the cues are re-encoded (SubRip, mov_text)
    with their text, styling and times (they were refused, with a hint to use the .mkv output it was)."""
    import subprocess

    import av
    from media import FFMPEG

    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,200\nhello\n\n2\n00:00:00,240 --> 00:00:00,400\n<i>world</i>\n")
    src = make_clip(tmp_path / "v.mp4", frames=12, audio=True)
    mp4 = tmp_path / "subs.mp4"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-i", str(srt), "-map", "0", "-map", "1", "-c", "copy",
                    "-c:s", "mov_text", "-metadata:s:s:0", "language=fra", str(mp4)], check=True)

    def cues(path: Path) -> list[tuple[str, float, float]]:
        """(text, start, end) of every cue, in seconds from the first picture (Matroska starts every stream
        together, an AAC priming packet shifting them all by a frame of sound)."""
        def packets(sel: str) -> list[dict]:
            return ffprobe(path, "-show_packets", "-select_streams", sel)["packets"]
        first = min(float(p["pts_time"]) for p in packets("v"))
        with av.open(str(path)) as c:
            s = c.streams.subtitles[0]
            dec = s.codec_context
            out = []
            for p in c.demux(s):
                cue = dec.decode2(p) if p.size else None
                if cue is not None and len(cue):
                    t = float(p.pts * p.time_base) - first
                    out.append((cue[0].dialogue.decode(), round(t, 3), round(t + float(p.duration * p.time_base), 3)))
        return out

    def sub_stream(path: Path) -> dict:
        return ffprobe(path, "-show_streams", "-select_streams", "s")["streams"][0]

    mkv = tmp_path / "out.mkv"
    convert(ConvertOptions(mp4, mkv, model="none"))
    assert sub_stream(mkv)["codec_name"] == "subrip" and sub_stream(mkv)["tags"]["language"] == "fra"
    plain = lambda cs: [(re.sub(r"{[^}]*}", "", text), a, b) for text, a, b in cs]  # noqa: E731 (ASS tags off)
    assert [c[0] for c in cues(mp4)] == ["hello", "{\\i1}world"] and plain(cues(mkv)) == plain(cues(mp4))
    assert cues(mkv)[1][0].startswith("{\\i1}world")  # the italics survive
    back = tmp_path / "back.mp4"
    convert(ConvertOptions(mkv, back, model="none"))
    assert sub_stream(back)["codec_name"] == "mov_text" and plain(cues(back)) == plain(cues(mp4))


def test_timecode_arithmetic_counts_drop_frames():
    from hdrvid.pipeline.encoder import advance_timecode

    assert advance_timecode("01:00:00:00", 25 * 61 + 3, 25) == "01:01:01:03"
    assert advance_timecode("23:59:59:24", 1, 25) == "00:00:00:00"
    assert advance_timecode("00:00:59;29", 1, 30000 / 1001) == "00:01:00;02"  # frames 0 and 1 skipped ...
    assert advance_timecode("00:09:59;29", 1, 30000 / 1001) == "00:10:00;00"  # ... except every tenth minute
    assert advance_timecode("00:00:00;00", 17982, 30000 / 1001) == "00:10:00;00"  # ten minutes of 29.97
    assert advance_timecode("00:00:59;59", 1, 60000 / 1001) == "00:01:00;04"


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
def test_the_start_timecode_is_kept_and_follows_start(tmp_path: Path):
    """An editor conforms by timecode: the input's (here a QuickTime timecode track) is the output's, moved on
    to the first frame of a part (--start)."""
    import subprocess

    from media import FFMPEG

    src = make_clip(tmp_path / "v.mp4", frames=25, audio=True)
    mov = tmp_path / "tc.mov"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-c", "copy", "-timecode", "01:00:00:00", str(mov)],
                   check=True)

    def timecode(path: Path) -> str:
        tags = ffprobe(path, "-show_streams", "-select_streams", "v")["streams"][0]["tags"]
        return {k.lower(): v for k, v in tags.items()}["timecode"]  # (Matroska's tag is TIMECODE)

    assert timecode(mov) == "01:00:00:00"
    convert(ConvertOptions(mov, tmp_path / "o.mp4", model="none"))
    assert timecode(tmp_path / "o.mp4") == "01:00:00:00"  # (through the light-level remux too)
    run_cli("convert", mov, tmp_path / "part.mkv", "--model", "none", "--start", "0.4")
    assert timecode(tmp_path / "part.mkv") == "01:00:00:10"  # 0.4 s at 25 fps


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
def test_anamorphic_pixels_stay_anamorphic(tmp_path: Path):
    """720x480 with 32:27 pixels is a 16:9 picture: the output says so too (it came out 3:2, squeezed)."""
    import subprocess

    from media import FFMPEG

    src = make_clip(tmp_path / "v.mp4", frames=6, size=(96, 64))
    sar = tmp_path / "sar.mp4"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-vf", "setsar=32/27", "-c:v", "libx264", str(sar)],
                   check=True)

    def aspect(path: Path) -> str:
        return ffprobe(path, "-show_streams", "-select_streams", "v")["streams"][0].get("sample_aspect_ratio")

    assert aspect(sar) == "32:27"
    convert(ConvertOptions(sar, tmp_path / "o.mp4", model="none"))
    convert(ConvertOptions(sar, tmp_path / "o.mkv", model="none"))
    assert aspect(tmp_path / "o.mp4") == aspect(tmp_path / "o.mkv") == "32:27"
    run_cli("tonemap", tmp_path / "o.mp4", tmp_path / "sdr.mp4")
    assert aspect(tmp_path / "sdr.mp4") == "32:27"


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
@pytest.mark.parametrize("size,matrix", [((96, 64), "smpte170m"), ((1280, 720), "bt709")])
def test_untagged_standard_definition_is_bt601(tmp_path: Path, size, matrix):
    """A stream that names no matrix is BT.601 below 577 lines, as players and FFmpeg's scaler decode it
    (it was decoded as BT.709: 13 codes of red off on this colour), and BT.709 from HD up: the decoded codes of
    a flat colour are colour-science's, and within 2 codes of FFmpeg's own conversion of the untagged file."""
    import subprocess

    from media import FFMPEG

    from hdrvid.pipeline.decoder import DecodeOptions

    w, h = size
    path = make_flat_yuv_clip(tmp_path / "untagged.mkv", (110, 80, 190), size)  # an orange-red, far from grey
    dec = VideoDecoder(path, DecodeOptions())
    dec.raw = True
    codes = next(iter(dec)).codes
    dec.close()
    assert dec.info.matrix == matrix
    ff = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                         "rgb24", "-"], check=True, capture_output=True).stdout
    theirs = np.frombuffer(ff, np.uint8).reshape(h, w, 3)[h // 2, w // 2].astype(int)
    ours = np.asarray(codes)[h // 2, w // 2].astype(int)  # (H, W, 3) R'G'B' codes
    import colour

    weights = colour.WEIGHTS_YCBCR["ITU-R BT.601" if matrix == "smpte170m" else "ITU-R BT.709"]
    exact = colour.YCbCr_to_RGB(np.array([110, 80, 190]), K=weights, in_bits=8, in_legal=True, in_int=True) * 255
    np.testing.assert_array_equal(ours, np.round(exact).astype(int))  # colour-science's maths, to the code
    if matrix == "smpte170m":  # what players show (swscale is 1-2 codes off in fixed point; BT.709 is 13 away)
        assert np.abs(ours - theirs).max() <= 2, (ours, theirs)


@pytest.mark.parametrize("tag,space", [(6, "SMPTE C"), (5, "ITU-R BT.470 - 625")])
def test_standard_definition_primaries_are_honoured(tmp_path: Path, tag: int, space: str):
    """A stream tagged SMPTE 170M (NTSC) or BT.470 B/G (PAL) primaries is converted from them, not taken as
    BT.709 (it was: a saturated red came out ~2-4 % off in its channels): the decoded light is the BT.709-tagged
    copy's times colour-science's matrix, and the HDR10 output of it is not the BT.709 copy's."""
    import colour

    from hdrvid.pipeline.decoder import DecodeOptions

    def light(path: Path) -> tuple[np.ndarray, str]:
        dec = VideoDecoder(path, DecodeOptions())
        lin = next(iter(dec)).data.numpy()[:, 32, 48]
        dec.close()
        return lin, dec.info.primaries

    base, prim709 = light(make_flat_yuv_clip(tmp_path / "709.mkv", (110, 80, 190), tags=(1, 6, 6)))
    tagged, prim = light(make_flat_yuv_clip(tmp_path / "sd.mkv", (110, 80, 190), tags=(tag, 6, 6)))
    assert prim709 == "bt709" and prim == {6: "smpte170m", 5: "bt470bg"}[tag]
    m = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES[space], colour.RGB_COLOURSPACES["ITU-R BT.709"])
    np.testing.assert_allclose(tagged, m @ base, atol=2e-4)
    assert np.abs(tagged - base).max() > 0.01  # the conversion is not a no-op on this colour
    for name in ("709", "sd"):
        convert(ConvertOptions(tmp_path / f"{name}.mkv", tmp_path / f"{name}-hdr.mkv", model="none",
                               encode=EncodeOptions(codec="ffv1")))
    a, b = (av.open(str(tmp_path / f"{n}-hdr.mkv")) for n in ("709", "sd"))
    fa, fb = (next(c.decode(video=0)).to_ndarray(format="gbrp10le").astype(int) for c in (a, b))
    a.close(), b.close()
    assert np.abs(fa - fb).max() >= 3  # 10-bit PQ codes moved by the primaries


def test_an_hdr10_source_re_encoded_keeps_its_light(tmp_path: Path):
    """`--model none` on an HDR10 file re-encodes it: the light is absolute already, so the SDR level convention
    (`--level bt2446a`'s 1.96x) must not apply (it did: the re-encoded file was twice as bright, MaxFALL +45 %);
    HLG made from it and back comes home too."""
    src = make_clip(tmp_path / "sdr.mp4", frames=4, size=(96, 64))
    hdr = tmp_path / "hdr.mkv"
    convert(ConvertOptions(src, hdr, model="none", encode=EncodeOptions(codec="ffv1")))

    def codes(path: Path) -> np.ndarray:  # Y' codes (chroma is 4:2:0 twice over: its edges soften)
        with av.open(str(path)) as c:
            return np.array([f.to_ndarray(format="yuv420p10le")[:f.height].astype(int) for f in c.decode(video=0)])

    for level in ("bt2446a", "bt2408"):
        again = tmp_path / f"again-{level}.mkv"
        convert(ConvertOptions(hdr, again, model="none", level=level, encode=EncodeOptions(codec="ffv1")))
        diff = np.abs(codes(again) - codes(hdr))
        assert diff.mean() < 0.5 and np.percentile(diff, 99) <= 2, (diff.mean(), diff.max())
    hlg = tmp_path / "hlg.mkv"
    convert(ConvertOptions(hdr, hlg, model="none", format="hlg", encode=EncodeOptions(codec="ffv1")))
    back = tmp_path / "back.mkv"
    convert(ConvertOptions(hlg, back, model="none", encode=EncodeOptions(codec="ffv1")))
    assert np.abs(codes(back).mean() - codes(hdr).mean()) < 1.0


@pytest.mark.parametrize("src_ext,out_ext", [(".mkv", ".mp4"), (".mp4", ".mkv"), (".mkv", ".mov"), (".mp4", ".ts")])
def test_audio_survives_a_change_of_container(tmp_path: Path, src_ext, out_ext):
    """Every audio packet, byte for byte, whatever the two containers' time bases (Matroska counts in ms, MP4
    audio in samples): the copy's time-went-backwards guard compared an input timestamp with the previous
    packet's after the muxer had rescaled it, and a .mkv made .mp4 kept 1 of 119 AAC packets; and .ts output
    refused AAC, which libavformat's codec query does not list for MPEG-TS."""
    src = make_clip(tmp_path / f"v{src_ext}", frames=25, audio=True)
    out = tmp_path / f"o{out_ext}"
    rep = convert(ConvertOptions(src, out, model="none"))

    def audio(path: Path) -> list[bytes]:  # (MPEG-TS carries AAC with a 7-byte ADTS header on every frame)
        with av.open(str(path)) as c:
            raw = [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]
        return [b[7:] if b[:2] == b"\xff\xf1" else b for b in raw]

    assert len(audio(src)) > 20 and audio(out) == audio(src)
    assert rep.packets_dropped == 0


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
def test_chapters_follow_the_part(tmp_path: Path):
    """Chapters are copied; in a part (--start) they start where the part does (they kept the source's times:
    every mark off by the cut)."""
    import subprocess

    from media import FFMPEG

    src = make_clip(tmp_path / "v.mp4", frames=75, size=(96, 64))
    meta = tmp_path / "ch.txt"
    meta.write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=One\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=3000\ntitle=Two\n")
    mkv = tmp_path / "ch.mkv"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-i", str(meta), "-map", "0", "-map_chapters", "1",
                    "-c", "copy", str(mkv)], check=True)

    def chapters(path: Path) -> list[tuple[str, float, float]]:
        return [(c["tags"]["title"], round(float(c["start_time"]), 2), round(float(c["end_time"]), 2))
                for c in ffprobe(path, "-show_chapters")["chapters"]]

    convert(ConvertOptions(mkv, tmp_path / "all.mkv", model="none"))
    assert chapters(tmp_path / "all.mkv") == chapters(mkv) == [("One", 0.0, 1.0), ("Two", 1.0, 3.0)]
    run_cli("convert", mkv, tmp_path / "part.mkv", "--model", "none", "--start", "0.6")
    assert chapters(tmp_path / "part.mkv") == [("One", 0.0, 0.4), ("Two", 0.4, 2.4)]
    run_cli("convert", mkv, tmp_path / "late.mp4", "--model", "none", "--start", "1.2")
    assert chapters(tmp_path / "late.mp4") == [("Two", 0.0, 1.8)]


@pytest.mark.skipif(__import__("media").FFMPEG is None, reason="ffmpeg not installed")
def test_matroska_attachments_are_kept_or_said_to_be_left(tmp_path: Path):
    """An ASS subtitle with its font attached (how Matroska releases carry styled subtitles): .mkv keeps the
    font byte for byte, .mp4 takes the subtitles as mov_text and leaves the font, saying so. Both crashed
    ("internal error: AttributeError": an attachment has no codec)."""
    import subprocess

    from media import FFMPEG

    ass = tmp_path / "s.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\n"
                   "Style: Default,Test Sans,20\n\n[Events]\nFormat: Layer, Start, End, Style, Text\n"
                   "Dialogue: 0,0:00:00.00,0:00:00.30,Default,hello\n")
    font = tmp_path / "TestSans.ttf"
    font.write_bytes(bytes(range(256)) * 8)
    src = make_clip(tmp_path / "v.mp4", frames=10, audio=True)
    mkv = tmp_path / "in.mkv"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-i", str(ass), "-map", "0", "-map", "1", "-c", "copy",
                    "-attach", str(font), "-metadata:s:t", "mimetype=application/x-truetype-font", str(mkv)],
                   check=True)

    def attachments(path: Path) -> list[tuple[str, bytes]]:
        with av.open(str(path)) as c:
            return [(s.name, bytes(s.data)) for s in c.streams if s.type == "attachment"]

    assert attachments(mkv) == [("TestSans.ttf", font.read_bytes())]
    assert "TestSans.ttf" in run_cli("info", mkv).output
    convert(ConvertOptions(mkv, tmp_path / "out.mkv", model="none"))
    assert attachments(tmp_path / "out.mkv") == attachments(mkv)
    r = run_cli("convert", mkv, tmp_path / "out.mp4", "--model", "none")
    assert r.exit_code == 0 and "TestSans.ttf" in r.output and "not copied" in r.output
    kinds = [st["codec_name"] for st in ffprobe(tmp_path / "out.mp4", "-show_streams")["streams"]]
    assert kinds == ["hevc", "aac", "mov_text"]


def test_untagged_video_is_bt709_and_input_transfer_overrides(tmp_path: Path):
    from hdrvid.color.transfer import bt709_inverse_oetf, srgb_eotf

    src = make_clip(tmp_path / "untagged.mkv", frames=2, size=(64, 48), codec="libx264rgb", pix_fmt="rgb24", trc=None)
    rgb = av.open(str(src))
    codes = next(rgb.decode(video=0)).to_ndarray()[:, :, 0] / 255.0
    rgb.close()
    from hdrvid.pipeline.decoder import DecodeOptions

    for override, curve in ((None, bt709_inverse_oetf), ("srgb", srgb_eotf)):
        dec = VideoDecoder(src, DecodeOptions(transfer=override))
        assert dec.info.transfer == (override or "bt709") and dec.info.transfer_tag == "unknown"
        f = next(iter(dec))
        dec.close()
        np.testing.assert_allclose(f.data[0].numpy(), curve(codes), atol=1e-5)


def test_convert_with_trained_expandnet(clip: Path, tmp_path: Path):
    out = tmp_path / "en.mp4"
    r = run_cli("convert", clip, out, "--model", "expandnet", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    import json

    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["model"] == "expandnet" and rep["frames"] == 12 and rep["max_cll"] > 203


def test_default_model_reports_how_it_treated_the_footage(clip: Path, tmp_path: Path):
    """The default (hdrunet-auto) says whether it treated the clip as graded or as camera footage, with the
    BT.2446A curve's mean weight, in the report and the printed line."""
    import json

    import torch

    from hdrvid.machine import usable_cores

    before = torch.get_num_threads()
    r = run_cli("convert", clip, tmp_path / "d.mp4", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["model"] == "hdrunet-auto" and rep["frames"] == 12 and 0.0 <= rep["graded_weight"] <= 1.0
    assert 0.0 <= rep["graded_boost"] <= 1.0
    assert "treated as" in r.output and "BT.2446A curve at" in r.output
    # beside the video encoder its engine takes half the cores (runtime.options.streaming_threads), and gives
    # torch's own setting back when the run ends; the engine is torch in fp32 or bf16, or the packaged int8
    # network on a CPU without native bf16 (runtime.factory.auto_precision)
    threads = max(1, usable_cores() // 2)
    assert rep["engine"].split()[0] in ("torch-cpu-fp32", "torch-cpu-bf16", "onnxruntime-cpu-int8")
    assert f" {threads} thread" in rep["engine"]
    assert torch.get_num_threads() == before


def test_default_level_places_sdr_tones_at_bt2446a_mid_grey(clip: Path, tmp_path: Path):
    """--level bt2446a (default): one gain of 1.96 on the BT.2408 placement, so decoded light is 1.96x that of
    --level bt2408, pixel for pixel (recorded pixels keep their ratios)."""
    a = convert(ConvertOptions(clip, tmp_path / "a.mp4", model="none", encode=EncodeOptions(crf=0)))
    b = convert(ConvertOptions(clip, tmp_path / "b.mp4", model="none", level="bt2408", encode=EncodeOptions(crf=0)))
    assert a["reference_white_nits"] == pytest.approx(203 * 1.96) and b["reference_white_nits"] == 203
    da, db = VideoDecoder(tmp_path / "a.mp4"), VideoDecoder(tmp_path / "b.mp4")
    fa, fb = next(iter(da)).data, next(iter(db)).data
    da.close(), db.close()
    mid = (fb > 0.05) & (fb < 0.8)
    assert abs(float(torch.median(fa[mid] / fb[mid])) - 1.96) < 0.05
    assert "pixels above reference white" in str(a)


def test_highlight_boost_scales_the_models_expansion(tmp_path: Path):
    """--highlight-boost 0 is plain linearisation whatever the model; boost 2 doubles each gain in stops;
    a pixel the model left alone stays alone."""
    from hdrvid.pipeline.inference import boost_expansion

    lin = torch.tensor([0.5, 1.0, 1.0, 0.0]).view(1, 1, 1, 4)
    out = torch.tensor([0.5, 4.0, 2.0, 0.3]).view(1, 1, 1, 4)
    assert torch.equal(boost_expansion(lin, out, 1.0), out)
    assert torch.allclose(boost_expansion(lin, out, 0.0)[..., :3], lin[..., :3])
    assert torch.allclose(boost_expansion(lin, out, 2.0), torch.tensor([0.5, 16.0, 4.0, 0.3]).view(1, 1, 1, 4))
    img = np.full((48, 64, 3), 120, np.uint8)
    img[10:30, 10:40] = 255  # a clipped window hdrunet expands
    src = tmp_path / "w.png"
    cv2.imwrite(str(src), img)
    outs = {}
    for name, args in (("none", ["-m", "none"]), ("b0", ["--highlight-boost", "0"]), ("b1", [])):
        r = run_cli("convert", src, tmp_path / f"{name}.exr", *args)
        assert r.exit_code == 0, r.output
        outs[name] = read_exr(tmp_path / f"{name}.exr")
    np.testing.assert_allclose(outs["b0"], outs["none"], rtol=1e-5, atol=1e-6)
    assert outs["b1"][20, 20].max() > 1.2 * outs["none"][20, 20].max()
    r = run_cli("convert", src, tmp_path / "x.exr", "--highlight-boost", "9")
    assert r.exit_code == 2 and "--highlight-boost" in r.output


def test_average_cap_reaches_the_model_in_its_own_units(tmp_path: Path):
    """--average-cap is nits of the HDR output: the model gets it relative to SDR white at the chosen level and
    reference white (0 = no cap); models without the cap are left alone; a negative value is refused."""
    import math
    from types import SimpleNamespace

    from hdrvid.jobs.convert import ConvertOptions, set_average_cap
    from hdrvid.models.hdrunet import AVERAGE_CAP, HDRUNet

    model = HDRUNet(width=4, context=8, curve=False, adaptive=True)
    assert model.average_cap == pytest.approx(250 / (203 * 1.96))
    src = tmp_path / "in.png"
    for kw, want in (({}, AVERAGE_CAP), ({"level": "bt2408"}, 250 / 203), ({"average_cap": 400.0,
                     "reference_white": 100.0}, 400 / 196), ({"average_cap": 0.0}, math.inf)):
        set_average_cap(SimpleNamespace(model=model), ConvertOptions(src, tmp_path / "o.mp4", **kw))
        assert model.average_cap == pytest.approx(want)
    set_average_cap(SimpleNamespace(model=object()), ConvertOptions(src, tmp_path / "o.mp4"))  # no such knob
    img = np.full((32, 48, 3), 200, np.uint8)
    cv2.imwrite(str(src), img)
    r = run_cli("convert", src, tmp_path / "x.exr", "--average-cap", "-5")
    assert r.exit_code == 2 and "--average-cap" in r.output
    from hdrvid.jobs.convert import ConvertReport

    report = ConvertReport(input="a", output="b", model="hdrunet-auto", format="hdr10")
    report.graded_weight, report.curve_weight = 1.0, 0.5
    report.above_reference_white, report.reference_white_nits = 0.001, 398.0
    assert "lowered to 0.50" in str(report) and "held down by --average-cap" in str(report)
    report.curve_weight = 1.0
    assert "lowered" not in str(report) and "no clipped highlights" in str(report)
    assert "stops" not in str(report)
    report.graded_boost = 0.82  # the graded boost, said when it acted
    assert "clipped highlights +0.82 stops" in str(report)


@needs_ffprobe
@pytest.mark.parametrize("codec,ext,profile,pix_fmt", [("prores", ".mov", "HQ", "yuv422p10le"),
                                                       ("prores4444", ".mov", "4444", "yuv444p12le"),  # (decodes as 12-bit)
                                                       ("ffv1", ".mkv", None, "yuv420p10le")])
def test_mezzanine_codecs_carry_the_hdr_colour_description(clip: Path, tmp_path: Path, codec, ext, profile, pix_fmt):
    out = tmp_path / f"m{ext}"
    r = run_cli("convert", clip, out, "-m", "none", "--codec", codec, "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    v = [s for s in ffprobe(out, "-show_streams")["streams"] if s["codec_type"] == "video"][0]
    assert v["codec_name"] == codec.rstrip("4") and v["pix_fmt"] == pix_fmt
    if profile:
        assert v["profile"] == profile
    assert v["color_transfer"] == "smpte2084" and v["color_primaries"] == "bt2020" and v["color_space"] == "bt2020nc"
    import json

    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["frames"] == 12 and rep["max_cll"] > 0  # measured, in the report (no SEI in these bitstreams)
    if codec.startswith("prores"):  # ... and in the .mov's mdcv/clli boxes
        side = {d["side_data_type"]: d for d in v.get("side_data_list", [])}
        assert side["Content light level metadata"]["max_content"] == rep["max_cll"]
    bad = run_cli("convert", clip, tmp_path / "x.mp4", "-m", "none", "--codec", codec)
    assert bad.exit_code != 0 and ("--codec" in bad.output) and not (tmp_path / "x.mp4").exists()
    bad = run_cli("convert", clip, tmp_path / f"y{ext}", "-m", "none", "--codec", codec, "--crf", "10")
    assert bad.exit_code == 2 and "--crf" in bad.output


def _libplacebo_sdr(src: Path, dst: Path) -> np.ndarray | None:
    """``src`` rendered for a BT.709 SDR display by FFmpeg's libplacebo filter (Vulkan; Mesa's lavapipe on a
    CPU), the first frame as RGB, or None when this FFmpeg/Vulkan cannot run it."""
    import subprocess

    from media import FFMPEG

    if FFMPEG is None:
        return None
    vf = ("format=yuv420p10le,hwupload,libplacebo=colorspace=bt709:color_primaries=bt709:color_trc=bt709:"
          "range=tv:format=yuv420p:tonemapping=bt.2390,hwdownload,format=yuv420p")
    r = subprocess.run([FFMPEG, "-v", "error", "-init_hw_device", "vulkan", "-i", str(src), "-frames:v", "1",
                        "-vf", vf, "-c:v", "ffv1", str(dst)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None
    with av.open(str(dst)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24").astype(np.float64)


def test_hdr10_and_hlg_render_alike_through_libplacebo(clip: Path, tmp_path: Path):
    """The same input written as HDR10 and as HLG, rendered for an SDR display by an independent renderer
    (libplacebo), gives (nearly) the same picture: the two signals describe the same light."""
    pics = []
    for fmt in ("hdr10", "hlg"):
        out = tmp_path / f"{fmt}.mp4"
        r = run_cli("convert", clip, out, "-m", "none", "--format", fmt, "--crf", "4")
        assert r.exit_code == 0, r.output
        pics.append(_libplacebo_sdr(out, tmp_path / f"{fmt}-sdr.mkv"))
    if pics[0] is None or pics[1] is None:
        pytest.skip("FFmpeg's libplacebo filter cannot run here (needs Vulkan: apt-get install mesa-vulkan-drivers)")
    diff = np.abs(pics[0] - pics[1])
    print(f"libplacebo HDR10 vs HLG: mean {diff.mean():.2f}, p99 {np.percentile(diff, 99):.1f} code values")
    assert diff.mean() < 3.0 and np.percentile(diff, 99) < 12, (diff.mean(), np.percentile(diff, 99))


def test_convert_preview_sheet(clip: Path, tmp_path: Path):
    """--preview writes one frame as SDR input | HDR for an SDR screen | false colour, without a video."""
    png = tmp_path / "p.png"
    r = run_cli("convert", clip, "--preview", png, "--at", "0:00.2", "-m", "itmo")
    assert r.exit_code == 0, r.output
    img = cv2.imread(str(png))
    assert img is not None and img.shape[1] == 3 * 64 and img.shape[0] == 48 + 22
    assert "frame 5" in r.output and "above reference white" in r.output
    assert [p.name for p in tmp_path.glob("*.mp4")] == [clip.name] if clip.parent == tmp_path else not list(tmp_path.glob("*.mp4"))
    r = run_cli("convert", clip, "--preview", png, "--at", "0:30", "--overwrite")
    assert r.exit_code != 0 and "past the end" in r.output
    r = run_cli("convert", clip, "--preview", tmp_path / "q.png", "--at", "soon")
    assert r.exit_code == 2 and "--at" in r.output
    r = run_cli("convert", clip)
    assert r.exit_code == 2 and "OUTPUT" in r.output


@needs_ffprobe
def test_start_duration_and_frames_convert_a_part(tmp_path: Path):
    """--start/--duration/--frames: the part's frames only, timestamps from 0, audio trimmed to the part."""
    src = make_clip(tmp_path / "in.mp4", frames=50, rate=25, audio=True)
    out = tmp_path / "part.mp4"
    r = run_cli("convert", src, out, "-m", "none", "--start", "0.4", "--duration", "1.0", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    pts = video_pts_seconds(out)
    assert len(pts) == 25 and pts[0] == pytest.approx(0.0) and pts[-1] == pytest.approx(0.96)
    a = ffprobe(out, "-show_streams", "-select_streams", "a")["streams"][0]
    assert 0.9 <= float(a["duration"]) <= 1.1  # audio follows the part (packet granularity)
    # the first converted frame is source frame 10: compare with the full conversion's frame 10
    full = tmp_path / "full.mp4"
    assert run_cli("convert", src, full, "-m", "none").exit_code == 0
    d1, d2 = VideoDecoder(out), VideoDecoder(full)
    first = next(iter(d1)).data
    frames = [f.data for _, f in zip(range(12), iter(d2))]
    d1.close(), d2.close()
    diffs = [float((first - frames[i]).abs().mean()) for i in (9, 10, 11)]
    assert diffs[1] == min(diffs) and diffs[1] < 0.5 * min(diffs[0], diffs[2])  # (both lossy: not equal)
    r = run_cli("convert", src, tmp_path / "n.mp4", "-m", "none", "--frames", "7")
    assert r.exit_code == 0 and len(video_pts_seconds(tmp_path / "n.mp4")) == 7
    r = run_cli("convert", src, tmp_path / "late.mp4", "-m", "none", "--start", "9")
    assert r.exit_code != 0 and "--start" in r.output and not (tmp_path / "late.mp4").exists()


@needs_ffprobe
@pytest.mark.parametrize("ext", [".mp4", ".mov"])
def test_container_level_hdr10_metadata_matches_the_bitstream(tmp_path: Path, ext: str):
    """MP4/MOV carry mdcv + clli boxes with the SEI's values (players that read only the container see them);
    the file still decodes whole, audio included."""
    import json
    import shutil
    import subprocess

    src = make_clip(tmp_path / "in.mp4", frames=12, audio=True)
    out = tmp_path / f"o{ext}"
    r = run_cli("convert", src, out, "-m", "none", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "r.json").read_text())
    st = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    side = {d["side_data_type"]: d for d in st.get("side_data_list", [])}
    md, cl = side["Mastering display metadata"], side["Content light level metadata"]
    assert md["red_x"] == "34000/50000" and md["green_y"] == "34500/50000" and md["max_luminance"] == "10000000/10000"
    assert (cl["max_content"], cl["max_average"]) == (rep["max_cll"], rep["max_fall"])
    frame = ffprobe(out, "-show_frames", "-select_streams", "v", "-read_intervals", "%+#1")["frames"][0]
    sei = {d["side_data_type"]: d for d in frame.get("side_data_list", [])}
    assert sei["Content light level metadata"]["max_content"] == cl["max_content"]  # same as the SEI
    counts = ffprobe(out, "-count_packets", "-show_entries", "stream=nb_read_packets,codec_type")["streams"]
    assert {s["codec_type"]: int(s["nb_read_packets"]) for s in counts}["video"] == 12
    if shutil.which("mediainfo"):
        mi = subprocess.run(["mediainfo", str(out)], capture_output=True, text=True).stdout
        assert "Display P3" in mi and f"{rep['max_cll']} cd/m2" in mi


@needs_ffprobe
def test_hdr_boxes_in_a_fast_start_file_move_the_chunk_offsets(tmp_path: Path):
    """moov before mdat: adding the boxes moves the media data, and every chunk offset follows."""
    import subprocess

    from media import FFMPEG

    from hdrvid.color.metadata import MasteringDisplay
    from hdrvid.io.mp4boxes import add_hdr_boxes

    src = make_clip(tmp_path / "in.mp4", frames=12, audio=True, faststart=True, codec="libx265")
    before = packets(src, "audio")
    add_hdr_boxes(src, MasteringDisplay(max_nits=1000.0), (600, 120))
    st = ffprobe(src, "-show_streams", "-select_streams", "v")["streams"][0]
    assert any(d.get("max_content") == 600 for d in st.get("side_data_list", []))
    assert packets(src, "audio") == before  # audio bytes found where the offsets now point
    if FFMPEG:
        r = subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-f", "null", "-"], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stderr.strip()


@needs_ffprobe
def test_hdr10plus_dynamic_metadata_describes_every_frame(tmp_path: Path):
    """--hdr10plus: every frame carries an ST 2094-40 message FFmpeg parses, whose statistics agree with the
    file's static MaxCLL/MaxFALL (both measured on the frames as decoded)."""
    import json
    import shutil
    import subprocess

    src = make_clip(tmp_path / "in.mp4", frames=10, audio=True)
    out = tmp_path / "o.mp4"
    r = run_cli("convert", src, out, "--hdr10plus", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "r.json").read_text())
    from media import FFPROBE

    # (ffprobe's JSON repeats the key "maxscl" three times in one object; its default output keeps every line)
    text = subprocess.run([FFPROBE, "-v", "error", "-show_frames", "-select_streams", "v", str(out)],
                          capture_output=True, text=True, check=True).stdout
    blocks = text.split("side_data_type=HDR Dynamic Metadata SMPTE2094-40")[1:]
    assert text.count("[FRAME]") == 10 and len(blocks) == 10
    nits = lambda v: int(v.split("/")[0]) / int(v.split("/")[1]) * 10000
    field = lambda b, k: [nits(line.split("=", 1)[1]) for line in b.split("[/SIDE_DATA]")[0].splitlines()
                          if line.startswith(k + "=")]
    top = max(max(field(b, "maxscl")) for b in blocks)
    assert all(len(field(b, "maxscl")) == 3 for b in blocks)
    assert abs(top - rep["max_cll"]) <= 0.02 * rep["max_cll"] + 2
    fall = max(field(b, "average_maxrgb")[0] for b in blocks)
    assert abs(fall - rep["max_fall"]) <= 0.02 * rep["max_fall"] + 2
    if shutil.which("mediainfo"):
        assert "2094" in subprocess.run(["mediainfo", str(out)], capture_output=True, text=True).stdout
    bad = run_cli("convert", src, tmp_path / "a.mkv", "--hdr10plus", "--codec", "libsvtav1")
    assert bad.exit_code == 2 and "--hdr10plus" in bad.output
    bad = run_cli("convert", src, tmp_path / "h.mp4", "--hdr10plus", "--format", "hlg")
    assert bad.exit_code != 0 and "--hdr10plus" in bad.output and not (tmp_path / "h.mp4").exists()


@needs_ffprobe
@pytest.mark.parametrize("frames", [1, 2])
def test_one_and_two_frame_clips_with_audio(tmp_path, frames):
    """x265 gives a one-frame stream no decode time; the muxer must still take it, with the audio copied."""
    clip = make_clip(tmp_path / "in.mp4", frames=frames, size=(64, 48), audio=True)
    r = run_cli("-q", "convert", clip, tmp_path / "out.mp4", "--model", "none")
    assert r.exit_code == 0, r.output
    kinds = [s["codec_type"] for s in ffprobe(tmp_path / "out.mp4", "-show_streams")["streams"]]
    assert kinds == ["video", "audio"]
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert len(list(c.decode(video=0))) == frames


def test_x265_frame_threads_fit_the_machine_and_keep_the_picture(tmp_path: Path, monkeypatch):
    """Two frame threads where 2-3 cores are usable (x265 picks one there); x265 decides elsewhere. With
    constant quality the decoded pictures stay within one code value of one frame thread's (a speed-up must not
    change the picture)."""
    from hdrvid.pipeline import encoder
    from hdrvid.pipeline.output import OutputSpec

    assert [encoder.x265_frame_threads(n) for n in (1, 2, 3, 4, 16)] == [None, 2, 2, None, None]
    src = make_clip(tmp_path / "in.mp4", frames=12, size=(128, 72))
    planes = {}
    for threads in (None, 2):
        monkeypatch.setattr(encoder, "x265_frame_threads", lambda t=threads: t)
        out = tmp_path / f"ft{threads}.mp4"
        convert(ConvertOptions(src, out, model="none", max_cll=(1000, 400)))
        params = encoder.codec_params(OutputSpec("hdr10", 1000.0, 203.0), "libx265")["x265-params"]
        assert ("frame-threads=2" in params) == (threads == 2)
        with av.open(str(out)) as c:
            planes[threads] = [f.to_ndarray(format="yuv420p10le").astype(int) for f in c.decode(video=0)]
    assert len(planes[None]) == len(planes[2]) == 12
    assert max(np.abs(a - b).max() for a, b in zip(planes[None], planes[2])) <= 1


def test_the_split_inference_writes_what_one_stage_writes(tmp_path: Path, monkeypatch):
    """hdrunet's fast mode runs as two stages (the network on one frame while the previous frame is expanded,
    ``pipeline.inference.Network`` / ``Expand``): the same output, frame for frame, as one stage doing both, on a
    clip with a scene cut (the order of the state's updates: ``test_runner``'s split test)."""
    from hdrvid.pipeline.inference import Inference
    from hdrvid.runtime import EngineOptions

    src = tmp_path / "cut.mp4"
    rng = np.random.default_rng(3)
    with av.open(str(src), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 128, 96, "yuv420p"
        v.options = {"preset": "ultrafast", "crf": "12"}
        for i in range(16):
            img = np.full((96, 128, 3), 60 if i < 8 else 150, np.uint8)
            img[20:50, 30 + i:70 + i] = 255  # a clipped highlight that moves
            img += rng.integers(0, 8, img.shape, dtype=np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in v.encode():
            out.mux(p)

    def frames(path: Path) -> list[np.ndarray]:
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="gbrp16le") for f in c.decode(video=0)]

    opts = dict(model="hdrunet-auto", engine=EngineOptions(infer_scale=0.5), encode=EncodeOptions(preset="ultrafast"))
    split = convert(ConvertOptions(src, tmp_path / "split.mp4", **opts))
    assert split.stages is not None and "expand" in split.stages and split.scene_cuts == [8]
    monkeypatch.setattr(Inference, "stages", lambda self: [self])
    whole = convert(ConvertOptions(src, tmp_path / "whole.mp4", **opts))
    assert "expand" not in whole.stages
    a, b = frames(tmp_path / "split.mp4"), frames(tmp_path / "whole.mp4")
    assert len(a) == len(b) == 16 and all(np.array_equal(x, y) for x, y in zip(a, b))


@needs_ffprobe
def test_itmo_holds_a_white_walls_frame_average_light_at_the_average_cap(tmp_path: Path):
    """``convert --model itmo`` (session 50): a clipped white wall over 45 % of the frame would lift MaxFALL far
    above ``--average-cap``; with the cap the expansion is scaled down so MaxFALL stays near it (the wall still
    expanded), the run report says so, and the torch path (EXR output) gets the numpy path's factor."""
    import json

    src = tmp_path / "wall.mp4"
    with av.open(str(src), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 96, 64, "yuv420p"
        v.options = {"preset": "ultrafast", "crf": "10"}
        cc = v.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, 1, 1, 1
        for i in range(12):
            rgb = np.full((64, 96, 3), 100, np.uint8)
            rgb[:, : 43 + i % 2] = 255  # a clipped white wall, its edge moving by a pixel
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p", dst_colorspace="ITU709",
                                                                         dst_color_range="MPEG")
            f.pts = i
            for p in v.encode(f):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
    reports = {}
    for name, args in (("capped", ()), ("free", ("--average-cap", "0"))):
        r = run_cli("convert", src, tmp_path / f"{name}.mp4", "-m", "itmo", "--report", tmp_path / f"{name}.json",
                    *args)
        assert r.exit_code == 0, r.output
        reports[name] = json.loads((tmp_path / f"{name}.json").read_text())
    capped, free = reports["capped"], reports["free"]
    assert free["max_fall"] > 320 and free.get("expansion_cap") is None  # the cap off: no factor
    assert capped["max_fall"] < 0.85 * free["max_fall"] and capped["max_fall"] <= 250 * 1.1
    assert capped["max_cll"] > 1.1 * 203 * 1.96  # the wall is still expanded above SDR white (398 nits)
    assert 0.05 < capped["expansion_cap"] < 0.9
    r = run_cli("convert", src, tmp_path / "t.mp4", "-m", "itmo")
    assert "expansion held down by --average-cap" in r.output
    # the torch module (EXR output does not take the numpy path): the same factor
    r = run_cli("convert", src, tmp_path / "exr", "-m", "itmo", "--report", tmp_path / "exr.json")
    assert r.exit_code == 0, r.output
    assert abs(json.loads((tmp_path / "exr.json").read_text())["expansion_cap"] - capped["expansion_cap"]) < 2e-3
