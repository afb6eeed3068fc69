"""Study patch (DET=path/to/hdrunet.pt): every `hdrunet-auto` executor `evaluate.executor_for` builds gets the shoulder
detector of another weights file (`tools/train_shoulder.py --out`); the network and everything else stay shipped.
Imported for its effect (graded_study.py, cam_eval.py)."""
import os
from pathlib import Path

import hdrvid.jobs.evaluate as E
from hdrvid.models.registry import load_state_dict

if os.environ.get("DET"):
    state = load_state_dict(Path(os.environ["DET"]), None)
    shoulder = {k[len("shoulder."):]: v for k, v in state.items() if k.startswith("shoulder.")}
    made = E.executor_for

    def executor_for(label, weights, engine, upscale=1):
        ex = made(label, weights, engine, upscale)
        model = getattr(ex, "model", None)
        if label == "hdrunet-auto" and model is not None:
            model.shoulder.load_state_dict(shoulder)  # any width (an ensemble): the detector takes the file's
            print("detector from", os.environ["DET"], flush=True)
        return ex

    E.executor_for = executor_for
