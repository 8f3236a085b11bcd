"""The README's Quickstart, run as written against a fresh Lamb (authentication on, the default):
``eval "$(lamb env)"`` gives the AWS CLI and boto3 the root key the first start wrote, the
role is created through Lamb's IAM, and the function answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _quickstart() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text().split("## Quickstart", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", text, re.S)[0], re.findall(r"```python\n(.+?)\n```", text, re.S)[0]


def test_the_readme_quickstart_works_as_written(fresh_server, tmp_path):
    server = fresh_server(test_role=False)  # the README creates its own role
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    lamb = bin_dir / "lamb"  # the console script `pip install -e .` makes, for this build
    lamb.write_text(f"#!/bin/sh\nexec {sys.executable} -m lamb \"$@\"\n")
    lamb.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMB_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               LAMB_DATA_DIR=str(server.data_dir))  # where `lamb serve` kept its state (~/.lamb by default)
    shell, python = _quickstart()
    script = f"set -e\n{shell}\npython - <<'PYEOF'\n{python}\nPYEOF\n"
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert '{"greeting": "Hello, Lamb!"}' in r.stdout
    assert "b'{\"sum\": 3}'" in r.stdout
