"""Managed Python runtimes: finding interpreters and building runtime roots.

AWS's managed Python runtimes (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html)
run the official runtime interface client and ship boto3 in the runtime
directory (``/var/runtime``). Lamb does the same with the host's interpreters: a
*runtime root* per Python minor version holds awslambdaric and boto3, installed
with that interpreter's pip into a cache folder shared by every Lamb on the host
(``~/.cache/lamb/runtimes``). Air-gapped hosts point pip at a wheel folder with
pip's own ``PIP_FIND_LINKS`` / ``PIP_NO_INDEX``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import RuntimeUnavailable, roots

# What every runtime root holds: the official runtime interface client, and the
# SDK AWS includes in its managed Python runtimes.
RUNTIME_PACKAGES = ("awslambdaric", "boto3")
ROOT_FORMAT = 1

PYTHON_RUNTIMES = {
    "python3.9": (3, 9),
    "python3.10": (3, 10),
    "python3.11": (3, 11),
    "python3.12": (3, 12),
    "python3.13": (3, 13),
}


# Lamb's Runtime API transport for awslambdaric (``lamb_runtime_client.py`` here), written into every
# root by ``own_files``; the zygote puts it in place of the native ``runtime_client`` (runtimes/zygote.py).
CLIENT = "lamb_runtime_client.py"
CLIENTS = ("lamb", "native")


@dataclass(frozen=True)
class PythonRuntime:
    name: str
    interpreter: str
    root: Path


def find_interpreter(name: str) -> str | None:
    """The host interpreter for a runtime name like ``python3.12``.

    ``LAMB_PYTHON3_12=/path/to/python`` wins; then the running interpreter when it
    is that version; then ``python3.12`` on PATH; then pyenv's versions.
    """
    major, minor = PYTHON_RUNTIMES[name]
    override = os.environ.get("LAMB_" + name.upper().replace(".", "_"))
    if override:
        return override if os.access(override, os.X_OK) else None
    if sys.version_info[:2] == (major, minor):
        return sys.executable
    found = shutil.which(f"python{major}.{minor}")
    if found and "/shims/" not in found:
        return found
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/{major}.{minor}.*/bin/python{major}.{minor}"))
    for path in reversed(candidates):
        if os.access(path, os.X_OK):
            return path
    return None


def ensure_root(name: str, interpreter: str, cache: Path) -> Path:
    """Build (once) and return the runtime root for ``name``: awslambdaric and boto3, byte-compiled."""

    def build(tmp: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        roots.run(
            [interpreter, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-warn-script-location", "--no-compile", "--target", str(tmp), *RUNTIME_PACKAGES],
            f"{' '.join(RUNTIME_PACKAGES)} for {name}", env,
        )
        # Byte-compile once so that no environment pays for it (and the root can be read-only).
        subprocess.run([interpreter, "-m", "compileall", "-q", str(tmp)], capture_output=True)

    try:
        return roots.ensure(cache, f"{name}-v{ROOT_FORMAT}", build)
    except roots.BuildFailed as e:
        raise RuntimeUnavailable(str(e)) from e


DEBUG_FOLDER = "_debugpy"  # inside the runtime root: /var/runtime/_debugpy in the environment
DEBUGPY = "debugpy>=1.8.0"


def ensure_debugpy(name: str, interpreter: str, root: Path) -> Path:
    """Install (once) debugpy for ``name``'s interpreter into ``root/_debugpy`` (``lamb serve --debug``)."""

    def build(tmp: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        roots.run(
            [interpreter, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-warn-script-location", "--target", str(tmp), DEBUGPY],
            f"{DEBUGPY} for {name} (the debugger of `lamb serve --debug`)", env,
        )

    try:
        return roots.ensure(root, DEBUG_FOLDER, build)
    except roots.BuildFailed as e:
        raise RuntimeUnavailable(str(e)) from e


def own_files(root: Path) -> None:
    """Lamb's transport in a runtime root, rewritten (atomically) when this Lamb's differs: it is Lamb's
    code, not pip's, so a root built by an older Lamb gets it. Environments of a ``native`` Lamb
    sharing the root never import it."""
    roots.own_file(root, CLIENT, (Path(__file__).parent / CLIENT).read_text())


def resolve(name: str, cache: Path) -> PythonRuntime:
    """Interpreter and runtime root (with Lamb's transport) for ``name`` (blocking; may install)."""
    if name not in PYTHON_RUNTIMES:
        raise RuntimeUnavailable(f"unknown Python runtime {name}")
    interpreter = find_interpreter(name)
    if interpreter is None:
        raise RuntimeUnavailable(f"no {name} interpreter on this host")
    root = ensure_root(name, interpreter, cache)
    try:
        own_files(root)
    except OSError as e:
        raise RuntimeUnavailable(f"could not write Lamb's Runtime API transport into {root}: {e}") from e
    return PythonRuntime(name, interpreter, root)
