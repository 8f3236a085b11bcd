"""The layers of docs/architecture.md hold: no import points up.

The contract is import-linter's ``layers`` contract in pyproject.toml
(``[tool.importlinter]``); this runs it over ``src/lamb`` as CI does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint(config: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))"
    return subprocess.run([sys.executable, "-c", code, str(config)], cwd=ROOT, env=env, capture_output=True, text=True)


def test_layers_only_point_down():
    result = lint(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_is_caught(tmp_path):
    """The same contract with services above the api: api.invoke's import of services.invoke is then upward."""
    text = (ROOT / "pyproject.toml").read_text()
    swapped = text.replace('    "lamb.api",\n    "lamb.events | lamb.schedules",\n    "lamb.services",\n',
                           '    "lamb.services",\n    "lamb.api",\n    "lamb.events | lamb.schedules",\n')
    assert swapped != text
    config = tmp_path / "pyproject.toml"
    config.write_text(swapped)
    result = lint(config)
    assert result.returncode != 0
    assert "lamb.api.invoke -> lamb.services.invoke" in result.stdout
