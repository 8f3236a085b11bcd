"""The CloudWatch Logs API on Lamb's port (lamb.api.logs): boto3, AWS CLI v1 and AWS CLI v2.

Functions write their logs to ``/aws/lambda/<name>`` (or their LoggingConfig.LogGroup);
the tests read them back as CloudWatch Logs answers, and drive created groups and streams
with PutLogEvents where exact messages and timestamps matter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import uuid

import pytest

from .awscli import AWS
from .conftest import create, invoke, refused, unique, wait_for

STREAM_NAME = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
AWS_V2 = "/usr/bin/aws"  # Debian's awscli package: AWS CLI v2 (installed by the test set-up)

PRINTER = """
import json
def handler(event, context):
    print("hello", event.get("tag", "-"))
    print(json.dumps({"level": event.get("level", "INFO"), "tag": event.get("tag", "-"), "n": event.get("n", 0)}))
    return 1
"""


@pytest.fixture(scope="module")
def logs(lamb_server):
    return lamb_server.client("logs")


def now_ms() -> int:
    return int(time.time() * 1000)


def put(logs, group: str, stream: str, messages: list[str], start: int | None = None) -> list[int]:
    """A stream of ``messages`` one millisecond apart; returns their timestamps."""
    base = start if start is not None else now_ms() - len(messages) - 1000
    stamps = [base + i for i in range(len(messages))]
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t, "message": m} for t, m in zip(stamps, messages)])
    return stamps


def new_group(logs, streams: dict[str, list[str]] | None = None) -> str:
    group = f"/lamb/test/{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    for name, messages in (streams or {}).items():
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        if messages:
            put(logs, group, name, messages)
    return group


def test_function_log_group_and_stream(lam, logs, lamb_server):
    name = unique("cwl")
    create(lam, name, PRINTER)
    invoke(lam, name, {"tag": "one"})
    invoke(lam, name, {"tag": "two"})
    group = f"/aws/lambda/{name}"
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    arn = f"arn:aws:logs:{lamb_server.region}:{lamb_server.account_id}:log-group:{group}"
    assert g["logGroupName"] == group and g["arn"] == arn + ":*" and g["logGroupArn"] == arn
    assert g["storedBytes"] > 0 and g["creationTime"] > 1_600_000_000_000 and "retentionInDays" not in g
    [s] = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert STREAM_NAME.match(s["logStreamName"]), s
    assert s["arn"] == f"{arn}:log-stream:{s['logStreamName']}"
    assert s["firstEventTimestamp"] <= s["lastEventTimestamp"] <= s["lastIngestionTime"]
    assert s["storedBytes"] == 0  # AWS no longer reports a stream's bytes
    events = logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"], startFromHead=True)["events"]
    messages = [e["message"] for e in events]
    assert messages[0].startswith("INIT_START") or messages[0].startswith("START RequestId")
    assert "hello one" in messages and "hello two" in messages
    assert sum(m.startswith("REPORT RequestId") for m in messages) == 2
    # by identifier (the group's ARN) too
    same = logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]
    assert [x["logStreamName"] for x in same] == [s["logStreamName"]]


def test_custom_log_group_from_logging_config(lam, logs):
    name = unique("cwlcustom")
    group = f"/custom/{name}"
    create(lam, name, PRINTER, LoggingConfig={"LogGroup": group, "LogFormat": "Text"})
    invoke(lam, name, {"tag": "custom"})
    found = logs.filter_log_events(logGroupName=group, filterPattern='"hello custom"')["events"]
    assert [e["message"] for e in found] == ["hello custom"]
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] == []


def test_describe_log_groups_prefix_pattern_and_pages(logs):
    tag = uuid.uuid4().hex[:8]
    names = [f"/lamb/pages/{tag}/g{i:02d}" for i in range(7)]
    for n in reversed(names):
        logs.create_log_group(logGroupName=n)
    pages = list(logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"/lamb/pages/{tag}/",
                                                                   PaginationConfig={"PageSize": 3}))
    assert [len(p["logGroups"]) for p in pages] == [3, 3, 1]
    assert [g["logGroupName"] for p in pages for g in p["logGroups"]] == names
    matched = logs.describe_log_groups(logGroupNamePattern=f"{tag.upper()}/G03")["logGroups"]  # case-insensitive
    assert [g["logGroupName"] for g in matched] == [names[3]]
    # the class and deletion protection a group was created with
    special = f"/lamb/pages/{tag}/ia"
    logs.create_log_group(logGroupName=special, logGroupClass="INFREQUENT_ACCESS", deletionProtectionEnabled=True)
    [g] = logs.describe_log_groups(logGroupNamePrefix=f"/lamb/pages/{tag}/",
                                   logGroupClass="INFREQUENT_ACCESS")["logGroups"]
    assert (g["logGroupName"], g["logGroupClass"], g["deletionProtectionEnabled"]) == (special, "INFREQUENT_ACCESS", True)
    with pytest.raises(logs.exceptions.ClientError) as e:
        logs.delete_log_group(logGroupName=special)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert logs.describe_log_groups(logGroupNamePrefix=special)["logGroups"]


def test_describe_log_streams_order_and_pages(logs):
    group = new_group(logs, {"b-stream": ["x"], "a-stream": ["y"], "c-stream": []})
    put(logs, group, "a-stream", ["newest"], start=now_ms())
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["a-stream", "b-stream", "c-stream"]
    empty = by_name[2]
    assert "firstEventTimestamp" not in empty and empty["creationTime"] > 0
    desc = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    # newest last event first; the empty stream has none and comes last
    assert [s["logStreamName"] for s in desc] == ["a-stream", "b-stream", "c-stream"]
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")["logStreams"]
    assert [s["logStreamName"] for s in prefixed] == ["b-stream"]
    pages = list(logs.get_paginator("describe_log_streams").paginate(logGroupName=group,
                                                                    PaginationConfig={"PageSize": 2}))
    assert [[s["logStreamName"] for s in p["logStreams"]] for p in pages] == [["a-stream", "b-stream"], ["c-stream"]]


def test_get_log_events_tokens_and_bounds(logs, lamb_server):
    group = new_group(logs, {"s": []})
    stamps = put(logs, group, "s", [f"event {i:02d}" for i in range(25)])
    # from the head, 10 a page, until the forward token comes back unchanged
    seen, token = [], None
    for _ in range(5):
        kw = {"nextToken": token} if token else {}
        page = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=10, **kw)
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [f"event {i:02d}" for i in range(25)]
    assert re.match(r"^f/\d{56}/s$", token)
    # the default reads the tail; the backward token pages towards the head
    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10)
    assert [e["message"] for e in tail["events"]] == [f"event {i:02d}" for i in range(15, 25)]
    before = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == [f"event {i:02d}" for i in range(5, 15)]
    # time bounds: start inclusive, end exclusive
    bounded = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                                  startTime=stamps[3], endTime=stamps[6])["events"]
    assert [e["message"] for e in bounded] == ["event 03", "event 04", "event 05"]
    assert all(e["timestamp"] == stamps[3 + i] for i, e in enumerate(bounded))
    # the CLI v1 pages the same way
    out = cli_v1(lamb_server, "get-log-events", "--log-group-name", group, "--log-stream-name", "s", "--start-from-head")
    assert [e["message"] for e in out["events"]] == [f"event {i:02d}" for i in range(25)]
    refused(logs, "InvalidParameterException", 400, "The specified nextToken is invalid.", logs.get_log_events,
            logGroupName=group, logStreamName="s", nextToken="x/123")


FILTER_LINES = [
    "[ERROR] Exception: boom",
    "[INFO] all good",
    "[WARN] disk almost full",
    "Task timed out after 3.00 seconds",
    json.dumps({"level": "ERROR", "latency": 120, "user": {"id": 1}}),
    json.dumps({"level": "INFO", "latency": 20, "user": {"id": 2}}),
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
]


@pytest.mark.parametrize("pattern, expected", [
    ("ERROR", [0, 4]),
    ("ERROR Exception", [0]),
    ('"Task timed out"', [3]),
    ("INFO -good", [5]),
    ("-INFO", [0, 2, 3, 4, 6]),
    ("?WARN ?Exception", [0, 2]),
    ('{ $.level = "ERROR" }', [4]),
    ("{ $.latency > 50 || $.user.id = 2 }", [4, 5]),
    ('{ $.level = "INFO" && $.latency < 10 }', []),
    ("[ip, id, user, timestamp, request, status = 4*, bytes > 1000]", [6]),
])
def test_filter_log_events_patterns(logs, pattern, expected):
    group = new_group(logs, {"s1": FILTER_LINES[:4], "s2": FILTER_LINES[4:]})
    events = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
    assert sorted(FILTER_LINES.index(e["message"]) for e in events) == expected


def test_filter_log_events_merge_pages_and_streams(logs, lamb_server):
    group = new_group(logs, {"s1": [], "s2": []})
    base = now_ms() - 10_000
    put(logs, group, "s1", [f"one {i}" for i in range(5)], start=base)  # base, base+1, ...
    put(logs, group, "s2", [f"two {i}" for i in range(5)], start=base)
    everything = logs.filter_log_events(logGroupName=group)
    msgs = [e["message"] for e in everything["events"]]
    assert msgs == [f"{w} {i}" for i in range(5) for w in ("one", "two")]  # interleaved by time
    assert {s["logStreamName"]: s["searchedCompletely"] for s in everything["searchedLogStreams"]} == {"s1": True, "s2": True}
    assert len({e["eventId"] for e in everything["events"]}) == 10
    paged = [e["message"] for p in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 3}) for e in p["events"]]
    assert paged == msgs
    only = logs.filter_log_events(logGroupName=group, logStreamNames=["s2"], startTime=base + 3)["events"]
    assert [e["message"] for e in only] == ["two 3", "two 4"]
    prefixed = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="s1", endTime=base + 2)["events"]
    assert [e["message"] for e in prefixed] == ["one 0", "one 1"]
    out = cli_v1(lamb_server, "filter-log-events", "--log-group-name", group, "--filter-pattern", "?one ?nothing")
    assert [e["message"] for e in out["events"]] == [f"one {i}" for i in range(5)]


def test_errors_as_aws_answers(logs):
    missing = "/lamb/none/" + uuid.uuid4().hex
    refused(logs, "ResourceNotFoundException", 400, "The specified log group does not exist.",
            logs.get_log_events, logGroupName=missing, logStreamName="s")
    refused(logs, "ResourceNotFoundException", 400, "The specified log group does not exist.",
            logs.describe_log_streams, logGroupName=missing)
    refused(logs, "ResourceNotFoundException", 400, "The specified log group does not exist.",
            logs.delete_log_group, logGroupName=missing)
    group = new_group(logs, {"s": ["x"]})
    refused(logs, "ResourceNotFoundException", 400, "The specified log stream does not exist.",
            logs.get_log_events, logGroupName=group, logStreamName="nope")
    refused(logs, "ResourceAlreadyExistsException", 400, "The specified log group already exists",
            logs.create_log_group, logGroupName=group)
    refused(logs, "ResourceAlreadyExistsException", 400, "The specified log stream already exists",
            logs.create_log_stream, logGroupName=group, logStreamName="s")
    refused(logs, "InvalidParameterException", 400,
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
            logs.describe_log_groups, logGroupNamePrefix="/a", logGroupNamePattern="b")
    refused(logs, "InvalidParameterException", 400, "Cannot order by LastEventTime with a logStreamNamePrefix.",
            logs.describe_log_streams, logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="s")
    refused(logs, "ValidationException", 400, "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            logs.describe_log_streams, logGroupName=group, logGroupIdentifier=group)
    refused(logs, "InvalidParameterException", 400,
            "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
            "Member must have value less than or equal to 10000",
            logs.filter_log_events, logGroupName=group, limit=10001)
    refused(logs, "InvalidParameterException", 400,
            "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must "
            "satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, "
            "2192, 2557, 2922, 3288, 3653]",
            logs.put_retention_policy, logGroupName=group, retentionInDays=2)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.a = }")
    with pytest.raises(logs.exceptions.InvalidParameterException):  # Lamb's limit: names are files
        logs.create_log_group(logGroupName="/a/" + "b" * 300)


def test_delete_log_group_of_a_running_function(lam, logs):
    name = unique("cwldel")
    create(lam, name, PRINTER)
    invoke(lam, name, {"tag": "before"})
    group = f"/aws/lambda/{name}"
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    invoke(lam, name, {"tag": "after"})  # the warm environment writes again: the group is back
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert "hello after" in messages and "hello before" not in messages


def test_retention_and_size_bound_on_disk(fresh_server):
    server = fresh_server(env={"LAMB_LOG_SWEEP_S": "0.2", "LAMB_LOG_DAY_S": "2",
                               "LAMB_LIMIT_LOG_GROUP_MAX_BYTES": "20000"})
    logs = server.client("logs")
    kept = new_group(logs, {"s": ["stays"]})
    short = new_group(logs, {"s": ["goes"]})
    logs.put_retention_policy(logGroupName=short, retentionInDays=1)  # one "day" is 2 s here
    [g] = logs.describe_log_groups(logGroupNamePrefix=short)["logGroups"]
    assert g["retentionInDays"] == 1
    folder = server.data_dir / "logs"
    wait_for(lambda: logs.describe_log_streams(logGroupName=short)["logStreams"] == [], 30,
             what="the stream past retention to be deleted")
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=kept)["logStreams"]] == ["s"]
    assert logs.describe_log_groups(logGroupNamePrefix=short)["logGroups"], "the group stays, empty"
    # the size bound: the least recently written stream goes first
    big = new_group(logs, {"old": [], "new": []})
    put(logs, big, "old", ["o" * 1000] * 12, start=now_ms() - 60_000)
    put(logs, big, "new", ["n" * 1000] * 12)
    wait_for(lambda: [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=big)["logStreams"]] == ["new"],
             30, what="the oldest stream over the bound to be deleted")
    logs.delete_retention_policy(logGroupName=short)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=short)["logGroups"][0]
    assert folder.is_dir()


def test_live_tail(lam, lamb_server, monkeypatch):
    # The model's host prefix ("stream-") is off, as `lamb env` exports it.
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    logs = lamb_server.client("logs")
    name = unique("cwltail")
    create(lam, name, PRINTER)
    invoke(lam, name, {"tag": "warm"})  # the group exists from the first line on
    group_arn = f"arn:aws:logs:{lamb_server.region}:{lamb_server.account_id}:log-group:/aws/lambda/{name}"
    resp = logs.start_live_tail(logGroupIdentifiers=[group_arn], logEventFilterPattern='{ $.level = "ERROR" }')
    stream = resp["responseStream"]
    try:
        events = iter(stream)
        start = next(events)["sessionStart"]
        assert start["logGroupIdentifiers"] == [group_arn] and start["logEventFilterPattern"] == '{ $.level = "ERROR" }'
        invoke(lam, name, {"tag": "quiet"})
        invoke(lam, name, {"tag": "loud", "level": "ERROR"})
        got: list[dict] = []
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            got = next(events)["sessionUpdate"]["sessionResults"]
        assert [json.loads(e["message"])["tag"] for e in got] == ["loud"]
        assert got[0]["logGroupIdentifier"] == group_arn and STREAM_NAME.match(got[0]["logStreamName"])
    finally:
        stream.close()
    refused(logs, "ResourceNotFoundException", 400, "The specified log group does not exist.",
            logs.start_live_tail, logGroupIdentifiers=[group_arn + "-none"])


# ------------------------------------------------------------------ the AWS CLI
def _cli_env(server) -> dict:
    creds = server.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID=creds["aws_access_key_id"],
               AWS_SECRET_ACCESS_KEY=creds["aws_secret_access_key"], AWS_DEFAULT_REGION=server.region,
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def cli_v1(server, *args) -> dict:
    """``aws logs <args>`` with the CLI v1 of the test dependencies."""
    proc = subprocess.run([AWS, "logs", *args, "--output", "json"], env=_cli_env(server), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_cli_v2_logs_tail_follow(lam, lamb_server):
    """`aws logs tail --follow` (CLI v2) prints a new invocation's lines by its next poll (every 5 s).
    Debian's CLI v2 (2.9) predates AWS_ENDPOINT_URL, so the endpoint is also given as --endpoint-url."""
    assert os.path.exists(AWS_V2), "AWS CLI v2 (Debian's awscli) is not installed: the test set-up installs it"
    name = unique("cwlcli")
    create(lam, name, PRINTER)
    invoke(lam, name, {"tag": "before-tail"})
    group = f"/aws/lambda/{name}"
    env = _cli_env(lamb_server)
    filtered = subprocess.run([AWS_V2, "--endpoint-url", lamb_server.url, "logs", "tail", group, "--since", "1h",
                               "--filter-pattern", '{ $.tag = "before-tail" }', "--format", "short"],
                              env=env, capture_output=True, text=True, timeout=60)
    assert filtered.returncode == 0, filtered.stderr
    assert [line.split(" ", 1)[1] for line in filtered.stdout.splitlines()] == [
        json.dumps({"level": "INFO", "tag": "before-tail", "n": 0})]
    proc = subprocess.Popen([AWS_V2, "--endpoint-url", lamb_server.url, "logs", "tail", group, "--follow",
                             "--since", "1h", "--format", "short"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("hello before-tail" in x for x in lines), 60, what="the existing lines")
        invoke(lam, name, {"tag": "during-tail"})
        wait_for(lambda: any("hello during-tail" in x for x in lines), 60, 0.2, what="the new invocation's line")
        assert proc.poll() is None, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait(10)
        reader.join(10)
    assert sum("hello before-tail" in x for x in lines) == 1  # each event once, across polls


LEVELS = """
import json, logging
logger = logging.getLogger()
def handler(event, context):
    print(json.dumps({"level": "DEBUG", "tag": "debug-line"}))
    print(json.dumps({"level": "WARN", "tag": "warn-line"}))
    print("plain print")
    logger.error("logged error")
    return 1
"""


def test_json_format_platform_records(lam, logs):
    name = unique("cwljson")
    create(lam, name, LEVELS, LoggingConfig={"LogFormat": "JSON"})
    resp, _ = invoke(lam, name, {}, LogType="Tail")
    group = f"/aws/lambda/{name}"
    [report] = logs.filter_log_events(logGroupName=group, filterPattern='{ $.type = "platform.report" }')["events"]
    record = json.loads(report["message"])["record"]
    assert record["status"] == "success" and record["metrics"]["memorySizeMB"] == 128
    assert record["metrics"]["durationMs"] > 0 and record["metrics"]["initDurationMs"] > 0
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    types = [json.loads(m).get("type") for m in messages if m.startswith("{")]
    assert "platform.start" in types and "platform.initStart" in types
    assert not any(m.startswith(("START ", "END ", "REPORT ")) for m in messages)
    assert "plain print" in messages  # ApplicationLogLevel INFO (the JSON default) keeps INFO lines
    assert not any('"debug-line"' in m for m in messages)  # ... and drops DEBUG ones
    assert '"type":"platform.report"' in __import__("base64").b64decode(resp["LogResult"]).decode()


def test_json_format_log_levels(lam, logs):
    name = unique("cwllevel")
    create(lam, name, LEVELS, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN",
                                             "SystemLogLevel": "WARN"})
    invoke(lam, name, {})
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]]
    assert any('"warn-line"' in m for m in messages)
    assert any("logged error" in m for m in messages)
    assert "plain print" not in messages and not any('"debug-line"' in m for m in messages)
    assert not any('"platform.' in m for m in messages)  # INFO platform records are below WARN
