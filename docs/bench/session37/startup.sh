#!/bin/bash
# Session 37: one-frame runs (the fixed cost) of this checkout against a reference commit, interleaved.
#   git worktree add /tmp/ref cce7a02 && (cd /tmp/ref && python setup.py -q build_ext --inplace)
#   cd /work/bench && bash startup.sh          (one720.mp4: the first frame of bbb720.mp4; onehdr.mp4: of hdr1080.mp4)
source "$(dirname "$0")/../../../tools/bench_lib.sh" >/dev/null
for i in 1 2 3 4 5; do
  /usr/bin/time -f "ff_none %e" bash "$FF" one720.mp4 /tmp/f.mp4
  /usr/bin/time -f "new_none %e" hdrvid -q convert one720.mp4 /tmp/o.mp4 --overwrite --model none
  /usr/bin/time -f "ref_none %e" env PYTHONPATH=/tmp/ref python -m hdrvid -q convert one720.mp4 /tmp/o.mp4 --overwrite --model none
  /usr/bin/time -f "new_default %e" hdrvid -q convert one720.mp4 /tmp/o.mp4 --overwrite
  /usr/bin/time -f "ref_default %e" env PYTHONPATH=/tmp/ref python -m hdrvid -q convert one720.mp4 /tmp/o.mp4 --overwrite
  /usr/bin/time -f "ff_tonemap %e" ffmpeg -v error -y -i onehdr.mp4 -vf "$FT" -c:v libx264 -preset medium -crf 18 /tmp/fftm1.mp4
  /usr/bin/time -f "new_tonemap %e" hdrvid -q tonemap onehdr.mp4 /tmp/tm1.mp4 --operator hable --overwrite
  /usr/bin/time -f "ref_tonemap %e" env PYTHONPATH=/tmp/ref python -m hdrvid -q tonemap onehdr.mp4 /tmp/tm1.mp4 --operator hable --overwrite
done 2>&1 | sort | awk '{a[$1]=a[$1]" "$2} END {for (k in a) print k, a[k]}' | sort
