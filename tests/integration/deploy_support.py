"""Helpers for the ``lamb deploy`` tests: run the command as a user would, against a real server."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from .conftest import REGION, LambServer


def deploy_env(server: LambServer, cache: Path, **extra: str) -> dict:
    """``lamb deploy``'s environment as ``eval "$(lamb env)"`` makes it (the server's root key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMB_"))}
    env.update(server.aws_env(), AWS_DEFAULT_REGION=REGION, LAMB_DEPLOY_CACHE=str(cache), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def lamb_cmd(*args: str, env: dict, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "lamb", *args], env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"lamb {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fetch_url(server_url: str, function_url: str, path: str = "/") -> tuple[int, bytes]:
    """A function URL through /_lamb/url/<id>/ on the server's own address."""
    uid = function_url.split("//", 1)[1].split(".", 1)[0]
    with urllib.request.urlopen(f"{server_url}/_lamb/url/{uid}{path}", timeout=30) as resp:
        return resp.status, resp.read()



def stacks(env: dict) -> dict[str, str]:
    """``lamb stacks``: stack name → status."""
    lines = lamb_cmd("stacks", env=env).stdout.splitlines()[1:]
    return {line.split()[0]: line.split()[1] for line in lines if line.strip()}
