"""Managed Node.js runtimes: the host's node and the official runtime interface client.

AWS's nodejs20.x / nodejs22.x run the handler through Lambda's Node.js runtime
interface client; Lamb installs the published one (``aws-lambda-ric`` on npm)
into a runtime root per runtime, with that node's npm, once per host, and runs
``node <root>/node_modules/aws-lambda-ric/index.mjs <handler>`` in each
environment. Where the host has no node of that major version the runtime is
unavailable and functions using it are ``Failed`` with the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from . import roots

NODE_RUNTIMES = {"nodejs20.x": 20, "nodejs22.x": 22}
RIC_PACKAGE = "aws-lambda-ric@4"
ROOT_FORMAT = 1


class RuntimeUnavailable(Exception):
    pass


def _major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def find_node(name: str) -> str | None:
    """``LAMB_NODEJS22_X=/path/to/node`` wins; then ``node`` on PATH; then nvm's versions."""
    major = NODE_RUNTIMES[name]
    override = os.environ.get("LAMB_" + name.upper().replace(".", "_"))
    if override:
        return override if os.access(override, os.X_OK) else None
    candidates = [shutil.which("node"), shutil.which(f"node{major}")]
    nvm = os.environ.get("NVM_DIR", os.path.expanduser("~/.nvm"))
    candidates += sorted(glob.glob(f"{nvm}/versions/node/v{major}.*/bin/node"), reverse=True)
    for c in candidates:
        if c and os.access(c, os.X_OK) and _major(c) == major:
            return os.path.realpath(c)
    return None


def ensure_root(name: str, binary: str, cache: Path) -> Path:
    """Build (once) and return the runtime root for ``name``: aws-lambda-ric installed with that node's npm."""

    def build(tmp: Path) -> None:
        npm = os.path.join(os.path.dirname(binary), "npm")
        if not os.access(npm, os.X_OK):
            npm = shutil.which("npm") or "npm"
        env = dict(os.environ, PATH=f"{os.path.dirname(binary)}:{os.environ.get('PATH', '')}")
        what = f"{RIC_PACKAGE} for {name}"
        roots.run([npm, "install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", str(tmp), RIC_PACKAGE], what, env)
        if not (tmp / "node_modules" / "aws-lambda-ric" / "index.mjs").exists():
            raise roots.BuildFailed(f"could not install {what}: no index.mjs")

    try:
        return roots.ensure(cache, f"{name}-v{ROOT_FORMAT}", build)
    except roots.BuildFailed as e:
        raise RuntimeUnavailable(str(e)) from e


def resolve(name: str, cache: Path) -> tuple[str, Path]:
    binary = find_node(name)
    if binary is None:
        raise RuntimeUnavailable(f"no node {NODE_RUNTIMES[name]} on this host for {name}")
    return binary, ensure_root(name, binary, cache)


def entry(runtime_dir: str) -> str:
    return f"{runtime_dir}/node_modules/aws-lambda-ric/index.mjs"
