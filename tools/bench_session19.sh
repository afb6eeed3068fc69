#!/bin/bash
# Every row of issue 17 in one run (session 19): source the venv, then `bash tools/bench_session19.sh WORKDIR`.
# WORKDIR holds bbb720.mp4 (1280x720, 48 frames), bbb1080.mp4 (1920x1080, 20 s), cut1080.mp4 (1920x1080, 48
# frames), bbb2160.mp4 (3840x2160, 24 frames), hdr1080.mp4 (HDR10 1920x1080, 24 frames): Big Buck Bunny cuts.
# tools/bench_vs_ffmpeg.sh's first lines make bbb720/bbb1080/bbb2160/hdr1080; cut1080.mp4 is
#   ffmpeg -i bbb1080.mp4 -frames:v 48 -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p \
#     -color_primaries bt709 -color_trc bt709 -colorspace bt709 -c:a aac cut1080.mp4
set -e
source "$(dirname "$0")/bench_lib.sh"
cd "$1"
transcode_triples 3
long_and_large
for i in 1 2; do
  T none720b hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite
  T itmo720 hdrvid -q convert bbb720.mp4 itmo720.mp4 --model itmo --overwrite
  T def720 hdrvid -q convert bbb720.mp4 def720.mp4 --overwrite
done
for i in 1 2; do
  T none1080c hdrvid -q convert cut1080.mp4 none1080c.mp4 --model none --overwrite
  T def1080c hdrvid -q convert cut1080.mp4 def1080c.mp4 --overwrite
done
tonemap_pairs
T fftm_bt2390peer ffmpeg -v error -y -i hdr1080.mp4 -vf "$FT" -c:v libx264 -preset medium -crf 18 -c:a copy fftm.mp4
T tm_bt2390 hdrvid -q tonemap hdr1080.mp4 tm1080_bt2390.mp4 --operator bt2390 --overwrite
hdrvid -q bench --merge flowmerge -m none --backend torch --frames 16 --resolution 1280x720 --json flowmerge720.json 2>&1 | tail -20
