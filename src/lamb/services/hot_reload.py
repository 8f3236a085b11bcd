"""Hot reload: a function whose code is a folder on Lamb's host, used in place.

The code source is ``Code={"S3Bucket": "hot-reload", "S3Key": "/absolute/host/folder"}`` in
CreateFunction or UpdateFunctionCode (the convention LocalStack documents for the same
purpose, https://docs.localstack.cloud/user-guide/lambda-tools/hot-reloading/), so every tool
that can name S3 code can use it. Only folders under one of ``LAMB_HOT_RELOAD_ROOTS``
(``os.pathsep``-separated) are accepted: the API must not expose arbitrary host folders.

The folder is mounted as ``/var/task`` itself (no copy). A zip of it at the time of the call
gives ``CodeSha256``/``CodeSize`` and GetFunction's download. Each invocation compares the
folder's ``fingerprint`` (``lamb.store.host_folder``: every file's path, size, mtime, ctime and inode) with the one its
environments started on; on a difference the invoker retires them and the invocation starts
a fresh environment on the new files (``lamb.invoke.invoker``): an edit takes effect on the
next invocation, with no restart. ``__pycache__`` folders are ignored (the function may write
them).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..protocol.errors import invalid_parameter
from ..store.host_folder import snapshot_zip  # noqa: F401  (the zip API callers store)

BUCKET = "hot-reload"


def folder_of(source: dict, roots: str) -> Path | None:
    """The host folder a ``Code`` structure names through the hot-reload bucket, else None.
    Raises AWS's InvalidParameterValueException for a folder Lamb will not use."""
    if source.get("S3Bucket") != BUCKET:
        return None
    key = source.get("S3Key") or ""
    allowed = [Path(r).resolve() for r in roots.split(os.pathsep) if r]
    if not allowed:
        raise invalid_parameter("Hot reload is not enabled on this Lamb server (set LAMB_HOT_RELOAD_ROOTS to the "
                                "host folders functions may use as code).")
    folder = Path(key)
    if not folder.is_absolute():
        raise invalid_parameter(f"Hot reload: S3Key must be an absolute folder path on the Lamb host, got '{key}'.")
    folder = folder.resolve()
    if not any(folder == root or root in folder.parents for root in allowed):
        raise invalid_parameter(f"Hot reload: {folder} is not under LAMB_HOT_RELOAD_ROOTS.")
    if not folder.is_dir():
        raise invalid_parameter(f"Hot reload: {folder} is not a folder on the Lamb host.")
    return folder
