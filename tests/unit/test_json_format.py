"""LogFormat JSON (lamb.logs.json_format): platform records and the two log levels."""

from __future__ import annotations

import json

from lamb.logs import platform
from lamb.logs.json_format import JsonLogs, application_level, platform_record

TS = 1_700_000_000_123


def as_json(line: str | None) -> dict:
    assert line is not None
    return json.loads(line)


def test_platform_lines_become_records():
    j = JsonLogs("fn", "$LATEST", "INFO", "INFO")
    start = as_json(j.platform(platform.start_line("rid", "$LATEST"), TS))
    assert start == {"time": "2023-11-14T22:13:20.123Z", "type": "platform.start",
                     "record": {"requestId": "rid", "version": "$LATEST"}}
    report = as_json(j.platform(platform.report_line("rid", 2.5, 128, 40, 150.25), TS))
    assert report["type"] == "platform.report"
    assert report["record"] == {"requestId": "rid", "status": "success", "metrics": {  # Init billed since 2025-08
        "durationMs": 2.5, "billedDurationMs": 153, "memorySizeMB": 128, "maxMemoryUsedMB": 40, "initDurationMs": 150.25}}
    failed = as_json(j.platform(platform.report_line("rid", 3000.0, 128, 40, None, "error", "Runtime.ExitError"), TS))
    assert failed["record"]["status"] == "error" and failed["record"]["errorType"] == "Runtime.ExitError"
    assert "initDurationMs" not in failed["record"]["metrics"]
    init = as_json(j.platform(platform.init_start_line("python:3.12.v1", "arn:aws:lambda:us-east-1::runtime:x"), TS))
    assert init["type"] == "platform.initStart" and init["record"]["functionName"] == "fn"
    assert init["record"]["runtimeVersion"] == "python:3.12.v1"
    assert j.platform(platform.end_line("rid"), TS) is None  # END has no JSON record
    assert j.platform("Runtime.InvalidEntrypoint", TS) == "Runtime.InvalidEntrypoint"


def test_init_report_record():
    kind, record = platform_record(platform.init_report_line(12.5, "init", "error", "Runtime.Unknown"), "f", "1")
    assert kind == "platform.initReport"
    assert record == {"initializationType": "on-demand", "phase": "init", "status": "error",
                      "metrics": {"durationMs": 12.5}, "errorType": "Runtime.Unknown"}


def test_system_log_level_warn_keeps_only_failures():
    j = JsonLogs("fn", "1", "WARN", "INFO")
    assert j.platform(platform.start_line("rid", "1"), TS) is None
    assert j.platform(platform.report_line("rid", 2.5, 128, 40), TS) is None
    assert j.platform(platform.report_line("rid", 2.5, 128, 40, None, "timeout"), TS) is not None


def test_application_levels():
    assert application_level('{"level": "debug", "msg": "x"}') == 1
    assert application_level('{"level": "WARNING"}') == 3
    assert application_level("plain text") == 2
    assert application_level('{"level": "nonsense"}') == 2
    assert application_level('{"broken') == 2
    keep = JsonLogs("fn", "1", "INFO", "WARN").filter()
    assert keep(['{"level": "ERROR", "m": 1}', '{"level": "INFO", "m": 2}', "print()", '{"level": "WARN"}']) == [
        '{"level": "ERROR", "m": 1}', '{"level": "WARN"}']
    debug = JsonLogs("fn", "1", "INFO", "DEBUG").filter()
    assert debug(['{"level": "TRACE"}', '{"level": "DEBUG"}', "x"]) == ['{"level": "DEBUG"}', "x"]
    assert JsonLogs("fn", "1", "INFO", "TRACE").filter() is None
