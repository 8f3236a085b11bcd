"""Runtimes: what runs a function's code inside an execution environment."""

import hashlib


class RuntimeUnavailable(Exception):
    """The runtime cannot run on this host; the message says why."""


def version_arn(region: str, runtime: str) -> str:
    """The RuntimeVersionArn Lamb reports for a managed runtime (stable per runtime name)."""
    return f"arn:aws:lambda:{region}::runtime:{hashlib.sha256(runtime.encode()).hexdigest()}"


def version_name(runtime: str) -> str:
    """The runtime version AWS prints in INIT_START, e.g. ``python:3.12.v1``."""
    family = "".join(c for c in runtime if c.isalpha())
    number = runtime[len(family):]
    return f"{family}:{number}.v1"


def execution_env(runtime: str) -> str:
    """``AWS_EXECUTION_ENV`` for a runtime, e.g. ``AWS_Lambda_python3.12`` (awslambdaric reads it)."""
    return f"AWS_Lambda_{runtime}"
