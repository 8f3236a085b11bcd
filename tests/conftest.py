"""Suite-wide set-up: build the runtime roots once before any test needs them.

On a fresh machine the first function of a runtime makes Lamb install that
runtime's root (awslambdaric + boto3 with pip, aws-lambda-ric with npm), which
can take longer than a test is willing to wait for a function to become Active.
``lamb runtimes install`` does it up front, for every runtime this host can run;
it is a no-op once the roots exist (they are cached in ~/.cache/lamb/runtimes).
"""

from __future__ import annotations

import subprocess
import sys


def pytest_sessionstart(session) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lamb", "runtimes", "install"], capture_output=True, text=True, timeout=1800
    )
    sys.stderr.write(proc.stdout + proc.stderr)
