"""Who an environment's processes are, by name, and the entry point script AWS's images have.

https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html: the handler runs
as an unprivileged user, named ``sbx_user1051`` on AWS, so ``getpass.getuser()``, ``whoami``
and ``Path.owner()`` answer. The isolating backend gives every environment a uid of its own
(how the Runtime API tells environments apart); each uid gets a passwd and a group file --
the host's entries plus ``sbx_user1051`` with that uid -- bound over /etc/passwd and
/etc/group of that environment only. The files are written once per uid (a server cycles
through a fixed range) and are read-only inside.

``/lambda-entrypoint.sh`` is where AWS's images keep their entry point; Lamb's (its own
script) takes the handler as its one argument and runs the environment's runtime with it:
the runtime's ``bootstrap`` when there is one, else the Python runtime interface client.
"""

from __future__ import annotations

import os
from pathlib import Path

USER = "sbx_user1051"
HOME = "/home/" + USER
ENTRYPOINT_PATH = "/lambda-entrypoint.sh"
ENTRYPOINT = """#!/bin/sh
# Lamb: the entry point at the path AWS's Lambda images have it.
# Usage: /lambda-entrypoint.sh <handler>
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
for bootstrap in /var/runtime/bootstrap "${LAMBDA_TASK_ROOT:-/var/task}/bootstrap" /opt/bootstrap; do
  if [ -x "$bootstrap" ]; then
    exec "$bootstrap"
  fi
done
case "$AWS_EXECUTION_ENV" in
  AWS_Lambda_python*) exec python3 -m awslambdaric "$_HANDLER" ;;
esac
echo "no runtime entry point for ${AWS_EXECUTION_ENV:-this runtime} in this environment" 1>&2
exit 1
"""


class Identities:
    """Per-uid passwd/group files under ``folder`` (host entries plus ``sbx_user1051``)."""

    def __init__(self, folder: Path, host_etc: Path = Path("/etc")):
        self.folder = folder
        self.host_etc = host_etc
        self._written: set[int] = set()
        self._host: dict[str, str] | None = None

    def _host_lines(self, name: str) -> str:
        if self._host is None:
            self._host = {}
            for f in ("passwd", "group"):
                try:
                    text = (self.host_etc / f).read_text()
                except OSError:
                    text = "root:x:0:0:root:/root:/bin/sh\n" if f == "passwd" else "root:x:0:\n"
                lines = [ln for ln in text.splitlines() if ln and not ln.startswith(USER + ":")]
                self._host[f] = "\n".join(lines) + "\n"
        return self._host[name]

    def files(self, uid: int) -> tuple[Path, Path]:
        """The passwd and group files of ``uid`` (written on first use)."""
        d = self.folder / str(uid)
        passwd, group = d / "passwd", d / "group"
        if uid not in self._written:
            d.mkdir(parents=True, exist_ok=True)
            _write(passwd, self._host_lines("passwd") + f"{USER}:x:{uid}:{uid}::{HOME}:/sbin/nologin\n")
            _write(group, self._host_lines("group") + f"{USER}:x:{uid}:\n")
            self._written.add(uid)
        return passwd, group


def entrypoint(folder: Path) -> Path:
    """Lamb's ``/lambda-entrypoint.sh`` on the host (root-owned, mode 755), to be bound into roots."""
    path = folder / "lambda-entrypoint.sh"
    if not path.exists() or path.read_text() != ENTRYPOINT:
        folder.mkdir(parents=True, exist_ok=True)
        _write(path, ENTRYPOINT)
    os.chmod(path, 0o755)
    return path


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
