#!/bin/bash
# brackets at 1280x720 with its per-blob level off and on (session 40), interleaved rounds: wall and user seconds.
# bash docs/bench/session40/brackets_level_speed.sh /work/bench [ROUNDS]
B=${1:-/work/bench}; N=${2:-2}
OFF='import hdrvid.models.brackets as b; b.BLOB_LEVEL = False; from hdrvid.cli import run; run()'
for r in $(seq "$N"); do
  /usr/bin/time -f "off %e s %U user" python -c "$OFF" -q convert "$B/bbb720.mp4" /tmp/br_off.mp4 -m brackets --overwrite
  /usr/bin/time -f "on  %e s %U user" hdrvid -q convert "$B/bbb720.mp4" /tmp/br_on.mp4 -m brackets --overwrite --report /tmp/br_on.json
done
python -c "import json; r = json.load(open('/tmp/br_on.json')); print('on: report fps', r['fps'], 'blob_level', r['blob_level'])"
