"""Lamb's settings.

Settings come from, in increasing precedence: defaults, ``LAMB_*`` environment
variables, and command-line flags. Limits (``lamb.limits``) are overridden with
``LAMB_LIMIT_<NAME>=<int>`` (e.g. ``LAMB_LIMIT_ACCOUNT_CONCURRENCY=10``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .limits import DEFAULT as DEFAULT_LIMITS
from .limits import Limits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
DEFAULT_DATA_DIR = "~/.lamb"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "000000000000"


def _default_runtime_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lamb" / "runtimes"


def _floats(value: str) -> tuple[float, ...]:
    """``"60,120"`` -> ``(60.0, 120.0)``."""
    return tuple(float(v) for v in value.replace(" ", "").split(",") if v)


@dataclass
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR).expanduser())
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    # Where per-interpreter runtime roots (awslambdaric + boto3) are built and cached.
    runtime_cache: Path = field(default_factory=_default_runtime_cache)
    # Seconds an idle environment is kept warm before it is shut down.
    keep_alive_s: float = 900.0
    # Grace period between SIGTERM and SIGKILL when an environment shuts down.
    shutdown_grace_s: float = 2.0
    # An idle environment is frozen this long after its last invocation (-1: never).
    # AWS freezes at once; a short grace keeps back-to-back invocations from paying a
    # freeze/thaw cycle of the cgroup freezer each (measured: p90 0.8 ms -> 3.9 ms at 50 ms).
    freeze_after_s: float = 1.0
    # Isolation backend: None picks the best available; "process" or "linux" forces one.
    sandbox: str | None = None
    # Network of the linux sandbox's environments: "isolated" (a namespace each), "none" (no
    # egress) or "host" (the host's network; the default when None) (lamb.sandbox.network).
    network: str | None = None
    # /tmp of the linux sandbox's environments: "tmpfs" (default: counts toward MemorySize) or
    # "disk" (an ext4 filesystem each, not charged to memory; costs cold-start time, see
    # docs/performance.md) (lamb.sandbox.scratch).
    tmp: str = "tmpfs"
    # Asynchronous invocation (lamb.events). AWS's timings by default; tests shorten them.
    # Seconds before the 2nd and 3rd attempt after a function error (LAMB_ASYNC_RETRY_DELAYS=60,120).
    async_retry_delays: tuple[float, ...] = (60.0, 120.0)
    # Throttle/system-error backoff: first delay and ceiling, doubling (LAMB_ASYNC_BACKOFF=1,300).
    async_backoff: tuple[float, float] = (1.0, 300.0)
    # Factor applied to MaximumEventAgeInSeconds (tests: 0.02 turns 60 s into 1.2 s).
    async_event_age_scale: float = 1.0
    # Asynchronous invocations in flight at once, over all functions.
    async_concurrency: int = 16
    # Destination / DLQ deliveries are retried with backoff for this long, then dropped.
    async_delivery_max_age_s: float = 21_600.0
    # Payload bytes of queued events kept in memory; beyond it they are read back from disk.
    async_memory_mb: int = 64
    # Global memory budget: MemorySize MB of all live execution environments together
    # (lamb.invoke.memory_budget). None: 3 x host RAM (75 % of RAM at a quarter of
    # MemorySize used on average); 0 or less: no budget (LAMB_ENV_MEMORY_MB, --env-memory-mb).
    env_memory_mb: int | None = None
    limits: Limits = DEFAULT_LIMITS

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lamb.db"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        s = cls()
        conv = {
            "host": str,
            "port": int,
            "data_dir": lambda v: Path(v).expanduser(),
            "region": str,
            "account_id": str,
            "runtime_cache": lambda v: Path(v).expanduser(),
            "keep_alive_s": float,
            "shutdown_grace_s": float,
            "freeze_after_s": float,
            "sandbox": str,
            "network": str,
            "tmp": str,
            "async_retry_delays": _floats,
            "async_backoff": _floats,
            "async_event_age_scale": float,
            "async_concurrency": int,
            "async_delivery_max_age_s": float,
            "async_memory_mb": int,
            "env_memory_mb": int,
        }
        for name, fn in conv.items():
            raw = env.get("LAMB_" + name.upper())
            if raw:
                setattr(s, name, fn(raw))
        limit_overrides = {
            k[len("LAMB_LIMIT_"):].lower(): int(v)
            for k, v in env.items()
            if k.startswith("LAMB_LIMIT_")
        }
        if limit_overrides:
            s.limits = s.limits.override(**limit_overrides)
        for name, value in overrides.items():
            if value is not None:
                setattr(s, name, conv[name](value) if name in conv and isinstance(value, str) else value)
        return s

