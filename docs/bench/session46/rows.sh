#!/bin/bash
# Every row of issue 17 in one run on session 46's host (AMD EPYC, AVX2, no native bf16), with the default model
# both as --precision auto runs it there (its packaged int8 network) and in fp32. Source the venv, then
#   bash docs/bench/session46/rows.sh WORKDIR
# WORKDIR as tools/bench_session19.sh describes it (bbb720, bbb1080, cut1080, bbb2160, hdr1080).
set -e
source "$(cd "$(dirname "$0")/../../.." && pwd)/tools/bench_lib.sh"
cd "$1"
transcode_triples 3
long_and_large
for i in 1 2 3; do
  T none720b hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite
  T itmo720 hdrvid -q convert bbb720.mp4 itmo720.mp4 --model itmo --overwrite
  T def720 hdrvid -q convert bbb720.mp4 def720.mp4 --overwrite
  T def720fp32 hdrvid -q convert bbb720.mp4 def720f.mp4 --overwrite --precision fp32
done
for i in 1 2 3; do
  T none1080c hdrvid -q convert cut1080.mp4 none1080c.mp4 --model none --overwrite
  T def1080c hdrvid -q convert cut1080.mp4 def1080c.mp4 --overwrite
  T def1080cfp32 hdrvid -q convert cut1080.mp4 def1080cf.mp4 --overwrite --precision fp32
done
tonemap_pairs
T fftm_bt2390peer ffmpeg -v error -y -i hdr1080.mp4 -vf "$FT" -c:v libx264 -preset medium -crf 18 -c:a copy fftm.mp4
T tm_bt2390 hdrvid -q tonemap hdr1080.mp4 tm1080_bt2390.mp4 --operator bt2390 --overwrite
hdrvid -q bench --merge flowmerge -m none --backend torch --frames 16 --resolution 1280x720 --json flowmerge720.json 2>&1 | tail -20
