#!/bin/bash
# Session 38: `tonemap --operator reinhard` at 1080p with and without the smoother's statistics pass (the same
# statistics read back from a file, so the picture is the same bytes), three interleaved pairs. From /work/bench.
set -e
here="$(cd "$(dirname "$0")" && pwd)"
unset PYTHONDONTWRITEBYTECODE
python "$here/stats_ab.py" record hdr1080.mp4 /tmp/stats.json
for i in 1 2 3; do
  /usr/bin/time -f "base %e s %U user" hdrvid -q tonemap hdr1080.mp4 /tmp/tm_a.mp4 --operator reinhard --overwrite
  /usr/bin/time -f "nostats %e s %U user" python "$here/stats_ab.py" replay /tmp/stats.json -q tonemap hdr1080.mp4 \
    /tmp/tm_b.mp4 --operator reinhard --overwrite
done
cmp /tmp/tm_a.mp4 /tmp/tm_b.mp4 && echo "same bytes"
