#!/bin/bash
# brackets at 1280x720 with its edge ring off and on (session 41), interleaved rounds: wall and user seconds, and
# whether the two pictures differ. bash docs/bench/session41/brackets_ring_speed.sh /work/bench [ROUNDS] [CLIP]
B=${1:-/work/bench}; N=${2:-2}; C=${3:-bbb720.mp4}
OFF='import hdrvid.models.brackets as b; b.EDGE_RING = None; from hdrvid.cli import run; run()'
for r in $(seq "$N"); do
  /usr/bin/time -f "off %e s %U user" python -c "$OFF" -q convert "$B/$C" /tmp/br_off.mp4 -m brackets --overwrite
  /usr/bin/time -f "on  %e s %U user" hdrvid -q convert "$B/$C" /tmp/br_on.mp4 -m brackets --overwrite --report /tmp/br_on.json
done
python -c "import json; r = json.load(open('/tmp/br_on.json')); print('on: report fps', r['fps'])"
cmp -s /tmp/br_off.mp4 /tmp/br_on.mp4 && echo "same bytes" || echo "pictures differ"
