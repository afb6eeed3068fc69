"""Run an hdrvid command with the hdrunet models built at another network width (session 33's distilled students):

    python docs/training/hdrunet/student-session33/with_width.py 8 eval -m hdrunet-auto --weights W ...
    python docs/training/hdrunet/student-session33/with_width.py 8 convert IN OUT --weights W ...

The registry's three hdrunet names get ``width`` in their factory arguments; everything else is the CLI as shipped.
"""
import sys
from dataclasses import replace

from hdrvid.models import registry

width = int(sys.argv[1])
for name in ("hdrunet", "hdrunet-auto", "hdrunet-graded"):
    spec = registry._REGISTRY[name]
    registry._REGISTRY[name] = replace(spec, factory_kwargs={**spec.factory_kwargs, "width": width})
sys.argv = ["hdrvid"] + sys.argv[2:]
from hdrvid.cli import main  # noqa: E402

main()
