"""Access logs of API Gateway stages, written to a log group in Lamb's logs.

A stage with access logging (HTTP APIs: ``AccessLogSettings``; REST APIs: ``accessLogSettings``,
both ``DestinationArn``/``destinationArn`` and ``Format``/``format``) gets one line per request
in the log group its ARN names (``arn:aws:logs:<region>:<account>:log-group:<name>[:*]``), in the
stream ``<api-id>_<stage>``: the format with each ``$context.<name>`` replaced by its value, ``-``
for a variable without one (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html).
Variables with values: ``requestId``, ``extendedRequestId``, ``apiId``, ``stage``, ``httpMethod``,
``path``, ``protocol``, ``status``, ``responseLength``, ``requestTime``, ``requestTimeEpoch``,
``responseLatency``, ``identity.sourceIp``, ``identity.userAgent``, ``domainName``,
``domainPrefix``, ``accountId``, ``integrationLatency`` and ``integration.latency`` (for a request
that reached its function), ``routeKey`` (HTTP APIs) and ``resourcePath`` (REST APIs).
The rendering is pure; ``AccessLogs`` writes through the collaborator it is given.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

_VAR = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")

Write = Callable[[str, str, int, str], None]  # (log group, log stream, epoch ms, line)


def group_name(destination_arn: str | None) -> str | None:
    """The log group a destination ARN names (None for anything else, e.g. a Firehose stream)."""
    if not destination_arn or not destination_arn.startswith("arn:"):
        return None
    parts = destination_arn.split(":", 6)
    if len(parts) < 7 or parts[2] != "logs" or not parts[5] == "log-group":
        return None
    name = parts[6]
    return name[:-2] if name.endswith(":*") else name


def render(fmt: str, values: dict[str, Any]) -> str:
    def one(m: re.Match) -> str:
        value = values.get(m.group(1))
        return "-" if value is None or value == "" else str(value)

    return _VAR.sub(one, fmt).replace("\n", " ")


def settings(stage: dict) -> tuple[str, str] | None:
    """(log group, format) of a stage that logs access to a log group, else None."""
    conf = stage.get("AccessLogSettings") or stage.get("accessLogSettings") or {}
    group = group_name(conf.get("DestinationArn") or conf.get("destinationArn"))
    fmt = conf.get("Format") or conf.get("format")
    return (group, fmt) if group and fmt else None


class AccessLogs:
    def __init__(self, write: Write, clock: Callable[[], float] = time.time) -> None:
        self.write = write
        self.clock = clock

    def record(self, stage: dict, api_id: str, stage_name: str, values: dict[str, Any]) -> None:
        found = settings(stage)
        if found is None:
            return
        group, fmt = found
        self.write(group, f"{api_id}_{stage_name}", int(self.clock() * 1000), render(fmt, values))


def store_writer(stream: Callable[[str, str], Any]) -> Write:
    """A ``Write`` into Lamb's log store (``LogStore.stream``): streams kept open, one write per line."""
    open_streams: dict[tuple[str, str], Any] = {}

    def write(group: str, name: str, ts_ms: int, line: str) -> None:
        s = open_streams.get((group, name))
        if s is None:
            s = open_streams[(group, name)] = stream(group, name)
        s.write(ts_ms, line)
        s.flush()

    return write
