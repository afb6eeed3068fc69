#!/bin/bash
# Issue 17 side-by-side, session 15 (BENCHMARKS.md): `--max-cll` (the peer's metadata work) beside the default,
# pairs back to back on an idle machine.
# usage: tools/bench_session15.sh WORKDIR (after tools/bench_vs_ffmpeg.sh made its inputs there)
LIB="$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
cd "${1:-bench}"
source "$LIB"
transcode_triples 5
T ff1080 $FF bbb1080.mp4 ff1080.mp4
T given1080 hdrvid -q convert bbb1080.mp4 given1080.mp4 --model none --overwrite --max-cll 1000,400
T none1080 hdrvid -q convert bbb1080.mp4 none1080.mp4 --model none --overwrite
