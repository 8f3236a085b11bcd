"""What a sandbox backend is asked to build: the sandbox's own input type.

The invoker turns a function version's configuration into a ``SandboxSpec``
(``invoke/pool.py``); the backends (``linux.py``, ``process.py``) read nothing else
of it. Sizes are AWS's configuration: MemorySize
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html) and
EphemeralStorage, the size of /tmp
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..limits import Limits


@dataclass(frozen=True)
class SandboxSpec:
    memory_mb: int  # the cgroup memory ceiling; CPU share follows it (Limits.mb_per_vcpu)
    ephemeral_mb: int  # size of /tmp
    code_dir: Path  # the unpacked code, mounted read-only at /var/task
    opt_dir: Path | None  # the layers merged in order, mounted read-only at /opt
    limits: Limits  # file descriptors, processes, vCPU ratio
