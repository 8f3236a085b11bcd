"""The credentials file in the data folder: the account root keys, ready to use.

Written in the AWS shared-credentials format
(https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html), mode 0600, so
``AWS_SHARED_CREDENTIALS_FILE=<data dir>/credentials`` works as it is; ``lamb credentials``
prints it and ``lamb env`` prints the ``export`` lines for a profile. Each section also
carries ``region`` and ``endpoint_url`` (Lamb's address), which ``lamb env`` exports.
"""

from __future__ import annotations

import configparser
import os
import shlex
from pathlib import Path

FILE_NAME = "credentials"


def path_in(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read(data_dir: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(path_in(data_dir))
    return cp


def write_section(data_dir: Path, section: str, values: dict[str, str]) -> Path:
    """Set ``section`` of the file (other sections kept), atomically and with mode 0600."""
    cp = read(data_dir)
    if not cp.has_section(section):
        cp.add_section(section)
    for k, v in values.items():
        cp.set(section, k, v)
    path = path_in(data_dir)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        cp.write(f)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def exports(data_dir: Path, section: str = "default") -> str:
    """``export`` lines for ``eval "$(lamb env)"``."""
    cp = read(data_dir)
    if not cp.has_section(section):
        raise KeyError(f"no profile [{section}] in {path_in(data_dir)} (has Lamb started with this data dir?)")
    s = cp[section]
    pairs = [("AWS_ACCESS_KEY_ID", s.get("aws_access_key_id")), ("AWS_SECRET_ACCESS_KEY", s.get("aws_secret_access_key")),
             ("AWS_DEFAULT_REGION", s.get("region")), ("AWS_ENDPOINT_URL", s.get("endpoint_url"))]
    lines = [f"export {k}={shlex.quote(v)}" for k, v in pairs if v]
    if s.get("endpoint_url"):
        # Every service is Lamb's port: no host prefix (CloudWatch Logs' StartLiveTail would go to stream-<host>).
        lines.append("export AWS_DISABLE_HOST_PREFIX_INJECTION=true")
    lines.append("unset AWS_SESSION_TOKEN AWS_PROFILE")
    return "\n".join(lines)
