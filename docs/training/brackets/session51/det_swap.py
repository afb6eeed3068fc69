"""Study patch: `brackets` with the default model's shoulder detector (session 49's five-MLP ensemble, read from
`hdrunet.pt`) in place of its own (session 10's), everything else as shipped; then level_eval.py's run.
python det_swap.py SEED [SEED ...]   (level_eval's environment)"""
import runpy
import sys
from pathlib import Path

import hdrvid.jobs.evaluate as E
from hdrvid.models import build

shoulder = build("hdrunet-auto").shoulder.state_dict()
made = E.executor_for


def executor_for(label, weights, engine, upscale=1):
    ex = made(label, weights, engine, upscale)
    if label == "brackets":
        ex.model.shoulder.load_state_dict(shoulder)
        print("brackets: the default's detector", flush=True)
    return ex


E.executor_for = executor_for
here = Path(__file__).resolve().parents[1] / "level-session42" / "level_eval.py"
sys.argv = [str(here)] + sys.argv[1:]
runpy.run_path(str(here), run_name="__main__")
