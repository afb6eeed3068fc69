"""hdrvid info, models and demo, end to end through the CLI."""

import json
from pathlib import Path

from conftest import run_cli
from media import make_clip, needs_ffmpeg, needs_ffprobe

from hdrvid.jobs.convert import ConvertOptions, convert


def test_info_table_and_json_with_hdr_side_data(clip: Path, tmp_path: Path):
    out = tmp_path / "hdr.mp4"
    rep = convert(ConvertOptions(clip, out))
    r = run_cli("info", out)
    assert r.exit_code == 0, r.output
    assert "hevc" in r.output and "smpte2084" in r.output and "MaxCLL" in r.output and "aac" in r.output
    r = run_cli("info", out, "--json")
    d = json.loads(r.output)
    v = [s for s in d["streams"] if s["type"] == "video"][0]
    assert v["frames"] == 12 and v["bit_depth"] == 10 and (v["width"], v["height"]) == (64, 48)
    assert v["transfer"] == "smpte2084" and v["primaries"] == "bt2020" and v["matrix"] == "bt2020nc"
    assert v["content_light_level"] == {"max_cll": rep["max_cll"], "max_fall": rep["max_fall"]}
    assert v["mastering_display"]["max_nits"] == 1000 and abs(v["mastering_display"]["green"][0] - 0.265) < 1e-4


def test_info_counts_frames_when_container_does_not(tmp_path: Path):
    src = make_clip(tmp_path / "a.mkv", frames=7)
    d = json.loads(run_cli("info", src, "--json").output)
    assert d["streams"][0]["frames"] == 7


@needs_ffmpeg
def test_info_shows_pixel_aspect_and_timecode(tmp_path: Path):
    import subprocess

    from media import FFMPEG

    src = make_clip(tmp_path / "v.mp4", frames=3, size=(96, 64))
    mov = tmp_path / "a.mov"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-vf", "setsar=32/27", "-c:v", "libx264", "-timecode",
                    "10:00:00:00", str(mov)], check=True)
    r = run_cli("info", mov)
    assert r.exit_code == 0 and "pixels 32:27" in r.output and "timecode 10:00:00:00" in r.output
    d = json.loads(run_cli("info", mov, "--json").output)
    assert d["streams"][0]["sample_aspect"] == "32:27"


def test_info_bad_file_is_one_line(tmp_path: Path):
    (tmp_path / "x.mp4").write_bytes(b"\0" * 100)
    r = run_cli("info", tmp_path / "x.mp4")
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "x.mp4" in r.output


def test_models_lists_registry():
    r = run_cli("models")
    assert r.exit_code == 0 and all(n in r.output for n in ("itmo", "none", "bt2446a", "expandnet"))
    from hdrvid.models import get, names

    lines = {ln.split()[0]: ln for ln in r.output.splitlines() if ln.strip()}
    for n in names():  # a model ships its weights, or says it has none (and refuses to run)
        assert ("no trained weights" in lines[n]) == (not get(n).trained), lines[n]


@needs_ffprobe
def test_demo_writes_hdr10_sdr_and_preview(tmp_path: Path):
    import cv2
    from media import ffprobe

    r = run_cli("demo", tmp_path / "d", "--frames", "6", "--size", "192x108")
    assert r.exit_code == 0, r.output
    for name in ("demo_input_sdr.mp4", "demo_hdr10.mp4", "demo_sdr.mp4", "demo_preview.png"):
        assert (tmp_path / "d" / name).is_file(), name
        assert name in r.output
    v = ffprobe(tmp_path / "d" / "demo_hdr10.mp4", "-show_streams", "-select_streams", "v")["streams"][0]
    assert v["color_transfer"] == "smpte2084" and int(v["nb_frames"]) == 6
    png = cv2.imread(str(tmp_path / "d" / "demo_preview.png"))
    assert png.shape[1] == 3 * 192 and png.std() > 10
