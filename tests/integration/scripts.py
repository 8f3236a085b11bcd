"""Console scripts installed with the Python running the tests (``lamb``, ``aws``).

The README installs Lamb and its test dependencies with this Python's pip, which puts
their console scripts in this environment's scripts folder (``<venv>/bin``). The tests
run those, never whatever another installation put first on PATH.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path


def installed_script(name: str) -> Path:
    """The console script ``name`` of this Python environment; fails if it is not installed."""
    folders = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise AssertionError(
        f"console script {name!r} is not installed with {sys.executable} (looked in {', '.join(map(str, folders))}); "
        "run the README's set-up: pip install -e '.[test]'"
    )
