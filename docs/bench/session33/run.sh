#!/bin/bash
# Session 33's measurements (source the venv; WORKDIR holds the session-19 bench clips; REF is a worktree of the
# session's first commit, 90a4a2c, with its C extension built there):
#   bash docs/bench/session33/run.sh WORKDIR REF
# office1080.mp4: the first 24 frames of ../shared/real-sdr/one-by-one-person-detection.mp4 (graded phone footage)
# scaled to 1920x1080:
#   ffmpeg -i one-by-one-person-detection.mp4 -frames:v 24 -vf scale=1920:1080:flags=bicubic -c:v libx264 -crf 16 \
#     -preset veryfast -pix_fmt yuv420p -color_primaries bt709 -color_trc bt709 -colorspace bt709 office1080.mp4
set -e
source "$(dirname "$0")/../../../tools/bench_lib.sh"
cd "$1"
REF=$2
for clip in bbb720 cut1080 office1080; do
  for i in 1 2; do
    T none_$clip hdrvid -q convert $clip.mp4 none_$clip.mp4 --model none --overwrite
    T ref_$clip env PYTHONPATH=$REF python -m hdrvid -q convert $clip.mp4 ref_$clip.mp4 --overwrite
    T def_$clip hdrvid -q convert $clip.mp4 def_$clip.mp4 --overwrite
  done
  cmp ref_$clip.mp4 def_$clip.mp4 && echo "$clip: the same bytes as the reference"
done
