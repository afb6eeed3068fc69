#!/bin/bash
# What the log-light start costs (session 45): `convert --upscale 2` of 48 frames, 640x360 -> 1280x720, with session 44's
# hdrunet-2x file (linear start, given by --weights) and the shipped one, interleaved.
# usage: bash docs/bench/session45/upscale_speed.sh BENCH_DIR   (from the repository; BENCH_DIR gets bbb360.mp4)
set -e
B=$1; R=$(pwd)
[ -f "$B/bbb360.mp4" ] || ffmpeg -v error -ss 20 -i ../shared/real-sdr/big_buck_bunny.mp4 -frames:v 48 -an -c:v libx264 -crf 18 "$B/bbb360.mp4"
git show 5bb36b1:hdrvid/models/weights/hdrunet-2x.pt > "$B/hdrunet-2x-s44.pt"
cd "$B"
for round in 1 2; do
  for v in old new; do
    w=""; [ $v = old ] && w="--weights hdrunet-2x-s44.pt"
    s=$(date +%s.%N)
    hdrvid -q convert bbb360.mp4 up-$v.mp4 --upscale 2 --overwrite --report up-$v.json $w
    e=$(date +%s.%N)
    python3 -c "import json,sys; r=json.load(open('up-$v.json')); print('round $round $v: wall %.2f s, fps %s' % ($e - $s, r.get('fps')))"
  done
done
