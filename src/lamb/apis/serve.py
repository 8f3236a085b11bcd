"""Serving HTTP APIs on Lamb's port.

A request is for an HTTP API when its ``Host`` is ``<api-id>.execute-api.<region>.localhost[:port]``
(any ``*.localhost`` name reaches loopback) or its path is the fallback
``/_lamb/apis/<api-id>/<stage>/<path>`` (``$default`` for the default stage). By Host,
a first path segment naming a stage selects it; otherwise the ``$default`` stage serves
the whole path (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
Then, as API Gateway does:

1. no such API, no such stage, a stage without a deployment, or no matching route: 404
   ``{"message":"Not Found"}`` (routes matched by ``routing``);
2. a CORS preflight is answered from the API's ``CorsConfiguration`` (204, no route needed);
3. a body past 10 MB: 413; the stage's throttling exceeded: 429 ``{"message":"Too Many Requests"}``;
4. the route's authorizer (``authorizers``) answers 401/403/500 or adds its context;
5. the integration's function must allow ``apigateway.amazonaws.com`` (``permission``);
   then the request becomes a payload 1.0 (``payload_v1``) or 2.0 (``urls.event``, shared
   with function URLs) event and runs through ``Invocations.invoke``;
6. a function error, a malformed response, a missing permission or a function that does
   not exist: 500 ``{"message":"Internal Server Error"}``; the integration timeout
   (``TimeoutInMillis``): 503 ``{"message":"Service Unavailable"}``.
   An integration's ``CredentialsArn`` role replaces the function's policy (``credentials``);
   ``HTTP_PROXY`` integrations forward the request to their URI instead (``http_proxy``: 503 past
   the timeout, 500 when the endpoint cannot be reached).

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
import uuid
from urllib.parse import parse_qsl
from typing import TYPE_CHECKING, Awaitable, Callable, NamedTuple

from ..http import answering
from ..http.server import Pending, Request, Response
from ..ids import request_id as new_request_id
from ..invoke.metrics import Metrics
from ..protocol.errors import AwsError
from ..services.aws_clients import endpoint_url
from ..services.lineage import with_root
from ..urls import cors, event as v2_event, response as v2_response
from ..urls.address import Addresses
from . import access_log, api_cache, authorizers, deadline, execution_log, http_proxy, iam_auth, method_settings
from . import aws_services, mapped, mutual_tls, payload_v1, private_targets
from . import domains as custom_domains
from . import metrics as api_metrics
from . import rest as rest_api
from .cognito_auth import CognitoAuthorizers
from .credentials import CALLER, Credentials
from .jwt_auth import JwtAuthorizers
from .permission import InvokePermission, source_arn
from .routing import RouteTable
from .store import HttpApiStore
from .throttle import ACCOUNT, Buckets
from .usage_plans import UsagePlans
from .vpc_links import VpcLinks
from . import websocket

if TYPE_CHECKING:
    from ..store.functions import Resolved

log = logging.getLogger("lamb.apis")

PATH_PREFIX = "/_lamb/apis/"
_STAGE_VAR = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


def default_origin(region: str, port: int) -> str:
    return f"http://{{id}}.execute-api.{region}.localhost:{port}"


# The gateway response type an HTTP API's own answer logs as ``$context.error.responseType`` (by status).
_HTTP_KINDS = {401: "UNAUTHORIZED", 403: "ACCESS_DENIED", 404: "RESOURCE_NOT_FOUND", 413: "REQUEST_TOO_LARGE",
               429: "THROTTLED", 500: "INTEGRATION_FAILURE", 503: "INTEGRATION_TIMEOUT"}


def _message(status: int, message: str, request_id: str, extra: list | None = None) -> Response:
    """API Gateway's own answer (a ``GatewayError``: its type and message reach the access log)."""
    headers = [("Content-Type", "application/json"), ("apigw-requestid", request_id)] + (extra or [])
    return rest_api.GatewayError(status, headers, json.dumps({"message": message}, separators=(",", ":")).encode(),
                                 _HTTP_KINDS.get(status, "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"), message)


def _challenge(e: "authorizers.Refused") -> list:
    header = getattr(e, "www_authenticate", None)
    return [("www-authenticate", header)] if header else []


def not_found(rid: str) -> Response:
    return _message(404, "Not Found", rid)


def internal(rid: str) -> Response:
    return _message(500, "Internal Server Error", rid)


class Target(NamedTuple):
    """What an integration URI names, resolved: the record carrying its policy and how to invoke it."""

    record: dict
    arn: str  # the function ARN as named (with its qualifier)
    function: str
    qualifier: str | None
    resolved: "Resolved | None" = None  # what invoking it need not look up again (``Invocations.call``)


def function_arn_of(uri: str) -> str:
    """The Lambda ARN of an integration URI (a function ARN, or API Gateway's
    ``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations``)."""
    marker = ":lambda:path/2015-03-31/functions/"
    if marker in uri:
        return uri.split(marker, 1)[1].removesuffix("/invocations")
    return uri


class Deployed:
    """One API's deployment as served: its route table and parts (cached per deployment)."""

    def __init__(self, snapshot: dict) -> None:
        self.routes: dict = snapshot["routes"]
        self.integrations: dict = snapshot["integrations"]
        self.authorizers: dict = snapshot["authorizers"]
        self.table = RouteTable(self.routes)


class HttpApiServer:
    """``__call__(request)``: None when the request is not for an HTTP API."""

    def __init__(self, *, store: HttpApiStore, addresses: Callable[[], Addresses], invoke: Callable[..., "asyncio.Future"],
                 call: Callable[..., object], target: Callable[[str], Target], region: str, account_id: str,
                 port: Callable[[], int], max_body: int, jwt=None, rest_store: HttpApiStore | None = None,
                 access_logs: "access_log.AccessLogs | None" = None, metrics: Metrics | None = None,
                 invoke_async: Callable[..., "Awaitable[dict]"] | None = None, cognito=None,
                 credentials: Credentials | None = None, http_sender: http_proxy.Sender | None = None,
                 signer: Callable[[str], object | None] | None = None,
                 after_answer: Callable[[Callable[[], None]], None] | None = None,
                 caches: "api_cache.ApiCaches | None" = None,
                 auth_cache: "authorizers.ResultCache | None" = None,
                 domains: "custom_domains.Domains | None" = None,
                 usage: UsagePlans | None = None,
                 account_throttle: tuple[float, int] | None = None,
                 execution_logs: "execution_log.ExecutionLogs | None" = None,
                 websockets: "websocket.Connections | None" = None, limits=None,
                 aws: "aws_services.AwsServices | None" = None) -> None:
        self.store = store
        self.aws = aws  # AWS service integrations (aws_services.py); None: they fail (500)
        self.domains = domains  # custom domain names and their API mappings (domains.py), or None
        self.usage = usage  # REST APIs' API keys and usage plans (usage_plans.py); None: keys never match
        self.api_keys: dict[str, tuple[str, str]] = {}  # request id -> (API key, its id), for the access log
        self.rest = rest_store  # REST APIs (apis/rest.py)
        self.addresses = addresses
        self._invoke = invoke
        self._call = call  # Invocations.call: a Lambda proxy answer is written from the function's (http/answering)
        self.invoke_async = invoke_async  # Event invocations of non-proxy REST integrations (rest.py)
        self.target = target
        self.region = region
        self.account_id = account_id
        self.port = port
        self.max_body = max_body
        self.jwt = jwt  # jwt_auth.JwtAuthorizers, or None: JWT routes then fail closed (500)
        self.cognito = cognito  # cognito_auth.CognitoAuthorizers (REST APIs), or None: fail closed (500)
        self.access_logs = access_logs  # stages' access logs (access_log.py), or None
        self.metrics = metrics  # AWS/ApiGateway's per-minute points (metrics.py), or None
        # Integration latency (ms) by request id, for the requests being served.
        self._integration_ms: dict[str, float | None] = {}
        self.auth_cache = auth_cache or authorizers.ResultCache()  # FlushStageAuthorizersCache empties it
        self.caches = caches  # REST stages' caches (api_cache.py; FlushStageCache), or None: no caching
        # Whether a request to a cached method was a hit, by request id (CacheHitCount/CacheMissCount).
        self.cache_outcomes: dict[str, bool] = {}
        self.permission = InvokePermission(account_id)
        self.credentials = credentials  # integration/authorizer roles (credentials.py); None: such roles fail
        self.http_sender = http_sender  # HTTP_PROXY integrations (http_proxy.py); None: they fail (500)
        self.signer = signer  # access key -> its secret and policies, for AWS_IAM methods (iam_auth.py)
        # Work done once the answer is written (the access log line, the metrics); None: at once.
        self.after_answer = after_answer or (lambda fn: fn())
        self.buckets = Buckets()
        self.account_throttle = account_throttle  # (rate, burst) over all APIs (throttle.py), or None
        self.execution_logs = execution_logs  # REST stages' execution logs (execution_log.py), or None
        # What each request being served met (REST APIs: rest.py's notes for the execution log), by request id.
        self._notes: dict[str, dict] = {}
        self._deployed: dict[tuple[str, str], Deployed] = {}
        # WEBSOCKET APIs (websocket.py): upgrades accepted on their stages, connections in ``websockets``.
        self.websockets = websocket.WebSocketServer(
            invoker=websocket.Invoker(target, self.may_invoke, invoke, function_arn_of, self.forward, aws,
                                      invoke_async),
            connections=websockets if websockets is not None else websocket.Connections(), docs=store.get,
            domain=lambda api_id: self.addresses().domain(api_id), region=region, account_id=account_id,
            limits=limits, port=port, put=metrics.put if metrics is not None else None,
            access_logs=access_logs, signer=signer, execution_logs=execution_logs, usage=usage,
            after_answer=self.after_answer) if limits is not None else None
        store.listeners.append(self._forget)
        if rest_store is not None:
            rest_store.listeners.append(self._forget_rest)

    def may_invoke(self, role: str | None, target: Target, source: str, caller=None) -> bool:
        """Whether API Gateway may invoke ``target``: as the integration's (or authorizer's) role
        when it names one (``credentials``; ``arn:aws:iam::*:user/*``: as the AWS_IAM ``caller``),
        else by the function's resource policy (``permission``)."""
        if role == CALLER:
            return caller is not None and self.credentials is not None and \
                self.credentials.caller_may_invoke(caller.who(), target.arn, target.record)
        if role:
            return self.credentials is not None and self.credentials.may_invoke(role, target.arn, target.record)
        return self.permission.allowed(target.record, target.arn, source)

    def account_admits(self) -> bool:
        """Whether the account-level throttle has a token for one more request."""
        return self.account_throttle is None or self.buckets.take(ACCOUNT, *self.account_throttle)

    def notes(self, request_id: str) -> dict:
        """The notes of a request being served (a new dict for one that is not)."""
        found = self._notes.get(request_id)
        return found if found is not None else {}

    def _forget(self, api_id: str) -> None:
        for key in [k for k in self._deployed if k[0] == api_id]:
            del self._deployed[key]
        if self.websockets is not None:
            self.websockets.forget(api_id)

    def _forget_rest(self, api_id: str) -> None:
        for key in [k for k in self._deployed if k[0] == "rest" and k[1] == api_id]:
            del self._deployed[key]
        if self.caches is not None:  # the caches of deleted stages (and APIs) go with them
            doc = self.rest.get(api_id) if self.rest is not None else None
            self.caches.drop(api_id, lambda stage: doc is not None and stage in doc["stages"])

    def _deployment(self, api_id: str, doc: dict, deployment_id: str) -> Deployed | None:
        key = (api_id, deployment_id)
        found = self._deployed.get(key)
        if found is None:
            dep = doc["deployments"].get(deployment_id)
            if dep is None:
                return None
            found = self._deployed[key] = Deployed(dep["_snapshot"])
        return found

    # ------------------------------------------------------------------ addressing
    def locate(self, req: Request) -> tuple | None:
        """(api id, stage or None to pick by path, path, ``custom_domains.Via`` or None) of a request for an
        HTTP or REST API; by a custom domain without a matching mapping, the api id is None."""
        api_id = self.addresses().id_from_host(req.headers.get("host"))
        if api_id is not None:  # a domain name's own d-<id> name (domains.gateway_name) is no API: 403
            return (None if api_id.startswith("d-") or self._endpoint_disabled(api_id) else api_id), None, req.path, None
        routed = self.domains.route(req) if self.domains is not None else None
        if routed is not None:
            return routed
        if not req.path.startswith(PATH_PREFIX):
            return None
        api_id, _, rest = req.path[len(PATH_PREFIX):].partition("/")
        stage, _, path = rest.partition("/")
        return (None if self._endpoint_disabled(api_id) else api_id), stage, "/" + path, None

    def _endpoint_disabled(self, api_id: str) -> bool:
        """``DisableExecuteApiEndpoint``: the API answers through its custom domain names only; its default
        endpoint (execute-api Host, ``/_lamb/apis/``) answers 403 ``{"message":"Forbidden"}``, as AWS's does."""
        doc = self.store.get(api_id)
        if doc is not None:
            return doc["api"].get("DisableExecuteApiEndpoint") is True
        doc = self.rest.get(api_id) if self.rest is not None else None
        return doc is not None and doc["api"].get("disableExecuteApiEndpoint") is True

    def upgrade(self, req: Request):
        """The answer to an upgrade request for a WEBSOCKET API (a ``Switch`` when accepted, or a
        future of one), else None."""
        found = self.locate(req)
        doc = self.store.get(found[0]) if found is not None else None
        if doc is None or doc["api"].get("ProtocolType") != "WEBSOCKET" or self.websockets is None:
            return None
        return self.websockets.upgrade(req, doc, *found[:3])

    def connections_api(self, req: Request) -> bool:
        """Whether a request whose path ends in ``/@connections/<id>`` is for the @connections API:
        on Lamb's port itself, or at a WEBSOCKET API's address (an HTTP or REST API's route may have
        such a path too)."""
        found = self.locate(req)
        if found is None:
            return True
        doc = self.store.get(found[0])
        if doc is not None:
            return doc["api"].get("ProtocolType") == "WEBSOCKET"
        return self.rest is None or self.rest.get(found[0]) is None

    def __call__(self, req: Request):
        found = self.locate(req)
        if found is None:
            return None
        doc = self.store.get(found[0]) if found[0] is not None else None  # an HTTP API's, or None for a REST API
        if doc is not None and doc["api"].get("ProtocolType") == "WEBSOCKET":
            return websocket.not_upgraded()
        request_id = new_request_id()
        if found[0] is None:  # a custom domain name, no mapping for the path
            return custom_domains.forbidden(request_id)
        started = time.time()
        self._integration_ms[request_id] = None
        self._notes[request_id] = {}
        try:
            result = self.serve(req, doc, *found[:3], request_id, via=found[3])
        except Exception:
            log.exception("HTTP API request %s %s failed", req.method, req.path)
            result = internal(request_id)
        if isinstance(result, Response):  # the log lines and metrics once the answer is written
            self.after_answer(functools.partial(self._served, req, found, request_id, started, result))
            return result
        if isinstance(result, Pending):  # (before the connection's own callback, which writes the answer)
            result.when_done(lambda p: self.after_answer(functools.partial(
                self._served, req, found, request_id, started, None if p.cancelled() else p.result())))
            return result
        # The access log line and the metrics once the connection has written the answer (its own
        # callback on ``result`` comes after this one; ``after_answer``: http/afterwards.py).
        result.add_done_callback(
            lambda f: self.after_answer(functools.partial(
                self._served, req, found, request_id, started,
                f.result() if not f.cancelled() and f.exception() is None else None)))
        return result

    def invoke(self, function: str, qualifier: str | None, payload: bytes, *, request_id: str, **kw):
        """Invoke (``Invocations.invoke``), timing the integration of a request being served."""
        return self.timed(self._invoke(function, qualifier, payload, request_id=request_id, **kw), request_id)

    def answer_from(self, target: Target, payload: bytes, request_id: str, trace: str,
                    on_done: Callable[..., Response], on_error: Callable[[], Response], timeout_s: float,
                    on_timeout: Callable[[], Response]) -> Pending:
        """A Lambda proxy integration's answer, written from the function's own (``http/answering``), its
        latency recorded; raises ``AwsError`` when the invocation cannot start."""
        took = self._stopwatch(request_id)

        def settle(result, exc: "BaseException | None") -> Response:
            took()
            return on_done(result, exc)

        return answering.answer(
            lambda done: self._call(target.function, target.qualifier, payload, done, trace_header=trace,
                                    request_id=request_id, resolved=target.resolved),
            settle, on_error, timeout_s=timeout_s, on_timeout=on_timeout)

    def forward(self, out: "http_proxy.Outgoing", timeout_s: float, request_id: str):
        """An HTTP proxy integration's request (``http_proxy.Sender``), timed like an invocation."""
        if self.http_sender is None:
            raise http_proxy.Unreachable("no HTTP client")
        return self.timed(self.http_sender(out, timeout_s), request_id)

    def timed(self, pending: "asyncio.Future", request_id: str) -> "asyncio.Future":
        """``pending``, its time recorded as the integration latency of the request being served."""
        if request_id in self._integration_ms:
            pending.add_done_callback(self._stopwatch(request_id))
        return pending

    def _stopwatch(self, request_id: str) -> Callable[..., None]:
        """Called once the integration answers: its latency since now, for the request being served."""
        began = time.time()

        def took(*_) -> None:
            if request_id in self._integration_ms:
                self._integration_ms[request_id] = (time.time() - began) * 1000.0

        return took

    def _served(self, req: Request, found: tuple, rid: str, started: float, resp: Response | None) -> None:
        """A request's answer is ready: its access log line and its metrics."""
        integration_ms = self._integration_ms.pop(rid, None)
        cache_hit = self.cache_outcomes.pop(rid, None)
        api_key = self.api_keys.pop(rid, None)
        notes = self._notes.pop(rid, None)
        if resp is None:
            return
        try:
            where = self._stage_of(found)
            if where is None:
                return
            if self.access_logs is not None and access_log.settings(where[4]) is not None:
                self._access_log(req, where, rid, started, resp, integration_ms, found[3], api_key, notes or {})
            if self.metrics is not None:
                self._metrics(req, where, started, integration_ms, resp, cache_hit)
            if where[2] and self.execution_logs is not None and where[4].get("methodSettings"):
                self._execution_log(req, where, rid, resp, integration_ms, notes or {})
        except Exception:  # noqa: BLE001 - a log line or a metric never fails the request
            log.exception("access log or metrics of %s %s failed", req.method, req.path)

    def _stage_of(self, found: tuple) -> tuple | None:
        """(api id, document, REST?, stage name, stage, path in the stage, full path) of a request to
        an existing stage, else None."""
        api_id, stage_name, path, via = found
        doc, rest = self.store.get(api_id), False
        if doc is None and self.rest is not None:
            doc, rest = self.rest.get(api_id), True
        if doc is None:
            return None
        stages = doc["stages"]
        full_path = path
        if stage_name is None:
            first, _, tail = path[1:].partition("/")
            if rest or (first and first != "$default" and first in stages):
                stage_name, path = first, "/" + tail
            else:
                stage_name = "$default"
        stage = stages.get(stage_name)
        if stage is None:
            return None
        return api_id, doc, rest, stage_name, stage, path, via.full_path if via is not None else full_path

    def _route_of(self, req: Request, where: tuple):
        """The route (HTTP) or resource and method (REST) a request matched, or None."""
        api_id, doc, rest, _, stage, path, _ = where
        deployed = self._deployed.get(("rest", api_id, stage.get("deploymentId"))) if rest else \
            self._deployment(api_id, doc, stage.get("DeploymentId") or "")
        return deployed.table.match(req.method, path) if deployed is not None else None

    def _metrics(self, req: Request, where: tuple, started: float, integration_ms: float | None,
                 resp: Response, cache_hit: bool | None = None) -> None:
        api_id, doc, rest, stage_name, stage, _, _ = where
        method = resource = None
        if rest and stage.get("methodSettings"):  # detailed metrics per method (method_settings.py)
            match = self._route_of(req, where)
            if match is not None:
                verb, _, path = match.route_key.partition(" ")
                if api_metrics.detailed(stage, rest, path, verb):
                    method, resource = verb, path
        elif not rest and api_metrics.detailed(stage, rest):
            match = self._route_of(req, where)
            if match is not None and match.route_key != "$default":
                method, _, resource = match.route_key.partition(" ")
            elif match is not None:
                method, resource = "ANY", "$default"
        sent = len(resp.body) if resp.stream is None else 0
        api_metrics.record(self.metrics.put, rest=rest,
                           api=api_metrics.api_name(doc["api"].get("name") or "", api_id) if rest else api_id,
                           stage=stage_name, status=resp.status, latency_ms=(time.time() - started) * 1000.0,
                           integration_ms=integration_ms, data_bytes=len(req.body) + sent,
                           method=method, resource=resource,
                           cache_hit=cache_hit)

    def _execution_log(self, req: Request, where: tuple, rid: str, resp: Response, integration_ms: float | None,
                       notes: dict) -> None:
        """A REST request's lines in its stage's execution log (``execution_log``), by its method's settings."""
        api_id, _, _, stage_name, stage, path, _ = where
        match = self._route_of(req, where)
        if match is None:
            return
        verb, _, resource = match.route_key.partition(" ")
        found = method_settings.effective(stage.get("methodSettings"), resource, verb)
        if found is None:
            return
        event = notes.get("event") or {}
        error = notes.get("error")
        if error is None and resp.status >= 500 and isinstance(resp, rest_api.GatewayError):
            error = f"Execution failed due to configuration error: {resp.message}"
        self.execution_logs.record(found[1], execution_log.Request(
            rid, api_id, stage_name, req.method, f"{verb} {resource}", path, match.path_parameters,
            event.get("queryStringParameters") or {}, dict(req.headers), req.body, notes.get("endpoint"),
            notes.get("endpoint_body"), notes.get("endpoint_answer"), integration_ms, resp.status,
            list(resp.headers), resp.body if resp.stream is None else b"", error, notes.get("authorizer"),
            bool(notes.get("unauthorized"))))

    def _access_log(self, req: Request, where: tuple, rid: str, started: float, resp: Response,
                    integration_ms: float | None = None, via: "custom_domains.Via | None" = None,
                    api_key: tuple[str, str] | None = None, notes: dict | None = None) -> None:
        """One line in the stage's access log (``access_log``); ``notes``: what the request met."""
        api_id, doc, rest, stage_name, stage, path, full_path = where
        try:
            match = self._route_of(req, where)
            peer = req.conn.transport.get_extra_info("peername") if req.conn is not None and req.conn.transport else None
            values = {"requestId": rid, "extendedRequestId": rid, "apiId": api_id, "stage": stage_name,
                      "httpMethod": req.method, "path": full_path, "protocol": "HTTP/1.1", "status": resp.status,
                      "responseLength": len(resp.body) if resp.stream is None else None,
                      "requestTime": v2_event.http_time(int(started * 1000)), "requestTimeEpoch": int(started * 1000),
                      "responseLatency": int((time.time() - started) * 1000),
                      "identity.sourceIp": peer[0] if peer else None,
                      "identity.userAgent": req.headers.get("user-agent"),
                      "domainName": via.domain if via else self.addresses().domain(api_id),
                      "domainPrefix": via.prefix if via else api_id,
                      "accountId": self.account_id}
            if integration_ms is not None:
                values["integrationLatency"] = values["integration.latency"] = int(integration_ms)
            if api_key is not None:  # a REST method with apiKeyRequired (usage_plans.py)
                values["identity.apiKey"], values["identity.apiKeyId"] = api_key
            if match is not None and rest:
                values["resourcePath"] = match.route_key.split(" ", 1)[1]
            elif match is not None:
                values["routeKey"] = match.route_key
            if via is not None and via.key:  # the API mapping's key (domains.py)
                values["customDomain.basePathMatched"] = via.key
            if via is not None and via.rule_id:  # the routing rule the request matched (routing_rules.py)
                values["customDomain.routingRuleIdMatched"] = via.rule_id
            if via is not None and via.client_cert is not None:  # mutual TLS: $context.identity.clientCert.*
                values.update(mutual_tls.access_values(via.client_cert))
            if rest:
                values["deploymentId"] = stage.get("deploymentId")
            elif resp.stream is None:
                values["dataProcessed"] = len(req.body) + len(resp.body)
            notes = notes or {}
            error = (resp.kind, resp.message, resp.detail) if isinstance(resp, rest_api.GatewayError) \
                else notes.get("gateway_error")
            values = access_log.context_values(
                values, rest=rest, event=notes.get("event"), authorized=notes.get("authorized"),
                identity=notes.get("identity"), error=error, unauthorized=bool(notes.get("unauthorized")),
                authorizer_error=notes.get("authorizer_error"), integration=notes.get("integration"))
            values["authorizer.requestId"] = notes.get("authorizer_request_id")  # the Lambda authorizer's invoke
            values.update(notes.get("log_values") or {})  # REST AWS_IAM: authenticate.*, authorize.* (rest.py)
            self.access_logs.record(stage, api_id, stage_name, values)
        except Exception:  # noqa: BLE001 - a log line never fails the request
            log.exception("access log of %s %s failed", req.method, req.path)

    # ------------------------------------------------------------------ serving
    def serve(self, req: Request, doc: dict | None, api_id: str, stage_name: str | None, path: str, rid: str,
              via: "custom_domains.Via | None" = None):
        """``doc``: the HTTP API's (``store``), None for a REST API or none; ``via``: the custom domain the
        request came by (domains.py; its path keeps the mapping key)."""
        if doc is None:
            rest_doc = self.rest.get(api_id) if self.rest is not None else None
            if rest_doc is not None:
                return rest_api.serve(self, req, rest_doc, api_id, stage_name, path, rid, via=via)
            return not_found(rid)
        stages = doc["stages"]
        full_path = path
        if stage_name is None:  # by Host: /<stage>/... or the $default stage
            first, _, rest = path[1:].partition("/")
            if first and first != "$default" and first in stages:
                stage_name, path = first, "/" + rest
            else:
                stage_name = "$default"
        stage = stages.get(stage_name)
        if stage is None or not stage.get("DeploymentId"):
            return not_found(rid)
        if via is not None:
            full_path = via.full_path
        elif stage_name != "$default":
            full_path = f"/{stage_name}{path}"
        deployed = self._deployment(api_id, doc, stage["DeploymentId"])
        if deployed is None:
            return not_found(rid)
        headers = req.headers
        cors_conf = doc["api"].get("CorsConfiguration")
        if cors_conf and cors.is_preflight(req.method, headers):
            return Response(204, cors.preflight(cors_conf, headers) + [("apigw-requestid", rid)])
        if req.too_large or len(req.body) > self.max_body:
            return _message(413, "Request Entity Too Large", rid)
        match = deployed.table.match(req.method, path)
        if match is None:
            return not_found(rid)
        limits = self.buckets.settings(stage, match.route_key)
        if limits is not None and not self.buckets.take((api_id, stage_name, match.route_key), *limits) or \
                not self.account_admits():
            return _message(429, "Too Many Requests", rid)
        route = deployed.routes[match.route_id]
        target_ref = route.get("Target") or ""
        integration = deployed.integrations.get(target_ref.partition("/")[2])
        if integration is None:
            return not_found(rid)
        variables = stage.get("StageVariables") or {}
        peer = req.conn.transport.get_extra_info("peername") if req.conn is not None and req.conn.transport else None
        source_ip = peer[0] if peer else ""
        ctx = _Ctx(req, api_id, stage_name, path, full_path, match, route, integration, variables, source_ip, rid,
                   cors_conf, via.domain if via else self.addresses().domain(api_id),
                   prefix=via.prefix if via else api_id, client_cert=via.client_cert if via else None)
        if route.get("AuthorizationType") == "AWS_IAM":  # the caller's signature and policies (iam_auth.py)
            try:
                caller = iam_auth.verify(req.method, req.path, req.query, headers, req.body,
                                         self.signer or (lambda _k: None))
                iam_auth.authorize(caller, f"arn:aws:execute-api:{self.region}:{self.account_id}:{api_id}/"
                                           f"{stage_name}/{req.method}{path}")
            except iam_auth.Refused as e:
                log.info("HTTP API %s: AWS_IAM refused (%s)", api_id, e.body)
                return _message(403, "Forbidden", rid)
            return self._integrate(ctx._replace(caller=caller), None)
        if route.get("AuthorizationType", "NONE") != "NONE":
            auth = deployed.authorizers.get(route.get("AuthorizerId") or "")
            if auth is None or auth["AuthorizerType"] != "REQUEST" and self.jwt is None:
                return internal(rid)
            try:
                if auth["AuthorizerType"] == "REQUEST":
                    decided = self._lambda_authorizer(ctx, auth)
                else:
                    decided = self.jwt(ctx, auth, route)
            except authorizers.Refused as e:
                self.notes(rid)["authorizer_error"] = e.message
                return _message(e.status, e.message, rid, _challenge(e))
            if isinstance(decided, authorizers.Authorized):
                return self._integrate(ctx, decided)
            return asyncio.ensure_future(self._after_auth(decided, ctx))
        return self._integrate(ctx, None)

    async def _after_auth(self, decided, ctx: "_Ctx") -> Response:
        try:
            outcome = await decided
        except authorizers.Refused as e:
            self.notes(ctx.request_id)["authorizer_error"] = e.message
            return _message(e.status, e.message, ctx.request_id, _challenge(e))
        answer = self._integrate(ctx, outcome)
        return await answer if isinstance(answer, (asyncio.Future, Pending)) else answer

    # ------------------------------------------------------------------ Lambda authorizers
    def _lambda_authorizer(self, ctx: "_Ctx", auth: dict):
        """An ``Authorized`` (from the cache), or an awaitable of one; raises ``Refused``."""
        req = ctx.req
        sources = auth.get("IdentitySource") or []
        values = authorizers.identity_values(sources, req.headers, dict(parse_qsl(req.query)), ctx.variables,
                                             ctx.source_ip)
        if sources and values is None:
            raise authorizers.Refused(*authorizers.UNAUTHORIZED)
        route_arn = (f"arn:aws:execute-api:{self.region}:{self.account_id}:{ctx.api_id}/{ctx.stage}/"
                     f"{req.method}{ctx.path}")
        simple = bool(auth.get("EnableSimpleResponses"))
        ttl = int(auth.get("AuthorizerResultTtlInSeconds") or 0)
        key = (ctx.api_id, auth["AuthorizerId"], tuple(values or ())) if ttl and values else None
        cached = self.auth_cache.get(key) if key else None
        if cached is not None:
            return self._authorized(cached[0], simple, route_arn, 0)

        async def call() -> authorizers.Authorized:
            try:
                target = self.target(function_arn_of(auth["AuthorizerUri"]))
            except AwsError:
                raise authorizers.Refused(*authorizers.INTERNAL) from None
            src = f"arn:aws:execute-api:{self.region}:{self.account_id}:{ctx.api_id}/authorizers/{auth['AuthorizerId']}"
            if not self.may_invoke(auth.get("AuthorizerCredentialsArn"), target, src):
                log.info("HTTP API %s: %s may not be invoked for %s", ctx.api_id, target.arn, src)
                raise authorizers.Refused(*authorizers.INTERNAL)
            version = auth.get("AuthorizerPayloadFormatVersion", "2.0")
            event = self._event_dict(ctx, version, None)
            event.pop("body", None)
            event.pop("isBase64Encoded", None)
            event["type"] = "REQUEST"
            if version == "1.0":
                event["methodArn"] = route_arn
                event["identitySource"] = event["authorizationToken"] = ",".join(values or [])
            else:
                event["routeArn"] = route_arn
                event["identitySource"] = list(values or [])
            auth_rid = self.notes(ctx.request_id)["authorizer_request_id"] = str(uuid.uuid4())  # (access log)
            value, latency = await authorizers.run_lambda(
                lambda p: self.invoke(target.function, target.qualifier, p, request_id=auth_rid),
                v2_event.encode(event))
            outcome = self._authorized(value, simple, route_arn, latency)
            if key is not None:
                self.auth_cache.put(key, ttl, (value,))
            return outcome

        return call()

    @staticmethod
    def _authorized(value, simple: bool, route_arn: str, latency: int) -> "authorizers.Authorized":
        allowed, context, principal = authorizers.decide(value, simple, route_arn)
        if not allowed:
            raise authorizers.Refused(*authorizers.FORBIDDEN)
        return authorizers.Authorized("lambda", context, principal, latency)

    def _integrate(self, ctx: "_Ctx", authorized: "authorizers.Authorized | None"):
        rid = ctx.request_id
        notes = self.notes(rid)  # for the access log
        notes.update(authorized=authorized, identity=ctx.caller.identity() if ctx.caller is not None else None)
        if ctx.integration.get("IntegrationType") == "HTTP_PROXY":
            return self._http_proxy(ctx, authorized)
        if ctx.integration.get("IntegrationSubtype"):
            return self._aws_service(ctx, authorized)
        uri = _STAGE_VAR.sub(lambda m: ctx.variables.get(m.group(1), ""), ctx.integration["IntegrationUri"])
        try:
            target = self.target(function_arn_of(uri))
        except AwsError:
            log.info("HTTP API %s: integration %s names no function", ctx.api_id, uri)
            return internal(rid)
        src = source_arn(self.region, self.account_id, ctx.api_id, ctx.stage, ctx.req.method, ctx.match.route_key)
        if not self.may_invoke(ctx.integration.get("CredentialsArn"), target, src, ctx.caller):
            log.info("HTTP API %s: %s may not be invoked for %s (resource policy or CredentialsArn)", ctx.api_id,
                     target.arn, src)
            return internal(rid)
        version = ctx.integration.get("PayloadFormatVersion", "2.0")
        integ = ctx.integration
        # Parameter mapping (http_proxy): the event describes the mapped request, and the answer is mapped.
        seen = self._seen(ctx, authorized) if integ.get("RequestParameters") or integ.get("ResponseParameters") \
            else None
        mapped = http_proxy.map_request(ctx.full_path, ctx.req.query, list(ctx.req.headers.items()),
                                        integ["RequestParameters"], seen) if integ.get("RequestParameters") else None
        # One trace header for the event's X-Amzn-Trace-Id and the invocation's (the function's _X_AMZN_TRACE_ID).
        trace = with_root(ctx.req.headers.get("x-amzn-trace-id"))
        payload = v2_event.encode(self._event_dict(
            ctx, version, authorized.for_event(version) if authorized is not None else None, mapped, trace))
        try:
            return self.answer_from(target, payload, rid, trace,
                                    lambda result, exc: self._settle(ctx, version, result, exc, seen),
                                    lambda: internal(rid), ctx.integration.get("TimeoutInMillis", 30_000) / 1000.0,
                                    lambda: _message(503, "Service Unavailable", rid))
        except AwsError:
            return internal(rid)

    def _seen(self, ctx: "_Ctx", authorized: "authorizers.Authorized | None") -> "http_proxy.Seen":
        """What a request's parameter mapping expressions read (``http_proxy.expression``)."""
        req = ctx.req
        context = {"requestId": ctx.request_id, "apiId": ctx.api_id, "stage": ctx.stage, "domainName": ctx.domain,
                   "domainPrefix": ctx.prefix, "httpMethod": req.method, "path": ctx.full_path,
                   "routeKey": ctx.match.route_key, "accountId": self.account_id, "protocol": "HTTP/1.1",
                   "identity": {"sourceIp": ctx.source_ip, "userAgent": req.headers.get("user-agent", "")},
                   "authorizer": authorized.for_event("2.0") if authorized is not None else {}}
        if ctx.client_cert is not None:  # mutual TLS: $context.identity.clientCert.*
            context["identity"]["clientCert"] = ctx.client_cert
        return http_proxy.Seen(req.headers, req.query, ctx.path, ctx.match.path_parameters, req.body, context,
                               ctx.variables)

    def _http_proxy(self, ctx: "_Ctx", authorized: "authorizers.Authorized | None"):
        """An HTTP_PROXY integration: the request forwarded, mapped both ways (``http_proxy``)."""
        rid, req, integ = ctx.request_id, ctx.req, ctx.integration
        params = ctx.match.path_parameters
        seen = self._seen(ctx, authorized)
        method = integ.get("IntegrationMethod") or "ANY"
        via = http_proxy.private_v2(integ, ctx.variables)  # a VPC link's target: resolved by http_sender
        out = http_proxy.Outgoing(
            req.method if method == "ANY" else method,
            http_proxy.target_url(integ["IntegrationUri"], params, ctx.variables, req.query) if via is None
            else http_proxy.private_url(ctx.full_path, req.query),
            http_proxy.forward_headers(req.headers, source_ip=ctx.source_ip, port=self.port(), proto="http",
                                       trace=with_root(req.headers.get("x-amzn-trace-id")), host=ctx.domain),
            req.body, via)
        if integ.get("RequestParameters"):
            out = http_proxy.apply_request_parameters(out, integ["RequestParameters"], seen)
        timeout_s = integ.get("TimeoutInMillis", 30_000) / 1000.0
        try:
            pending = self.forward(out, timeout_s, rid)
        except http_proxy.Unreachable:
            return internal(rid)
        unavailable = lambda: _message(503, "Service Unavailable", rid)  # noqa: E731

        def done(f: "asyncio.Future") -> Response:
            exc = f.exception()
            if isinstance(exc, (http_proxy.TimedOut, http_proxy.NoTarget)):
                return unavailable()
            if exc is not None:
                log.info("HTTP API %s: HTTP integration %s failed (%s)", ctx.api_id, out.url, exc)
                self.notes(rid)["integration"] = {"error": str(exc)}
                return internal(rid)
            answer = f.result()
            self.notes(rid)["integration"] = {"status": answer.status, "integrationStatus": answer.status}
            if integ.get("ResponseParameters"):
                answer = http_proxy.apply_response_parameters(answer, integ["ResponseParameters"], seen)
            headers = http_proxy.response_headers(answer.headers)
            if ctx.cors:
                headers = cors.apply(ctx.cors, req.headers, headers)
            return Response(answer.status, headers + [("apigw-requestid", rid)], answer.body)

        return deadline.within(pending, timeout_s, unavailable, done)

    def _aws_service(self, ctx: "_Ctx", authorized: "authorizers.Authorized | None"):
        """An AWS service integration (``IntegrationSubtype``): the action called with the mapped parameters,
        the service's answer relayed (``aws_services``); 503 past the timeout, 400 for a mapped value the
        action's parameter cannot take, 500 when the call cannot be made."""
        rid, integ = ctx.request_id, ctx.integration
        if self.aws is None:
            return internal(rid)
        seen = self._seen(ctx, authorized)
        values = {k: http_proxy.expression(v, seen) for k, v in (integ.get("RequestParameters") or {}).items()}
        timeout_s = integ.get("TimeoutInMillis", 30_000) / 1000.0
        pending = self.timed(self.aws.subtype(integ["IntegrationSubtype"], values, self.region,
                                              integ.get("CredentialsArn"), timeout_s), rid)

        def done(f: "asyncio.Future") -> Response:
            exc = f.exception()
            if isinstance(exc, aws_services.BadParameters):
                return _message(400, "Bad Request", rid)
            if exc is not None:
                log.info("HTTP API %s: %s integration failed (%s)", ctx.api_id, integ["IntegrationSubtype"], exc)
                return internal(rid)
            answer = http_proxy.Answer(*f.result())
            if integ.get("ResponseParameters"):
                answer = http_proxy.apply_response_parameters(answer, integ["ResponseParameters"], seen)
            headers = list(answer.headers)
            if ctx.cors:
                headers = cors.apply(ctx.cors, ctx.req.headers, headers)
            return Response(answer.status, headers + [("apigw-requestid", rid)], answer.body)

        return deadline.within(pending, timeout_s, lambda: _message(503, "Service Unavailable", rid), done)

    def _settle(self, ctx: "_Ctx", version: str, result, exc: "BaseException | None",
                seen: "http_proxy.Seen | None" = None) -> Response:
        if exc is not None:
            if not isinstance(exc, AwsError):
                log.error("HTTP API %s: invocation failed", ctx.api_id, exc_info=exc)
            self.notes(ctx.request_id)["integration"] = {
                "integrationStatus": getattr(exc, "status", None), "error": getattr(exc, "message", None) or str(exc)}
            return internal(ctx.request_id)
        return self._respond(ctx, version, result, seen)

    def _event_dict(self, ctx: "_Ctx", version: str, authorizer: dict | None,
                    mapped: "http_proxy.Mapped | None" = None, trace: str | None = None) -> dict:
        """The event of a request (``mapped``: as the integration's ``RequestParameters`` changed it;
        ``trace``: its X-Amzn-Trace-Id, the invocation's)."""
        req = ctx.req
        path, query, headers = ctx.full_path, req.query, req.headers
        if mapped is not None:
            path, query, headers = mapped.path, mapped.query, {}
            for k, v in mapped.headers:  # names lower-cased and repeated values joined, as received ones are
                headers[k.lower()] = f"{headers[k.lower()]},{v}" if k.lower() in headers else v
        now_ms = int(time.time() * 1000)
        extra = {"x-amzn-trace-id": trace or with_root(req.headers.get("x-amzn-trace-id")), "x-forwarded-for": ctx.source_ip,
                 "x-forwarded-port": str(self.port()), "x-forwarded-proto": "http"}
        params = ctx.match.path_parameters
        if version == "1.0":
            route_key = ctx.match.route_key
            resource = route_key if route_key == "$default" else route_key.partition(" ")[2]
            event = payload_v1.build(
                method=req.method, path=path, raw_query=query, headers=headers, body=req.body,
                resource=resource, route_key=route_key, stage=ctx.stage, api_id=ctx.api_id, domain=ctx.domain,
                account_id=self.account_id, source_ip=ctx.source_ip, request_id=ctx.request_id, extra_headers=extra,
                path_parameters=params, stage_variables=ctx.variables, authorizer=authorizer, now_ms=now_ms)
            if ctx.caller is not None:
                event["requestContext"]["identity"].update(ctx.caller.identity())
        else:
            if ctx.caller is not None and authorizer is None:
                authorizer = {"iam": {"accessKey": ctx.caller.access_key, "accountId": ctx.caller.account,
                                      "callerId": ctx.caller.identity()["caller"], "cognitoIdentity": None,
                                      "principalOrgId": None, "userArn": ctx.caller.arn,
                                      "userId": ctx.caller.identity()["caller"]}}
            event = v2_event.build(
                method=req.method, raw_path=path, raw_query=query, headers=headers, body=req.body,
                url_id=ctx.api_id, domain=ctx.domain, account_id=self.account_id, source_ip=ctx.source_ip,
                request_id=ctx.request_id, extra_headers=extra, now_ms=now_ms, route_key=ctx.match.route_key,
                stage=ctx.stage, owner_account=self.account_id, path_parameters=params,
                stage_variables=ctx.variables, authorizer=authorizer)
        event["requestContext"]["domainPrefix"] = ctx.prefix  # the custom domain's first label, or the API id
        if ctx.client_cert is not None:  # mutual TLS (mutual_tls.py)
            if version == "1.0":
                event["requestContext"]["identity"]["clientCert"] = ctx.client_cert
            else:
                event["requestContext"]["authentication"] = {"clientCert": ctx.client_cert}
        return event

    def _respond(self, ctx: "_Ctx", version: str, result, seen: "http_proxy.Seen | None" = None) -> Response:
        rid = ctx.request_id
        noted = self.notes(rid)["integration"] = {"integrationStatus": 200, "requestId": rid}
        if result.function_error:
            noted["error"] = mapped.error_message(result.payload)
            return internal(rid)
        try:
            if version == "1.0":
                status, headers, body, _ = payload_v1.response(result.payload)
            else:
                status, headers, body = v2_response.from_result(result.payload)
        except v2_response.Malformed as e:
            log.info("HTTP API %s: malformed response (%s)", ctx.api_id, e)
            noted["error"] = f"The response from the Lambda function doesn't match the format that API Gateway expects. {e}"
            return internal(rid)
        noted["status"] = status
        if seen is not None and ctx.integration.get("ResponseParameters"):
            status, headers, body = http_proxy.apply_response_parameters(
                http_proxy.Answer(status, headers, body), ctx.integration["ResponseParameters"], seen)
        if ctx.cors:
            headers = cors.apply(ctx.cors, ctx.req.headers, headers)
        headers.append(("apigw-requestid", rid))
        return Response(status, headers, body)


class _Ctx(NamedTuple):
    """One request on its way through the API."""

    req: Request
    api_id: str
    stage: str
    path: str  # after the stage
    full_path: str  # as the client sent it (with /<stage> for a named stage)
    match: object
    route: dict
    integration: dict
    variables: dict
    source_ip: str
    request_id: str
    cors: dict | None
    domain: str
    caller: "iam_auth.Caller | None" = None  # an AWS_IAM route's signer
    prefix: str = ""  # requestContext.domainPrefix: the API id, or a custom domain's first label
    client_cert: dict | None = None  # mutual TLS: the custom domain's verified client certificate


def make_target(resolve: Callable, region: str, account_id: str) -> Callable[[str], Target]:
    """``target(function_arn)`` from ``FunctionStore.resolve``-like ``resolve(name, qualifier)``."""
    from ..arn import function_arn
    from ..policy.resources import Resource

    def target(arn: str) -> Target:
        r = resolve(arn, None)
        q = r.ref.qualifier
        res = Resource(r.fn, q, q is not None and q in r.fn.aliases)
        return Target(res.record, function_arn(region, account_id, r.fn.name, q), r.fn.name, q, r)

    return target


class HttpApis:
    """What the API handlers use: the store and the invoke URL of an API."""

    def __init__(self, store: HttpApiStore, rest: HttpApiStore, region: str, port: Callable[[], int],
                 settings: HttpApiStore | None = None, cache_max_bytes: int | None = None,
                 usage: "UsagePlans | None" = None) -> None:
        self.store = store
        self.usage = usage  # REST APIs' API keys and usage plans (usage_plans.py, api/apigateway_usage.py)
        self.rest = rest  # REST APIs (api/apigateway.py, apis/rest.py)
        self.settings = settings  # API Gateway's account settings (GetAccount/UpdateAccount, api/apigateway_account.py)
        self.domains: "custom_domains.Domains | None" = None  # custom domain names (domains.py), set by Lamb.make_scope
        self.vpc_links: "VpcLinks | None" = None  # VPC links, v1 and v2 (vpc_links.py), set by Lamb.make_scope
        self.region = region
        self.port = port
        self._addresses: tuple[int, Addresses] | None = None
        self.metrics = Metrics()  # AWS/ApiGateway's per-minute points (metrics.py; CloudWatch's API reads them)
        self.caches = api_cache.ApiCaches(cache_max_bytes)  # REST stages' caches (FlushStageCache)
        self.auth_cache = authorizers.ResultCache()  # authorizers' answers (FlushStageAuthorizersCache)
        self.websockets = websocket.Connections()  # WebSocket APIs' open connections (the @connections API)

    def addresses(self) -> Addresses:
        port = self.port()
        if self._addresses is None or self._addresses[0] != port:
            self._addresses = (port, Addresses(default_origin(self.region, port)))
        return self._addresses[1]

    def endpoint(self, api_id: str, protocol: str = "HTTP") -> str:
        """An API's ``ApiEndpoint``: ``http://<id>.execute-api.<region>.localhost:<port>`` (``ws://``
        for a WEBSOCKET API, whose stage is the path: ``ws://…/<stage>``)."""
        url = self.addresses().url(api_id).rstrip("/")
        return "ws://" + url.split("://", 1)[1] if protocol == "WEBSOCKET" else url


def make_api_server(lamb) -> HttpApiServer:
    """Wiring (called once by the gateway)."""
    s = lamb.settings
    apis: HttpApis = lamb.http_apis
    jwt = JwtAuthorizers()
    return HttpApiServer(store=apis.store, addresses=apis.addresses, invoke=lamb.invocations.invoke,
                         call=lamb.invocations.call,
                         target=make_target(lamb.functions.resolve, s.region, s.account_id), region=s.region,
                         account_id=s.account_id, port=lambda: lamb.port,
                         max_body=s.limits.http_api_payload_max_bytes, jwt=jwt,
                         cognito=CognitoAuthorizers(jwt, lambda region: endpoint_url("cognito-idp", region)),
                         rest_store=apis.rest,
                         access_logs=access_log.AccessLogs(access_log.store_writer(lamb.logs.stream)),
                         metrics=apis.metrics, invoke_async=lamb.invocations.invoke_async,
                         credentials=Credentials(lamb.identities.role_by_arn, lamb.identities.role_policies),
                         http_sender=http_proxy.Sender(s.limits.api_http_integration_workers,
                                                       s.limits.http_api_payload_max_bytes,
                                                       resolve=private_targets.Resolver(  # the scope's region
                                                           apis.vpc_links, apis.vpc_links.network.clients,
                                                           s.limits.vpc_link_targets_ttl_s)),
                         signer=lamb.url_signer, after_answer=lamb.invoker.afterwards.add, caches=apis.caches,
                         auth_cache=apis.auth_cache, domains=apis.domains, usage=apis.usage,
                         account_throttle=(s.limits.apigateway_account_rate_limit,
                                           s.limits.apigateway_account_burst_limit),
                         execution_logs=execution_log.ExecutionLogs(
                             access_log.store_writer(lamb.logs.stream),
                             lambda: ((apis.settings.get("account") if apis.settings is not None else None)
                                      or {}).get("cloudwatchRoleArn")),
                         websockets=apis.websockets, limits=s.limits, aws=_aws_services(lamb))


def _aws_services(lamb) -> aws_services.AwsServices:
    """AWS service integrations: calls as the role (upstream STS) or as Lamb after Lamb's IAM decided."""
    s = lamb.settings
    roles = Credentials(lamb.identities.role_by_arn, lamb.identities.role_policies)
    return aws_services.AwsServices(lamb.role_clients, s.limits.api_aws_integration_workers,
                                    s.limits.http_api_payload_max_bytes, may_assume=roles.may_assume,
                                    refusal=roles.refusal, own_credentials=aws_services.own_credentials)
