#!/bin/bash
# Issue 17 side-by-side, session 14 (BENCHMARKS.md): pairs back to back on an idle machine.
# usage: tools/bench_session14.sh WORKDIR (after tools/bench_vs_ffmpeg.sh made its inputs there)
FF="$(cd "$(dirname "$0")" && pwd)/ff_hdr10.sh"
cd "${1:-bench}"
T() { /usr/bin/time -f "$1 %e s %U user %S sys %M KB" "${@:2}" 2>&1 | grep -E "^$1 " ; }
FT="zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
for i in 1 2 3; do
  T fftm_hable ffmpeg -v error -y -i hdr1080.mp4 -vf "$FT" -c:v libx264 -preset medium -crf 18 -c:a copy fftm.mp4
  T tm_hable hdrvid -q tonemap hdr1080.mp4 tm1080.mp4 --operator hable --overwrite
done
for op in mobius reinhard; do
  T fftm_$op ffmpeg -v error -y -i hdr1080.mp4 -vf "${FT/hable/$op}" -c:v libx264 -preset medium -crf 18 -c:a copy fftm_$op.mp4
  T tm_$op hdrvid -q tonemap hdr1080.mp4 tm1080_$op.mp4 --operator $op --overwrite
done
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
