#!/bin/bash
# Session 32's measurements (source the venv; WORKDIR holds the session-19 bench clips and office24.mp4, the first
# 24 frames of ../shared/real-sdr/one-by-one-person-detection.mp4; REF is a worktree of the previous commit with
# the C extension copied in):
#   bash docs/bench/session32/run.sh WORKDIR REF
set -e
source "$(dirname "$0")/../../../tools/bench_lib.sh"
cd "$1"
REF=$2
# 1. tonemap reinhard/mobius beside FFmpeg, and x264 alone on each side's picture (the same settings)
for op in reinhard mobius; do
  T fftm_$op ffmpeg -v error -y -i hdr1080.mp4 -vf "${FT/hable/$op}" -c:v libx264 -preset medium -crf 18 -c:a copy fftm_$op.mp4
  T tm_$op hdrvid -q tonemap hdr1080.mp4 tm1080_$op.mp4 --operator $op --overwrite
done
for op in reinhard mobius; do
  for side in fftm tm1080; do
    ffmpeg -v error -y -i ${side}_$op.mp4 -f yuv4mpegpipe $side.$op.y4m
    T x264_${side}_$op ffmpeg -v error -y -i $side.$op.y4m -c:v libx264 -preset medium -crf 18 re_${side}_$op.mp4
  done
  for side in fftm tm1080; do
    echo "$side $op: $(stat -c %s ${side}_$op.mp4) bytes, mean Y $(ffmpeg -v error -i ${side}_$op.mp4 -vf signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=- -f null - | awk -F= '/YAVG/{s+=$2;n++} END{printf "%.1f", s/n}')"
  done
done
# 2. brackets on graded footage (the office clip): the previous commit against this one
for i in 1 2; do
  T br_ref env PYTHONPATH=$REF python -m hdrvid -q convert office24.mp4 br_ref.mp4 -m brackets --overwrite
  T br_new hdrvid -q convert office24.mp4 br_new.mp4 -m brackets --overwrite
done
# 3. the default at 1080p beside none
for i in 1 2; do
  T none1080c hdrvid -q convert cut1080.mp4 none1080c.mp4 --model none --overwrite
  T def1080c hdrvid -q convert cut1080.mp4 def1080c.mp4 --overwrite
done
