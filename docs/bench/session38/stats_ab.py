"""record VIDEO JSON: every frame's (log-average, peak); replay JSON ARGS...: hdrvid with frame_statistics
returning the recorded values (no pass over the frame)."""
import json
import sys
from pathlib import Path

import hdrvid.pipeline.smoothing as smoothing

if sys.argv[1] == "record":
    from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder

    d = VideoDecoder(Path(sys.argv[2]), DecodeOptions())
    d.arrays = True
    Path(sys.argv[3]).write_text(json.dumps([smoothing.frame_statistics(f.data) for f in d]))
else:
    recorded = iter(json.loads(Path(sys.argv[2]).read_text()))
    smoothing.frame_statistics = lambda data: tuple(next(recorded))
    from hdrvid.cli import run

    sys.argv = ["hdrvid", *sys.argv[3:]]
    run()
