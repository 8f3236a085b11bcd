"""The one way to build a file-system path from request input.

Names that come from a request (log group and stream names, deployment-package
entries, code keys) reach the disk only through ``contained``: each name must be
one path component, not empty, ``.`` or ``..``, without ``/`` or NUL and at most
255 bytes (Linux's NAME_MAX), and the path, with every symlink that exists
followed, must stay inside the folder it was built under. Anything else raises
``UnsafePath`` (a ``ValueError``), which callers turn into their own refusal.
"""

from __future__ import annotations

import os
from pathlib import Path

NAME_MAX = 255


class UnsafePath(ValueError):
    """A name from a request that would not stay one component inside its folder."""


def check_name(name: str) -> str:
    """``name`` if it is usable as one path component; ``UnsafePath`` otherwise."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise UnsafePath(f"not a usable name: {name[:100]!r}")
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
        raise UnsafePath(f"name longer than {NAME_MAX} bytes: {name[:100]!r}…")
    return name


def contained(root: Path, *names: str) -> Path:
    """``root/names[0]/names[1]/…``, refused unless it resolves inside ``root``."""
    path = root.joinpath(*[check_name(n) for n in names])
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise UnsafePath(f"{'/'.join(names)[:100]!r} resolves outside its folder")
    return path
