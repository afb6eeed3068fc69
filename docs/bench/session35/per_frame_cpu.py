"""Per-frame CPU of `convert --model none` and of FFmpeg's peer, by library (issue 17's 1080p row).

Records each side with `perf` on a 48-frame and a 122-frame 1080p clip (the first frames of the same film) and
subtracts, so start-up and the closing step drop out:

    python docs/bench/session35/per_frame_cpu.py BENCH        # BENCH holds cut1080.mp4 and bbb1080_5s.mp4
"""
import re
import subprocess
import sys
from pathlib import Path

bench = Path(sys.argv[1])
ff = Path(__file__).resolve().parents[3] / "tools" / "ff_hdr10.sh"
runs = {
    "hdrvid": lambda i, o: ["hdrvid", "-q", "convert", i, o, "--model", "none", "--overwrite", "--max-cll", "1000,400"],
    "ffmpeg": lambda i, o: ["bash", str(ff), i, o],
}


def by_dso(data: str) -> tuple[float, dict[str, float]]:
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso", "--stdio", "-g", "none"],
                         capture_output=True, text=True, check=True).stdout
    total = float(re.search(r"Event count \(approx.\): (\d+)", out).group(1)) / 1e9
    share = {m.group(2): float(m.group(1)) / 100 * total
             for m in (re.match(r"\s+([\d.]+)%\s+(\S+)", line) for line in out.splitlines()) if m}
    return total, share


for name, cmd in runs.items():
    seconds = {}
    for clip in ("cut1080.mp4", "bbb1080_5s.mp4"):
        frames = int(subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
                                     "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(bench / clip)],
                                    capture_output=True, text=True, check=True).stdout)
        data = f"/tmp/{name}{frames}.perf"
        subprocess.run(["perf", "record", "-q", "-o", data, "--", *cmd(str(bench / clip), f"/tmp/{name}{frames}.mp4")],
                       check=True, capture_output=True)
        seconds[frames] = by_dso(data)
    (n0, (t0, d0)), (n1, (t1, d1)) = sorted(seconds.items())
    print(f"{name}: {(t1 - t0) / (n1 - n0) * 1000:.1f} ms of CPU per frame ({t0:.2f} s for the first {n0} frames)")
    for k in sorted(d1, key=lambda k: -(d1[k] - d0.get(k, 0)))[:8]:
        print(f"    {k:50s} {(d1[k] - d0.get(k, 0)) / (n1 - n0) * 1000:6.2f} ms")
