"""The output codec's share of the flicker on a still, flat clip: `hdrvid convert` with extra x265 parameters appended
to hdrvid's own (patched into `encoder.codec_params`), then `tools/flicker.py --curve bt2446a`, and the file's size.
python x265_flicker.py CUT.mp4 OUTDIR "LABEL=PARAMS" ...   (PARAMS: x265 key=value pairs joined by ':'; "" = shipped)
Crf goes in as crf=N (hdrvid's --crf)."""
import json, subprocess, sys
from pathlib import Path

import hdrvid.pipeline.encoder as enc
from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.pipeline.encoder import EncodeOptions

cut, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
orig = enc.codec_params
tool = Path(__file__).resolve().parents[4] / "tools" / "flicker.py"
for arg in sys.argv[3:]:
    label, _, params = arg.partition("=")
    pairs = [p for p in params.split(":") if p]
    crf = next((int(p.split("=")[1]) for p in pairs if p.startswith("crf=")), None)
    extra = ":".join(p for p in pairs if not p.startswith("crf="))

    def patched(spec, codec, light=None, extra=extra):
        d = orig(spec, codec, light)
        if extra and "x265-params" in d:
            d["x265-params"] += ":" + extra
        return d

    enc.codec_params = patched
    dest = out / f"{label}.mp4"
    convert(ConvertOptions(input=cut, output=dest, overwrite=True, encode=EncodeOptions(crf=crf)))
    r = subprocess.run([sys.executable, str(tool), str(cut), str(dest), "--curve", "bt2446a"], capture_output=True,
                       text=True, check=True)
    s = json.loads(r.stdout[r.stdout.index("{"):])
    print(f"{label:14s} {params:40s} warp ratio {s['warp_error_ratio']:.3f}  log-change ratio "
          f"{s.get('log_change_ratio', float('nan')):.3f}  {dest.stat().st_size / 1e3:.0f} kB", flush=True)
