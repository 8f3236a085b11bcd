"""Logs: LogType Tail, the platform lines, and persisted log streams."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest

from .conftest import create, invoke, unique

LOG_STREAM = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")

PRINTER = """
import sys
def handler(event, context):
    print("hello from", context.aws_request_id)
    print("to stderr", file=sys.stderr)
    if event.get("big"):
        for i in range(1000):
            print(f"{i:05d} " + "y" * 94)
    return context.aws_request_id
"""


def report_re(rid: str, memory: int = 128, cold: bool = False) -> re.Pattern:
    init = r"Init Duration: \d+\.\d\d ms\t" if cold else ""
    return re.compile(
        rf"^REPORT RequestId: {re.escape(rid)}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        rf"Memory Size: {memory} MB\tMax Memory Used: \d+ MB\t{init}$",
        re.M,
    )


def tail(resp) -> str:
    return base64.b64decode(resp["LogResult"]).decode()


def test_log_tail(lam):
    name = unique("tail")
    create(lam, name, PRINTER)
    resp, rid = invoke(lam, name, {}, LogType="Tail")
    log = tail(resp)
    assert f"START RequestId: {rid} Version: $LATEST\n" in log
    assert f"hello from {rid}\n" in log
    assert "to stderr\n" in log
    assert f"END RequestId: {rid}\n" in log
    assert report_re(rid, cold=True).search(log), log
    assert log.index("START") < log.index("hello from") < log.index("END RequestId") < log.index("REPORT")

    # warm: no Init Duration
    resp, rid2 = invoke(lam, name, {}, LogType="Tail")
    log2 = tail(resp)
    assert rid2 != rid
    assert report_re(rid2, cold=False).search(log2), log2
    assert "Init Duration" not in log2
    assert rid not in log2  # only this invocation's lines
    # without LogType there is no LogResult
    resp, _ = invoke(lam, name, {})
    assert "LogResult" not in resp


def test_log_tail_memory_size(lam):
    name = unique("tailmem")
    create(lam, name, PRINTER, MemorySize=512)
    resp, rid = invoke(lam, name, {}, LogType="Tail")
    assert report_re(rid, memory=512, cold=True).search(tail(resp))


def test_log_tail_is_last_4kb(lam):
    name = unique("tailbig")
    create(lam, name, PRINTER)
    resp, rid = invoke(lam, name, {"big": True}, LogType="Tail")
    raw = base64.b64decode(resp["LogResult"])
    assert len(raw) <= 4096
    assert len(raw) >= 4000  # it is the tail, not an empty string
    log = raw.decode()
    assert f"END RequestId: {rid}\n" in log
    assert report_re(rid, cold=True).search(log)
    assert "00999 " in log  # the last lines the function printed
    assert "START RequestId" not in log  # the beginning is cut


def test_persisted_logs(lam, lamb_server):
    name = unique("persist")
    create(lam, name, PRINTER)
    _, rid1 = invoke(lam, name, {})
    _, rid2 = invoke(lam, name, {})
    group = f"/aws/lambda/{name}"
    streams = lamb_server.get_json(f"/_lamb/logs?group={quote(group, safe='')}")["streams"]
    assert len(streams) == 1 and LOG_STREAM.match(streams[0]), streams
    events = lamb_server.get_json(f"/_lamb/logs?group={quote(group, safe='')}&stream={quote(streams[0], safe='')}")["events"]
    messages = [m for _, m in events]
    assert all(isinstance(ts, int) and ts > 1_600_000_000_000 for ts, _ in events)
    for rid in (rid1, rid2):
        assert f"START RequestId: {rid} Version: $LATEST" in messages
        assert f"hello from {rid}" in messages
        assert f"END RequestId: {rid}" in messages
        assert any(report_re(rid, cold=rid == rid1).match(m) for m in messages), messages
    assert messages.index(f"START RequestId: {rid1} Version: $LATEST") < messages.index(f"START RequestId: {rid2} Version: $LATEST")
    # unknown group: no streams
    assert lamb_server.get_json("/_lamb/logs?group=/aws/lambda/" + unique("none"))["streams"] == []


def test_report_is_written_before_the_next_request_is_read(lam, lamb_server):
    """END and REPORT follow the caller's answer (http/afterwards.py) but are written before Lamb
    reads the caller's next request, and before the environment's next START."""
    name = unique("reported")
    create(lam, name, PRINTER)
    group = quote(f"/aws/lambda/{name}", safe="")
    rids = []
    for _ in range(15):
        _, rid = invoke(lam, name, {})
        rids.append(rid)
        [stream] = lamb_server.get_json(f"/_lamb/logs?group={group}")["streams"]
        messages = [m for _, m in lamb_server.get_json(f"/_lamb/logs?group={group}&stream={quote(stream, safe='')}")["events"]]
        assert any(m.startswith(f"REPORT RequestId: {rid}") for m in messages), messages[-4:]
    order = [m.split("\t")[0] for m in messages if m.startswith(("START ", "END ", "REPORT "))]
    assert order == [line for rid in rids for line in (f"START RequestId: {rid} Version: $LATEST",
                                                        f"END RequestId: {rid}", f"REPORT RequestId: {rid}")]


def test_logs_survive_restart(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = unique("relog")
    create(lam, name, PRINTER)
    _, rid = invoke(lam, name, {})
    group = quote(f"/aws/lambda/{name}", safe="")
    streams = server.get_json(f"/_lamb/logs?group={group}")["streams"]
    assert server.terminate() == 0
    server.assert_no_survivors()
    server.restart()
    assert server.get_json(f"/_lamb/logs?group={group}")["streams"] == streams
    events = server.get_json(f"/_lamb/logs?group={group}&stream={quote(streams[0], safe='')}")["events"]
    messages = [m for _, m in events]
    assert f"START RequestId: {rid} Version: $LATEST" in messages
    assert f"hello from {rid}" in messages
    # a new invocation after the restart writes a new stream
    _, rid2 = invoke(server.client(), name, {})
    after = server.get_json(f"/_lamb/logs?group={group}")["streams"]
    assert len(after) == 2 and streams[0] in after


def test_unterminated_last_line_is_logged(lam):
    name = unique("partial")
    create(lam, name, "import sys\ndef handler(e, c):\n    print('first line')\n"
                      "    sys.stdout.write('no newline at the end')\n    return 1\n")
    resp, _ = invoke(lam, name, {}, LogType="Tail")
    log = tail(resp)
    assert "first line\n" in log
    assert "no newline at the end" in log
    assert log.index("no newline at the end") < log.index("END RequestId")
    # and it is not glued onto the next invocation's output
    resp, _ = invoke(lam, name, {}, LogType="Tail")
    assert "no newline at the endfirst line" not in tail(resp)


def test_last_words_before_exit_are_logged(lam, lamb_server):
    name = unique("lastwords")
    create(lam, name, "import os, sys\ndef handler(e, c):\n    print('complete line', flush=True)\n"
                      "    sys.stdout.write('last words before exit')\n    sys.stdout.flush()\n    os._exit(3)\n")
    resp, out = invoke(lam, name, {}, LogType="Tail")
    assert out["errorType"] == "Runtime.ExitError"
    log = tail(resp)
    assert "complete line\n" in log
    assert "last words before exit" in log
    assert log.index("last words before exit") < log.index("END RequestId")
    group = quote(f"/aws/lambda/{name}", safe="")
    stream = lamb_server.get_json(f"/_lamb/logs?group={group}")["streams"][0]
    stored = [m for _, m in lamb_server.get_json(f"/_lamb/logs?group={group}&stream={quote(stream, safe='')}")["events"]]
    assert "last words before exit" in stored


@pytest.mark.parametrize("sandbox", ["linux", "process"])
def test_max_memory_used_reported_after_crash(sandbox_server, sandbox):
    lam = sandbox_server(sandbox).client()
    name = unique("crashmem")
    create(lam, name, "import os\ndef handler(e, c):\n    os._exit(1)\n")
    resp, out = invoke(lam, name, {}, LogType="Tail")
    assert out["errorType"] == "Runtime.ExitError"
    m = re.search(r"Max Memory Used: (\d+) MB", tail(resp))
    assert m and int(m.group(1)) > 0, tail(resp)


def test_max_memory_used_is_plausible(lam):
    name = unique("mem")
    create(lam, name, "BUF = None\ndef handler(e, c):\n    global BUF\n    BUF = bytearray(e['mb'] * 1024 * 1024)\n"
                      "    BUF[::4096] = b'x' * len(BUF[::4096])\n    return len(BUF)\n", MemorySize=256)
    resp, _ = invoke(lam, name, {"mb": 1}, LogType="Tail")
    small = int(re.search(r"Max Memory Used: (\d+) MB", tail(resp)).group(1))
    assert small > 0
    resp, _ = invoke(lam, name, {"mb": 64}, LogType="Tail")
    big = int(re.search(r"Max Memory Used: (\d+) MB", tail(resp)).group(1))
    assert big >= small + 60, (small, big)


def test_json_log_format_reaches_the_runtime(lam):
    """LoggingConfig LogFormat JSON: the runtime writes JSON application logs at the configured level."""
    name = unique("jsonlog")
    create(lam, name, "import logging, os\nlogger = logging.getLogger()\n"
                      "def handler(e, c):\n    logger.debug('debug line')\n    logger.info('info line')\n"
                      "    return [os.environ.get('AWS_LAMBDA_LOG_FORMAT'), os.environ.get('AWS_LAMBDA_LOG_LEVEL')]\n",
           LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
    resp, out = invoke(lam, name, {}, LogType="Tail")
    assert out == ["JSON", "WARN"]
    lines = base64.b64decode(resp["LogResult"]).decode().splitlines()
    assert not any("info line" in l or "debug line" in l for l in lines)  # below WARN
    lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    resp, out = invoke(lam, name, {}, LogType="Tail")
    records = [json.loads(l) for l in base64.b64decode(resp["LogResult"]).decode().splitlines() if l.startswith("{")]
    by_message = {r["message"]: r for r in records if "type" not in r}  # "type": the platform's records
    assert [r["type"] for r in records if "type" in r] == ["platform.start", "platform.report"]
    assert by_message["debug line"]["level"] == "DEBUG"
    assert by_message["info line"]["level"] == "INFO"
    assert by_message["info line"]["requestId"] == resp["ResponseMetadata"]["RequestId"]
