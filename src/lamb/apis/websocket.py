"""WebSocket APIs (API Gateway v2, ``ProtocolType: WEBSOCKET``) served on Lamb's port.

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api.html

A WebSocket upgrade request for a WEBSOCKET API's stage (``Host: <api-id>.execute-api.<region>.localhost``
and path ``/<stage>``, or the fallback path ``/_lamb/apis/<api-id>/<stage>``) is answered here:

1. no such stage, or a stage without a deployment: 403 ``{"message":"Forbidden"}``; a request
   that is not a version-13 WebSocket handshake: 400;
2. the ``$connect`` route's authorization (``AWS_IAM``: the handshake's SigV4 signature through ``iam_auth``,
   403; ``CUSTOM``: its REQUEST authorizer, 401, 403 or 500 as for HTTP APIs, its context in
   ``requestContext.authorizer`` of every later event), its API key (``ApiKeyRequired``: ``usage_plans``)
   and then its integration, when it has them, run before the handshake completes; the integration:
   a function error, a response that is not a Lambda proxy response, a function API Gateway may
   not invoke (``permission``), no integration response for a non-proxy answer or the integration
   timeout refuse the handshake with 502 (what users report AWS answering for a failing ``$connect``
   function), a non-2xx status with that status;
3. once accepted (101), each text or binary message is routed: the API's ``RouteSelectionExpression``
   (text with ``$request.body.<json path>`` variables) is evaluated on a JSON text message and names the route, else
   ``$default``; with neither, the client gets AWS's ``{"message": "Forbidden", "connectionId": …,
   "requestId": …}`` frame. A route's AWS_PROXY integration gets the MESSAGE event, a MOCK, HTTP,
   HTTP_PROXY or AWS one the message through its request template (``ws_mapping``); the answer (a
   proxy response's ``body``, or what the selected integration response makes of the backend's)
   goes back to the client only when the route has a route response (two-way); a failed
   integration sends ``{"message": "Internal server error", …}``;
4. when the connection ends (the client's close, DeleteConnection, a limit, the socket lost)
   ``$disconnect`` is invoked, best effort, as AWS does.

Limits (``limits.py``, https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html):
a frame over 32 KB or a message over 128 KB closes the connection with 1009; 10 minutes without
a frame from the client or a message to it, or 2 hours in all, close it with 1001 (``Going away``).

The @connections API (``apigatewaymanagementapi``: PostToConnection, GetConnection,
DeleteConnection; api/apigatewaymanagement.py) reaches a connection through ``Connections``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
import time
import uuid
from typing import Any, Callable, NamedTuple
from urllib.parse import parse_qsl, urlencode

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
from wsproto.utilities import generate_accept_token

from ..http.server import Request, Response, Switch
from ..protocol.errors import AwsError
from ..urls.event import http_time
from . import access_log, authorizers, aws_services, execution_log, http_proxy, iam_auth, mapped, mock, vtl
from . import ws_mapping
from . import metrics as api_metrics
from .throttle import Buckets
from .usage_plans import INVALID_KEY, Refusal, UsagePlans

log = logging.getLogger("lamb.apis.websocket")

CONNECT, DISCONNECT, DEFAULT = "$connect", "$disconnect", "$default"
RESERVED = (CONNECT, DISCONNECT, DEFAULT)
# Where a $connect REQUEST authorizer's identity sources look: header, query string, stage variable.
IDENTITY_SOURCES = ("route.request.header.", "route.request.querystring.", "stageVariables.")
GOING_AWAY, TOO_BIG, NORMAL = 1001, 1009, 1000
# An API's ApiKeySelectionExpression: where a route with ApiKeyRequired finds the key (AWS's two values).
KEY_HEADER, KEY_AUTHORIZER = "$request.header.x-api-key", "$context.authorizer.usageIdentifierKey"
KEY_SELECTIONS = (KEY_HEADER, KEY_AUTHORIZER)
# A route selection expression's parts: ``\$`` (a literal dollar), ``${request.body.<path>}`` or
# ``$request.body.<path>`` (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-selection-expressions.html).
_VARIABLE = re.compile(r"\\\$|\$\{request\.body((?:\.[A-Za-z0-9_\-]+)+)\}|\$request\.body((?:\.[A-Za-z0-9_]+)+)")
_STAGE_VAR = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")  # in an integration's URI, as HTTP APIs
_MANAGEMENT = re.compile(r"^(?:/_lamb/apis/[^/]+/[^/]+|/[^/@][^/]*)?(/@connections/[^/]+)$")


def _short_id() -> str:
    """AWS's connection and message ids: 16 characters of base64 ending in ``=`` (``Df14mfUXIAMCIyg=``),
    drawn again while they hold ``+`` or ``/`` so that they stay one path segment as they are."""
    while True:
        ident = base64.b64encode(secrets.token_bytes(11)).decode()
        if "+" not in ident and "/" not in ident:
            return ident


# ------------------------------------------------------------------ route selection
def _parts(expression: str) -> list[str | tuple[str, ...]] | None:
    """Literal text and body paths (tuples of member names), or None for another variable."""
    parts: list[str | tuple[str, ...]] = []
    pos = 0
    for m in _VARIABLE.finditer(expression):
        literal = expression[pos:m.start()]
        if "$" in literal:
            return None
        parts += [literal, "$" if m.group(0) == "\\$" else tuple((m.group(1) or m.group(2)).split(".")[1:])]
        pos = m.end()
    if "$" in expression[pos:]:
        return None
    parts.append(expression[pos:])
    return parts


def selection_problem(expression: str | None) -> str | None:
    """Why ``expression`` is not a route selection expression Lamb evaluates, else None."""
    if not expression:
        return "RouteSelectionExpression is required for a WEBSOCKET API"
    if _parts(expression) is None:
        return (f"Invalid route selection expression specified: {expression}. Lamb evaluates text with "
                "$request.body.<json path> and ${request.body.<json path>} variables (\\$ for a dollar sign).")
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, (dict, list)) or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def select_route(expression: str, text: str) -> str | None:
    """The route key ``expression`` makes of a text message, or None when a variable has no value
    (a non-JSON message, a missing member, a value that is an object or a list)."""
    parts = _parts(expression)
    if parts is None:
        return None
    body: Any = None
    if any(isinstance(p, tuple) for p in parts):
        try:
            body = json.loads(text)
        except ValueError:
            return None
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = body
        for name in part:
            if not isinstance(value, dict) or name not in value:
                return None
            value = value[name]
        found = _text(value)
        if found is None:
            return None
        out.append(found)
    return "".join(out)


def management_path(req: Request) -> str | None:
    """``/@connections/<id>`` of a request for the @connections API, signed for ``execute-api``
    (at ``/<stage>/@connections/<id>`` on the API's Host, ``/_lamb/apis/<api>/<stage>/@connections/<id>``
    or ``/@connections/<id>`` on Lamb's port), else None."""
    if "/@connections/" not in req.path:
        return None
    m = _MANAGEMENT.match(req.path)
    if m is None:
        return None
    auth = req.headers.get("authorization", "")
    if "/execute-api/aws4_request" not in auth and req.query.find("execute-api") < 0:
        return None
    return m.group(1)


# ------------------------------------------------------------------ connections
class Connections:
    """The open connections of one account and region's WebSocket APIs, by connection id."""

    def __init__(self) -> None:
        self.open: dict[str, "WsConnection"] = {}

    def get(self, connection_id: str) -> "WsConnection | None":
        return self.open.get(connection_id)

    def add(self, conn: "WsConnection") -> None:
        self.open[conn.id] = conn

    def discard(self, conn: "WsConnection") -> None:
        if self.open.get(conn.id) is conn:
            del self.open[conn.id]


_METHODS = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}


def connection_arn(connections: Connections, region: str, account: str, connection_id: str, operation: str) -> str:
    """The resource execute-api:ManageConnections is checked on:
    ``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/@connections/<id>``
    (``*/*`` for the API and stage of a connection that is not open)."""
    conn = connections.get(connection_id)
    where = f"{conn.api_id}/{conn.stage}" if conn is not None else "*/*"
    return (f"arn:aws:execute-api:{region}:{account}:{where}/{_METHODS.get(operation, 'POST')}"
            f"/@connections/{connection_id}")


class Peer(NamedTuple):
    source_ip: str
    user_agent: str | None


class WsConnection:
    """One accepted WebSocket connection: wsproto's frames over the socket the HTTP server handed over."""

    def __init__(self, server: "WebSocketServer", api_id: str, stage: str, domain: str, connection_id: str,
                 peer: Peer, connected_at_ms: int, variables: dict) -> None:
        self.server = server
        self.api_id = api_id
        self.stage = stage
        self.domain = domain
        self.id = connection_id
        self.peer = peer
        self.connected_at_ms = connected_at_ms
        self.last_active = connected_at_ms / 1000.0
        self.variables = variables
        self.ws = Connection(ConnectionType.SERVER)
        self.transport: asyncio.Transport | None = None
        self._parts: list[bytes | str] = []
        self._size = 0  # bytes of the message being received
        self._frame = 0  # bytes of the frame being received
        self._timer: asyncio.TimerHandle | None = None
        self._closing_timer: asyncio.TimerHandle | None = None
        self._ended = False
        # What a $connect authorizer let through (requestContext.authorizer of every event), or None.
        self.authorizer: dict | None = None
        # The $connect request's headers and query string (``route.request.*`` of request parameters).
        self.headers: dict[str, str] = {}
        self.query: dict[str, str] = {}
        self.identity: dict = {}  # an AWS_IAM $connect's signer (requestContext.identity of every event)
        self.usage_key: str | None = None  # the $connect authorizer's usageIdentifierKey
        self._close_code: int | None = None
        self._close_reason = ""

    # -- the HTTP server's hand-over (http.server.Switch)
    def connection_made(self, transport: asyncio.Transport, buffered: bytes) -> None:
        self.transport = transport
        self.server.connections.add(self)
        self._arm()
        if buffered:
            self.data_received(buffered)

    def data_received(self, data: bytes) -> None:
        if self._ended:  # closed by the server: the client's answering close frame ends the socket now
            t = self.transport
            if t is not None and not t.is_closing():
                try:
                    self.ws.receive_data(data)
                    if any(isinstance(e, CloseConnection) for e in self.ws.events()):
                        t.close()
                except Exception:  # noqa: BLE001
                    t.close()
            return
        self.last_active = time.time()
        try:
            self.ws.receive_data(data)
            for event in self.ws.events():
                if self._ended:  # a limit closed it: nothing after that is read
                    return
                if isinstance(event, (TextMessage, BytesMessage)):
                    self._part(event)
                elif isinstance(event, Ping):
                    self._write(self.ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    self._close_code, self._close_reason = event.code, event.reason or ""
                    if self.ws.state == ConnectionState.REMOTE_CLOSING:
                        self._write(self.ws.send(event.response()))
                    self._end()
                    return
        except Exception as e:  # noqa: BLE001 - a protocol error from the client ends its connection
            log.info("WebSocket %s: %s", self.id, e)
            self.close(1002, "Protocol error")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._close_code is None:
            self._close_code, self._close_reason = 1006, "Connection lost"
        self._end()

    # -- receiving
    def _part(self, event: TextMessage | BytesMessage) -> None:
        data = event.data
        n = len(data.encode()) if isinstance(data, str) else len(data)
        limits = self.server.limits
        self._frame += n
        self._size += n
        if self._frame > limits.websocket_frame_max_bytes or self._size > limits.websocket_message_max_bytes:
            self.close(TOO_BIG, "Message too big")
            return
        if event.frame_finished:
            self._frame = 0
        self._parts.append(data)
        if not event.message_finished:
            return
        parts, self._parts, self._size = self._parts, [], 0
        if isinstance(event, TextMessage):
            self.server.message(self, "".join(parts), False)  # type: ignore[arg-type]
        else:
            self.server.message(self, b"".join(parts), True)  # type: ignore[arg-type]

    # -- sending
    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send(self, data: bytes) -> None:
        """A message to the client: a text frame when ``data`` is UTF-8, else a binary frame."""
        if self._ended or self.ws.state != ConnectionState.OPEN:
            raise ConnectionError("closed")
        try:
            event: TextMessage | BytesMessage = TextMessage(data=data.decode("utf-8"))
        except UnicodeDecodeError:
            event = BytesMessage(data=data)
        self.last_active = time.time()
        self._write(self.ws.send(event))
        self.server.sent(self)

    def send_json(self, obj: dict) -> None:
        try:
            self.send(json.dumps(obj).encode())
        except ConnectionError:
            pass

    def close(self, code: int = NORMAL, reason: str = "") -> None:
        """Close from the server's side: the close frame, then the socket once the client answers
        (or after a moment); ``$disconnect`` runs now."""
        if self._ended:
            return
        self._close_code, self._close_reason = code, reason
        if self.ws.state == ConnectionState.OPEN:
            try:
                self._write(self.ws.send(CloseConnection(code=code, reason=reason)))
            except Exception:  # noqa: BLE001
                pass
        t = self.transport
        if t is not None:
            self._closing_timer = asyncio.get_running_loop().call_later(2.0, t.close)
        self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.server.connections.discard(self)
        if self.ws.state in (ConnectionState.CLOSED, ConnectionState.REJECTING) and self.transport is not None:
            self.transport.close()
        self.server.disconnected(self, self._close_code or 1005, self._close_reason)

    # -- limits: idle timeout and connection duration
    def _arm(self) -> None:
        limits = self.server.limits
        due = min(self.last_active + limits.websocket_idle_timeout_s,
                  self.connected_at_ms / 1000.0 + limits.websocket_connection_max_s)
        self._timer = asyncio.get_running_loop().call_later(max(0.0, due - time.time()), self._check)

    def _check(self) -> None:
        self._timer = None
        limits = self.server.limits
        now = time.time()
        if now - self.last_active >= limits.websocket_idle_timeout_s or \
                now - self.connected_at_ms / 1000.0 >= limits.websocket_connection_max_s:
            self.close(GOING_AWAY, "Going away")
        elif not self._ended:
            self._arm()

    def info(self) -> dict:
        """GetConnection's answer."""
        identity: dict = {"SourceIp": self.peer.source_ip}
        if self.peer.user_agent is not None:
            identity["UserAgent"] = self.peer.user_agent
        return {"ConnectedAt": self.connected_at_ms / 1000.0, "Identity": identity, "LastActiveAt": self.last_active}


# ------------------------------------------------------------------ serving
class Invoker(NamedTuple):
    """What serving a WebSocket API uses of the HTTP API server (apis/serve.py)."""

    target: Callable[[str], Any]  # function ARN -> serve.Target (raises AwsError)
    may_invoke: Callable[..., bool]  # (role, target, source ARN) -> bool
    invoke: Callable[..., "asyncio.Future"]  # (function, qualifier, payload, request_id=...) -> result
    function_arn_of: Callable[[str], str]
    # HTTP and HTTP_PROXY integrations: (http_proxy.Outgoing, timeout s, request id) -> future of an Answer
    # (raises http_proxy.Unreachable); None: they fail.
    forward: Callable[..., "asyncio.Future"] | None = None
    aws: "aws_services.AwsServices | None" = None  # AWS integrations to other services than Lambda
    # Event invocations of AWS (Lambda) integrations: (function, qualifier, payload, request_id=...) -> awaitable
    invoke_async: Callable[..., Any] | None = None


def _message(status: int, message: str) -> Response:
    return Response(status, [("Content-Type", "application/json")],
                    json.dumps({"message": message}, separators=(",", ":")).encode())


def not_upgraded() -> Response:
    """A plain HTTP request for a WebSocket API (Lamb's answer: 426, the handshake is required)."""
    return _message(426, "Upgrade Required")


class WebSocketServer:
    """Accepts upgrades for WEBSOCKET APIs and runs their routes."""

    def __init__(self, *, invoker: Invoker, connections: Connections, docs: Callable[[str], dict | None],
                 domain: Callable[[str], str], region: str, account_id: str, limits: Any,
                 port: Callable[[], int], put: Callable[..., None] | None = None,
                 access_logs: "access_log.AccessLogs | None" = None,
                 signer: Callable[[str], object | None] | None = None,
                 execution_logs: "execution_log.ExecutionLogs | None" = None,
                 usage: "UsagePlans | None" = None,
                 after_answer: Callable[[Callable[[], None]], None] | None = None) -> None:
        self.usage = usage  # API keys and usage plans (usage_plans.py): routes with ApiKeyRequired; None: refused
        self.after_answer = after_answer or (lambda fn: fn())  # when usage counts are written
        self.execution_logs = execution_logs  # routes' LoggingLevel/DataTraceEnabled (execution_log.py), or None
        self.put = put  # AWS/ApiGateway points (metrics.py: ConnectCount, MessageCount, …), or None
        self.access_logs = access_logs  # stages' AccessLogSettings (access_log.py), or None
        self.signer = signer  # access key -> its secret and policies: AWS_IAM on $connect (iam_auth.py)
        self._latency: dict[str, float] = {}  # integration latency (ms) by request id, until logged
        self._notes: dict[str, dict] = {}  # what a non-proxy integration met, by request id, until logged
        self.invoker = invoker
        self.docs = docs  # api id -> the API's document (apis/store.py), None once deleted
        self.connections = connections
        self.domain = domain
        self.region = region
        self.account_id = account_id
        self.limits = limits
        self.port = port
        self._deployed: dict[tuple[str, str], dict[str, dict]] = {}  # (api, deployment) -> routes by key
        self.buckets = Buckets()  # stages' throttling per route key (throttle.py), $connect included
        self._tasks: set[asyncio.Future] = set()

    def forget(self, api_id: str) -> None:
        """The API changed or was deleted: its deployments are read again, and the connections of a
        deleted API or stage are closed with 1001 (Going away)."""
        for key in [k for k in self._deployed if k[0] == api_id]:
            del self._deployed[key]
        doc = self.docs(api_id)
        for conn in [c for c in self.connections.open.values() if c.api_id == api_id]:
            if doc is None or conn.stage not in doc["stages"]:
                conn.close(GOING_AWAY, "Going away")

    def _routes(self, api_id: str, doc: dict, deployment_id: str) -> dict[str, dict] | None:
        found = self._deployed.get((api_id, deployment_id))
        if found is None:
            dep = doc["deployments"].get(deployment_id)
            if dep is None:
                return None
            snap = dep["_snapshot"]
            found = {}
            authorizers_of = snap.get("authorizers", {})
            for route in snap["routes"].values():
                integration = snap["integrations"].get((route.get("Target") or "").partition("/")[2])
                found[route["RouteKey"]] = {"route": route, "integration": integration,
                                            "authorizer": authorizers_of.get(route.get("AuthorizerId") or "")}
            self._deployed[(api_id, deployment_id)] = found
        return found

    # -- the handshake and $connect
    def upgrade(self, req: Request, doc: dict, api_id: str, stage_name: str | None, path: str):
        if stage_name is None:  # by Host: /<stage>
            stage_name, _, rest = path[1:].partition("/")
            path = "/" + rest
        stage = doc["stages"].get(stage_name)
        if stage is None or not stage.get("DeploymentId") or path not in ("/", ""):
            return _message(403, "Forbidden")
        routes = self._routes(api_id, doc, stage["DeploymentId"])
        if routes is None:
            return _message(403, "Forbidden")
        self._count(api_id, stage_name, CONNECT, "ConnectCount")
        if not self._admitted(api_id, stage_name, stage, CONNECT):
            self._count(api_id, stage_name, CONNECT, "ClientError")
            return _message(429, "Too Many Requests")
        headers = req.headers
        key = headers.get("sec-websocket-key")
        if req.method != "GET" or headers.get("upgrade", "").lower() != "websocket" or not key or \
                headers.get("sec-websocket-version") != "13":
            return _message(400, "Bad Request")
        peer = req.conn.transport.get_extra_info("peername") if req.conn is not None and req.conn.transport else None
        now_ms = int(time.time() * 1000)
        conn = WsConnection(self, api_id, stage_name, self.domain(api_id), _short_id(),
                            Peer(peer[0] if peer else "", headers.get("user-agent")), now_ms,
                            stage.get("StageVariables") or {})
        accept = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                  ("Sec-WebSocket-Accept", generate_accept_token(key.encode()).decode())]
        entry = routes.get(CONNECT)
        custom = entry is not None and entry["route"].get("AuthorizationType") == "CUSTOM"
        request_id = str(uuid.uuid4())
        event = self._connect_event(conn, req, request_id, now_ms)
        conn.headers, conn.query = dict(req.headers), dict(event.get("queryStringParameters") or {})
        refused = self._gatekeep(conn, req, entry, event) if entry is not None else None
        if refused is not None:
            self._access(conn, event["requestContext"], refused.status, json.loads(refused.body)["message"])
            return refused
        if entry is None or entry["integration"] is None and not custom:
            self._access(conn, event["requestContext"], 200)
            return Switch(accept, conn)
        answer = asyncio.ensure_future(self._connect(conn, entry, event, request_id, accept, custom))
        answer.add_done_callback(lambda f: f.cancelled() or f.exception() is not None or self._access(
            conn, event["requestContext"], 200 if isinstance(f.result(), Switch) else f.result().status))
        return answer

    def _gatekeep(self, conn: WsConnection, req: Request, entry: dict, event: dict) -> Response | None:
        """``$connect``'s AWS_IAM authorization (the handshake signed with SigV4 for ``execute-api``, in its
        headers or its query string; the signer's identity policies must allow ``execute-api:Invoke`` on
        ``arn:aws:execute-api:<region>:<account>:<api>/<stage>/$connect``): 403 ``{"message":"Forbidden"}``
        as HTTP APIs answer, else None and the signer in ``requestContext.identity``."""
        if entry["route"].get("AuthorizationType") != "AWS_IAM":
            return self._connect_key(conn, entry, event)
        arn = f"arn:aws:execute-api:{self.region}:{self.account_id}:{conn.api_id}/{conn.stage}/{CONNECT}"
        try:
            caller = iam_auth.verify(req.method, req.path, req.query, req.headers, req.body,
                                     self.signer or (lambda _k: None))
            iam_auth.authorize(caller, arn)
        except iam_auth.Refused as e:
            log.info("WebSocket API %s: AWS_IAM refused (%s)", conn.api_id, e.body)
            self._count(conn.api_id, conn.stage, CONNECT, "ClientError")
            return _message(403, "Forbidden")
        conn.identity = caller.identity()
        event["requestContext"]["identity"].update(conn.identity)
        return self._connect_key(conn, entry, event)

    def _connect_key(self, conn: WsConnection, entry: dict, event: dict, authorized: bool = False) -> Response | None:
        """``$connect`` with ``ApiKeyRequired``: its key against the stage's usage plans (``_key``), after the
        authorizer when the route has one; the refusal's answer, else None."""
        if not entry["route"].get("ApiKeyRequired"):
            return None
        if not authorized and entry["route"].get("AuthorizationType") == "CUSTOM":
            return None  # checked after the authorizer (``_connect``), as REST APIs do
        refusal = self._key(conn, CONNECT, event["requestContext"])
        return _message(refusal.status, refusal.message) if refusal is not None else None

    def _key(self, conn: WsConnection, route_key: str, ctx: dict) -> Refusal | None:
        """A route with ``ApiKeyRequired``: the key the API's ``ApiKeySelectionExpression`` names (the
        ``$connect`` request's ``x-api-key`` header, or its authorizer's ``usageIdentifierKey``) admitted by a
        usage plan listing the stage (``usage_plans.admit``: 403, then the plan's throttle and quota, 429);
        the key in ``requestContext.identity`` (``apiKey``, ``apiKeyId``)."""
        doc = self.docs(conn.api_id)
        by_authorizer = doc is not None and doc["api"].get("ApiKeySelectionExpression") == KEY_AUTHORIZER
        value = conn.usage_key if by_authorizer else conn.headers.get("x-api-key")
        if self.usage is None:
            return Refusal(*INVALID_KEY)
        outcome = self.usage.admit(value, conn.api_id, conn.stage, route_key, "", self.buckets)
        if isinstance(outcome, Refusal):
            self._count(conn.api_id, conn.stage, route_key, "ClientError")
            return outcome
        conn.identity.update(apiKey=outcome.value, apiKeyId=outcome.key_id)
        ctx["identity"].update(apiKey=outcome.value, apiKeyId=outcome.key_id)
        self.usage.write_later(self.after_answer)
        return None

    async def _connect(self, conn: WsConnection, entry: dict, event: dict, request_id: str,
                       accept: list, custom: bool) -> Response:
        if custom:
            notes = self._notes.setdefault(request_id, {})
            notes["authorizer"] = (entry["authorizer"] or {}).get("AuthorizerId", "")
            try:
                conn.authorizer = await self._authorize(conn, entry["authorizer"], event)
            except authorizers.Refused as e:
                self._count(conn.api_id, conn.stage, CONNECT, "ClientError" if e.status < 500 else "ExecutionError")
                notes["unauthorized"] = e.status < 500
                if e.status >= 500:
                    notes["error"] = "Execution failed due to configuration error: Authorizer error"
                return _message(e.status, e.message)
            event["requestContext"]["authorizer"] = conn.authorizer
            refused = self._connect_key(conn, entry, event, authorized=True)
            if refused is not None:
                return refused
            if entry["integration"] is None:
                return Switch(accept, conn)
        outcome = await self._integrate(conn, CONNECT, entry, event, request_id)
        if outcome is None:
            return _message(502, "Bad Gateway")
        status, _body, headers = outcome
        if not 200 <= status < 300:
            return Response(status, [("Content-Type", "application/json")], b"")
        protocol = next((v for k, v in headers.items() if k.lower() == "sec-websocket-protocol"), None)
        if protocol:
            accept.append(("Sec-WebSocket-Protocol", protocol))
        return Switch(accept, conn)

    async def _authorize(self, conn: WsConnection, auth: dict | None, event: dict) -> dict:
        """A REQUEST authorizer on ``$connect``: its ``requestContext.authorizer`` (principalId, its
        context, integrationLatency); raises ``authorizers.Refused``: 401 without an identity source's
        value, 403 when its policy does not allow ``execute-api:Invoke`` on the ``$connect`` ARN, 500
        when it fails
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html)."""
        if auth is None:
            raise authorizers.Refused(*authorizers.INTERNAL)
        sources = auth.get("IdentitySource") or []
        values = authorizers.identity_values(sources, event["headers"], event.get("queryStringParameters") or {},
                                             conn.variables, conn.peer.source_ip, prefixes=IDENTITY_SOURCES)
        if sources and values is None:
            raise authorizers.Refused(*authorizers.UNAUTHORIZED)
        try:
            target = self.invoker.target(self.invoker.function_arn_of(auth["AuthorizerUri"]))
        except AwsError:
            raise authorizers.Refused(*authorizers.INTERNAL) from None
        source = f"arn:aws:execute-api:{self.region}:{self.account_id}:{conn.api_id}/authorizers/{auth['AuthorizerId']}"
        if not self.invoker.may_invoke(auth.get("AuthorizerCredentialsArn"), target, source):
            log.info("WebSocket API %s: %s may not be invoked for %s", conn.api_id, target.arn, source)
            raise authorizers.Refused(*authorizers.INTERNAL)
        method_arn = f"arn:aws:execute-api:{self.region}:{self.account_id}:{conn.api_id}/{conn.stage}/{CONNECT}"
        request = {"type": "REQUEST", "methodArn": method_arn, **event}
        request.pop("isBase64Encoded", None)
        request.setdefault("stageVariables", dict(conn.variables))
        value, latency = await authorizers.run_lambda(
            lambda p: self.invoker.invoke(target.function, target.qualifier, p, request_id=str(uuid.uuid4())),
            json.dumps(request, separators=(",", ":")).encode())
        allowed, context, principal = authorizers.decide(value, False, method_arn)
        if not allowed:
            raise authorizers.Refused(*authorizers.FORBIDDEN)
        key = value.get("usageIdentifierKey") if isinstance(value, dict) else None
        conn.usage_key = key if isinstance(key, str) else None
        return authorizers.Authorized("lambda", context, principal, latency).for_event("1.0")

    def _context(self, conn: WsConnection, route_key: str, event_type: str, request_id: str, now_ms: int) -> dict:
        ctx: dict = {"routeKey": route_key}
        if event_type == "MESSAGE":
            ctx["messageId"] = _short_id()
        identity: dict = dict(conn.identity, sourceIp=conn.peer.source_ip)
        if event_type == "CONNECT" and conn.peer.user_agent is not None:
            identity["userAgent"] = conn.peer.user_agent
        if conn.authorizer is not None:
            ctx["authorizer"] = dict(conn.authorizer)
        ctx.update({"eventType": event_type, "extendedRequestId": request_id, "requestTime": http_time(now_ms),
                    "messageDirection": "IN", "stage": conn.stage, "connectedAt": conn.connected_at_ms,
                    "requestTimeEpoch": now_ms, "identity": identity, "requestId": request_id,
                    "domainName": conn.domain, "connectionId": conn.id, "apiId": conn.api_id})
        return ctx

    def _connect_event(self, conn: WsConnection, req: Request, request_id: str, now_ms: int) -> dict:
        headers = dict(req.headers)
        headers.setdefault("x-forwarded-for", conn.peer.source_ip)
        headers.setdefault("x-forwarded-port", str(self.port()))
        headers.setdefault("x-forwarded-proto", "http")
        event: dict = {"headers": headers, "multiValueHeaders": {k: v.split(",") if k == "x-forwarded-for" else [v]
                                                                  for k, v in headers.items()}}
        if req.query:
            pairs = parse_qsl(req.query, keep_blank_values=True)
            multi: dict[str, list[str]] = {}
            for k, v in pairs:
                multi.setdefault(k, []).append(v)
            event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()}
            event["multiValueQueryStringParameters"] = multi
        event["requestContext"] = self._context(conn, CONNECT, "CONNECT", request_id, now_ms)
        if conn.variables:
            event["stageVariables"] = dict(conn.variables)
        event["isBase64Encoded"] = False
        return event

    # -- integrations
    async def _integrate(self, conn: WsConnection, route_key: str, entry: dict, event: dict,
                         request_id: str) -> tuple[int, str | None, dict] | None:
        """(status, body, headers) of a route's Lambda proxy integration, or None when it failed
        (``ExecutionError``; a 4XX/5XX ``statusCode`` counts as ``IntegrationError``)."""
        outcome = await self._run(conn, route_key, entry, event, request_id)
        if outcome is None:
            self._count(conn.api_id, conn.stage, route_key, "ExecutionError")
        elif outcome[0] >= 400:
            self._count(conn.api_id, conn.stage, route_key, "IntegrationError")
        return outcome

    async def _run(self, conn: WsConnection, route_key: str, entry: dict, event: dict,
                   request_id: str) -> tuple[int, str | bytes | None, dict] | None:
        integration = entry["integration"]
        if integration is None:
            return None
        if integration.get("IntegrationType") == "AWS_PROXY":
            return await self._proxy(conn, route_key, integration, event, request_id)
        return await self._mapped(conn, route_key, integration, event, request_id)

    def _lambda(self, conn: WsConnection, route_key: str, integration: dict, request_id: str) -> Any:
        """The function an AWS_PROXY or AWS (Lambda) integration invokes, when API Gateway may invoke it."""
        notes = self._notes.setdefault(request_id, {})
        uri = _STAGE_VAR.sub(lambda m: conn.variables.get(m.group(1), ""), integration["IntegrationUri"])
        try:
            target = self.invoker.target(self.invoker.function_arn_of(uri))
        except AwsError:
            log.info("WebSocket API %s: integration %s names no function", conn.api_id, uri)
            notes["error"] = "Execution failed due to configuration error: Invalid Lambda function"
            return None
        notes["endpoint"] = f"https://lambda.{self.region}.amazonaws.com/2015-03-31/functions/{target.arn}/invocations"
        source = f"arn:aws:execute-api:{self.region}:{self.account_id}:{conn.api_id}/{conn.stage}/{route_key}"
        if not self.invoker.may_invoke(integration.get("CredentialsArn"), target, source):
            log.info("WebSocket API %s: %s may not be invoked for %s", conn.api_id, target.arn, source)
            notes["error"] = "Execution failed due to configuration error: Invalid permissions on Lambda function"
            return None
        return target

    def _timeout_s(self, integration: dict) -> float:
        return integration.get("TimeoutInMillis", self.limits.websocket_timeout_max_ms) / 1000.0

    async def _waited(self, conn: WsConnection, route_key: str, integration: dict, pending: "asyncio.Future",
                      request_id: str) -> Any:
        """The integration's result within its ``TimeoutInMillis`` (``IntegrationLatency`` recorded);
        raises ``TimeoutError`` past it, or the integration's own error."""
        timeout_s = self._timeout_s(integration)
        began = time.monotonic()
        done, _ = await asyncio.wait({pending}, timeout=timeout_s)
        took = (time.monotonic() - began) * 1000.0
        self._count(conn.api_id, conn.stage, route_key, "IntegrationLatency", took)
        self._latency[request_id] = took
        if not done:
            log.info("WebSocket API %s: integration timed out after %.3f s", conn.api_id, timeout_s)
            raise TimeoutError()
        return pending.result()

    async def _proxy(self, conn: WsConnection, route_key: str, integration: dict, event: dict,
                     request_id: str) -> tuple[int, str | None, dict] | None:
        """A Lambda proxy integration: the event in, a proxy response out."""
        target = self._lambda(conn, route_key, integration, request_id)
        if target is None:
            return None
        notes = self._notes.setdefault(request_id, {})
        notes["endpoint_body"] = payload = json.dumps(event, separators=(",", ":")).encode()
        try:
            pending = self.invoker.invoke(target.function, target.qualifier, payload, request_id=request_id)
            result = await self._waited(conn, route_key, integration, pending, request_id)
        except Exception as e:  # noqa: BLE001 - refused (throttled, no such function) or timed out
            log.info("WebSocket API %s: invocation failed (%r)", conn.api_id, e)
            notes["error"] = "Execution failed due to a timeout error" if isinstance(e, TimeoutError) else \
                f"Execution failed due to configuration error: {e}"
            return None
        notes["endpoint_answer"] = result.payload
        if result.function_error:
            notes["error"] = ("Lambda execution failed with status 200 due to customer function error: "
                              + mapped.error_message(result.payload))
            return None
        answer = proxy_response(result.payload)
        if answer is None:
            notes["error"] = "Execution failed due to configuration error: Malformed Lambda proxy response"
        return answer

    async def _mapped(self, conn: WsConnection, route_key: str, integration: dict, event: dict,
                      request_id: str) -> tuple[int, str | bytes | None, dict] | None:
        """A MOCK, HTTP, HTTP_PROXY or AWS integration (``ws_mapping``): the request through its template
        and parameters, the backend's answer through the integration response it selects (HTTP_PROXY:
        passed through)."""
        kind = integration.get("IntegrationType")
        body: str | bytes = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body)
        seen = ws_mapping.Seen(body, conn.headers, conn.query, event["requestContext"], conn.variables)
        try:
            payload = ws_mapping.request_payload(integration, seen) if kind != "HTTP_PROXY" else \
                (body if isinstance(body, bytes) else body.encode())
            params = ws_mapping.request_parameters(integration, seen)
        except (ws_mapping.Unsupported, vtl.TemplateError) as e:
            log.info("WebSocket API %s: the integration request could not be mapped (%r)", conn.api_id, e)
            return None
        notes = self._notes.setdefault(request_id, {})
        notes["endpoint_body"] = payload
        try:
            lambda_based = kind == "AWS" and not aws_services.is_service_uri(integration["IntegrationUri"])
            if kind == "MOCK":
                answer = ws_mapping.Answer(int(mock.status_in(payload.decode("utf-8", "replace")))
                                           if integration.get("RequestTemplates") else 200, b"")
            elif kind in ("HTTP", "HTTP_PROXY"):
                answer = await self._http(conn, route_key, integration, event, payload, params, request_id)
            elif not lambda_based:
                answer = await self._service(conn, route_key, integration, payload, params, request_id)
            else:
                answer = await self._function(conn, route_key, integration, payload, request_id,
                                              params["header"].get("X-Amz-Invocation-Type"))
        except Exception as e:  # noqa: BLE001 - unreachable, refused, timed out
            log.info("WebSocket API %s: %s integration failed (%r)", conn.api_id, kind, e)
            notes.setdefault("error", "Execution failed due to a timeout error" if isinstance(e, TimeoutError)
                             else f"Execution failed due to configuration error: {e or type(e).__name__}")
            return None
        notes["endpoint_answer"], status = answer.payload, answer.status
        if kind == "HTTP_PROXY":
            return status, answer.payload.decode("utf-8", "replace"), {}
        text = ws_mapping.selection_text(integration, answer, lambda_based)
        chosen = ws_mapping.select_response(integration.get("_responses") or {}, text)
        if chosen is None:
            log.info("WebSocket API %s: no integration response for %r", conn.api_id, text)
            notes["error"] = ("Execution failed due to configuration error: No match for output mapping and no "
                              "default output mapping configured. Endpoint Response Status Code: " + str(status))
            return None
        try:
            return status, ws_mapping.response_payload(chosen, answer, seen), {}
        except vtl.TemplateError as e:
            log.info("WebSocket API %s: the response template failed (%s)", conn.api_id, e)
            return None

    async def _http(self, conn: WsConnection, route_key: str, integration: dict, event: dict, payload: bytes,
                    params: dict, request_id: str) -> ws_mapping.Answer:
        """An HTTP or HTTP_PROXY integration's request (``http_proxy``): the endpoint's answer."""
        if self.invoker.forward is None:
            raise http_proxy.Unreachable("no HTTP client")
        url = http_proxy.target_url(integration["IntegrationUri"], params["path"], conn.variables,
                                    urlencode(params["querystring"]))
        headers = [("Content-Type", "application/json")]
        if event["requestContext"]["eventType"] == "CONNECT":  # the handshake's headers, as a proxy forwards them
            headers = http_proxy.forward_headers(conn.headers, source_ip=conn.peer.source_ip, port=self.port(),
                                                 proto="http", trace=f"Root=1-{uuid.uuid4().hex[:8]}-"
                                                                     f"{uuid.uuid4().hex[:24]}")
        for name, value in params["header"].items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]
        method = integration.get("IntegrationMethod") or "POST"
        out = http_proxy.Outgoing("POST" if method == "ANY" else method, url, headers, payload)
        self._notes.setdefault(request_id, {})["endpoint"] = url
        timeout_s = self._timeout_s(integration)
        answer = await self._waited(conn, route_key, integration, self.invoker.forward(out, timeout_s, request_id),
                                    request_id)
        return ws_mapping.Answer(answer.status, answer.body, tuple(answer.headers))

    async def _service(self, conn: WsConnection, route_key: str, integration: dict, payload: bytes, params: dict,
                       request_id: str) -> ws_mapping.Answer:
        """An AWS integration to another service than Lambda (``aws_services``): the service's answer."""
        if self.invoker.aws is None:
            raise aws_services.Refused("no AWS service client")
        uri = integration["IntegrationUri"]
        self._notes.setdefault(request_id, {})["endpoint"] = uri
        timeout_s = self._timeout_s(integration)
        pending = self.invoker.aws.rest(aws_services.rest_target(uri), integration.get("IntegrationMethod") or "POST",
                                        params["path"], params["querystring"], params["header"], payload,
                                        integration.get("CredentialsArn"), timeout_s)
        answer = await self._waited(conn, route_key, integration, pending, request_id)
        return ws_mapping.Answer(answer.status, answer.body, tuple(answer.headers))

    async def _function(self, conn: WsConnection, route_key: str, integration: dict, payload: bytes,
                        request_id: str, invocation_type: str | None = None) -> ws_mapping.Answer:
        """A Lambda (non-proxy) integration: 200 (500 for a function error) and the function's payload; with
        the Invoke call's ``X-Amz-Invocation-Type`` mapped to ``Event`` (``RequestParameters``, as REST APIs),
        Lambda's 202 with an empty payload once the event is queued (no ``errorMessage``: ``$default``)."""
        target = self._lambda(conn, route_key, integration, request_id)
        if target is None:
            raise aws_services.Refused("the function may not be invoked")
        if payload.strip():
            json.loads(payload)  # Lambda takes JSON only
        if invocation_type not in (None, "RequestResponse"):
            if invocation_type != "Event" or self.invoker.invoke_async is None:
                raise ValueError(f"invalid X-Amz-Invocation-Type {invocation_type!r}")
            queued = asyncio.ensure_future(self.invoker.invoke_async(target.function, target.qualifier, payload,
                                                                     request_id=request_id))
            await self._waited(conn, route_key, integration, queued, request_id)
            return ws_mapping.Answer(202, b"")
        pending = self.invoker.invoke(target.function, target.qualifier, payload, request_id=request_id)
        result = await self._waited(conn, route_key, integration, pending, request_id)
        return ws_mapping.Answer(500 if result.function_error else 200, result.payload)

    def message(self, conn: WsConnection, data: str | bytes, binary: bool) -> None:
        """A complete message from the client: routed and integrated without holding up the next."""
        task = asyncio.ensure_future(self._message(conn, data, binary))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _message(self, conn: WsConnection, data: str | bytes, binary: bool) -> None:
        request_id = str(uuid.uuid4())
        current = self._current_routes(conn)
        key = None
        if not binary and current is not None:
            key = select_route(current[1], data)  # type: ignore[arg-type]
        routes = current[0] if current is not None else {}
        entry = routes.get(key) if key is not None and key not in RESERVED else None
        route_key = key if entry is not None else DEFAULT
        if entry is None:
            entry = routes.get(DEFAULT)
        self._count(conn.api_id, conn.stage, route_key, "MessageCount")
        now_ms = int(time.time() * 1000)
        ctx = self._context(conn, route_key, "MESSAGE", request_id, now_ms)
        if entry is None:
            self._count(conn.api_id, conn.stage, route_key, "ClientError")
            self._access(conn, ctx, 403, "Forbidden")
            conn.send_json({"message": "Forbidden", "connectionId": conn.id, "requestId": request_id})
            return
        if current is not None and not self._admitted(conn.api_id, conn.stage, current[2], route_key):
            self._count(conn.api_id, conn.stage, route_key, "ClientError")
            self._access(conn, ctx, 429, "Too Many Requests")
            conn.send_json({"message": "Too Many Requests", "connectionId": conn.id, "requestId": request_id})
            return
        refusal = self._key(conn, route_key, ctx) if entry["route"].get("ApiKeyRequired") else None
        if refusal is not None:
            self._access(conn, ctx, refusal.status, refusal.message)
            conn.send_json({"message": refusal.message, "connectionId": conn.id, "requestId": request_id})
            return
        if binary:
            body, encoded = base64.b64encode(data).decode(), True  # type: ignore[arg-type]
        else:
            body, encoded = data, False
        event = {"requestContext": ctx, "body": body, "isBase64Encoded": encoded}
        if conn.variables:
            event["stageVariables"] = dict(conn.variables)
        self._notes.setdefault(request_id, {})["body"] = data
        outcome = await self._integrate(conn, route_key, entry, event, request_id)
        if outcome is None:
            self._access(conn, ctx, 500, "Internal server error")
            conn.send_json({"message": "Internal server error", "connectionId": conn.id, "requestId": request_id})
            return
        if entry["route"].get("_responses") and outcome[1] is not None:  # two-way: a route response exists
            answer = outcome[1].encode() if isinstance(outcome[1], str) else outcome[1]
            self._notes.setdefault(request_id, {})["response"] = answer
            try:
                conn.send(answer)
            except ConnectionError:
                pass
        self._access(conn, ctx, 200)

    def _count(self, api_id: str, stage_name: str, route_key: str, metric: str, value: float = 1.0) -> None:
        """One AWS/ApiGateway point (``metrics.py``), per route when the stage has detailed metrics."""
        if self.put is None:
            return
        dims = {"ApiId": api_id, "Stage": stage_name}
        doc = self.docs(api_id)
        stage = doc["stages"].get(stage_name) if doc is not None else None
        if stage is not None and api_metrics.detailed(stage, False):
            dims["Route"] = route_key
        self.put(metric, value, **dims)

    def sent(self, conn: WsConnection) -> None:
        """A message to the client (an answer, a PostToConnection): ``MessageCount`` too (under no route)."""
        if self.put is not None:
            self.put("MessageCount", 1.0, ApiId=conn.api_id, Stage=conn.stage)

    def _access(self, conn: WsConnection, ctx: dict, status: int, error: str | None = None) -> None:
        """The stage's access log line (``access_log``: the ``$context`` variables of WebSocket APIs that the
        event's requestContext holds) and execution log lines (``execution_log``) for a connect, message or
        disconnect."""
        latency = self._latency.pop(ctx["requestId"], None)
        notes = self._notes.pop(ctx["requestId"], None) or {}
        doc = self.docs(conn.api_id)
        stage = doc["stages"].get(conn.stage) if doc is not None else None
        if stage is None:
            return
        if self.execution_logs is not None:
            self._execution_log(conn, stage, ctx, status, error, latency, notes)
        if self.access_logs is None or access_log.settings(stage) is None:
            return
        values = {k: v for k, v in ctx.items() if not isinstance(v, dict)}
        values.update({"identity.sourceIp": conn.peer.source_ip, "identity.userAgent": conn.peer.user_agent,
                       "status": status, "domainPrefix": conn.api_id, "accountId": self.account_id})
        if latency is not None:
            values["integrationLatency"] = values["integration.latency"] = int(latency)
        if error is not None:
            values["error.message"] = error
        try:
            self.access_logs.record(stage, conn.api_id, conn.stage, values)
        except Exception:  # noqa: BLE001 - a log line never fails the connection
            log.exception("access log of WebSocket API %s failed", conn.api_id)

    def _execution_log(self, conn: WsConnection, stage: dict, ctx: dict, status: int, error: str | None,
                       latency: float | None, notes: dict) -> None:
        """The route's execution log lines, by its ``LoggingLevel`` and ``DataTraceEnabled``."""
        route_key = ctx["routeKey"]
        settings = dict(stage.get("DefaultRouteSettings") or {})
        settings.update({k: v for k, v in ((stage.get("RouteSettings") or {}).get(route_key) or {}).items()
                         if v is not None})
        if settings.get("LoggingLevel") not in ("INFO", "ERROR"):
            return
        if error is not None and not notes.get("error"):
            notes["error"] = f"Execution failed: {error}"
        body = notes.get("body")
        try:
            self.execution_logs.record_websocket(settings, execution_log.WsRequest(
                ctx["requestId"], conn.api_id, conn.stage, route_key, ctx["eventType"], conn.id,
                conn.peer.source_ip, conn.peer.user_agent,
                body.encode() if isinstance(body, str) else body or b"", notes.get("endpoint"),
                notes.get("endpoint_body"), notes.get("endpoint_answer"), latency, status, notes.get("response"),
                notes.get("error"), notes.get("authorizer"), bool(notes.get("unauthorized"))))
        except Exception:  # noqa: BLE001 - a log line never fails the connection
            log.exception("execution log of WebSocket API %s failed", conn.api_id)

    def _admitted(self, api_id: str, stage_name: str, stage: dict, route_key: str) -> bool:
        """Whether the stage's throttling (``DefaultRouteSettings``/``RouteSettings``) lets a connection
        (``$connect``) or a message of ``route_key`` through now."""
        limits = self.buckets.settings(stage, route_key)
        return limits is None or self.buckets.take((api_id, stage_name, route_key), *limits)

    def _current_routes(self, conn: WsConnection) -> tuple[dict, str, dict] | None:
        """The routes of the connection's stage as deployed now, the API's selection expression and
        the stage."""
        doc = self.docs(conn.api_id)
        if doc is None:
            return None
        stage = doc["stages"].get(conn.stage)
        if stage is None or not stage.get("DeploymentId"):
            return None
        routes = self._routes(conn.api_id, doc, stage["DeploymentId"])
        if routes is None:
            return None
        return routes, doc["api"].get("RouteSelectionExpression") or "", stage

    def disconnected(self, conn: WsConnection, code: int, reason: str) -> None:
        """``$disconnect``, best effort (AWS does not promise it either)."""
        found = self._current_routes(conn)
        entry = found[0].get(DISCONNECT) if found is not None else None
        request_id = str(uuid.uuid4())
        now_ms = int(time.time() * 1000)
        ctx = self._context(conn, DISCONNECT, "DISCONNECT", request_id, now_ms)
        ctx["disconnectStatusCode"] = code
        ctx["disconnectReason"] = reason
        if entry is None or entry["integration"] is None:
            self._access(conn, ctx, 200)
            return
        headers = {"Host": conn.domain, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
        event = {"headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
                 "requestContext": ctx, "isBase64Encoded": False}
        if conn.variables:
            event["stageVariables"] = dict(conn.variables)
        try:
            task = asyncio.ensure_future(self._integrate(conn, DISCONNECT, entry, event, request_id))
        except RuntimeError:  # no running loop: the server is shutting down
            return
        task.add_done_callback(lambda f: f.cancelled() or f.exception() is not None or self._access(
            conn, ctx, 200 if f.result() is not None else 500))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def proxy_response(payload: bytes) -> tuple[int, str | None, dict] | None:
    """(statusCode, body, headers) of a Lambda proxy response; a function returning nothing (null)
    answers 200 without a body; None for a malformed response."""
    try:
        value = json.loads(payload) if payload else None
    except ValueError:
        return None
    if value is None:
        return 200, None, {}
    if not isinstance(value, dict):
        return 200, payload.decode("utf-8", "replace"), {}
    status = value.get("statusCode", 200)
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        return None
    body = value.get("body")
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    headers = value.get("headers") if isinstance(value.get("headers"), dict) else {}
    return status, body, {str(k): str(v) for k, v in headers.items()}
