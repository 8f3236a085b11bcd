"""Builds ``lamb-init``, the C init of each environment's PID namespace (``lamb_init.c``).

Compiled once per source version into the runtime cache with the host's C
compiler (statically when the C library allows, so that exec'ing it costs no
dynamic loading). Without a compiler the zygote falls back to a forked Python
init, which works the same but costs ~1 ms and ~1 MB more per environment.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger("lamb.sandbox")

SOURCE = Path(__file__).with_name("lamb_init.c")
FLAGS = ("-O2", "-Wall")


def build(cache_dir: Path) -> Path | None:
    """The path of a built lamb-init (building it if needed), or None when it cannot be built.

    ``LAMB_INIT=python`` chooses the Python init instead (tests cover both).
    """
    if os.environ.get("LAMB_INIT") == "python":
        return None
    try:
        source = SOURCE.read_bytes()
    except OSError as e:
        log.warning("lamb-init: no source (%s); environments use a Python init", e)
        return None
    digest = hashlib.sha256(source + " ".join(FLAGS).encode()).hexdigest()[:12]
    target = cache_dir / f"lamb-init-{digest}"
    if os.access(target, os.X_OK):
        return target
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        log.warning("lamb-init: no C compiler (cc); environments use a Python init (~1 ms, ~1 MB more each)")
        return None
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lamb-init-", dir=cache_dir)
    os.close(fd)
    errors = ""
    for extra in (("-static",), ()):
        proc = subprocess.run([cc, *FLAGS, *extra, "-o", tmp, str(SOURCE)], capture_output=True, text=True, timeout=120)
        if proc.returncode == 0:
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
            return target
        errors = proc.stderr.strip()
    os.unlink(tmp)
    log.warning("lamb-init: %s failed (%s); environments use a Python init", cc, errors[-500:])
    return None
