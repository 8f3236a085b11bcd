"""Running ``aws lambda ...`` against a Lamb server (for the version, alias and layer tests)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .scripts import installed_script

# awscli is a declared test dependency: without it importing this module fails, so the
# tests that use the CLI fail; they are never skipped.
AWS = str(installed_script("aws"))
needs_cli = pytest.mark.awscli


def aws(server, *args, check: bool = True, cwd=None, service: str = "lambda") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(server.aws_env(), AWS_MAX_ATTEMPTS="1", AWS_PAGER="",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    proc = subprocess.run([AWS, service, *args, "--output", "json"], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    if check:
        assert proc.returncode == 0, f"aws {service} {' '.join(args)} failed ({proc.returncode}): {proc.stderr}"
    return proc


def aws_json(server, *args, cwd=None, service: str = "lambda"):
    out = aws(server, *args, cwd=cwd, service=service).stdout
    return json.loads(out) if out.strip() else None
