"""The Extensions API of one environment (lamb.invoke.extensions): registration, events,
phase barriers and AWS's error answers."""

from __future__ import annotations

import asyncio
import json
import os

from lamb.http.server import Request
from lamb.invoke.extensions import Extensions, FunctionMetadata, external_extensions, invoke_event, shutdown_event

META = FunctionMetadata("fn", "$LATEST", "fn.handler", "123456789012")


def req(method: str, path: str, headers: dict | None = None, body: object = None) -> Request:
    data = json.dumps(body).encode() if body is not None else b""
    return Request(method, "/2020-01-01/extension/" + path, "", {k.lower(): v for k, v in (headers or {}).items()}, data, None)


def error_of(resp) -> tuple[int, str, str]:
    body = json.loads(resp.body)
    return resp.status, body["errorType"], body["errorMessage"]


def make(expected=("ext-a",)) -> tuple[Extensions, list[int]]:
    changes: list[int] = []
    return Extensions(expected, META, lambda: changes.append(1), 10), changes


def register(exts: Extensions, name: str, events=("INVOKE", "SHUTDOWN"), **headers) -> str:
    resp = exts.handle(req("POST", "register", {"Lambda-Extension-Name": name, **headers}, {"events": list(events)}))
    assert resp.status == 200, resp.body
    return dict(resp.headers)["Lambda-Extension-Identifier"]


def test_register_answers_with_the_function_and_an_identifier():
    exts, changes = make()
    resp = exts.handle(req("POST", "register", {"Lambda-Extension-Name": "ext-a", "Lambda-Extension-Accept-Feature": "accountId"},
                           {"events": ["INVOKE"]}))
    assert resp.status == 200
    assert json.loads(resp.body) == {"functionName": "fn", "functionVersion": "$LATEST", "handler": "fn.handler",
                                     "accountId": "123456789012"}
    assert dict(resp.headers)["Lambda-Extension-Identifier"] in exts.by_id
    assert changes == [1]
    plain = exts.handle(req("POST", "register", {"Lambda-Extension-Name": "internal-x"}, {"events": []}))
    assert "accountId" not in json.loads(plain.body)


def test_register_errors_are_aws():
    exts, _ = make()
    assert error_of(exts.handle(req("POST", "register", {}, {"events": []}))) == (
        403, "Extension.InvalidExtensionName", "Empty extension name")
    assert error_of(exts.handle(req("POST", "register", {"Lambda-Extension-Name": "x"}, {"events": ["BOOM"]})))[:2] == (
        403, "Extension.InvalidEventType")
    # Internal extensions (not in /opt/extensions) cannot ask for SHUTDOWN.
    assert error_of(exts.handle(req("POST", "register", {"Lambda-Extension-Name": "x"}, {"events": ["SHUTDOWN"]})))[:2] == (
        403, "Extension.InvalidEventType")
    register(exts, "ext-a")
    assert error_of(exts.handle(req("POST", "register", {"Lambda-Extension-Name": "ext-a"}, {"events": []}))) == (
        403, "Extension.InvalidExtensionState", "Extension with this name already registered")
    exts.close_registration()
    assert error_of(exts.handle(req("POST", "register", {"Lambda-Extension-Name": "late"}, {"events": []}))) == (
        403, "Extension.RegistrationClosed", "Extension registration closed already")


def test_too_many_extensions():
    exts = Extensions((), META, lambda: None, 2)
    register(exts, "a", ())
    register(exts, "b", ())
    assert error_of(exts.handle(req("POST", "register", {"Lambda-Extension-Name": "c"}, {"events": []}))) == (
        403, "Extension.TooManyExtensions", "Extension limit (2) reached")


def test_unknown_and_missing_identifiers():
    exts, _ = make()
    assert error_of(exts.handle(req("GET", "event/next")))[:2] == (403, "Extension.MissingExtensionIdentifier")
    unknown = "3f2c5b0e-0000-4000-8000-000000000000"
    assert error_of(exts.handle(req("GET", "event/next", {"Lambda-Extension-Identifier": unknown}))) == (
        403, "Extension.UnknownExtensionIdentifier", f"Unknown extension {unknown}")


def test_init_barrier_and_invoke_events():
    async def run():
        exts, _ = make(("ext-a",))
        assert not exts.init_ready()  # ext-a has not registered
        ident = register(exts, "ext-a")
        assert not exts.init_ready()  # registered, not yet waiting
        poll = exts.handle(req("GET", "event/next", {"Lambda-Extension-Identifier": ident}))
        assert isinstance(poll, asyncio.Future) and exts.init_ready()
        exts.send(invoke_event("r1", 123, "arn:fn", "Root=1-abc"))
        event = json.loads(poll.result().body)
        assert event == {"eventType": "INVOKE", "deadlineMs": 123, "requestId": "r1", "invokedFunctionArn": "arn:fn",
                         "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-abc"}}
        assert not exts.all_waiting()  # working on the invocation
        poll = exts.handle(req("GET", "event/next", {"Lambda-Extension-Identifier": ident}))
        assert exts.all_waiting()
        exts.send(shutdown_event("spindown", 456))
        assert json.loads(poll.result().body) == {"eventType": "SHUTDOWN", "shutdownReason": "spindown", "deadlineMs": 456}
        assert exts.shutting_down

    asyncio.run(run())


def test_an_event_sent_before_the_poll_is_kept():
    async def run():
        exts, _ = make(())
        ident = register(exts, "internal", ("INVOKE",))
        exts.send(invoke_event("r1", 1, "arn", None))
        resp = exts.handle(req("GET", "event/next", {"Lambda-Extension-Identifier": ident}))
        assert json.loads(resp.result().body)["requestId"] == "r1"

    asyncio.run(run())


def test_errors_reported_by_extensions():
    exts, changes = make()
    ident = register(exts, "ext-a")
    h = {"Lambda-Extension-Identifier": ident}
    assert error_of(exts.handle(req("POST", "init/error", h, {})))[:2] == (403, "Extension.MissingHeader")
    resp = exts.handle(req("POST", "init/error", {**h, "Lambda-Extension-Function-Error-Type": "Extension.ConfigInvalid"}, {}))
    assert resp.status == 202
    assert exts.failed() is not None and exts.failed().error == "Extension.ConfigInvalid"


def test_external_extensions_are_the_executables_in_name_order(tmp_path):
    folder = tmp_path / "extensions"
    folder.mkdir()
    for name, mode in (("b-ext", 0o755), ("a-ext", 0o755), ("notes.txt", 0o644)):
        (folder / name).write_text("#!/bin/sh\n")
        os.chmod(folder / name, mode)
    assert external_extensions(tmp_path) == ("a-ext", "b-ext")
    assert external_extensions(None) == ()
    assert external_extensions(tmp_path / "missing") == ()
