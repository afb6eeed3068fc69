#!/bin/bash
# The default against `none` at 720p and 1080p (48 frames each), three interleaved pairs each, after the blob level's
# two changes of session 46. Source the venv, then: bash docs/bench/session46/default_pairs.sh WORKDIR
set -e
source "$(cd "$(dirname "$0")/../../.." && pwd)/tools/bench_lib.sh"
cd "$1"
for i in 1 2 3; do
  T none720 hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite
  T def720 hdrvid -q convert bbb720.mp4 def720.mp4 --overwrite
done
for i in 1 2 3; do
  T none1080c hdrvid -q convert cut1080.mp4 none1080c.mp4 --model none --overwrite
  T def1080c hdrvid -q convert cut1080.mp4 def1080c.mp4 --overwrite
done
