"""Bad input and unsafe output: one line naming the file, a non-zero exit, nothing half-written."""

import random
from pathlib import Path

from conftest import run_cli
from media import make_audio_only, make_clip, needs_ffmpeg


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".partial" in p.name]


def assert_one_line_error(result, name: str, code: int = 2):
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output  # no traceback
    assert lines[0].startswith("hdrvid: error:") and name in lines[0]


def test_missing_input(tmp_path: Path):
    r = run_cli("convert", tmp_path / "nope.mp4", tmp_path / "out.mp4")
    assert_one_line_error(r, "nope.mp4")
    assert not (tmp_path / "out.mp4").exists()
    (tmp_path / "old.mp4").write_bytes(b"kept")  # the missing input is named first, whatever the output
    for command in ("convert", "tonemap"):
        r = run_cli(command, tmp_path / "nope.mp4", tmp_path / "old.mp4")
        assert_one_line_error(r, "nope.mp4")
        assert "no such file" in r.output and (tmp_path / "old.mp4").read_bytes() == b"kept"


def test_zero_byte_input(tmp_path: Path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    r = run_cli("convert", tmp_path / "empty.mp4", tmp_path / "out.mp4")
    assert_one_line_error(r, "empty.mp4")
    assert "empty" in r.output and not leftovers(tmp_path)


def test_garbage_input(tmp_path: Path):
    (tmp_path / "garbage.mp4").write_bytes(bytes(random.Random(0).randrange(256) for _ in range(5000)))
    r = run_cli("convert", tmp_path / "garbage.mp4", tmp_path / "out.mp4")
    assert_one_line_error(r, "garbage.mp4")
    assert not (tmp_path / "out.mp4").exists() and not leftovers(tmp_path)


def test_mp4_cut_before_moov(tmp_path: Path):
    src = make_clip(tmp_path / "full.mp4", frames=30)  # moov at the end
    data = src.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    r = run_cli("convert", tmp_path / "cut.mp4", tmp_path / "out.mp4")
    assert_one_line_error(r, "cut.mp4")
    assert "truncated or invalid" in r.output


def test_truncated_mid_stream_fails_unless_allowed(tmp_path: Path):
    src = make_clip(tmp_path / "full.mp4", frames=60, size=(128, 96), faststart=True)
    data = src.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) * 2 // 3])
    r = run_cli("convert", tmp_path / "cut.mp4", tmp_path / "out.mp4")
    assert_one_line_error(r, "cut.mp4")
    assert "truncated" in r.output and not (tmp_path / "out.mp4").exists() and not leftovers(tmp_path)
    r = run_cli("convert", tmp_path / "cut.mp4", tmp_path / "out.mp4", "--allow-short")
    assert r.exit_code == 0 and "truncated" in r.output  # converted, with a warning


def test_corrupt_packets_counted_against_a_threshold(tmp_path: Path):
    src = make_clip(tmp_path / "ok.mp4", frames=60, size=(128, 96), faststart=True)
    data = bytearray(src.read_bytes())
    rnd = random.Random(1)
    for k in range(len(data) // 3, 2 * len(data) // 3, 97):
        data[k] = rnd.randrange(256)
    (tmp_path / "bad.mp4").write_bytes(bytes(data))
    r = run_cli("convert", tmp_path / "bad.mp4", tmp_path / "out.mp4", "--max-decode-errors", "2")
    assert_one_line_error(r, "bad.mp4")
    assert "corrupt" in r.output
    r = run_cli("convert", tmp_path / "bad.mp4", tmp_path / "out.mp4", "--max-decode-errors", "10000")
    assert r.exit_code == 0 and "decode errors" in r.output


def test_audio_only_input(tmp_path: Path):
    src = make_audio_only(tmp_path / "sound.m4a")
    r = run_cli("convert", src, tmp_path / "out.mp4")
    assert_one_line_error(r, "sound.m4a")
    assert "no video stream" in r.output


def test_existing_output_needs_overwrite_and_survives_failure(clip: Path, tmp_path: Path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    r = run_cli("convert", clip, out)
    assert_one_line_error(r, "out.mp4", code=3)
    assert out.read_bytes() == b"precious"
    # a run failing after its temporary file exists (HDR10 asked of an SDR-only encoder) leaves the old output
    r = run_cli("convert", clip, out, "--overwrite", "--codec", "libx264")
    assert r.exit_code == 3 and "libx264" in r.output
    assert out.read_bytes() == b"precious" and not leftovers(tmp_path)
    r = run_cli("convert", clip, out, "--overwrite")
    assert r.exit_code == 0 and out.read_bytes() != b"precious"


def test_output_equal_to_input_is_refused(clip: Path):
    before = clip.read_bytes()
    r = run_cli("convert", clip, clip, "--overwrite")
    assert_one_line_error(r, clip.name, code=3)
    assert clip.read_bytes() == before


def test_unknown_model_lists_known_ones(clip: Path, tmp_path: Path):
    r = run_cli("convert", clip, tmp_path / "o.mp4", "--model", "magic")
    assert r.exit_code == 4 and "itmo" in r.output and "expandnet" in r.output


def test_model_without_weights_refuses(clip: Path, tmp_path: Path, monkeypatch):
    from hdrvid.models import registry
    from hdrvid.models.expandnet import ExpandNet

    registry.names()  # built-ins loaded
    spec = registry.ModelSpec(name="untrained", kind="single-exposure", factory=ExpandNet, summary="test",
                              trained=False)
    monkeypatch.setitem(registry._REGISTRY, "untrained", spec)
    r = run_cli("convert", clip, tmp_path / "o.mp4", "--model", "untrained")
    assert r.exit_code == 4 and "no trained weights" in r.output and "random weights" in r.output
    assert not (tmp_path / "o.mp4").exists()


def test_hdr_input_is_not_expanded_again(clip: Path, tmp_path: Path):
    hdr = tmp_path / "hdr.mp4"
    assert run_cli("convert", clip, hdr).exit_code == 0
    r = run_cli("convert", hdr, tmp_path / "again.mp4")
    assert r.exit_code == 2 and "already HDR" in r.output
    assert run_cli("convert", hdr, tmp_path / "again.mp4", "--model", "none").exit_code == 0


@needs_ffmpeg
def test_unsupported_subtitle_codec_for_container_is_a_clear_error(tmp_path: Path):
    import subprocess

    from media import FFMPEG

    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,400\nhello\n")
    src = make_clip(tmp_path / "v.mkv", frames=12)
    mkv = tmp_path / "subs.mkv"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-i", str(srt), "-map", "0", "-map", "1", "-c", "copy",
                    "-c:s", "srt", str(mkv)], check=True)
    r = run_cli("convert", mkv, tmp_path / "out.ts")  # (MP4 takes it: re-encoded as mov_text, test_convert_video)
    assert_one_line_error(r, "out.ts", code=3)
    assert ".mkv" in r.output


@needs_ffmpeg
def test_a_container_that_refuses_a_stream_at_its_header_is_a_clear_error(tmp_path: Path):
    """MOV takes no Opus, though libavformat's codec query lets it through: the muxer says so only when the
    first packet writes the header. That was an "internal error: ArgumentError"; it is the one-line error
    naming the streams and the fix, with nothing left behind."""
    import subprocess

    from media import FFMPEG

    webm = tmp_path / "in.webm"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25", "-f", "lavfi", "-i",
                    "sine=f=300:sample_rate=48000", "-t", "0.5", "-c:v", "libvpx-vp9", "-c:a", "libopus",
                    "-shortest", str(webm)], check=True)
    r = run_cli("convert", webm, tmp_path / "o.mov", "--model", "none")
    assert_one_line_error(r, "o.mov", code=3)
    assert "opus" in r.output and ".mkv" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.webm"]
    assert run_cli("convert", webm, tmp_path / "o.mov", "--model", "none", "--no-copy").exit_code == 0


@needs_ffmpeg
def test_a_container_that_refuses_a_stream_at_its_trailer_is_a_clear_error(tmp_path: Path):
    """PCM sound from an AVI (packets of varying size) into MP4: the muxer refuses only when the file is
    finished. That was an "internal error: ArgumentError"; it is the one-line error naming the streams and the
    fix, with nothing left behind, and .mkv takes the same sound byte for byte."""
    import subprocess

    import av
    from media import FFMPEG

    src = make_clip(tmp_path / "v.mp4", frames=25, audio=True)
    avi = tmp_path / "old.avi"
    subprocess.run([FFMPEG, "-v", "error", "-i", str(src), "-c:v", "mjpeg", "-c:a", "pcm_s16le", str(avi)],
                   check=True)
    r = run_cli("convert", avi, tmp_path / "o.mp4", "--model", "none")
    assert_one_line_error(r, "o.mp4", code=3)
    assert "pcm_s16le" in r.output and ".mkv" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.avi", "v.mp4"]
    assert run_cli("convert", avi, tmp_path / "o.mkv", "--model", "none").exit_code == 0

    def sound(path: Path) -> bytes:
        with av.open(str(path)) as c:
            return b"".join(bytes(p) for p in c.demux(c.streams.audio[0]) if p.size)

    assert sound(tmp_path / "o.mkv") == sound(avi)
