"""``LoggingConfig.LogFormat: JSON``: the platform's lines as JSON records, and log-level filtering. Pure.

With the JSON format Lambda writes its system log lines as the Telemetry API's records
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html,
schemas: https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html):
``{"time": "...Z", "type": "platform.initStart" | "platform.start" | "platform.initReport" |
"platform.report", "record": {...}}``; START's text becomes ``platform.start``, REPORT's
``platform.report`` with ``metrics`` (durationMs, billedDurationMs, memorySizeMB,
maxMemoryUsedMB, initDurationMs) and ``status``; END has no JSON record. Other platform
text (timeouts, extension failures) is written as it is.

Levels (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html):
``SystemLogLevel`` (DEBUG < INFO < WARN) drops these records, which are INFO, below it, so
WARN keeps only the platform's failures; ``ApplicationLogLevel`` (TRACE < DEBUG < INFO < WARN
< ERROR < FATAL) drops the function's lines below it: a JSON object's ``level``, and INFO for
a line without a valid one.
"""

from __future__ import annotations

import json
import re
from typing import Callable

from ..clock import iso_ms

SYSTEM_LEVELS = ("DEBUG", "INFO", "WARN")
APPLICATION_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}

_START = re.compile(r"^START RequestId: (\S+) Version: (.+)$")
_END = re.compile(r"^END RequestId: \S+$")
_INIT_START = re.compile(r"^INIT_START Runtime Version: ([^\t]+)\tRuntime Version ARN: (.+)$")
_FIELD = re.compile(r"([A-Za-z ]+): ([^\t]*)")


def _fields(line: str) -> dict[str, str]:
    return {k.strip(): v for k, v in _FIELD.findall(line)}


def _ms(text: str) -> float:
    return float(text.split()[0])


def platform_record(line: str, function_name: str, version: str) -> tuple[str, dict] | None:
    """(type, record) of a platform text line, or None for text without a JSON record form."""
    m = _START.match(line)
    if m:
        return "platform.start", {"requestId": m.group(1), "version": m.group(2)}
    m = _INIT_START.match(line)
    if m:
        return "platform.initStart", {"initializationType": "on-demand", "phase": "init",
                                      "runtimeVersion": m.group(1), "runtimeVersionArn": m.group(2),
                                      "functionName": function_name, "functionVersion": version}
    if line.startswith("REPORT RequestId: "):
        f = _fields(line[len("REPORT "):])
        metrics: dict = {"durationMs": _ms(f["Duration"]), "billedDurationMs": int(_ms(f["Billed Duration"])),
                         "memorySizeMB": int(_ms(f["Memory Size"])), "maxMemoryUsedMB": int(_ms(f["Max Memory Used"]))}
        if "Init Duration" in f:
            metrics["initDurationMs"] = _ms(f["Init Duration"])
        record = {"requestId": f["RequestId"], "metrics": metrics, "status": f.get("Status", "success")}
        if "Error Type" in f:
            record["errorType"] = f["Error Type"]
        return "platform.report", record
    if line.startswith("INIT_REPORT "):
        f = _fields(line[len("INIT_REPORT "):])
        record = {"initializationType": "on-demand", "phase": f.get("Phase", "init"), "status": f.get("Status", "success"),
                  "metrics": {"durationMs": _ms(f["Init Duration"])}}
        if "Error Type" in f:
            record["errorType"] = f["Error Type"]
        return "platform.initReport", record
    return None


class JsonLogs:
    """What an environment of a JSON-format function does to its log lines."""

    def __init__(self, function_name: str, version: str, system_level: str | None, application_level: str | None):
        self.function_name = function_name
        self.version = version
        self.system_min = SYSTEM_LEVELS.index(system_level) if system_level in SYSTEM_LEVELS else 1
        self.app_min = APPLICATION_LEVELS.index(application_level) if application_level in APPLICATION_LEVELS else 0

    def platform(self, line: str, ts_ms: int) -> str | None:
        """The line to write for a platform text line, or None when it is dropped."""
        if _END.match(line):
            return None
        rec = platform_record(line, self.function_name, self.version)
        if rec is None:
            return line
        kind, record = rec
        failed = record.get("status", "success") != "success"
        level = 2 if failed and kind in ("platform.report", "platform.initReport") else 1
        if level < self.system_min:
            return None
        return json.dumps({"time": iso_ms(ts_ms / 1000.0), "type": kind, "record": record}, separators=(",", ":"))

    def keeps(self, line: str) -> bool:
        """Whether the function's ``line`` is at ApplicationLogLevel or above."""
        if self.app_min <= APPLICATION_LEVELS.index("INFO") and not line.startswith("{"):
            return True
        return application_level(line) >= self.app_min

    def filter(self) -> Callable[[list[str]], list[str]] | None:
        """A filter of the function's output lines, or None when every line passes."""
        if self.app_min == 0:
            return None
        return lambda lines: [line for line in lines if self.keeps(line)]


def application_level(line: str) -> int:
    """The index in APPLICATION_LEVELS of a function's log line (INFO unless a JSON object says)."""
    info = APPLICATION_LEVELS.index("INFO")
    if not line.startswith("{"):
        return info
    try:
        doc = json.loads(line)
    except ValueError:
        return info
    level = doc.get("level") if isinstance(doc, dict) else None
    if not isinstance(level, str):
        return info
    name = _ALIASES.get(level.upper(), level.upper())
    return APPLICATION_LEVELS.index(name) if name in APPLICATION_LEVELS else info
