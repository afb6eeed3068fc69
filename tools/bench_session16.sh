#!/bin/bash
# Issue 17 side-by-side, session 16 (BENCHMARKS.md): the lighter start (the option choices of other commands,
# OpenEXR and libc found lazily, the input opened once by the encoder) on the runs whose fixed cost weighs
# most: `tonemap` at 1080p (24 frames) and the 2-second 720p transcode; then `itmo` against `none`.
# usage: tools/bench_session16.sh WORKDIR (after tools/bench_vs_ffmpeg.sh made its inputs there)
LIB="$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
cd "${1:-bench}"
source "$LIB"
tonemap_pairs
transcode_triples 3
for i in 1 2; do
  T itmo720 hdrvid -q convert bbb720.mp4 itmo720.mp4 --model itmo --overwrite
  T none720 hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite
done
