#!/bin/bash
# Issue 17 side-by-side, session 14 (BENCHMARKS.md): pairs back to back on an idle machine.
# usage: tools/bench_session14.sh WORKDIR (after tools/bench_vs_ffmpeg.sh made its inputs there)
LIB="$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
cd "${1:-bench}"
source "$LIB"
tonemap_pairs
for i in 1 2 3; do
  T ff720 $FF bbb720.mp4 ff720.mp4
  T none720 hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite
  T itmo720 hdrvid -q convert bbb720.mp4 itmo720.mp4 --model itmo --overwrite
  T default720 hdrvid -q convert bbb720.mp4 def720.mp4 --overwrite
done
T ff1080 $FF bbb1080.mp4 ff1080.mp4
T none1080 hdrvid -q convert bbb1080.mp4 none1080.mp4 --model none --overwrite
T ff2160 $FF bbb2160.mp4 ff2160.mp4
T none2160 hdrvid -q convert bbb2160.mp4 none2160.mp4 --model none --overwrite
