"""hdrvid's command line with OpenCV's own pool left at its default inside pipelines (experiment)."""
import contextlib
import sys

import hdrvid.jobs.job as job

job.opencv_threads = lambda n: contextlib.nullcontext()
from hdrvid.cli import main  # noqa: E402

sys.exit(main())
