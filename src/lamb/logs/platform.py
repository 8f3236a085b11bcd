"""The platform's own log lines, in AWS's exact formats.

https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html shows them:
``START RequestId: <id> Version: <version>``, ``END RequestId: <id>`` and
``REPORT RequestId: <id>\\tDuration: 2.75 ms\\tBilled Duration: 3 ms\\tMemory
Size: 128 MB\\tMax Memory Used: 39 MB\\tInit Duration: 139.25 ms\\t`` (fields are
tab-separated and the line ends with a tab). Billed duration is the duration
rounded up to the next millisecond; Init Duration appears only on a cold start; a failed invocation adds
``Status: timeout`` or ``Status: error\tError Type: <type>``.
"""

from __future__ import annotations

import math
import time

from ..clock import iso_ms


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def billed_ms(duration_ms: float) -> int:
    return max(1, math.ceil(duration_ms))


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_used_mb: int,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms(duration_ms + (init_ms or 0.0))} ms\t"  # Init is billed since 2025-08-01
        f"Memory Size: {memory_mb} MB\tMax Memory Used: {max_used_mb} MB\t"
    )
    if init_ms is not None:
        line += f"Init Duration: {init_ms:.2f} ms\t"
    if status:
        # Failure fields close the line without a trailing tab, as AWS prints them.
        line += f"Status: {status}" + (f"\tError Type: {error_type}" if error_type else "")
    return line


def init_start_line(runtime_version: str, runtime_version_arn: str) -> str:
    return f"INIT_START Runtime Version: {runtime_version}\tRuntime Version ARN: {runtime_version_arn}"


def init_report_line(init_ms: float, phase: str, status: str, error_type: str | None = None) -> str:
    """``INIT_REPORT Init Duration: 137.69 ms\tPhase: init\tStatus: error\tError Type: ...``."""
    line = f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: {phase}\tStatus: {status}"
    return line + (f"\tError Type: {error_type}" if error_type else "")


def timeout_line(request_id: str, timeout_s: int) -> str:
    """The platform's timeout log line: ``2026-10-05T12:00:03.003Z <id> Task timed out after 3.00 seconds``."""
    return f"{iso_ms(time.time())} {request_id} Task timed out after {timeout_s:.2f} seconds"
