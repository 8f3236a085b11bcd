"""The Extensions API (2020-01-01) of one execution environment.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html: an extension
registers during Init (``POST /2020-01-01/extension/register`` with ``Lambda-Extension-Name``;
the answer carries ``Lambda-Extension-Identifier`` and the function's name, version and
handler), then long-polls ``GET /2020-01-01/extension/event/next`` for INVOKE and SHUTDOWN
events, and may report ``POST /2020-01-01/extension/init/error`` or ``/exit/error``.
External extensions are the executables in ``/opt/extensions`` (the name they register
with is their file name); any other name registering is an internal extension (a thread of
the runtime process), which may not ask for SHUTDOWN.

Phase rules: Init ends when every external extension has registered and the runtime and
every registered extension have called next; an Invoke ends when the runtime and every
extension have called next after it. This module keeps the extensions' side of those
barriers (``init_ready``, ``all_waiting``) and tells the environment of every change
(``on_change``). Error types and the 403 answers are those of AWS's Runtime Interface
Emulator (aws-lambda-runtime-interface-emulator, rapi/handler).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..http.server import Request, Response

PREFIX = "/2020-01-01/extension/"
EVENTS = ("INVOKE", "SHUTDOWN")
IDENTIFIER_HEADER = "Lambda-Extension-Identifier"


def api_error(status: int, error_type: str, message: str) -> Response:
    body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
    return Response(status, [("Content-Type", "application/json")], body)


@dataclass(eq=False)
class Extension:
    id: str
    name: str
    events: frozenset[str]
    internal: bool
    waiting: asyncio.Future | None = None  # its pending event/next
    queued: list[dict] = field(default_factory=list)  # events not yet delivered
    error: str | None = None  # the error type it reported (init/error, exit/error)


@dataclass(frozen=True)
class FunctionMetadata:
    """What a registration is answered with."""

    function_name: str
    function_version: str
    handler: str
    account_id: str


class Extensions:
    """The extensions of one environment. ``expected``: the names of its external extensions
    (files in /opt/extensions); ``on_change`` is called after every registration, next or error."""

    def __init__(self, expected: tuple[str, ...], metadata: FunctionMetadata, on_change: Callable[[], None],
                 max_extensions: int):
        self.expected = expected
        self.metadata = metadata
        self.on_change = on_change
        self.max_extensions = max_extensions
        self.by_id: dict[str, Extension] = {}
        self.registration_open = True
        self.shutting_down = False

    # ------------------------------------------------------------ phase state
    def init_ready(self) -> bool:
        """Every external extension registered, every registered one waiting for its next event."""
        names = {e.name for e in self.by_id.values()}
        return all(n in names for n in self.expected) and self.all_waiting()

    def all_waiting(self) -> bool:
        return all(e.waiting is not None and not e.queued for e in self.by_id.values())

    def has_external(self) -> bool:
        return any(not e.internal for e in self.by_id.values())

    def wants(self, event_type: str) -> bool:
        return any(event_type in e.events for e in self.by_id.values())

    def failed(self) -> Extension | None:
        return next((e for e in self.by_id.values() if e.error), None)

    def close_registration(self) -> None:
        self.registration_open = False

    # ----------------------------------------------------------------- events
    def send(self, event: dict) -> None:
        """Queue ``event`` for every extension registered for its type, answering pending polls."""
        kind = event["eventType"]
        if kind == "SHUTDOWN":
            self.shutting_down = True
        for ext in self.by_id.values():
            if kind in ext.events:
                ext.queued.append(event)
                self._deliver(ext)

    @staticmethod
    def _deliver(ext: Extension) -> None:
        fut = ext.waiting
        if fut is None or not ext.queued:
            return
        ext.waiting = None
        event = ext.queued.pop(0)
        if not fut.done():
            headers = [("Content-Type", "application/json"), ("Lambda-Extension-Event-Identifier", str(uuid.uuid4()))]
            fut.set_result(Response(200, headers, json.dumps(event).encode()))

    # ------------------------------------------------------------------ routes
    def handle(self, req: Request) -> Response | asyncio.Future:
        rest = req.path[len(PREFIX):]
        if rest == "register" and req.method == "POST":
            return self.register(req)
        if rest == "event/next" and req.method == "GET":
            return self.next(req)
        if rest in ("init/error", "exit/error") and req.method == "POST":
            return self.report_error(req, rest.split("/")[0])
        return api_error(404, "InvalidRequest", f"Unknown path {req.path}")

    def caller(self, req: Request) -> Extension | Response:
        """The registered extension a request comes from (its ``Lambda-Extension-Identifier``), or AWS's 403."""
        ident = req.headers.get("lambda-extension-identifier", "")
        if not ident:
            return api_error(403, "Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header")
        try:
            uuid.UUID(ident)
        except ValueError:
            return api_error(403, "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier")
        ext = self.by_id.get(ident.lower())
        if ext is None:
            return api_error(403, "Extension.UnknownExtensionIdentifier", f"Unknown extension {ident}")
        return ext

    def register(self, req: Request) -> Response:
        name = req.headers.get("lambda-extension-name", "")
        if not name:
            return api_error(403, "Extension.InvalidExtensionName", "Empty extension name")
        try:
            body = json.loads(req.body or b"{}")
            events = body.get("events") or []
            if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                raise ValueError("events must be a list of strings")
        except (ValueError, AttributeError) as e:
            return api_error(403, "InvalidRequestFormat", str(e))
        if body.get("configurationKeys"):
            return api_error(403, "InvalidRequestFormat", "configurationKeys are deprecated; use environment variables instead")
        internal = name not in self.expected
        for e in events:
            if e not in EVENTS or (internal and e == "SHUTDOWN"):
                reason = "internal extensions cannot register for SHUTDOWN" if e == "SHUTDOWN" else "unknown event"
                return api_error(403, "Extension.InvalidEventType", f"{e}: {reason}")
        if not self.registration_open:
            return api_error(403, "Extension.RegistrationClosed", "Extension registration closed already")
        if any(x.name == name for x in self.by_id.values()):
            return api_error(403, "Extension.InvalidExtensionState", "Extension with this name already registered")
        if len(self.by_id) >= self.max_extensions:
            return api_error(403, "Extension.TooManyExtensions", f"Extension limit ({self.max_extensions}) reached")
        ext = Extension(str(uuid.uuid4()), name, frozenset(events), internal)
        self.by_id[ext.id] = ext
        m = self.metadata
        out = {"functionName": m.function_name, "functionVersion": m.function_version, "handler": m.handler}
        features = {f.strip() for f in req.headers.get("lambda-extension-accept-feature", "").split(",")}
        if "accountId" in features:
            out["accountId"] = m.account_id
        self.on_change()
        return Response(200, [("Content-Type", "application/json"), (IDENTIFIER_HEADER, ext.id)], json.dumps(out).encode())

    def next(self, req: Request) -> Response | asyncio.Future:
        ext = self.caller(req)
        if isinstance(ext, Response):
            return ext
        if ext.waiting is not None and not ext.waiting.done():
            ext.waiting.cancel()  # a second poll replaces the first (its connection is gone)
        ext.waiting = asyncio.get_running_loop().create_future()
        fut = ext.waiting
        self._deliver(ext)
        self.on_change()
        return fut

    def report_error(self, req: Request, phase: str) -> Response:
        ext = self.caller(req)
        if isinstance(ext, Response):
            return ext
        error_type = req.headers.get("lambda-extension-function-error-type", "")
        if not error_type:
            return api_error(403, "Extension.MissingHeader", "Missing Lambda-Extension-Function-Error-Type header")
        if phase == "init" and not self.registration_open:
            return api_error(403, "Extension.InvalidExtensionState",
                             f"State transition from Ready to InitError failed for extension {ext.name}")
        ext.error = error_type
        self.on_change()
        return Response(202, [("Content-Type", "application/json")], b'{"status":"OK"}')

    def close(self) -> None:
        for ext in self.by_id.values():
            if ext.waiting is not None and not ext.waiting.done():
                ext.waiting.cancel()
            ext.waiting = None


def invoke_event(request_id: str, deadline_ms: int, invoked_arn: str, trace_id: str | None) -> dict:
    """The INVOKE event (AWS's shape, Extensions API reference)."""
    return {
        "eventType": "INVOKE",
        "deadlineMs": deadline_ms,
        "requestId": request_id,
        "invokedFunctionArn": invoked_arn,
        "tracing": {"type": "X-Amzn-Trace-Id", "value": trace_id or ""},
    }


def shutdown_event(reason: str, deadline_ms: int) -> dict:
    """The SHUTDOWN event: reason ``spindown``, ``timeout`` or ``failure``."""
    return {"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms}


def external_extensions(opt_dir: Path | None) -> tuple[str, ...]:
    """The external extensions of a layer set: executable files in /opt/extensions, in name
    order (AWS starts them in alphabetical order)."""
    if opt_dir is None:
        return ()
    folder = opt_dir / "extensions"
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return ()
    return tuple(p.name for p in entries if p.is_file() and os.access(p, os.X_OK))
