"""Runtime versions: which build of each runtime Lamb runs, named the way AWS names them.

On AWS a *runtime version* is one patched build of a managed runtime
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html). It has an
ARN, ``arn:aws:lambda:<region>::runtime:<64 hex>``, and a name printed in the
``INIT_START`` log line (``python:3.12.v38``). Functions report the ARN in
``RuntimeVersionConfig`` and can pin it with ``PutRuntimeManagementConfig``.

On Lamb a runtime version is one *runtime root format*: what Lamb installs as
``/var/runtime`` for a runtime (``~/.cache/lamb/runtimes/python3.12-v1``,
``nodejs22.x-v2``; the ``provided`` runtimes have no root and start at format 1).
A Lamb release that changes what a root holds bumps its format, which is a new
runtime version; the previous one is then gone from that host, exactly as a
deleted runtime version on AWS. So each Lamb release has exactly one version per
runtime, and its ARN is stable across hosts, restarts and regions' account ids:
the SHA-256 of the root's name.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

from . import node, python
from .manager import PROVIDED_RUNTIMES

PROVIDED_ROOT_FORMAT = 1
_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+)::runtime:(?P<id>.+)")


@dataclass(frozen=True)
class RuntimeVersion:
    runtime: str  # the runtime identifier, e.g. python3.12
    root: str  # the runtime root it stands for, e.g. python3.12-v1
    arn: str
    name: str  # as INIT_START prints it, e.g. python:3.12.v1


def root_format(runtime: str) -> int:
    if runtime in python.PYTHON_RUNTIMES:
        return python.ROOT_FORMAT
    if runtime in node.NODE_RUNTIMES:
        return node.ROOT_FORMAT
    if runtime in PROVIDED_RUNTIMES:
        return PROVIDED_ROOT_FORMAT
    raise KeyError(runtime)


def _display_name(runtime: str, fmt: int) -> str:
    """``python3.12`` → ``python:3.12.v1``, ``nodejs22.x`` → ``nodejs:22.v2``,
    ``provided.al2023`` → ``provided:al2023.v1`` (AWS's INIT_START spelling)."""
    if runtime.startswith("provided."):
        return f"provided:{runtime.split('.', 1)[1]}.v{fmt}"
    m = re.fullmatch(r"([a-z]+)([0-9.]+?)(\.x)?", runtime)
    family, number = (m.group(1), m.group(2)) if m else (runtime, "")
    return f"{family}:{number}.v{fmt}"


@functools.lru_cache(maxsize=None)
def current(region: str, runtime: str) -> RuntimeVersion:
    """The version of ``runtime`` this Lamb runs (cached: INIT_START lines name it on every cold start)."""
    fmt = root_format(runtime)
    root = f"{runtime}-v{fmt}"
    digest = hashlib.sha256(root.encode()).hexdigest()
    return RuntimeVersion(runtime, root, f"arn:aws:lambda:{region}::runtime:{digest}", _display_name(runtime, fmt))


def all_current(region: str) -> dict[str, RuntimeVersion]:
    """Every runtime version this Lamb has, by ARN."""
    runtimes = (*python.PYTHON_RUNTIMES, *node.NODE_RUNTIMES, *PROVIDED_RUNTIMES)
    return {v.arn: v for v in (current(region, r) for r in runtimes)}


def find(region: str, arn: str) -> RuntimeVersion | None:
    """The runtime version an ARN names, or None when this Lamb has no such version
    (a malformed ARN, another region's, or one of a root format no longer installed)."""
    if _ARN.fullmatch(arn) is None:
        return None
    return all_current(region).get(arn)
