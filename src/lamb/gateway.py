"""The public port: AWS's Lambda REST API plus Lamb's own ``/_lamb/`` routes.

Every request goes route → parse → validate (the protocol layer, from botocore's
model) → operation handler → serialize. Anything an operation raises as
``AwsError`` reaches the client in AWS's error format; anything else is logged
and answered as AWS's ``ServiceException`` — never a traceback, never a hang.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any, Callable, Protocol
from urllib.parse import parse_qsl

from . import console, stack_routes
from .api.context import RequestContext, Services
from .apis.websocket import management_path
from .http import answering
from .http.answering import Later
from .http.server import Request, Response
from .ids import request_id as new_request_id
from .urls.by_scope import ByScope, owns_api, owns_url
from .arn import OtherAccount
from .protocol.errors import AwsError, service_error
from .safe_path import UnsafePath, contained

if TYPE_CHECKING:
    from .logs.store import LogStore
    from .protocol import Protocol as WireProtocol
    from .protocol.registry import ServedModels
    from .store.stacks import StackStore


class Served(Services, Protocol):
    """What the public port uses of Lamb: the API's services plus the wire protocol, the
    operation handlers, the logs and health it shows under ``/_lamb/``."""

    protocol: "WireProtocol"
    handlers: dict[str, Callable[[RequestContext, dict], Any]]
    models: "ServedModels"  # every served model (lambda, events, scheduler) with its handlers
    logs: "LogStore"
    stacks: "StackStore"
    # Who signed a request (lamb.identity.authn.Authenticator.authenticate), and whether it may
    # do what it asks in the scope it is for (None: authentication is off, every caller is the
    # home account's root).
    authenticate: Callable[..., Any]
    authorize: Callable[..., None] | None
    # Who may use the operator's /_lamb/ routes (lamb.services.operator.OperatorGate.admit).
    admit_operator: Callable[..., None]

    def scope_for(self, caller: Any, req: Request, params: dict | None) -> Services:
        """The services of the account and region a request is for (lamb.scopes)."""
        ...

    def all_scopes(self) -> "list[Services]":
        """Every account and region's services, the home scope first."""
        ...

    def health(self) -> dict: ...

    def metrics_exposition(self) -> tuple[bytes, str]: ...

    def usage_report(self, month: str | None = None, function: str | None = None) -> dict: ...

log = logging.getLogger("lamb.gateway")


def _with_request_id(status: int, headers: list, body, request_id: str | None = None) -> Response:
    headers.append(("x-amzn-RequestId", request_id or str(uuid.uuid4())))
    if not isinstance(body, (bytes, bytearray, memoryview)):  # an event stream (InvokeWithResponseStream)
        return Response(status, headers, stream=body)
    return Response(status, headers, body)


def for_environments(app):
    """The public app as environments reach it: ``/_lamb/`` is the operator's, never theirs.

    Served on the listeners Lamb opens inside each environment's network namespace, the
    only way an environment reaches Lamb when it has a network of its own.
    """

    def guarded(req: Request):
        if req.path.startswith("/_lamb/"):
            return Response(403, [("Content-Type", "application/json")], b'{"message":"Forbidden"}')
        return app(req)

    return guarded


def make_app(lamb: Served):
    from .apis.serve import make_api_server
    from .urls.serve import make_url_server

    models = lamb.models
    # Requests to function URLs (lamb.urls.serve) and HTTP APIs (lamb.apis.serve) of every account and region.
    function_urls = ByScope(lamb.all_scopes, make_url_server, owns_url)
    http_apis = ByScope(lamb.all_scopes, make_api_server, owns_api)

    def error(e: AwsError, rid: str | None = None, protocol: "WireProtocol" = lamb.protocol, op=None) -> Response:
        if isinstance(e, OtherAccount) and op is not None:
            e = e.for_operation(op.name)  # AccessDeniedException names the operation's IAM action
        return _with_request_id(*protocol.serialize_error(e), rid)

    async def finish(protocol, op, pending, rid: str) -> Response:
        try:
            result = await pending
            return _with_request_id(*protocol.serialize(op, result), rid)
        except AwsError as e:
            return error(e, rid, protocol, op)
        except Exception:
            log.exception("%s failed", op.name)
            return error(service_error(), rid, protocol)

    def answered(protocol, op, result, exc: "BaseException | None", rid: str) -> Response:
        """A handler's result, or its failure, as the operation's response."""
        if exc is None:
            try:
                return _with_request_id(*protocol.serialize(op, result), rid)
            except Exception as e:  # a serializer bug must still answer
                exc = e
        if isinstance(exc, AwsError):
            return error(exc, rid, protocol, op)
        log.error("%s failed", op.name, exc_info=exc)
        return error(service_error(), rid, protocol)

    def settle(protocol, op, pending: asyncio.Future, rid: str) -> asyncio.Future:
        """Map a handler's future to a response without a task."""
        out = pending.get_loop().create_future()
        pending.add_done_callback(lambda f: out.set_result(answered(protocol, op, *answering.outcome(f), rid)))
        return out

    def app(req: Request):
        if req.upgrade:  # a WebSocket API's handshake (apis/websocket.py); nothing else switches protocols
            answer = http_apis.pick(req).upgrade(req)
            return answer if answer is not None else Response(400, [("Content-Type", "text/plain")],
                                                              b"Upgrade is not supported")
        # The @connections API of WebSocket APIs, at /<stage>/@connections/<id> on an API's Host too:
        # routed by that path, authenticated on the path that was signed.
        route_path = management_path(req)
        if route_path is not None and not http_apis.pick(req).connections_api(req):
            route_path = None
        if route_path is None:
            route_path = req.path
            url_response = function_urls(req)
            if url_response is not None:
                return url_response
            api_response = http_apis(req)
            if api_response is not None:
                return api_response
            if req.path.startswith("/_lamb/"):
                return internal(lamb, req)
        if req.path == "/metrics" and req.method == "GET":  # Prometheus (invoke/prometheus.py)
            body, content_type = lamb.metrics_exposition()
            return Response(200, [("Content-Type", content_type)], body)
        rid = new_request_id()
        protocol = lamb.protocol
        op = None
        try:
            protocol, handlers = models.select(req.headers, route_path)
            caller = lamb.authenticate(req.method, req.path, req.query, req.headers, req.body, protocol.signing_name)
            op, labels = protocol.route(req.method, route_path, req.query, req.headers, req.body)
            if req.too_large:
                raise AwsError(
                    "RequestEntityTooLargeException",
                    f"Request must be smaller than {lamb.settings.limits.request_body_max_bytes} bytes for the {op.name} operation",
                    413,
                )
            params = protocol.parse(op, labels, req.query, req.headers, req.body)
            # The state of the caller's account in the credential scope's region (lamb.scopes).
            scope = lamb.scope_for(caller, req, params)
            if lamb.authorize is not None:
                lamb.authorize(caller, protocol.signing_name, op.name, params, scope)
            handler = handlers.get(op.name)
            if handler is None:
                raise AwsError(
                    "UnsupportedOperationException", f"{op.name} is not supported by this Lamb server yet.", 501
                )
            result = handler(RequestContext(scope, req, op.name, rid, caller), params)
            if isinstance(result, Later):  # Invoke: the answer written from the function's (http/answering)
                return answering.answer(result.start, lambda r, e: answered(protocol, op, r, e, rid),
                                        lambda: error(service_error(), rid, protocol))
            if isinstance(result, asyncio.Future):
                return settle(protocol, op, result, rid)
            if inspect.isawaitable(result):
                return finish(protocol, op, result, rid)
            return _with_request_id(*protocol.serialize(op, result), rid)
        except AwsError as e:
            return error(e, rid, protocol, op)
        except Exception:
            log.exception("request %s %s failed", req.method, req.path)
            return error(service_error(), rid, protocol)

    return app


def on_server_error(req: Request, exc: BaseException) -> Response:
    log.error("unhandled error for %s %s", req.method, req.path, exc_info=exc)
    body = json.dumps({"Type": "Service", "Message": "An internal error occurred."}).encode()
    return Response(500, [("x-amzn-ErrorType", "ServiceException"), ("Content-Type", "application/json")], body)


def _scope_named(lamb: Served, account: str | None, region: str | None) -> Any:
    """What ``/_lamb/logs`` and ``/_lamb/metrics`` read: the home account in its region, or the
    scope in use named by ``account``/``region`` (each defaults to the home one's)."""
    if account is None and region is None:
        return lamb
    want = (account or lamb.settings.account_id, region or lamb.settings.region)
    return next((s for s in lamb.all_scopes() if (getattr(s, "account", None), getattr(s, "region", None)) == want),
                None)


def _json(status: int, obj) -> Response:
    return Response(status, [("Content-Type", "application/json")], json.dumps(obj).encode())


def internal(lamb: Served, req: Request) -> Response:
    """Lamb's own routes: code downloads (GetFunction's Code.Location), health, introspection."""
    path = req.path
    query = dict(parse_qsl(req.query))
    if path.startswith("/_lamb/code/") and req.method in ("GET", "HEAD"):
        if not lamb.code_urls.verify(path, query):
            return Response(403, [("Content-Type", "application/xml")], b"<Error><Code>AccessDenied</Code><Message>Request has expired or the signature does not match</Message></Error>")
        key = path.rsplit("/", 1)[-1].removesuffix(".zip")
        try:
            blob = contained(lamb.code.blobs, f"{key}.zip")
        except UnsafePath:
            blob = None
        if len(key) != 64 or blob is None or not blob.is_file():
            return Response(404, [("Content-Type", "application/xml")], b"<Error><Code>NoSuchKey</Code></Error>")
        return Response(200, [("Content-Type", "application/zip")], blob.read_bytes())
    if (path == console.PREFIX or path.startswith(console.PREFIX + "/")) and req.method in ("GET", "HEAD"):
        # The console's files hold no data (it signs its API calls itself): not an operator route.
        if path == console.PREFIX:
            return Response(308, [("Location", console.PREFIX + "/")], b"")
        found = console.asset(path)
        if found is None:
            return Response(404, [("Content-Type", "text/plain")], b"Not Found")
        return Response(200, [("Content-Type", found[1]), *console.HEADERS], found[0])
    try:  # the operator's routes (lamb.services.operator)
        lamb.admit_operator(req.method, path, req.query, req.headers, req.body)
    except AwsError as e:
        if path == "/_lamb/health":  # liveness for anyone; the details are the operator's
            return _json(200, {"status": lamb.health()["status"]})
        return _with_request_id(*lamb.protocol.serialize_error(e))
    if path == "/_lamb/health":
        return _json(200, lamb.health())
    if path == stack_routes.PREFIX or path.startswith(stack_routes.PREFIX + "/"):
        return stack_routes.serve(
            lamb.stacks, req, {"Region": lamb.settings.region, "AccountId": lamb.settings.account_id})
    if path == "/_lamb/environments":
        return _json(200, lamb.invoker.environments())
    if path == "/_lamb/usage":  # metering (services/metering.py); `lamb usage` reads it
        return _json(200, lamb.usage_report(query.get("month"), query.get("function")))
    if path in ("/_lamb/metrics", "/_lamb/logs"):
        scope = _scope_named(lamb, query.pop("account", None), query.pop("region", None))
        if scope is None:
            return _json(404, {"message": "no such account and region"})
    if path == "/_lamb/metrics":
        return _json(200, scope.invoker.metrics.query(query.pop("metric", None), **query))
    if path == "/_lamb/logs":
        group = query.get("group", "")
        stream = query.get("stream")
        logs = scope.logs
        try:
            if stream is None:
                return _json(200, {"streams": logs.streams(group)})
            return _json(200, {"events": logs.events(group, stream)})
        except UnsafePath as e:
            return _json(400, {"message": str(e)})
    return _json(404, {"message": "not found"})
