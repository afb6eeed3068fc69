#!/bin/bash
# Issue 17 side-by-side, session 13 (BENCHMARKS.md): pairs back to back on an idle machine.
# usage: tools/bench_session13.sh WORKDIR (after tools/bench_vs_ffmpeg.sh made its inputs there)
FF="$(cd "$(dirname "$0")" && pwd)/ff_hdr10.sh"
cd "${1:-bench}"
T() { /usr/bin/time -f "$1 %e s %U user %M KB" "${@:2}" 2>&1 | grep -E "^$1 " ; }
for i in 1 2 3; do
  T none720 hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite
  T itmo720 hdrvid -q convert bbb720.mp4 itmo720.mp4 --model itmo --overwrite
  T default720 hdrvid -q convert bbb720.mp4 def720.mp4 --overwrite
done
for i in 1 2; do
  T none1080s hdrvid -q convert bbb1080.mp4 none1080s.mp4 --model none --overwrite --frames 96
  T default1080s hdrvid -q convert bbb1080.mp4 def1080s.mp4 --overwrite --frames 96
done
T ff720 $FF bbb720.mp4 ff720.mp4
