#!/bin/bash
# Issue 17 side-by-side (BENCHMARKS.md), one run per row, in this order, on an otherwise idle machine.
# usage: tools/bench_vs_ffmpeg.sh [WORKDIR] (from the repository root; hdrvid on PATH; BBB from ../shared)
set -e
FF="$(cd "$(dirname "$0")" && pwd)/ff_hdr10.sh"
SRC="${SRC:-$(pwd)/../shared/real-sdr/big_buck_bunny.mp4}"
mkdir -p "${1:-bench}" && cd "${1:-bench}"
tag="-color_primaries bt709 -color_trc bt709 -colorspace bt709"
[ -e bbb720.mp4 ] || ffmpeg -v error -y -ss 30 -i "$SRC" -frames:v 48 -vf scale=1280:720:flags=lanczos -c:v libx264 -preset medium -crf 18 -pix_fmt yuv420p $tag -c:a aac bbb720.mp4
[ -e bbb1080.mp4 ] || ffmpeg -v error -y -ss 20 -i "$SRC" -t 20 -vf scale=1920:1080:flags=lanczos -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p $tag -c:a aac bbb1080.mp4
T() { /usr/bin/time -f "$1 %e s %U user %M KB" "${@:2}" 2>&1 | grep -E "^$1 " ; }
[ -e bbb2160.mp4 ] || ffmpeg -v error -y -ss 10 -i bbb1080.mp4 -t 1 -vf scale=3840:2160:flags=lanczos -c:v libx264 -preset ultrafast -crf 18 -pix_fmt yuv420p -color_primaries bt709 -color_trc bt709 -colorspace bt709 -an bbb2160.mp4
T ff720 "$FF" bbb720.mp4 ff720.mp4
T none720 hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite --report none720.json
T itmo720 hdrvid -q convert bbb720.mp4 itmo720.mp4 --model itmo --overwrite --report itmo720.json
T default720 hdrvid -q convert bbb720.mp4 def720.mp4 --overwrite --report def720.json
T ff1080 "$FF" bbb1080.mp4 ff1080.mp4
T none1080 hdrvid -q convert bbb1080.mp4 none1080.mp4 --model none --overwrite --report none1080.json
T default1080 hdrvid -q convert bbb1080.mp4 def1080.mp4 --overwrite --frames 96 --report def1080.json
T none1080s hdrvid -q convert bbb1080.mp4 none1080s.mp4 --model none --overwrite --frames 96 --report none1080s.json
T ff2160 "$FF" bbb2160.mp4 ff2160.mp4
T none2160 hdrvid -q convert bbb2160.mp4 none2160.mp4 --model none --overwrite --report none2160.json
# tonemap: HDR10 1080p, 24 frames
[ -e hdr1080.mp4 ] || hdrvid -q convert bbb1080.mp4 hdr1080.mp4 --model itmo --frames 24 --overwrite
T fftm1080 ffmpeg -v error -y -i hdr1080.mp4 -vf "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p" -c:v libx264 -preset medium -crf 18 -c:a copy fftm.mp4
T tm1080 hdrvid -q tonemap hdr1080.mp4 tm1080.mp4 --operator hable --overwrite --report tm1080.json
for op in mobius reinhard; do
  T fftm1080_$op ffmpeg -v error -y -i hdr1080.mp4 -vf "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=$op:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p" -c:v libx264 -preset medium -crf 18 -c:a copy fftm_$op.mp4
  T tm1080_$op hdrvid -q tonemap hdr1080.mp4 tm1080_$op.mp4 --operator $op --overwrite --report tm1080_$op.json
done
T tm1080_bt2390 hdrvid -q tonemap hdr1080.mp4 tm1080_bt2390.mp4 --operator bt2390 --overwrite --report tm1080_bt2390.json
# alternating flowmerge at 720p (bench's generated EV -2/+2 clip, end to end with libx265 fast)
T flowmerge720 hdrvid bench -q --merge flowmerge -m none --backend torch --mode pipelined --frames 16 --json flowmerge.json
