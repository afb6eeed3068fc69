"""Eval brackets with the ensemble's Debevec merge over fewer EVs (STACK=-3,3 ...)."""
import os, sys
from hdrvid.models import brackets as B
B.STACK_EVS = tuple(float(e) for e in os.environ["STACK"].split(","))
from hdrvid.cli import main
sys.exit(main())
