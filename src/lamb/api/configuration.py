"""Validating and building a function's configuration (Create/UpdateFunctionConfiguration).

The protocol layer already enforced every constraint botocore's model declares;
this adds the rules AWS applies beyond the model, with AWS's exact errors
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
"""

from __future__ import annotations

import json
import time

from ..clock import iso_ms
from ..limits import Limits
from ..protocol.aws_differences import runtime_refusal
from ..protocol.errors import AwsError, invalid_parameter, validation_error
from ..runtimes.manager import SUPPORTED
from ..services.function_state import new_revision  # noqa: F401  (permissions, aliases and layers name it conf.new_revision)

# Keys Lambda sets itself; a function may not set them
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
RESERVED_ENV_KEYS = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)

# Runtimes AWS no longer accepts for new functions or updates.
DEPRECATED_RUNTIMES = {
    "python2.7": "python3.12", "python3.6": "python3.12", "python3.7": "python3.12", "python3.8": "python3.12",
    "nodejs": "nodejs20.x", "nodejs4.3": "nodejs20.x", "nodejs4.3-edge": "nodejs20.x", "nodejs6.10": "nodejs20.x",
    "nodejs8.10": "nodejs20.x", "nodejs10.x": "nodejs20.x", "nodejs12.x": "nodejs20.x", "nodejs14.x": "nodejs20.x",
    "nodejs16.x": "nodejs20.x", "dotnetcore1.0": "dotnet8", "dotnetcore2.0": "dotnet8", "dotnetcore2.1": "dotnet8",
    "dotnetcore3.1": "dotnet8", "dotnet6": "dotnet8", "ruby2.5": "ruby3.3", "ruby2.7": "ruby3.3", "go1.x": "provided.al2023",
    "java8": "java21",
}


def last_modified() -> str:
    """AWS's LastModified: ``2024-04-08T16:56:05.123+0000``."""
    return iso_ms(time.time(), "+0000")


def check_range(violations: list[str], value, member: str, lo: int, hi: int) -> None:
    if value is None:
        return
    if value < lo:
        violations.append(
            f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {lo}"
        )
    elif value > hi:
        violations.append(
            f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {hi}"
        )


def check_numbers(params: dict, limits: Limits) -> None:
    """Memory, timeout and /tmp size against Lambda's quotas (ValidationException)."""
    v: list[str] = []
    check_range(v, params.get("MemorySize"), "memorySize", limits.memory_min_mb, limits.memory_max_mb)
    check_range(v, params.get("Timeout"), "timeout", limits.timeout_min_s, limits.timeout_max_s)
    storage = (params.get("EphemeralStorage") or {}).get("Size")
    check_range(v, storage, "ephemeralStorage.size", limits.ephemeral_storage_min_mb, limits.ephemeral_storage_max_mb)
    if v:
        raise validation_error(v)


def check_runtime(runtime: str | None) -> None:
    if runtime is None:
        return
    if runtime in DEPRECATED_RUNTIMES:
        raise invalid_parameter(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            f"functions. We recommend you use the new runtime ({DEPRECATED_RUNTIMES[runtime]}) while creating "
            "or updating functions."
        )
    refusal = runtime_refusal(runtime)  # the model's enum is not applied to Runtime: AWS's text and list are its own
    if refusal is not None:
        raise invalid_parameter(refusal)


def check_environment(environment: dict | None, limits: Limits) -> None:
    if not environment:
        return
    variables = environment.get("Variables") or {}
    reserved = [k for k in variables if k in RESERVED_ENV_KEYS]
    if reserved:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you "
            "have provided contains reserved keys that are currently not supported for modification. Reserved "
            f"keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > limits.env_vars_max_bytes:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you "
            f"have provided exceeded the 4KB limit. String measured: {measured}"
        )


def check_architectures(arch: list | None) -> None:
    if arch is not None and len(arch) != 1:
        raise validation_error(
            [f"Value '{arch}' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"]
        )


def logging_config(current: dict, given: dict | None) -> dict:
    """``LoggingConfig`` with ``given`` applied over ``current``. With ``LogFormat: JSON`` a level
    that is not given is ``INFO`` and a given one is kept, as AWS answers
    (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loglevel.html)."""
    out = {**current, **(given or {})}
    if out.get("LogFormat") == "JSON":
        out.setdefault("ApplicationLogLevel", "INFO")
        out.setdefault("SystemLogLevel", "INFO")
    return out


def runtime_supported_here(runtime: str) -> bool:
    return runtime in SUPPORTED


def require_handler(handler: str | None) -> None:
    if not handler:
        raise invalid_parameter("Handler is required for a function of package type Zip.")


def unsupported(feature: str) -> AwsError:
    return invalid_parameter(f"{feature} is not supported by this Lamb server.")
