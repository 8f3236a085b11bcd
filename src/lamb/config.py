"""Lamb's settings.

Settings come from, in increasing precedence: defaults, ``LAMB_*`` environment
variables, and command-line flags. Limits (``lamb.limits``) are overridden with
``LAMB_LIMIT_<NAME>=<int>`` (e.g. ``LAMB_LIMIT_ACCOUNT_CONCURRENCY=10``).
"""

from __future__ import annotations

import dataclasses
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

    def replace(self, **kw) -> "Settings":
        return dataclasses.replace(self, **kw)
