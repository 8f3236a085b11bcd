"""The Runtime API's routes and wire format (``lamb.invoke.runtime_api``)."""

from __future__ import annotations

import json

from lamb.http.server import Request
from lamb.invoke.invocation import Invocation
from lamb.invoke.runtime_api import ACCEPTED, next_event, runtime_app


class Recorder:
    def __init__(self):
        self.calls = []

    def on_next(self):
        self.calls.append(("next",))
        return ACCEPTED

    def on_response(self, request_id, req):
        self.calls.append(("response", request_id, req.body))
        return ACCEPTED

    def on_error(self, request_id, req):
        self.calls.append(("error", request_id))
        return ACCEPTED

    def on_init_error(self, req):
        self.calls.append(("init_error",))
        return ACCEPTED


def request(method, path, body=b""):
    return Request(method, path, "", {}, body, None)


def test_routes():
    rec = Recorder()
    app = runtime_app(rec)
    base = "/2018-06-01/runtime/"
    app(request("GET", base + "invocation/next"))
    app(request("POST", base + "invocation/abc/response", b"1"))
    app(request("POST", base + "invocation/abc/error"))
    app(request("POST", base + "init/error"))
    assert rec.calls == [("next",), ("response", "abc", b"1"), ("error", "abc"), ("init_error",)]
    assert app(request("GET", base + "invocation/abc/response")).status == 405
    unknown = app(request("GET", "/2018-06-01/other"))
    assert unknown.status == 404 and json.loads(unknown.body)["errorType"] == "InvalidRequest"


def test_next_event_carries_the_context_headers():
    inv = Invocation("rid", b'{"a":1}', "arn:aws:lambda:us-east-1:000000000000:function:f", 3,
                     client_context='{"custom":{}}', trace_id="Root=1-a-b")
    inv.deadline_ms = 123
    resp = next_event(inv)
    headers = dict(resp.headers)
    assert resp.status == 200 and resp.body == b'{"a":1}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "rid"
    assert headers["Lambda-Runtime-Deadline-Ms"] == "123"
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-a-b"
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom":{}}'
    assert "Lambda-Runtime-Cognito-Identity" not in headers
