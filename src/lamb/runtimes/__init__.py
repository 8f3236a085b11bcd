"""Runtimes: what runs a function's code inside an execution environment."""


class RuntimeUnavailable(Exception):
    """The runtime cannot run on this host; the message says why."""


def version_arn(region: str, runtime: str) -> str:
    """The RuntimeVersionArn of the runtime version Lamb runs (``lamb.runtimes.versions``)."""
    from .versions import current

    return current(region, runtime).arn


def version_name(runtime: str) -> str:
    """The runtime version AWS prints in INIT_START, e.g. ``python:3.12.v1``."""
    from .versions import current

    return current("", runtime).name


def execution_env(runtime: str) -> str:
    """``AWS_EXECUTION_ENV`` for a runtime, e.g. ``AWS_Lambda_python3.12`` (awslambdaric reads it)."""
    return f"AWS_Lambda_{runtime}"
