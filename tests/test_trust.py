"""Issue 11: no lost bytes, no lost frames, no silent garbage. One test (or more) per audited failure; the
number in each test's name is the item it covers."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from conftest import run_cli
from media import FFMPEG, ffprobe, make_clip, needs_ffmpeg, needs_ffprobe

from hdrvid.errors import OutputError
from hdrvid.io.atomic import AtomicFile, AtomicFolder

PLACEHOLDER = b"\x90\x04\xff\xf1\xff\xef"


def one_line_error(r, *words: str, code: int | None = None) -> None:
    assert r.exit_code != 0, r.output
    if code is not None:
        assert r.exit_code == code, (r.exit_code, r.output)
    lines = [ln for ln in r.output.strip().splitlines() if ln.startswith("hdrvid:") or ln.startswith("Error")]
    assert lines and "Traceback" not in r.output, r.output
    for w in words:
        assert w in r.output, (w, r.output)


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-loglevel", "error", "-y", *map(str, args)], check=True, timeout=120)


def packets(path: Path, kind: str) -> list[bytes]:
    with av.open(str(path)) as c:
        st = [s for s in c.streams if s.type == kind]
        return [bytes(p) for p in c.demux(*st) if p.size] if st else []


def frame_count(path: Path) -> int:
    s = ffprobe(path, "-count_frames", "-select_streams", "v:0", "-show_streams")["streams"][0]
    return int(s["nb_read_frames"])


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# --- 1-6: data loss and corruption -----------------------------------------------------------------------------

def test_01_report_obeys_the_rules_of_outputs(clip: Path, tmp_path: Path):
    before = clip.read_bytes()
    out = tmp_path / "out.mp4"
    r = run_cli("convert", clip, out, "-m", "itmo", "--report", clip)
    one_line_error(r, "in.mp4", code=3)
    assert clip.read_bytes() == before and not out.exists()
    report = tmp_path / "r.json"
    report.write_text("keep")
    r = run_cli("convert", clip, out, "-m", "itmo", "--report", report)
    one_line_error(r, "r.json", "--overwrite", code=3)
    assert report.read_text() == "keep"
    r = run_cli("convert", clip, out, "-m", "itmo", "--report", out)
    one_line_error(r, "out.mp4", code=3)
    r = run_cli("convert", clip, out, "-m", "itmo", "--report", report, "--overwrite", "-q")
    assert r.exit_code == 0 and json.loads(report.read_text())["frames"] == 12


def test_02_exclusive_create_refuses_a_destination_that_appeared(tmp_path: Path):
    dest = tmp_path / "out.mp4"
    with pytest.raises(OutputError, match="another process"):
        with AtomicFile(dest, overwrite=False) as f:
            f.path.write_bytes(b"mine")
            dest.write_bytes(b"theirs")  # the other conversion finished first
    assert dest.read_bytes() == b"theirs" and [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    folder = tmp_path / "frames"
    with pytest.raises(OutputError, match="another process"):
        with AtomicFolder(folder, overwrite=False) as d:
            (d.path / "00000.exr").write_bytes(b"mine")
            folder.mkdir()
            (folder / "00000.exr").write_bytes(b"theirs")
    assert (folder / "00000.exr").read_bytes() == b"theirs"


def test_02_the_losing_conversion_fails_and_leaves_the_winner(clip: Path, tmp_path: Path):
    from hdrvid.jobs.convert import ConvertOptions, convert

    out = tmp_path / "out.mp4"

    class OtherRunFinishes:
        name = "other"

        def process(self, frame):
            if frame.index == 5:
                out.write_bytes(b"the other run's output")
            yield frame

        def flush(self):
            return iter(())

        def close(self):
            pass

    with pytest.raises(OutputError, match="another process"):
        convert(ConvertOptions(clip, out, model="itmo"), extra_stages=[OtherRunFinishes()])
    assert out.read_bytes() == b"the other run's output"
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


@needs_ffmpeg
@pytest.mark.parametrize("suffix", [".mkv", ".mov"])
def test_03_copied_audio_holding_the_placeholder_bytes_stays_identical(tmp_path: Path, suffix: str):
    pcm = tmp_path / "a.raw"
    pcm.write_bytes((PLACEHOLDER * 4 + bytes(range(40))) * 2000)  # s16le stereo 48 kHz, ~0.5 s
    src = make_clip(tmp_path / "v.mp4", frames=12)
    inp = tmp_path / f"in{suffix}"
    ffmpeg("-i", src, "-f", "s16le", "-ar", "48000", "-ac", "2", "-i", pcm, "-map", "0:v", "-map", "1:a",
           "-c:v", "copy", "-c:a", "pcm_s16le", inp)
    assert any(PLACEHOLDER in p for p in packets(inp, "audio"))
    out = tmp_path / f"out{suffix}"
    r = run_cli("convert", inp, out, "-m", "itmo", "-q")
    assert r.exit_code == 0, r.output
    assert packets(out, "audio") == packets(inp, "audio")
    assert all(PLACEHOLDER not in p for p in packets(out, "video"))


@needs_ffmpeg
def test_04_maxcll_describes_the_decoded_frames_and_nothing_decodes_above_the_peak(tmp_path: Path):
    from hdrvid.jobs.demo import write_demo_input

    src = tmp_path / "in.mp4"
    write_demo_input(src, frames=8, size=(256, 144))  # a room with a sunlit window, clipped by the camera
    hdr = tmp_path / "out.mp4"
    r = run_cli("convert", src, hdr, "-m", "itmo", "--report", tmp_path / "r.json", "-q")
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "r.json").read_text())
    raw = subprocess.run([FFMPEG, "-loglevel", "error", "-i", hdr, "-vf",
                          "zscale=t=linear:npl=10000:p=bt2020:m=bt2020nc:r=limited,format=gbrpf32le",
                          "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    nits = np.frombuffer(raw, np.float32).reshape(-1, 3, 144, 256).max(1) * 10000  # an independent decoder
    assert abs(float(nits.max()) - rep["max_cll"]) <= 0.05 * rep["max_cll"]  # the frames as decoded
    assert abs(float(nits.mean((1, 2)).max()) - rep["max_fall"]) <= 0.05 * rep["max_fall"] + 1
    assert rep["max_cll"] > 400  # highlights were expanded
    assert float(np.percentile(nits, 99.9)) <= 1000 * 1.1  # beyond codec overshoot, nothing above the peak
    data = hdr.read_bytes()
    assert b"65521" not in data and PLACEHOLDER not in data  # neither the SEI nor x265's settings string


def test_04_decoded_chroma_never_lifts_a_pixel_over_the_ceiling():
    """4:2:0 of saturated stripes next to a peak-white patch: whichever way a decoder upsamples chroma
    (nearest or bilinear), no component comes back above the mastering peak (before any codec)."""
    from hdrvid.color.transfer import pq_eotf, pq_inverse_eotf
    from hdrvid.color.ycbcr import dequantize_chroma, dequantize_luma, rgb_to_ycbcr_matrix
    from hdrvid.pipeline.output import to_yuv420, upsample_chroma

    img = np.zeros((64, 96, 3), np.float32)
    img[:, ::8] = (1, 0, 0)
    img[::6, :] = (0, 0, 1)
    img[20:40, 30:60] = 1
    light = torch.from_numpy(img).permute(2, 0, 1) * 1000
    planes, decoded = to_yuv420(pq_inverse_eotf(light), "bt2020nc", 10,
                                ceiling=float(pq_inverse_eotf(torch.tensor(1000.0))))
    y = dequantize_luma(torch.from_numpy(planes[0].astype(np.float32)), 10)
    c = torch.stack([dequantize_chroma(torch.from_numpy(p.astype(np.float32)), 10) for p in planes[1:]])
    inv = torch.as_tensor(np.linalg.inv(rgb_to_ycbcr_matrix("bt2020nc")), dtype=torch.float32)
    for up in (upsample_chroma(c, 64, 96), c.repeat_interleave(2, 1).repeat_interleave(2, 2)):
        rgb = y[None] + (inv[:, 1:] @ up.reshape(2, -1)).reshape(3, 64, 96)
        assert float(pq_eotf(rgb.clamp(0, 1)).amax()) <= 1000.0
    assert 900 < float(pq_eotf(decoded).max()) <= 1000.0


@needs_ffprobe
def test_05_transport_stream_near_its_clock_wrap_plays_whole_as_mp4(tmp_path: Path):
    src = make_clip(tmp_path / "v.mp4", frames=48, audio=True)
    ts = tmp_path / "wrap.ts"
    ffmpeg("-i", src, "-c:v", "copy", "-c:a", "copy", "-output_ts_offset", "95442.5", ts)  # wraps at ~95443.7 s
    out = tmp_path / "out.mp4"
    r = run_cli("convert", ts, out, "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    assert frame_count(out) == 48
    streams = {s["codec_type"]: s for s in ffprobe(out, "-show_streams")["streams"]}
    assert float(streams["video"]["start_time"]) >= 0 and float(streams["audio"]["start_time"]) >= 0
    assert abs(float(streams["audio"]["duration"]) - 48 / 25) < 0.1
    assert abs(float(streams["video"]["duration"]) - 48 / 25) < 0.1


def test_06_overwriting_a_sequence_folder_replaces_its_old_frames(clip: Path, tmp_path: Path):
    out = tmp_path / "frames"
    out.mkdir()
    for i in range(30):
        (out / f"{i:05d}.exr").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    r = run_cli("convert", clip, out, "-m", "none", "--overwrite", "-q")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.glob("*.exr")) == [f"{i:05d}.exr" for i in range(12)]
    assert (out / "notes.txt").read_text() == "mine"  # not a frame: left alone


@pytest.mark.parametrize("pattern", ["f_%.exr", "f_%c.exr", "f_%d_%d.exr", "f_%%.exr", "f_%(a)d.exr", "f_%s.exr"])
def test_06_sequence_patterns_need_exactly_one_integer_field(clip: Path, tmp_path: Path, pattern: str):
    r = run_cli("convert", clip, tmp_path / "seq" / pattern, "-m", "none")
    one_line_error(r, "%05d", code=3)
    assert not (tmp_path / "seq").exists() or not list((tmp_path / "seq").iterdir())


def test_06_a_literal_percent_and_one_field_work(clip: Path, tmp_path: Path):
    r = run_cli("convert", clip, tmp_path / "seq" / "f_100%%_%03d.exr", "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "seq").iterdir())[:2] == ["f_100%_000.exr", "f_100%_001.exr"]


# --- 7-10: security -------------------------------------------------------------------------------------------

@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HDRVID_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _onnx_in_cache(cache: Path) -> Path:
    from hdrvid.export.onnx import cached_onnx

    return cached_onnx("expandnet", "field")


def test_07_a_tampered_onnx_in_the_cache_is_never_loaded(cache: Path):
    from hdrvid.export.onnx import cached_onnx

    path = _onnx_in_cache(cache)
    good = path.read_bytes()
    import onnx

    proto = onnx.load(str(path))
    proto.graph.initializer[0].raw_data = bytes(len(proto.graph.initializer[0].raw_data))  # zero a weight
    path.write_bytes(proto.SerializeToString())
    record = path.with_name(path.name + ".sig.json")
    rec = json.loads(record.read_text())
    import hashlib

    rec["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()  # a record "updated" by the attacker
    record.write_text(json.dumps(rec))
    assert cached_onnx("expandnet", "field") == path
    assert path.read_bytes() == good  # exported again, not loaded


def test_07_a_cached_onnx_is_exported_again_when_the_model_code_changes(cache: Path, monkeypatch):
    """Same weights, same hdrvid version, different model code (session 34 changed what ``brackets``' field computes
    without new weights): the cache key holds the models' source digest, so the old graph is never reused."""
    import hdrvid.export.onnx as onnx_mod

    first = _onnx_in_cache(cache)
    assert onnx_mod.cached_onnx("expandnet", "field") == first
    monkeypatch.setattr(onnx_mod, "model_code_digest", lambda: "changed")
    second = onnx_mod.cached_onnx("expandnet", "field")
    assert second != first and second.is_file()


def test_08_a_symlinked_onnx_is_refused(cache: Path, tmp_path: Path):
    from hdrvid.engines import OrtEngine, check_onnx_file
    from hdrvid.errors import ModelError
    from hdrvid.export.onnx import cached_onnx

    path = _onnx_in_cache(cache)
    elsewhere = tmp_path / "evil.onnx"
    elsewhere.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(elsewhere)
    with pytest.raises(ModelError, match="symbolic link"):
        check_onnx_file(path)
    with pytest.raises(ModelError, match="symbolic link"):
        OrtEngine(path)
    assert cached_onnx("expandnet", "field") == path and not path.is_symlink()  # the cache re-exports


def test_09_a_planted_tensorrt_engine_with_a_forged_record_is_rebuilt(tmp_path: Path):
    import hashlib

    from hdrvid.engines.tensorrt_engine import cached_engine_path, load_cached, store

    key = {"onnx_sha256": "ab", "min": [1, 64, 64], "opt": [1, 720, 1280], "max": [1, 1088, 1920],
           "precision": "fp16", "tensorrt": "10.3", "gpu": "Test GPU", "capability": "8.9"}
    path = cached_engine_path(key, tmp_path)
    path.write_bytes(b"planted engine")
    path.with_suffix(".json").write_text(json.dumps(
        {"key": key, "engine_sha256": hashlib.sha256(b"planted engine").hexdigest()}))
    assert load_cached(path, key) is None
    path.with_suffix(".json").write_text(json.dumps(
        {"key": key, "engine_sha256": hashlib.sha256(b"planted engine").hexdigest(), "signature": "ab" * 32}))
    assert load_cached(path, key) is None
    store(path, key, b"our engine")
    assert load_cached(path, key) == b"our engine"


def _png_bomb(path: Path, w: int, h: int) -> None:
    """A valid all-black 8-bit grey PNG of w x h pixels, written row by row (small on disk)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    comp = zlib.compressobj(9)
    row = bytes(w + 1)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _capped(args: list[str], gib: float = 3.0) -> subprocess.CompletedProcess:
    """hdrvid in a child process whose address space is capped: a bomb cannot take the machine down."""
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (%d, %d)); "
            "from hdrvid.cli import main; sys.argv = ['hdrvid'] + %r; main()" % (int(gib * 2**30), int(gib * 2**30), args))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_10_a_png_bomb_is_refused_before_decoding(tmp_path: Path):
    bomb = tmp_path / "bomb.png"
    _png_bomb(bomb, 12000, 12000)
    assert bomb.stat().st_size < 1_000_000
    r = _capped(["convert", str(bomb), str(tmp_path / "out.exr")])
    assert r.returncode == 2 and "megapixel" in r.stderr and "--max-pixels" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr


def test_10_a_huge_video_is_refused_from_its_headers(tmp_path: Path):
    big = tmp_path / "big.mp4"
    make_clip(big, frames=1, size=(8192, 4352))  # 35.7 Mpx: above 8K UHD
    assert big.stat().st_size < 1_000_000
    r = _capped(["convert", str(big), str(tmp_path / "out.mp4")])
    assert r.returncode == 2 and "megapixel" in r.stderr, r.stderr
    assert not (tmp_path / "out.mp4").exists()


# --- 11-17: silently wrong output ------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--peak-nits", "0"], ["--peak-nits", "-5"], ["--peak-nits", "1e9"], ["--peak-nits", "50"],
    ["--peak-nits", "20000"], ["--peak-nits", "nan"], ["--reference-white", "0"], ["--reference-white", "-1"],
    ["--mode", "alternating", "--exposures", "nan,inf"], ["--mode", "alternating", "--exposures", "-1000,1000"],
])
def test_11_numeric_options_out_of_range_are_refused(clip: Path, tmp_path: Path, args: list[str]):
    r = run_cli("convert", clip, tmp_path / "out.mp4", "-m", "itmo", *args)
    one_line_error(r, args[-2] if args[-2].startswith("--") else "--", code=2)
    assert not (tmp_path / "out.mp4").exists()


def test_11_tonemap_target_nits_must_be_a_display_peak(clip: Path, tmp_path: Path):
    r = run_cli("tonemap", clip, tmp_path / "out.mp4", "--target-nits", "-5")
    one_line_error(r, "--target-nits", code=2)


@pytest.mark.parametrize("poison", ["nan", "huge"])
def test_12_broken_weights_stop_with_an_error_naming_them(clip: Path, tmp_path: Path, poison: str):
    from hdrvid.models import build

    state = build("expandnet").state_dict()
    bad = {k: (v.fill_(float("nan")) if poison == "nan" else v * 1e6) if v.dtype.is_floating_point else v
           for k, v in state.items()}
    weights = tmp_path / "broken.pt"
    torch.save(bad, weights)
    bright = make_clip(tmp_path / "b.mp4", frames=3, size=(96, 64))
    r = run_cli("convert", bright, tmp_path / "out.mp4", "-m", "expandnet", "--weights", weights,
                "--infer-scale", "1")
    one_line_error(r, "broken.pt", code=4)
    assert not (tmp_path / "out.mp4").exists()


@needs_ffmpeg
def test_13_cover_art_is_not_the_video_and_is_kept(tmp_path: Path):
    src = make_clip(tmp_path / "v.mp4", frames=24, audio=True)
    cover = tmp_path / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "color=red:s=32x32", "-frames:v", "1", cover)
    mkv = tmp_path / "covered.mkv"
    ffmpeg("-i", cover, "-i", src, "-map", "0", "-map", "1", "-c", "copy", "-disposition:v:0", "attached_pic", mkv)
    out = tmp_path / "out.mkv"
    r = run_cli("convert", mkv, out, "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    assert frame_count(out) == 24
    kinds = [(s["codec_type"], s["codec_name"]) for s in ffprobe(out, "-show_streams")["streams"]]
    assert ("video", "mjpeg") in kinds and ("video", "hevc") in kinds and ("audio", "aac") in kinds  # cover kept
    m4a = tmp_path / "song.m4a"
    ffmpeg("-i", src, "-i", cover, "-map", "0:a", "-map", "1", "-c:a", "copy", "-c:v", "mjpeg",
           "-disposition:v:0", "attached_pic", m4a)
    r = run_cli("convert", m4a, tmp_path / "song.mp4", "-m", "none")
    one_line_error(r, "no video stream", "cover picture", code=2)


@needs_ffprobe
def test_14_raw_h264_keeps_its_own_frame_rate(tmp_path: Path):
    raw = tmp_path / "in.h264"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=30", "-t", "1", "-c:v", "libx264", "-f", "h264", raw)
    out = tmp_path / "out.mp4"
    r = run_cli("convert", raw, out, "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert abs(float(v["duration"]) - 1.0) < 0.05 and v["avg_frame_rate"] == "30/1"


@needs_ffprobe
def test_15_an_edit_list_trimmed_mp4_is_not_truncated(tmp_path: Path):
    src = make_clip(tmp_path / "v.mp4", frames=72, audio=True)
    trimmed = tmp_path / "trimmed.mp4"
    ffmpeg("-ss", "1.5", "-i", src, "-c", "copy", trimmed)
    expected = frame_count(trimmed)
    out = tmp_path / "out.mp4"
    r = run_cli("convert", trimmed, out, "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    assert frame_count(out) == expected


def test_16_timestamps_that_go_backwards_are_rebuilt_once_and_stay_monotonic(tmp_path: Path, monkeypatch):
    from fractions import Fraction

    from hdrvid.pipeline import decoder

    said: list[str] = []
    monkeypatch.setattr(decoder.log, "warning", lambda msg, *a: said.append(msg % a))
    dec = decoder.VideoDecoder(make_clip(tmp_path / "v.mp4", frames=2))
    dec.info.rate, dec.info.time_base = Fraction(25), Fraction(1, 25)
    got = [dec._monotonic(p, i) for i, p in enumerate([0, 1, 3, 2, 4, 4, 5, 9])]
    dec.close()
    assert all(b > a for a, b in zip(got, got[1:])) and got[:3] == [0, 1, 3]
    assert sum("rebuilding" in m for m in said) == 1


@needs_ffprobe
def test_16_avi_with_b_frames_converts_with_every_frame(tmp_path: Path):
    avi = tmp_path / "b.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=25", "-t", "2", "-c:v", "mpeg4", "-bf", "2",
           "-vtag", "XVID", avi)
    for out in (tmp_path / "out.mp4", tmp_path / "frames"):
        r = run_cli("convert", avi, out, "-m", "none", "-q")
        assert r.exit_code == 0, r.output
    assert frame_count(tmp_path / "out.mp4") == frame_count(avi) == 50
    assert len(list((tmp_path / "frames").glob("*.exr"))) == 50


@needs_ffprobe
def test_17_languages_flags_titles_and_chapters_are_copied(tmp_path: Path):
    src = make_clip(tmp_path / "v.mp4", frames=48, audio=True)
    meta = tmp_path / "meta.txt"
    meta.write_text(";FFMETADATA1\ntitle=The Film\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=One\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=1920\ntitle=Two\n")
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    mkv = tmp_path / "in.mkv"
    ffmpeg("-i", src, "-i", srt, "-i", meta, "-map", "0:v", "-map", "0:a", "-map", "1", "-map_metadata", "2",
           "-map_chapters", "2", "-c:v", "copy", "-c:a", "copy", "-c:s", "srt",
           "-metadata:s:a:0", "language=fra", "-metadata:s:a:0", "title=Commentary",
           "-metadata:s:s:0", "language=deu", "-disposition:s:0", "forced", "-disposition:a:0", "default", mkv)
    out = tmp_path / "out.mkv"
    r = run_cli("convert", mkv, out, "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    info = ffprobe(out, "-show_streams", "-show_chapters", "-show_format")
    assert info["format"]["tags"].get("title") == "The Film"
    assert [c["tags"]["title"] for c in info["chapters"]] == ["One", "Two"]
    s = {x["codec_type"]: x for x in info["streams"]}
    assert s["audio"]["tags"]["language"] == "fra" and s["audio"]["tags"]["title"] == "Commentary"
    assert s["audio"]["disposition"]["default"] == 1
    assert s["subtitle"]["tags"]["language"] == "deu" and s["subtitle"]["disposition"]["forced"] == 1


# --- 18-22: clean errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--batch-size", "0"], "--batch-size"), (["--queue-size", "0"], "--queue-size"), (["--crf", "99"], "--crf"),
    (["--codec", "foo"], "--codec"), (["--preset", "bogus"], "--preset"), (["--threads", "-2"], "--threads"),
    (["--rate", "abc"], "--rate"), (["--rate", "0"], "--rate"), (["--peak-nits", "nan"], "--peak-nits"),
    (["-m", "ahdr"], "--mode alternating"), (["--weights", "x.pt"], "classical"),
])
def test_18_bad_options_are_one_line_errors(clip: Path, tmp_path: Path, args: list[str], words: str):
    r = run_cli("convert", clip, tmp_path / "out.mp4", "-m", "itmo", *args)
    one_line_error(r, words)
    assert "internal error" not in r.output and not (tmp_path / "out.mp4").exists()


def test_18_bad_inputs_and_outputs_are_one_line_errors(clip: Path, tmp_path: Path):
    r = run_cli("convert", clip, tmp_path / "out.mp4", "-f", "exr")
    one_line_error(r, "out.mp4", "folder", code=3)
    assert not (tmp_path / "out.mp4").exists()
    r = run_cli("convert", clip, tmp_path / "out.webm", "-m", "none", "--codec", "libx265")
    one_line_error(r, "WebM", "libsvtav1", code=3)
    folder = tmp_path / "imgs"
    folder.mkdir()
    import cv2

    cv2.imwrite(str(folder / "a.png"), np.zeros((16, 16, 3), np.uint8))
    cv2.imwrite(str(folder / "b.png"), np.zeros((20, 16, 3), np.uint8))
    r = run_cli("convert", folder, tmp_path / "seq.mp4", "-m", "none")
    one_line_error(r, "b.png", "one size", code=2)
    tiny = make_clip(tmp_path / "tiny.mkv", frames=2, size=(1, 1), codec="libx264rgb", pix_fmt="rgb24")
    r = run_cli("convert", tiny, tmp_path / "tiny.mp4", "-m", "none")
    one_line_error(r, "too small", code=2)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if not os.access(ro, os.W_OK):  # (root can write anywhere)
            r = run_cli("convert", clip, ro / "out.mp4", "-m", "none")
            one_line_error(r, "not writable", code=3)
    finally:
        ro.chmod(0o755)


@needs_ffprobe
def test_18_transport_stream_discontinuity_and_corruption_convert_or_fail_cleanly(tmp_path: Path):
    src = make_clip(tmp_path / "v.mp4", frames=50, audio=True, size=(96, 64))
    a, b = tmp_path / "a.ts", tmp_path / "b.ts"
    ffmpeg("-i", src, "-t", "1", "-c", "copy", a)
    ffmpeg("-i", src, "-ss", "1", "-c", "copy", "-output_ts_offset", "50", b)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(a.read_bytes() + b.read_bytes())  # a timestamp jump of ~50 s in the middle
    out = tmp_path / "joined.mp4"
    r = run_cli("convert", joined, out, "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    assert frame_count(out) == frame_count(joined)
    t = [float(x) for x in subprocess.run([FFMPEG.replace("ffmpeg", "ffprobe"), "-v", "error", "-select_streams",
                                           "v", "-show_entries", "packet=pts_time", "-of", "csv=p=0", out],
                                          capture_output=True, text=True).stdout.split()]
    assert sorted(t) == sorted(set(t))  # no duplicate timestamps
    data = bytearray(joined.read_bytes())
    rng = np.random.default_rng(1)
    mid = len(data) // 3
    data[mid:mid + 6000] = rng.integers(0, 256, 6000, dtype=np.uint8).tobytes()
    bad = tmp_path / "corrupt.ts"
    bad.write_bytes(bytes(data))
    r = run_cli("convert", bad, tmp_path / "c.mp4", "-m", "none")
    if r.exit_code == 0:
        assert frame_count(tmp_path / "c.mp4") > 0
    else:
        one_line_error(r, "corrupt.ts")
    assert "internal error" not in r.output


def test_18_too_small_for_hevc_is_a_clean_error(tmp_path: Path):
    small = make_clip(tmp_path / "s.mkv", frames=2, size=(8, 8), codec="libx264rgb", pix_fmt="rgb24")
    r = run_cli("convert", small, tmp_path / "s.mp4", "-m", "none")
    one_line_error(r, "too small", "EXR", code=3)
    assert not (tmp_path / "s.mp4").exists() and not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_18_merge_of_three_brackets_measures_or_reads_their_exposures(tmp_path: Path):
    import cv2

    from hdrvid.color.transfer import bt709_oetf
    from hdrvid.synth.scenes import interior_with_window

    hdr = interior_with_window(0.5, 96, 64)
    paths = []
    for i, ev in enumerate((-2, 0, 2)):
        sig = np.clip(bt709_oetf(np.clip(hdr * 2.0**ev * 0.5, 0, 1)), 0, 1)
        p = tmp_path / f"b{i}.png"
        cv2.imwrite(str(p), (sig[:, :, ::-1] * 255 + 0.5).astype(np.uint8))
        paths.append(p)
    r = run_cli("merge", *paths, "-o", tmp_path / "m.exr")
    assert r.exit_code == 0, r.output
    evs = [float(v) for v in r.output.split("exposures [")[1].split("]")[0].split(",")]
    assert evs[0] < -1 and abs(evs[1]) < 0.01 and evs[2] > 1


def test_19_device_files_are_refused_before_any_work(clip: Path):
    r = run_cli("convert", clip, "/dev/null", "-m", "none", "--overwrite")
    one_line_error(r, "/dev/null", "device", code=3)


def test_19_a_folder_output_is_staged_inside_an_existing_destination(tmp_path: Path):
    """(on a mount point's root the parent is another file system; inside the destination it is the same)"""
    dest = tmp_path / "mnt"
    dest.mkdir()
    with AtomicFolder(dest) as d:
        assert d.path.parent == dest and d.path.stat().st_dev == dest.stat().st_dev
        (d.path / "00000.exr").write_bytes(b"x")
    assert (dest / "00000.exr").is_file() and [p.name for p in dest.iterdir()] == ["00000.exr"]


def test_20_outputs_follow_the_umask(clip: Path, tmp_path: Path):
    old = os.umask(0o022)
    try:
        r = run_cli("convert", clip, tmp_path / "out.mp4", "-m", "none", "-q")
        r2 = run_cli("convert", clip, tmp_path / "frames", "-m", "none", "-q")
    finally:
        os.umask(old)
    assert r.exit_code == 0 and r2.exit_code == 0
    assert stat.S_IMODE((tmp_path / "out.mp4").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "frames").stat().st_mode) == 0o755
    assert stat.S_IMODE(next((tmp_path / "frames").iterdir()).stat().st_mode) == 0o644


def test_21_a_full_disk_is_noticed_at_the_start(clip: Path, tmp_path: Path, monkeypatch):
    import shutil as sh

    from hdrvid.jobs import job

    monkeypatch.setattr(job.shutil, "disk_usage", lambda p: sh._ntuple_diskusage(10**9, 10**9 - 10, 10))
    r = run_cli("convert", clip, tmp_path / "frames", "-m", "none")
    one_line_error(r, "free", code=3)
    assert not (tmp_path / "frames").exists()


def test_22_partials_of_killed_runs_are_recognised_and_removed(clip: Path, tmp_path: Path, caplog):
    pid = dead_pid()
    stale = tmp_path / f".out.hdrvid-{pid}-abc123.partial.mp4"
    stale.write_bytes(b"half")
    alive = tmp_path / f".other.hdrvid-{os.getpid()}-zzz.partial.mp4"
    alive.write_bytes(b"in progress")
    r = run_cli("convert", clip, tmp_path / "out.mp4", "-m", "none", "-q")
    assert r.exit_code == 0, r.output
    assert not stale.exists() and alive.exists()


@needs_ffmpeg
def test_19_pictures_with_side_data_pyav_mishandles_do_not_crash(tmp_path: Path):
    """A PNG carrying a named ICC profile (macOS screenshots, Photoshop exports), a QuickTime PNG movie made of
    such frames (motion-graphics exports) and a TIFF with a profile: reading a frame's side data crashed the
    interpreter (segmentation fault when the frame was freed: PyAV 18 frees the profile's name twice) or raised
    an internal error (a side data type PyAV does not know). Run in their own processes, so a crash fails the
    test instead of the suite."""
    from media import icc_profile
    from PIL import Image

    icc = icc_profile(((0.68, 0.32), (0.265, 0.69), (0.15, 0.06)), name="Display P3")
    img = Image.fromarray(np.full((48, 64, 3), (200, 60, 40), np.uint8))
    img.save(tmp_path / "shot.png", icc_profile=icc)
    img.save(tmp_path / "shot.tif", icc_profile=icc)
    ffmpeg("-loop", "1", "-i", tmp_path / "shot.png", "-t", "0.5", "-r", "8", "-c:v", "png", tmp_path / "anim.mov")
    cli = [sys.executable, "-m", "hdrvid.cli"]
    for args in (["info", tmp_path / "shot.png"], ["info", tmp_path / "shot.tif"],
                 ["-q", "convert", tmp_path / "anim.mov", tmp_path / "anim.mp4", "--model", "none"]):
        r = subprocess.run([*cli, *map(str, args)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, (args, r.returncode, r.stderr[-500:])
        assert "internal error" not in r.stderr
    assert ffprobe(tmp_path / "anim.mp4", "-show_streams")["streams"][0]["codec_name"] == "hevc"


def test_19_widths_that_crash_x265_are_refused_before_encoding(tmp_path: Path):
    """x265 aborts the process (heap corruption) on 10-bit pictures 34-48 pixels wide; such an output is a
    one-line error naming the fix, and AV1 takes the same picture. (Own process: a crash fails the test.)"""
    src = make_clip(tmp_path / "narrow.mp4", frames=3, size=(40, 64))
    cli = [sys.executable, "-m", "hdrvid.cli", "-q", "convert", str(src)]
    r = subprocess.run([*cli, str(tmp_path / "n.mp4"), "--model", "none"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 3 and "34-48 pixels wide" in r.stderr and "libsvtav1" in r.stderr, r.stderr[-300:]
    assert not (tmp_path / "n.mp4").exists()
    r = subprocess.run([*cli, str(tmp_path / "n.mkv"), "--model", "none", "--codec", "libsvtav1"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-300:]

