"""HTTP abuse on the public port: every answer is AWS-shaped, owed answers come first, nothing hangs.

The server runs with a 1 s header timeout (``LAMB_HEADER_TIMEOUT_S``), so a client
that stops sending is answered 408 and disconnected instead of holding a
connection for ever. The server lives and answers after each group.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import create

from .conftest import HEADER_TIMEOUT_S, assert_alive, problem_with, responses

HOST = b"Host: 127.0.0.1\r\n"
LIST_PATH, SETTINGS_PATH = "/2015-03-31/functions", "/2016-08-19/account-settings"


def _head(server, method: str, path: str, body: bytes = b"", extra: dict | None = None) -> bytes:
    """A request head signed with the server's key (authentication is on), without the final CRLF."""
    headers = server.signed(method, path, body, {"Host": "127.0.0.1", **(extra or {})})
    return f"{method} {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()


def _list(server) -> bytes:
    return _head(server, "GET", LIST_PATH) + b"\r\n"


def _settings(server) -> bytes:
    return _head(server, "GET", SETTINGS_PATH) + b"\r\n"


def _invoke_head(length: int, extra: bytes = b"") -> bytes:
    return (b"POST /2015-03-31/functions/sec-proto/invocations HTTP/1.1\r\n" + HOST
            + b"Content-Length: %d\r\n" % length + extra + b"\r\n")


def _aws_shaped(answers, operation=None):
    for status, headers, body in answers:
        why = problem_with(operation, status, headers, body)
        assert why is None, why


@pytest.fixture(scope="module")
def _proto_function(sec_server):
    """A function of this module's own (the model-driven tests may reconfigure theirs)."""
    create(sec_server.client(), "sec-proto", "def handler(event, context):\n    return {'ok': True}\n")


@pytest.fixture(autouse=True)
def _server_survives(sec_server, _proto_function):
    yield
    assert_alive(sec_server)


def test_truncated_body_then_silence_gets_408(raw_http):
    answers = responses(raw_http.raw(_invoke_head(100) + b'{"a": 1'))
    assert [a[0] for a in answers] == [408]
    _aws_shaped(answers)


def test_truncated_body_then_close_is_not_answered_and_not_held(raw_http):
    assert raw_http.raw(_invoke_head(100) + b'{"a": 1', shut=True) == b""


def test_content_length_shorter_than_body_answers_the_request_then_400(raw_http, sec_server):
    body = b'{"a": 1}' + b"trailing bytes that are not a request\r\n\r\n"
    head = _head(sec_server, "POST", "/2015-03-31/functions/sec-proto/invocations", body[:8])
    answers = responses(raw_http.raw(head + b"Content-Length: 8\r\n\r\n" + body))
    assert [a[0] for a in answers] == [200, 400], answers
    assert json.loads(answers[0][2]) == {"ok": True}
    _aws_shaped(answers, "Invoke")


def test_content_length_longer_than_body_gets_408(raw_http):
    answers = responses(raw_http.raw(_invoke_head(50) + b"{}"))
    assert [a[0] for a in answers] == [408]
    _aws_shaped(answers)


def test_garbage_after_pipelined_requests_comes_after_their_answers(raw_http, sec_server):
    answers = responses(raw_http.raw(_list(sec_server) + _settings(sec_server) + b"\x16\x03\x01\x02\x00garbage\r\n\r\n"))
    assert [a[0] for a in answers] == [200, 200, 400]
    assert "Functions" in json.loads(answers[0][2]) and "AccountLimit" in json.loads(answers[1][2])
    _aws_shaped(answers)


def test_pipelined_requests_are_answered_in_order(raw_http, sec_server):
    reqs = [_list(sec_server) if i % 2 else _settings(sec_server) for i in range(20)]
    close = _head(sec_server, "GET", LIST_PATH) + b"Connection: close\r\n\r\n"
    answers = responses(raw_http.raw(b"".join(reqs) + close))
    assert [a[0] for a in answers] == [200] * 21
    kinds = ["Functions" in json.loads(body) for _, _, body in answers]
    assert kinds == [bool(i % 2) for i in range(20)] + [True]
    assert len({h["x-amzn-requestid"] for _, h, _ in answers}) == 21


@pytest.mark.parametrize("pieces", [
    [b"GET /2015-03-31/functions HTTP/1.1\r\n", b"Host: x\r\n", b"X-Slow: 1\r\n"],  # never ends its head
    [b"GET /2015-03-31/fun"],  # not even a request line
    [b""],  # connects and says nothing
], ids=["partial-head", "partial-request-line", "nothing"])
def test_a_slow_or_partial_head_is_cut_off_with_408(raw_http, pieces):
    answers = responses(raw_http.raw(pieces, pause=HEADER_TIMEOUT_S / 4))
    assert [a[0] for a in answers] == [408]
    _aws_shaped(answers)


def test_an_oversized_head_gets_431_without_reading_on(raw_http):
    head = b"GET /2015-03-31/functions HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * (4 * 1024 * 1024)
    answers = responses(raw_http.raw(head))
    assert [a[0] for a in answers] == [431]
    _aws_shaped(answers)


def test_many_headers_get_431(raw_http):
    head = b"GET /2015-03-31/functions HTTP/1.1\r\n" + HOST + b"".join(b"X-H%d: v\r\n" % i for i in range(20_000)) + b"\r\n"
    answers = responses(raw_http.raw(head))
    assert [a[0] for a in answers] == [431]


@pytest.mark.parametrize("extra,limit", [(b"", 6 * 1024 * 1024), (b"X-Amz-Invocation-Type: Event\r\n", 1024 * 1024)],
                         ids=["sync-7MB", "event-7MB"])
def test_an_invoke_body_over_its_limit_is_refused_before_it_is_read(raw_http, extra, limit):
    # Only 64 KB of the declared 7 MB are ever sent: the answer cannot wait for the rest.
    answers = responses(raw_http.raw(_invoke_head(7 * 1024 * 1024, extra) + b"[" * 65536))
    assert [a[0] for a in answers] == [413]
    _aws_shaped(answers, "Invoke")
    assert answers[0][1]["x-amzn-errortype"] == "RequestEntityTooLargeException"
    assert json.loads(answers[0][2])["message"] == f"Request must be smaller than {limit} bytes for the InvokeFunction operation"


@pytest.mark.parametrize("request_bytes", [
    b"GET /2015-03-31/functions/\xff\xfe HTTP/1.1\r\n" + HOST + b"\r\n",
    b"GET /2015-03-31/functions HTTP/1.1\r\n" + HOST + b"X-Amz-Date: \xff\xfe\xfd\r\n\r\n",
    b"PUT /2015-03-31/functions/sec-proto/configuration HTTP/1.1\r\n" + HOST
    + b"Content-Type: application/json\r\nContent-Length: 22\r\n\r\n" + b'{"Description": "\xff\xfe"}',
    b"POST /2015-03-31/functions/sec-proto/invocations HTTP/1.1\r\n" + HOST
    + b"Content-Length: 6\r\n\r\n" + b'"\xc3\x28"\r\n',
], ids=["path", "header", "json-body", "payload"])
def test_non_utf8_bytes_get_an_aws_shaped_answer(raw_http, request_bytes):
    answers = responses(raw_http.raw(request_bytes + b"GET /2015-03-31/functions HTTP/1.1\r\n" + HOST
                                     + b"Connection: close\r\n\r\n"))
    assert answers and all(s < 500 for s, _, _ in answers), answers
    _aws_shaped(answers)


@pytest.mark.parametrize("request_bytes", [
    b"POST /2015-03-31/functions/sec-proto/invocations HTTP/1.1\r\n" + HOST
    + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /2015-03-31/functions/sec-proto/invocations HTTP/1.1\r\n" + HOST
    + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"\r\n\r\n\r\n",
    b"GET /2015-03-31/functions HTTP/1.1\r\nHost x\r\n\r\n",
    b"GET /2015-03-31/functions HTTP/1.1\r\n" + HOST + b"Content-Length: -1\r\n\r\n",
    b"GET /2015-03-31/functions HTTP/1.1\r\n" + HOST + b"Content-Length: 99999999999999999999999\r\n\r\n",
    b"GET /2015-03-31/functions\x00 HTTP/1.1\r\n" + HOST + b"\r\n",
], ids=["bad-chunk-size", "chunked-and-length", "http-9", "blank-lines", "header-no-colon", "negative-length",
        "huge-length", "nul-in-path"])
def test_malformed_http_gets_an_aws_shaped_400(raw_http, request_bytes):
    answers = responses(raw_http.raw(request_bytes))
    assert answers and answers[-1][0] in (400, 413, 408), answers
    _aws_shaped(answers)
