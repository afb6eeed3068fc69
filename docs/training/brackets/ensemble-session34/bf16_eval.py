"""Eval with BracketHDR.cpu_bf16 = True (experiment: --precision auto then runs brackets in bf16, also as brackets-2x's base)."""
import sys
from hdrvid.models import brackets as B
B.BracketHDR.cpu_bf16 = True
from hdrvid.cli import main
sys.exit(main())
