#!/bin/bash
# brackets before/after session 34's stage-2 ensemble, interleaved: bash brackets_speed.sh BENCH_DIR REF_WORKTREE
# (REF: a worktree of 4d07ddd with its C extension built). One line per run: label, wall s, user+sys s.
set -e
cd "$1"; REF=$2
run() { local label=$1; shift; /usr/bin/time -f "$label %e %U %S" "$@" 2>&1 >/dev/null | tail -1; }
for i in 1 2; do
  run "before-720 " env PYTHONPATH="$REF" python -m hdrvid -q convert bbb720.mp4 /tmp/b_before.mp4 -m brackets --overwrite
  run "after-720  " python -m hdrvid -q convert bbb720.mp4 /tmp/b_after.mp4 -m brackets --overwrite
  run "before-2x  " env PYTHONPATH="$REF" python -m hdrvid -q convert bbb360.mp4 /tmp/b2_before.mp4 -m brackets --upscale 2 --overwrite
  run "after-2x   " python -m hdrvid -q convert bbb360.mp4 /tmp/b2_after.mp4 -m brackets --upscale 2 --overwrite
done
