"""Execution logs of REST API stages: what API Gateway did with each request, in Lamb's log store.

https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html: a method whose
settings (``method_settings.py``) have ``loggingLevel`` ``INFO`` or ``ERROR`` logs to the group
``API-Gateway-Execution-Logs_{rest-api-id}/{stage-name}`` once the account has a CloudWatch role
(UpdateAccount's ``cloudwatchRoleArn``). Each line starts with ``(request id)``, as AWS writes them
(https://repost.aws/knowledge-center/api-gateway-logs): ``Extended Request Id``, the usage plan
check, ``Starting execution for request``, ``HTTP Method: GET, Resource Path: /pets/1``, the
endpoint request, ``Received response. Status: 200, Integration latency: 12 ms``, ``Successfully
completed execution``, ``Method completed with status: 200``; a Lambda authorizer's ``Starting
authorizer: {id} for request: {request id}`` and ``Successfully completed authorizer execution`` or
``Unauthorized request: {request id}``. ``dataTraceEnabled`` adds the request
and response data (``Method request path: {id=1}``, ``Method request headers: {...}``, ``Endpoint
request body after transformations: ...``, ``Endpoint response body before transformations: ...``,
``Method response body after transformations: ...``, ``Method response headers: {...}``); a line
is cut at 1,024 bytes (``[TRUNCATED]``), as AWS cuts its log events. ``ERROR`` writes only the lines
of a request that failed (``Execution failed due to ...``, ``Lambda execution failed with status 200
due to customer function error: ...``) and its ``Method completed with status``. Streams are named
like AWS's, 32 hexadecimal digits, one per stage and Lamb process. WebSocket APIs (``websocket_lines``,
``record_websocket``): a route's ``LoggingLevel``/``DataTraceEnabled`` (its ``RouteSettings`` over the stage's
``DefaultRouteSettings``) log each connect, message and disconnect to ``/aws/apigateway/<api-id>/<stage>``,
with ``WebSocket Request Route: [<route key>]`` and the client's connecting/disconnecting line. ``lines`` is pure;
``ExecutionLogs`` writes through the collaborator it is given (``access_log.store_writer``).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Callable, Mapping, NamedTuple

from .access_log import Write

MAX_LINE_BYTES = 1024
TRUNCATED = " [TRUNCATED]"


def group_name(api_id: str, stage: str) -> str:
    return f"API-Gateway-Execution-Logs_{api_id}/{stage}"


def java_map(values: Mapping[str, object]) -> str:
    """A map as API Gateway prints one (Java's ``{k=v, k2=v2}``)."""
    return "{" + ", ".join(f"{k}={v}" for k, v in values.items()) + "}"


def _cut(line: str) -> str:
    data = line.encode()
    if len(data) <= MAX_LINE_BYTES:
        return line
    return data[:MAX_LINE_BYTES - len(TRUNCATED)].decode(errors="ignore") + TRUNCATED


class Request(NamedTuple):
    """What one request's lines tell (``error``: why it failed, when it did)."""

    request_id: str
    api_id: str
    stage: str
    http_method: str
    resource: str  # "GET /pets/{id}": the resource method that matched
    path: str  # the path after the stage, as requested
    path_parameters: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    endpoint: str | None  # the integration's endpoint (None: API Gateway answered itself, e.g. MOCK)
    endpoint_body: bytes | None  # the integration request's payload
    endpoint_answer: bytes | None  # the integration's answer, before transformations
    integration_ms: float | None
    status: int
    response_headers: list
    response_body: bytes
    error: str | None
    authorizer: str | None = None  # the Lambda authorizer's id, when the method has one
    unauthorized: bool = False  # the authorizer refused the request


def _text(data: bytes | None) -> str:
    return (data or b"").decode(errors="replace")


def lines(level: str, data_trace: bool, r: Request) -> list[str]:
    """The lines of one request at a logging level (``OFF``: none)."""
    completed = f"Method completed with status: {r.status}"
    if level == "ERROR":
        out = [r.error, completed] if r.error else []
    elif level != "INFO":
        return []
    else:
        verb, _, _ = r.resource.partition(" ")
        stage = f"{r.api_id}/{r.stage}"
        out = [f"Extended Request Id: {r.request_id}"]
        if r.authorizer is not None:
            out.append(f"Starting authorizer: {r.authorizer} for request: {r.request_id}")
            if r.unauthorized:
                return [_cut(f"({r.request_id}) {line}") for line in
                        out + [f"Unauthorized request: {r.request_id}", completed]]
            out.append("Successfully completed authorizer execution")
        out += [f"Verifying Usage Plan for request: {r.request_id}. API Key:  API Stage: {stage}",
               f"API Key  authorized because method '{r.resource}' does not require API Key. "
               "Request will not contribute to throttle or quota limits",
               f"Usage Plan check succeeded for API Key  and API Stage {stage}",
               f"Starting execution for request: {r.request_id}",
               f"HTTP Method: {r.http_method or verb}, Resource Path: {r.path}"]
        if data_trace:
            out += [f"Method request path: {java_map(r.path_parameters)}",
                    f"Method request query string: {java_map(r.query)}",
                    f"Method request headers: {java_map(r.headers)}",
                    f"Method request body before transformations: {_text(r.body)}"]
        if r.endpoint is not None:
            out.append(f"Endpoint request URI: {r.endpoint}")
            if data_trace:
                out.append(f"Endpoint request body after transformations: {_text(r.endpoint_body)}")
            out.append(f"Sending request to {r.endpoint}")
            if r.integration_ms is not None:
                out.append(f"Received response. Status: 200, Integration latency: {int(r.integration_ms)} ms")
                if data_trace and r.endpoint_answer is not None:
                    out.append(f"Endpoint response body before transformations: {_text(r.endpoint_answer)}")
        if r.error:
            out.append(r.error)
        else:
            if data_trace:
                out += [f"Method response body after transformations: {_text(r.response_body)}",
                        f"Method response headers: {java_map(dict(r.response_headers))}"]
            out.append("Successfully completed execution")
        out.append(completed)
    return [_cut(f"({r.request_id}) {line}") for line in out]


def websocket_group(api_id: str, stage: str) -> str:
    """A WebSocket API stage's execution log group."""
    return f"/aws/apigateway/{api_id}/{stage}"


class WsRequest(NamedTuple):
    """What one WebSocket connect, message or disconnect tells (``error``: why it failed, when it did)."""

    request_id: str
    api_id: str
    stage: str
    route_key: str
    event_type: str  # CONNECT, MESSAGE, DISCONNECT
    connection_id: str
    source_ip: str
    user_agent: str | None
    body: bytes  # the message (empty for CONNECT and DISCONNECT)
    endpoint: str | None
    endpoint_body: bytes | None
    endpoint_answer: bytes | None
    integration_ms: float | None
    status: int
    response_body: bytes | None  # what went back to the client (a two-way route), or None
    error: str | None
    authorizer: str | None = None
    unauthorized: bool = False


def websocket_lines(level: str, data_trace: bool, r: WsRequest) -> list[str]:
    """A WebSocket request's lines at a logging level (``OFF``: none), in REST's line shapes where the
    steps are the same, with the route and the client's connection in AWS's WebSocket wording."""
    if level == "ERROR":
        if not r.error:
            return []
        out = [r.error]
    elif level != "INFO":
        return []
    else:
        stage = f"{r.api_id}/{r.stage}"
        out = [f"Extended Request Id: {r.request_id}"]
        if r.authorizer is not None:
            out.append(f"Starting authorizer: {r.authorizer} for request: {r.request_id}")
            if r.unauthorized:
                out.append(f"Unauthorized request: {r.request_id}")
                return [_cut(f"({r.request_id}) {line}") for line in out]
            out.append("Successfully completed authorizer execution")
        out += [f"Verifying Usage Plan for request: {r.request_id}. API Key:  API Stage: {stage}",
                f"Usage Plan check succeeded for API Key  and API Stage {stage}",
                f"Starting execution for request: {r.request_id}",
                f"WebSocket Request Route: [{r.route_key}]"]
        client = f"Client [UserAgent: {r.user_agent}, SourceIp: {r.source_ip}]"
        if r.event_type == "CONNECT":
            out.append(f"{client} is connecting to WebSocket API [{r.api_id}].")
        elif r.event_type == "DISCONNECT":
            out.append(f"{client} is disconnecting from WebSocket API [{r.api_id}], connection [{r.connection_id}].")
        if data_trace and r.event_type == "MESSAGE":
            out.append(f"Method request body before transformations: {_text(r.body)}")
        if r.endpoint is not None:
            out.append(f"Endpoint request URI: {r.endpoint}")
            if data_trace:
                out.append(f"Endpoint request body after transformations: {_text(r.endpoint_body)}")
            out.append(f"Sending request to {r.endpoint}")
            if r.integration_ms is not None and r.endpoint_answer is not None:
                out.append(f"Received response. Integration latency: {int(r.integration_ms)} ms")
                if data_trace:
                    out.append(f"Endpoint response body before transformations: {_text(r.endpoint_answer)}")
        if r.error:
            out.append(r.error)
        else:
            if data_trace and r.response_body is not None:
                out.append(f"Method response body after transformations: {_text(r.response_body)}")
            out.append("Successfully completed execution")
    out.append(f"Method completed with status: {r.status}")
    return [_cut(f"({r.request_id}) {line}") for line in out]


class ExecutionLogs:
    """Writes a request's lines when its method logs and the account has a CloudWatch role."""

    def __init__(self, write: Write, role: Callable[[], str | None], clock: Callable[[], float] = time.time) -> None:
        self.write = write
        self.role = role  # the account's cloudwatchRoleArn (GetAccount), or None
        self.clock = clock
        self._process = uuid.uuid4().hex  # one stream per stage and process

    def stream_name(self, api_id: str, stage: str) -> str:
        return hashlib.md5(f"{self._process}/{api_id}/{stage}".encode()).hexdigest()

    def record(self, member: Mapping | None, r: Request) -> None:
        """``member``: the method's settings (``method_settings.effective``), or None."""
        if not member or member.get("loggingLevel") not in ("ERROR", "INFO") or not self.role():
            return
        out = lines(member["loggingLevel"], bool(member.get("dataTraceEnabled")), r)
        if not out:
            return
        self._write(group_name(r.api_id, r.stage), r.api_id, r.stage, out)

    def record_websocket(self, settings: Mapping | None, r: WsRequest) -> None:
        """``settings``: the route's (``RouteSettings`` over the stage's ``DefaultRouteSettings``): its
        ``LoggingLevel`` and ``DataTraceEnabled``; written to ``/aws/apigateway/<api-id>/<stage>``."""
        if not settings or settings.get("LoggingLevel") not in ("ERROR", "INFO") or not self.role():
            return
        self._write(websocket_group(r.api_id, r.stage), r.api_id, r.stage,
                    websocket_lines(settings["LoggingLevel"], bool(settings.get("DataTraceEnabled")), r))

    def _write(self, group: str, api_id: str, stage: str, out: list[str]) -> None:
        stream, now = self.stream_name(api_id, stage), int(self.clock() * 1000)
        for line in out:
            self.write(group, stream, now, line)


__all__ = ["ExecutionLogs", "Request", "WsRequest", "lines", "websocket_lines", "group_name", "websocket_group",
           "java_map", "MAX_LINE_BYTES"]
