#!/bin/bash
# Issue 17 side-by-side, session 12 (BENCHMARKS.md): pairs back to back on an idle machine.
# usage: tools/bench_session12.sh WORKDIR (after tools/bench_vs_ffmpeg.sh made its inputs there)
LIB="$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
cd "${1:-bench}"
source "$LIB"
tonemap_pairs
T tm_bt2390 hdrvid -q tonemap hdr1080.mp4 tm1080_bt2390.mp4 --operator bt2390 --overwrite
for i in 1 2 3; do
  T ff720 $FF bbb720.mp4 ff720.mp4
  T none720 hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite --report none720.json
  T itmo720 hdrvid -q convert bbb720.mp4 itmo720.mp4 --model itmo --overwrite
done
T default720 hdrvid -q convert bbb720.mp4 def720.mp4 --overwrite
T none1080s hdrvid -q convert bbb1080.mp4 none1080s.mp4 --model none --overwrite --frames 96
T default1080s hdrvid -q convert bbb1080.mp4 def1080s.mp4 --overwrite --frames 96
T ff1080 $FF bbb1080.mp4 ff1080.mp4
T none1080 hdrvid -q convert bbb1080.mp4 none1080.mp4 --model none --overwrite --report none1080.json
T ff2160 $FF bbb2160.mp4 ff2160.mp4
T none2160 hdrvid -q convert bbb2160.mp4 none2160.mp4 --model none --overwrite
[ -e bbb360.mp4 ] || ffmpeg -v error -y -i bbb720.mp4 -vf scale=640:360:flags=lanczos -c:v libx264 -crf 18 -pix_fmt yuv420p -color_primaries bt709 -color_trc bt709 -colorspace bt709 -c:a copy bbb360.mp4
T up360 hdrvid -q convert bbb360.mp4 up720.mp4 --upscale 2 --overwrite --report up720.json
T up360_ort hdrvid -q convert bbb360.mp4 up720o.mp4 --upscale 2 --backend onnxruntime --overwrite --report up720o.json
T default360 hdrvid -q convert bbb360.mp4 def360.mp4 --overwrite --report def360.json
