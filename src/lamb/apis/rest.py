"""Serving REST APIs (API Gateway v1) with Lambda proxy integrations.

Addressed like HTTP APIs (``Host: <api-id>.execute-api.<region>.localhost`` or
``/_lamb/apis/<api-id>/<stage>/<path>``); a REST API always has the stage as the first
path segment. As API Gateway answers
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html):

- a stage that does not exist, a path with no resource or a resource without the method:
  403 ``{"message":"Missing Authentication Token"}``;
- resources match like HTTP API routes (literal segments before ``{var}``, ``{proxy+}``
  last, a method before ``ANY``), through ``routing.RouteTable``;
- the event is payload 1.0 (``payload_v1``) without ``version``/``routeKey``, with the
  resource's id as ``requestContext.resourceId``; the function's policy must allow
  ``apigateway.amazonaws.com`` for ``…:<api-id>/<stage>/<METHOD>/<resource path>``;
- a function error, a malformed response or a missing permission: 502 (500 for the
  permission) ``{"message": "Internal server error"}``; past the integration's
  ``timeoutInMillis`` (29 s by default): 504 ``{"message": "Endpoint request timed out"}``;
- non-proxy Lambda integrations (type ``AWS``) and MOCK integrations go through mapping
  templates (``mapped``, ``mock``, ``vtl``).
- ``AWS_IAM`` methods: the caller's SigV4 signature and identity policies (``iam_auth``);
- an integration's ``credentials`` role replaces the function's policy (``credentials``; the
  AWS_IAM caller's own for ``arn:aws:iam::*:user/*``);
  ``contentHandling`` converts non-proxy payloads (``binary``); ``HTTP_PROXY`` integrations forward
  the request to their URI and ``HTTP`` ones the request template's payload, their integration
  response selected by the status code (``http_proxy``: 504 past the timeout, 500 when unreachable);
  ``AWS`` integrations to another service's ``action/…`` or ``path/…`` send the request template's
  payload to it, signed, their integration response selected by its status code (``aws_services``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import NamedTuple

from ..http.answering import outcome
from ..http.server import Pending, Request, Response
from ..protocol.errors import AwsError
from ..services.lineage import with_root
from ..urls import event as v2_event
from ..urls.response import Malformed
from ..policy import evaluate as policy_eval
from ..policy.context import request_keys
from . import api_cache, aws_services, binary, deadline, gateway_responses, http_proxy, iam_auth, mapped, mock
from . import payload_v1, private_domains, resource_policy, usage_plans, validation, vtl
from .authorizers import REST_SOURCES, Authorized, Refused, identity_values, run_lambda
from .permission import source_arn
from .routing import RouteTable

log = logging.getLogger("lamb.apis.rest")


class InvocationAnswer(NamedTuple):
    """What a non-proxy integration maps: the function's payload and its error, if any."""

    payload: bytes
    function_error: str | None


class GatewayError(Response):
    """An error API Gateway itself answers: its gateway response type and message travel with it, so a
    customized gateway response (``gateway_responses``) can replace it."""

    __slots__ = ("kind", "message", "detail")

    def __init__(self, status: int, headers: list, body: bytes, kind: str, message: str | None, detail: str = ""):
        super().__init__(status, headers, body)
        self.kind, self.message, self.detail = kind, message, detail


# The gateway response type of an AWS_IAM refusal (iam_auth.Refused's error type).
_IAM_KINDS = {"MissingAuthenticationTokenException": "MISSING_AUTHENTICATION_TOKEN",
              "InvalidSignatureException": "INVALID_SIGNATURE", "IncompleteSignatureException": "INVALID_SIGNATURE",
              "ExpiredTokenException": "EXPIRED_TOKEN", "AccessDeniedException": "ACCESS_DENIED"}
_KIND_BY_STATUS = {400: "DEFAULT_4XX", 401: "UNAUTHORIZED", 403: "ACCESS_DENIED", 415: "UNSUPPORTED_MEDIA_TYPE",
                   500: "API_CONFIGURATION_ERROR", 502: "DEFAULT_5XX", 504: "INTEGRATION_TIMEOUT"}


def _message(status: int, message: str, rid: str, *, spaced: bool = True, kind: str | None = None,
             detail: str = "", extra: tuple = ()) -> Response:
    body = json.dumps({"message": message}, separators=(", ", ": ") if spaced else (",", ":")).encode()
    return GatewayError(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", rid), *extra], body,
                        kind or _KIND_BY_STATUS.get(status, "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"),
                        message, detail)


def missing_token(rid: str) -> Response:
    return _message(403, "Missing Authentication Token", rid, spaced=False, kind="MISSING_AUTHENTICATION_TOKEN",
                    extra=(("x-amzn-ErrorType", "MissingAuthenticationTokenException"),))


class RestDeployed:
    def __init__(self, snapshot: dict, api_arn: str, policy_now: str | None = None) -> None:
        """``api_arn``: ``arn:aws:execute-api:<region>:<account>:<api-id>`` (the policy's ``execute-api:/``);
        ``policy_now``: the API's policy today, for a deployment made before Lamb kept the policy with it."""
        self.resources: dict = snapshot["resources"]
        # the API's resource policy as this deployment took it (resource_policy.py), or None
        self.policy: dict | None = resource_policy.parsed(
            snapshot["policy"] if "policy" in snapshot else policy_now, api_arn)
        self.authorizers: dict = snapshot.get("authorizers") or {}
        self.models: dict = snapshot.get("models") or {}
        self.validators: dict = snapshot.get("requestValidators") or {}
        self.gateway_responses: dict = snapshot.get("gatewayResponses") or {}
        routes = {}
        for res in self.resources.values():
            for verb in res.get("resourceMethods") or {}:
                routes[f"{res['id']} {verb}"] = {"RouteKey": f"{verb} {res['path']}"}
        self.table = RouteTable(routes)


def serve(server, req: Request, doc: dict, api_id: str, stage_name: str | None, path: str, rid: str, via=None):
    """One request to a REST API (``server``: the HttpApiServer, for its collaborators); API Gateway's
    own errors go through the deployment's customized gateway responses. ``via``: the custom domain
    (``domains.Via``) the request came by: the event's ``path`` and ``requestContext.path`` are then the
    path the client sent, base path included, as AWS's are. ``seen``: what the request met on its way,
    kept by the server for the execution log (``execution_log``)."""
    seen: dict = server.notes(rid)
    result = _serve(server, req, doc, api_id, stage_name, path, rid, seen, via)
    deployed = seen.get("deployed")
    if deployed is None or not deployed.gateway_responses:
        return result
    if isinstance(result, Response):
        return _customized(result, req, deployed, seen, api_id, rid)

    async def later() -> Response:
        return _customized(await result, req, deployed, seen, api_id, rid)

    return asyncio.ensure_future(later())


def _customized(resp: Response, req: Request, deployed: "RestDeployed", seen: dict, api_id: str,
                rid: str) -> Response:
    if not isinstance(resp, GatewayError):
        return resp
    seen["gateway_error"] = (resp.kind, resp.message, resp.detail)  # the access log's $context.error.*
    custom = gateway_responses.effective(deployed.gateway_responses, resp.kind, resp.status)
    if custom is None:
        return resp
    event = seen.get("event") or {}
    context = dict(event.get("requestContext") or {"requestId": rid, "apiId": api_id, "stage": seen.get("stage"),
                                                   "path": seen.get("path")})
    context.setdefault("httpMethod", req.method)
    params = {"path": event.get("pathParameters") or {}, "querystring": event.get("queryStringParameters") or {},
              "header": dict(req.headers)}
    try:
        status, headers, body = gateway_responses.render(
            custom, message=resp.message, response_type=resp.kind, accept=req.headers.get("accept"), params=params,
            context=context, variables=seen.get("variables") or {}, validation_error=resp.detail)
    except vtl.TemplateError as e:
        log.info("REST API %s: gateway response template of %s failed (%s)", api_id, resp.kind, e)
        return resp
    kept = [(k, v) for k, v in resp.headers if k.lower() in ("x-amzn-requestid", "x-amzn-errortype")]
    return Response(status, headers + kept, body)


def _serve(server, req: Request, doc: dict, api_id: str, stage_name: str | None, path: str, rid: str, seen: dict,
           via=None):
    if stage_name is None:
        stage_name, _, rest = path[1:].partition("/")
        path = "/" + rest
    stage = doc["stages"].get(stage_name)
    if stage is None:
        return missing_token(rid)
    dep = doc["deployments"].get(stage["deploymentId"])
    if dep is None:
        return missing_token(rid)
    key = ("rest", api_id, dep["id"])
    deployed = server._deployed.get(key)
    if deployed is None:
        deployed = server._deployed[key] = RestDeployed(
            dep["_snapshot"], f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}",
            doc["api"].get("policy"))
    seen.update(deployed=deployed, stage=stage_name, variables=stage.get("variables") or {},
                path=via.full_path if via is not None else f"/{stage_name}{path}")
    # a trailing slash names the same resource (curl …/Prod/hello/ reaches /hello, as on AWS)
    match = deployed.table.match(req.method, path[:-1] if len(path) > 1 and path.endswith("/") else path)
    if match is None:
        return missing_token(rid)
    res_id, verb = match.route_id.split(" ", 1)
    resource = deployed.resources[res_id]
    integration = resource["resourceMethods"][verb].get("methodIntegration")
    if integration is None:
        return missing_token(rid)
    variables = stage.get("variables") or {}
    method = resource["resourceMethods"][verb]
    if not _admitted(server, stage, api_id, stage_name, resource["path"], verb):
        return _message(429, "Too Many Requests", rid, spaced=False, kind="THROTTLED")
    peer = req.conn.transport.get_extra_info("peername") if req.conn is not None and req.conn.transport else None
    source_ip = peer[0] if peer else ""
    trace = with_root(req.headers.get("x-amzn-trace-id"))
    event = payload_v1.build(
        method=req.method, path=path, raw_query=req.query, headers=req.headers, body=req.body,
        resource=resource["path"], route_key="", stage=stage_name, api_id=api_id,
        domain=server.addresses().domain(api_id), account_id=server.account_id, source_ip=source_ip,
        request_id=rid, extra_headers={"X-Amzn-Trace-Id": trace, "X-Forwarded-For": source_ip,
                                       "X-Forwarded-Port": str(server.port()), "X-Forwarded-Proto": "http"},
        path_parameters=match.path_parameters, stage_variables=variables, authorizer=None,
        now_ms=int(time.time() * 1000))
    del event["version"]
    binary_types = doc["api"].get("binaryMediaTypes") or []
    if req.body:  # REST APIs encode by the API's binary media types (binary.py), not by a text heuristic
        event["body"], event["isBase64Encoded"] = binary.request_body(req.body, req.headers.get("content-type"),
                                                                       binary_types)
    ctx = event["requestContext"]
    del ctx["routeKey"]
    ctx["resourceId"] = res_id
    ctx["path"] = seen["path"]
    ctx["authorizer"] = None
    if via is not None:  # by a custom domain name (domains.py)
        event["path"] = via.full_path
        ctx.update(domainName=via.domain, domainPrefix=via.prefix)
        if via.client_cert is not None:  # mutual TLS (mutual_tls.py)
            ctx["identity"]["clientCert"] = via.client_cert
    ctx["identity"].update(apiKey=None, apiKeyId=None)  # set for methods with apiKeyRequired (usage_plans)
    seen["event"] = event
    method_arn = f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/{stage_name}/{req.method}{path}"
    call = _Call(server, api_id, stage_name, verb, resource, integration, variables, event, trace, rid,
                 tuple(binary_types), req.headers.get("accept") or "", req.body, req.headers.get("content-type"),
                 deployed, req.headers, req.query, source_ip, key_source=doc["api"].get("apiKeySource") or "HEADER")
    kind = method.get("authorizationType") or "NONE"
    policy, anonymous = deployed.policy, None
    if policy is not None:  # the API's resource policy (resource_policy.py says when it refuses)
        policy_context = request_keys(source_ip, req.headers, secure=req.over_tls)
        if req.headers.get(private_domains.HEADER):  # the VPC endpoint a caller stands for (Lamb's header)
            policy_context["aws:SourceVpce"] = req.headers[private_domains.HEADER]
        if kind != "AWS_IAM":  # without AWS_IAM it sees an anonymous caller
            anonymous = resource_policy.decide(policy, policy_eval.Principal.anonymous(), method_arn, policy_context)
    if anonymous is not None and (anonymous is policy_eval.Decision.DENY or
                                  kind == "NONE" and anonymous is not policy_eval.Decision.ALLOW):
        return _policy_refusal("anonymous", method_arn, anonymous, rid)
    if kind == "AWS_IAM":
        step, began = "authenticate", time.time()  # the access log's $context.authenticate.*/authorize.*
        logged = seen.setdefault("log_values", {})
        try:
            caller = iam_auth.verify(req.method, req.path, req.query, req.headers, req.body,
                                     server.signer or (lambda _k: None))
            logged.update(_step(step, began, 200))
            step, began = "authorize", time.time()
            if policy is None:
                iam_auth.authorize(caller, method_arn)
            else:  # the caller's identity policies with the API's resource policy (Tables A and B)
                decision = iam_auth.decision(caller, method_arn, policy=policy, api_account=server.account_id,
                                             context=policy_context)
                if decision is not policy_eval.Decision.ALLOW:
                    raise iam_auth.Refused(resource_policy.refusal(caller.arn, method_arn, decision),
                                           "AccessDeniedException")
            logged.update(_step(step, began, 200))
        except iam_auth.Refused as e:  # a GatewayError, so that a customized gateway response replaces it
            logged.update(_step(step, began, 403, next(iter(e.body.values()), None)))
            return _iam_refusal(e, rid)
        ctx["identity"].update(caller.identity())
        call = call._replace(caller=caller)
    # the stage's cache (api_cache): looked up in integrate(), after the authorizer and the validator
    stage_cache = server.caches.of(api_id, stage_name, stage) if server.caches is not None else None
    if stage_cache is not None:
        settings = api_cache.method_caching(stage, resource["path"], verb, req.method)
        if settings is not None:
            call = call._replace(cache=(stage_cache, settings, method_arn))
    if kind == "COGNITO_USER_POOLS":
        if anonymous is not None and anonymous is not policy_eval.Decision.ALLOW:  # refused once the token passes
            call = call._replace(refused=_policy_refusal("anonymous", method_arn, anonymous, rid))
        return _cognito(server, deployed.authorizers.get(method.get("authorizerId") or ""), method, req, call)
    if kind == "CUSTOM":
        auth = deployed.authorizers.get(method.get("authorizerId") or "")
        if auth is None:
            return _message(500, "Internal server error", rid)
        seen["authorizer"] = auth["id"]  # for the execution log
        try:
            decided = rest_authorizer(server, auth, req, event, method_arn, variables)
        except Refused as e:
            seen["unauthorized"] = True
            return _refusal(e, rid)
        if not isinstance(decided, Authorized):
            return asyncio.ensure_future(_after_auth(decided, call))
        return call.integrate(decided)
    return call.integrate(None)


def _step(name: str, began: float, status: int, error: str | None = None) -> dict:
    """``$context.<name>.status``/``latency``/``error`` of an AWS_IAM method's authentication or authorization."""
    return {f"{name}.status": status, f"{name}.latency": int((time.time() - began) * 1000), f"{name}.error": error}


def _policy_refusal(who: str, method_arn: str, decision: "policy_eval.Decision", rid: str) -> Response:
    return _iam_refusal(iam_auth.Refused(resource_policy.refusal(who, method_arn, decision), "AccessDeniedException"),
                        rid)


def _iam_refusal(e: "iam_auth.Refused", rid: str) -> Response:
    return GatewayError(403, [("Content-Type", "application/json"), ("x-amzn-RequestId", rid),
                              ("x-amzn-ErrorType", e.error_type)], json.dumps(e.body, separators=(",", ":")).encode(),
                        _IAM_KINDS.get(e.error_type, "DEFAULT_4XX"), next(iter(e.body.values()), None))


def _admitted(server, stage: dict, api_id: str, stage_name: str, resource_path: str, verb: str) -> bool:
    """Whether the method's throttle (its stage's method settings) and then the account's have a token
    (``throttle``): else THROTTLED (429)."""
    limits = server.buckets.rest_settings(stage, resource_path, verb)
    if limits is not None and not server.buckets.take((api_id, stage_name, resource_path, verb), *limits):
        return False
    return server.account_admits()


def _refusal(e: Refused, rid: str) -> Response:
    if e.status == 403:
        body = json.dumps({"Message": e.message}, separators=(",", ":")).encode()
        return GatewayError(403, [("Content-Type", "application/json"), ("x-amzn-RequestId", rid),
                                  ("x-amzn-ErrorType", "AccessDeniedException")], body, "ACCESS_DENIED", e.message)
    if e.status == 500:
        return GatewayError(500, [("Content-Type", "application/json"), ("x-amzn-RequestId", rid),
                                  ("x-amzn-ErrorType", "AuthorizerConfigurationException")], b'{"message":null}',
                            "AUTHORIZER_CONFIGURATION_ERROR", None)
    return _message(e.status, e.message, rid, spaced=False)


def _cognito(server, auth: dict | None, method: dict, req: Request, call: "_Call"):
    """A Cognito user pool authorizer (``cognito_auth``): 401 without a good token; claims cached by TTL."""
    if auth is None or server.cognito is None:
        return _message(500, "Internal server error", call.rid, kind="AUTHORIZER_CONFIGURATION_ERROR")
    try:
        token = server.cognito.token(auth, req.headers)
    except Refused as e:
        return _refusal(e, call.rid)
    scopes = list(method.get("authorizationScopes") or [])
    ttl = int(auth.get("authorizerResultTtlInSeconds", 300) or 0)
    key = (call.api_id, call.stage, auth["id"], token, tuple(scopes)) if ttl else None  # per stage (flushed so)
    cached = server.auth_cache.get(key) if key else None
    if cached is not None:
        return call.integrate(cached[0])

    async def check() -> Authorized:
        outcome = await server.cognito.verify(auth, token, scopes)
        if key is not None:
            server.auth_cache.put(key, ttl, (outcome,))
        return outcome

    return asyncio.ensure_future(_after_auth(check(), call))


async def _after_auth(decided, call: "_Call") -> Response:
    try:
        outcome = await decided
    except Refused as e:
        call.server.notes(call.rid)["unauthorized"] = True
        return _refusal(e, call.rid)
    answer = call.integrate(outcome)
    return await answer if isinstance(answer, (asyncio.Future, Pending)) else answer


def _function_failed(result, exc: "BaseException | None", rid: str) -> str:
    """The execution log's line for a failed invocation."""
    if exc is not None:
        return f"Execution failed due to configuration error: {exc}"
    try:
        message = json.loads(result.payload).get("errorMessage")
    except (ValueError, AttributeError):
        message = None
    return (f"Lambda execution failed with status 200 due to customer function error: {message}. "
            f"Lambda request id: {rid}")


def _integration_note(result, exc: "BaseException | None", rid: str, lambda_status: int = 200) -> dict:
    """The access log's ``$context.integration.*`` of a finished Lambda invocation (``status``: Lambda's;
    ``result``: the invocation's answer (RequestResponse), else Event's or DryRun's own)."""
    if exc is not None:
        return {"integrationStatus": getattr(exc, "status", None), "error": getattr(exc, "message", None) or str(exc)}
    out = {"integrationStatus": lambda_status, "status": lambda_status, "requestId": rid}
    if lambda_status == 200 and getattr(result, "function_error", None):
        out["error"] = mapped.error_message(result.payload)
    return out


def _timed_out(notes: dict, rid: str) -> Response:
    notes["error"] = "Execution failed due to a timeout error"
    return _message(504, "Endpoint request timed out", rid)


class _Call(NamedTuple):
    server: object
    api_id: str
    stage: str
    verb: str
    resource: dict
    integration: dict
    variables: dict
    event: dict
    trace: str
    rid: str
    binary_types: tuple = ()
    accept: str = ""
    body: bytes = b""
    content_type: str | None = None
    deployed: "RestDeployed | None" = None
    headers: dict | None = None  # the client's (HTTP_PROXY forwards them)
    query: str = ""
    source_ip: str = ""
    caller: "iam_auth.Caller | None" = None  # an AWS_IAM method's signer
    cache: tuple | None = None  # (api_cache.StageCache, the method's caching settings, method ARN) when cached
    key_source: str = "HEADER"  # the API's apiKeySource (usage_plans)
    refused: Response | None = None  # the resource policy's refusal, answered once the authorizer passed

    def seen(self) -> mapped.Templated:
        """What a mapping template sees of the request (``$input.params()``, ``$context``, ``$stageVariables``)."""
        e = self.event
        context = dict(e["requestContext"], httpMethod=e["httpMethod"], resourcePath=self.resource["path"])
        return mapped.Templated({"path": e.get("pathParameters") or {}, "querystring": e.get("queryStringParameters") or {},
                                 "header": e.get("headers") or {}}, context, self.variables)

    def _converted(self) -> bytes:
        """The integration request's payload: the body converted by the integration's ``contentHandling``
        (``binary.convert_request``; non-proxy integrations only, a proxy event encodes by binary media types)."""
        return binary.convert_request(self.body, self.content_type, self.binary_types,
                                      self.integration.get("contentHandling"))

    def integrate(self, authorized: "Authorized | None"):
        rid = self.rid
        if self.refused is not None:
            return self.refused
        if authorized is not None:
            self.event["requestContext"]["authorizer"] = authorized.for_event("1.0")
            self.server.notes(rid)["authorized"] = authorized  # the access log's $context.authorizer.*
        refused = self._api_key(authorized)
        if refused is not None:
            return refused
        invalid = self._invalid()
        if invalid is not None:
            return _message(400, invalid.message, rid, kind=invalid.response_type, detail=invalid.detail,
                            extra=(("x-amzn-ErrorType", "BadRequestException"),))
        return self._integration() if self.cache is None else self._through_cache()

    def _through_cache(self):
        """A cached method (``api_cache``): the stage cache's entry, else the integration's answer kept."""
        stage_cache, settings, method_arn = self.cache
        e, headers, server = self.event, self.headers or {}, self.server
        key = api_cache.key_of(self.event["httpMethod"], self.integration, self.resource["id"],
                               e.get("multiValueQueryStringParameters") or {}, headers, e.get("pathParameters") or {})
        caller = self.caller
        try:
            step = api_cache.plan(stage_cache, settings, key, headers, lambda: caller is not None and iam_auth.allowed(
                caller, api_cache.INVALIDATE_ACTION, method_arn))
        except api_cache.Refused:
            who = caller.arn if caller is not None else "anonymous"
            return _iam_refusal(iam_auth.Refused({"Message": f"User: {who} is not authorized to perform: "
                                                             f"{api_cache.INVALIDATE_ACTION} on resource: {method_arn}"},
                                                 "AccessDeniedException"), self.rid)
        warning = [(api_cache.WARNING_HEADER, api_cache.WARNING_TEXT)] if step.warn else []
        hit = None if step.fresh else stage_cache.get(key)
        server.cache_outcomes[self.rid] = hit is not None  # CacheHitCount / CacheMissCount (metrics.py)
        if hit is not None:
            return Response(hit.status, list(hit.headers) + warning + [("x-amzn-RequestId", self.rid)], hit.body)

        def keep(resp: Response) -> Response:
            if 200 <= resp.status < 300 and resp.stream is None and not isinstance(resp, GatewayError):
                stage_cache.put(key, step.ttl, resp.status,
                                [h for h in resp.headers if h[0].lower() != "x-amzn-requestid"], resp.body,
                                step.encrypted)
            elif step.fresh:
                stage_cache.invalidate(key)
            return Response(resp.status, list(resp.headers) + warning, resp.body, resp.stream) if warning else resp

        answer = self._integration()
        if isinstance(answer, Response):
            return keep(answer)

        async def later() -> Response:
            return keep(await answer)

        return asyncio.ensure_future(later())

    def _integration(self):
        """The integration's answer (a ``Response`` or a future of one)."""
        from .serve import _STAGE_VAR, function_arn_of  # the same URI forms as HTTP APIs

        server, rid = self.server, self.rid
        internal = _message(500, "Internal server error", rid)
        kind = self.integration.get("type")
        if kind == "MOCK":
            try:
                answered = mock.answer(self.integration, self.content_type, self.accept, self.seen(),
                                       self._converted(), self.binary_types)
            except (vtl.TemplateError, binary.Unconvertible) as e:
                log.info("REST API %s: MOCK mapping template or content conversion failed (%s)", self.api_id, e)
                return internal
            if answered is None:
                return internal
            status, headers, body = answered
            return Response(status, headers + [("x-amzn-RequestId", rid)], body)
        if kind in ("HTTP_PROXY", "HTTP"):
            return self._http(proxy=kind == "HTTP_PROXY")
        uri = _STAGE_VAR.sub(lambda m: self.variables.get(m.group(1), ""), self.integration["uri"])
        if kind == "AWS" and aws_services.is_service_uri(uri):
            return self._aws_service(aws_services.rest_target(uri))
        try:
            target = server.target(function_arn_of(uri))
        except AwsError:
            return internal
        method = self.event["httpMethod"]
        src = source_arn(server.region, server.account_id, self.api_id, self.stage, method,
                         f"{self.verb} {self.resource['path']}")
        notes = server.notes(rid)
        notes["endpoint"] = f"https://lambda.{server.region}.amazonaws.com/2015-03-31/functions/{target.arn}/invocations"
        if not server.may_invoke(self.integration.get("credentials"), target, src, self.caller):
            log.info("REST API %s: %s may not be invoked for %s (resource policy or credentials)", self.api_id,
                     target.arn, src)
            notes["error"] = "Execution failed due to configuration error: Invalid permissions on Lambda function"
            return internal
        if kind == "AWS":
            return self._mapped(target)
        notes["endpoint_body"] = payload = v2_event.encode(self.event)
        # The Invoke call's X-Amz-Invocation-Type from requestParameters; an Event/DryRun answer is empty, a
        # malformed proxy response (502), as for a non-proxy integration's call the function runs (or not) anyway.
        invocation = mapped.invocation_type(self.integration, self.seen()) \
            if mapped.INVOCATION_TYPE in (self.integration.get("requestParameters") or {}) else "RequestResponse"
        def done(result, exc: "BaseException | None") -> Response:
            if exc is not None or result.function_error:
                notes["error"] = _function_failed(result, exc, rid)
                notes["integration"] = _integration_note(result, exc, rid)
                notes["integration"].pop("status", None)  # the function's code returned no status
                return _message(502, "Internal server error", rid)
            notes["endpoint_answer"] = result.payload
            try:
                status, headers, body, encoded = payload_v1.response(result.payload)
            except Malformed:
                notes["error"] = "Execution failed due to configuration error: Malformed Lambda proxy response"
                notes["integration"] = dict(
                    _integration_note(result, None, rid, {"Event": 202, "DryRun": 204}.get(invocation, 200)),
                    status=None, error="Malformed Lambda proxy response")
                return _message(502, "Internal server error", rid)
            notes["integration"] = dict(_integration_note(result, None, rid), status=status)
            if encoded:
                body = binary.response_body(body, self.accept, list(self.binary_types))
            headers = http_proxy.remapped(headers)
            headers.append(("x-amzn-RequestId", rid))
            return Response(status, headers, body)

        timeout_s = self.integration.get("timeoutInMillis", 29_000) / 1000.0
        try:
            if invocation == "RequestResponse":  # the answer written from the function's (http/answering)
                return server.answer_from(target, payload, rid, self.trace, done, lambda: internal, timeout_s,
                                          lambda: _timed_out(notes, rid))
            pending = self._not_waited(target, payload, invocation)
        except AwsError:
            return _message(502, "Internal server error", rid)
        except ValueError as e:
            log.info("REST API %s: the integration request was refused (%s)", self.api_id, e)
            return internal
        return deadline.within(pending, timeout_s, lambda: _timed_out(notes, rid), lambda f: done(*outcome(f)))

    def _not_waited(self, target, payload: bytes, kind: str) -> asyncio.Future:
        """An ``Event`` (queued: Lambda answers 202 with an empty body) or ``DryRun`` (checked, not run: 204)
        invocation: a future of the empty answer."""
        server = self.server
        answered = asyncio.get_running_loop().create_future()
        if kind == "Event":
            queued = asyncio.ensure_future(server.invoke_async(target.function, target.qualifier, payload,
                                                               trace_header=self.trace, request_id=self.rid))

            def passed_on(f: asyncio.Future) -> None:
                if answered.done():  # given up on (the integration timeout)
                    return
                if f.cancelled():
                    answered.cancel()
                elif f.exception() is not None:
                    answered.set_exception(f.exception())
                else:
                    answered.set_result(InvocationAnswer(b"", None))

            queued.add_done_callback(passed_on)
        elif kind == "DryRun":
            answered.set_result(InvocationAnswer(b"", None))
        else:
            raise ValueError(f"invalid X-Amz-Invocation-Type {kind!r}")
        return server.timed(answered, self.rid)

    def _api_key(self, authorized: "Authorized | None") -> Response | None:
        """A method with ``apiKeyRequired``: its key (the ``x-api-key`` header, or the authorizer's
        ``usageIdentifierKey``) against this stage's usage plans, their throttles and quotas (``usage_plans``;
        after the authorizer, before the request validator)."""
        if not self.resource["resourceMethods"][self.verb].get("apiKeyRequired"):
            return None
        server, usage = self.server, self.server.usage
        value = (authorized.usage_key if authorized is not None else None) if self.key_source == "AUTHORIZER" \
            else (self.headers or {}).get("x-api-key")
        outcome = usage.admit(value, self.api_id, self.stage, self.resource["path"], self.verb, server.buckets) \
            if usage is not None else usage_plans.Refusal(*usage_plans.INVALID_KEY)
        if isinstance(outcome, usage_plans.Refusal):
            return _message(outcome.status, outcome.message, self.rid, spaced=False, kind=outcome.kind)
        self.event["requestContext"]["identity"].update(apiKey=outcome.value, apiKeyId=outcome.key_id)
        server.api_keys[self.rid] = (outcome.value, outcome.key_id)
        usage.write_later(server.after_answer)
        return None

    def _invalid(self) -> "validation.Invalid | None":
        """The method's request validator applied (after the authorizer, before the integration)."""
        deployed = self.deployed
        if deployed is None or not deployed.validators:
            return None
        e = self.event
        return validation.validate(self.resource["resourceMethods"][self.verb], deployed.validators, deployed.models,
                                   self.api_id, path=e.get("pathParameters") or {},
                                   query=e.get("queryStringParameters") or {}, headers=e.get("headers") or {},
                                   body=self.body or b"", content_type=self.content_type)

    def _http(self, *, proxy: bool):
        """An HTTP_PROXY integration (the request forwarded as it came, the answer as it is) or an HTTP one
        (the body through the request template, the answer through the integration response its status code
        selects), with ``requestParameters`` mapped (``http_proxy``, ``mapped``); 504 past the timeout, 500
        when the endpoint cannot be reached."""
        server, rid, e = self.server, self.rid, self.event
        internal = _message(500, "Internal server error", rid)
        seen = self.seen()
        mapped_params = http_proxy.rest_request_parameters(self.integration.get("requestParameters") or {},
                                                           seen.params, self.variables, seen.context)
        url = http_proxy.target_url(self.integration["uri"], mapped_params["path"], self.variables,
                                    self.query if proxy else "")
        if mapped_params["querystring"]:
            url = http_proxy.apply_request_parameters(
                http_proxy.Outgoing("", url, [], b""),
                {f"overwrite:querystring.{k}": v for k, v in mapped_params["querystring"].items()},
                http_proxy.Seen({}, "", "", {}, b"", {}, {})).url
        if proxy:
            body = self.body
            headers = http_proxy.forward_headers(self.headers or {}, source_ip=self.source_ip, port=server.port(),
                                                 proto="http", trace=self.trace)
        else:  # only what the mapping passes on, as API Gateway does for non-proxy integrations
            body = self._templated(seen)
            if isinstance(body, Response):
                return body
            headers = [("Content-Type", self.content_type or "application/json"), ("X-Amzn-Trace-Id", self.trace)]
        for name, value in mapped_params["header"].items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]
        method = self.integration.get("httpMethod") or "ANY"
        out = http_proxy.Outgoing(e["httpMethod"] if method == "ANY" else method, url, headers, body,
                                  http_proxy.private_v1(self.integration, self.variables))  # through a VPC link
        timeout_s = self.integration.get("timeoutInMillis", 29_000) / 1000.0
        notes = server.notes(rid)
        notes.update(endpoint=url, endpoint_body=body)
        timed_out = lambda: _timed_out(notes, rid)  # noqa: E731
        try:
            pending = server.forward(out, timeout_s, rid)
        except http_proxy.Unreachable:
            return internal

        def done(f: asyncio.Future) -> Response:
            exc = f.exception()
            if isinstance(exc, http_proxy.TimedOut):
                return timed_out()
            if exc is not None:
                log.info("REST API %s: HTTP integration %s failed (%s)", self.api_id, url, exc)
                notes["integration"] = {"error": str(exc)}
                return internal
            answer = f.result()
            notes["integration"] = {"status": answer.status, "integrationStatus": answer.status}
            if proxy:
                return Response(answer.status, http_proxy.response_headers(http_proxy.remapped(answer.headers)) +
                                [("x-amzn-RequestId", rid)], answer.body)
            return self._responded(answer, seen)

        return deadline.within(pending, timeout_s, timed_out, done)

    def _templated(self, seen: mapped.Templated) -> "bytes | Response":
        """A non-proxy integration's request payload (its request template), or the answer when there is none:
        415 without a template and passthrough, 500 when the template or the conversion fails."""
        try:
            return mapped.request_payload(self.integration, self._converted(), self.content_type, seen)
        except mapped.Unsupported:
            return _message(415, "Unsupported Media Type", self.rid)
        except (vtl.TemplateError, binary.Unconvertible) as exc:
            log.info("REST API %s: request mapping template or content conversion failed (%s)", self.api_id, exc)
            return _message(500, "Internal server error", self.rid)

    def _responded(self, answer, seen: mapped.Templated) -> Response:
        """A non-proxy integration's answer through the integration response its status code selects."""
        rid = self.rid
        chosen = mapped.select(self.integration, str(answer.status))  # selectionPattern: the status code
        if chosen is None:
            log.info("REST API %s: no integration response for status %s", self.api_id, answer.status)
            return _message(500, "Internal server error", rid)
        payload_type = next((v for k, v in answer.headers if k.lower() == "content-type"), None)
        try:
            status, headers, body = mapped.response(chosen, answer.body, self.accept, seen, self.binary_types,
                                                    payload_type, tuple(answer.headers))
        except (vtl.TemplateError, binary.Unconvertible) as exc:
            log.info("REST API %s: response mapping template or content conversion failed (%s)", self.api_id, exc)
            return _message(500, "Internal server error", rid)
        return Response(status, headers + [("x-amzn-RequestId", rid)], body)

    def _aws_service(self, target: "aws_services.Target"):
        """A type AWS integration to another service than Lambda (``aws_services``): the request template's
        payload and the mapped ``requestParameters`` sent to the service's action or path, signed as the
        ``credentials`` role; its answer through the integration responses. 504 past the timeout, 500 when
        the call cannot be made (no credentials, a role API Gateway cannot assume, an unreachable service)."""
        server, rid = self.server, self.rid
        internal = _message(500, "Internal server error", rid)
        if server.aws is None:
            return internal
        seen = self.seen()
        params = http_proxy.rest_request_parameters(self.integration.get("requestParameters") or {},
                                                    seen.params, self.variables, seen.context)
        body = self._templated(seen)
        if isinstance(body, Response):
            return body
        timeout_s = self.integration.get("timeoutInMillis", 29_000) / 1000.0
        notes = server.notes(rid)
        notes.update(endpoint=self.integration["uri"], endpoint_body=body)
        pending = server.timed(server.aws.rest(target, self.integration.get("httpMethod") or "POST", params["path"],
                                               params["querystring"], params["header"], body,
                                               self.integration.get("credentials"), timeout_s), rid)

        def done(f: asyncio.Future) -> Response:
            exc = f.exception()
            if isinstance(exc, http_proxy.TimedOut):
                return _timed_out(notes, rid)
            if exc is not None:
                log.info("REST API %s: AWS integration %s failed (%s)", self.api_id, self.integration["uri"], exc)
                notes["error"] = f"Execution failed due to configuration error: {exc}"
                return internal
            return self._responded(f.result(), seen)

        return deadline.within(pending, timeout_s, lambda: _timed_out(notes, rid), done)

    def _mapped(self, target):
        """A non-proxy Lambda integration (type ``AWS``): request template → payload, the function's
        answer → an integration response (``mapped``)."""
        server, rid = self.server, self.rid
        internal = _message(500, "Internal server error", rid)
        seen = self.seen()
        try:
            payload = mapped.request_payload(self.integration, self._converted(), self.content_type, seen)
        except mapped.Unsupported:
            return _message(415, "Unsupported Media Type", rid)
        except (vtl.TemplateError, binary.Unconvertible) as e:
            log.info("REST API %s: request mapping template or content conversion failed (%s)", self.api_id, e)
            return internal
        kind = mapped.invocation_type(self.integration, seen)
        notes = server.notes(rid)
        notes["endpoint_body"] = payload
        try:
            if payload.strip():
                json.loads(payload)  # Lambda takes JSON only (InvalidRequestContentException)
            if kind == "RequestResponse":
                pending = server.invoke(target.function, target.qualifier, payload, trace_header=self.trace,
                                        request_id=rid)
            else:  # Event (Lambda answers 202 with an empty body once queued) or DryRun (204, not run)
                pending = self._not_waited(target, payload, kind)
        except (ValueError, AwsError) as e:
            log.info("REST API %s: the integration request was refused (%s)", self.api_id, e)
            return internal

        def done(f: asyncio.Future) -> Response:
            notes["integration"] = _integration_note(*outcome(f), rid, {"Event": 202, "DryRun": 204}.get(kind, 200))
            if f.exception() is not None:
                return internal
            result = f.result()
            if kind != "RequestResponse":  # an empty payload, no function error
                result = InvocationAnswer(b"", None)
            notes["endpoint_answer"] = result.payload
            chosen = mapped.select(self.integration, mapped.error_message(result.payload)
                                   if result.function_error else None)
            if chosen is None:
                log.info("REST API %s: no integration response for the function's answer", self.api_id)
                return internal
            try:
                status, headers, body = mapped.response(chosen, result.payload, self.accept, seen, self.binary_types)
            except (vtl.TemplateError, binary.Unconvertible) as e:
                log.info("REST API %s: response mapping template or content conversion failed (%s)", self.api_id, e)
                return internal
            return Response(status, headers + [("x-amzn-RequestId", rid)], body)

        return deadline.within(pending, self.integration.get("timeoutInMillis", 29_000) / 1000.0,
                               lambda: _timed_out(notes, rid), done)


def rest_authorizer(server, auth: dict, req: Request, event: dict, method_arn: str, variables: dict):
    """A REST API's Lambda authorizer (TOKEN or REQUEST): an ``Authorized`` from the cache or an
    awaitable of one; raises ``Refused`` (401 without the token, 403 on deny, 500 on failure).

    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
    """
    sources = [s.strip() for s in (auth.get("identitySource") or "").split(",") if s.strip()]
    values = identity_values(sources, req.headers, event.get("queryStringParameters") or {}, variables, "",
                             REST_SOURCES)
    if values is None:
        raise Refused(401, "Unauthorized")
    if auth["type"] == "TOKEN":
        pattern = auth.get("identityValidationExpression")
        if pattern and not re.fullmatch(pattern, values[0]):
            raise Refused(401, "Unauthorized")
        payload = {"type": "TOKEN", "authorizationToken": values[0], "methodArn": method_arn}
    else:
        payload = dict(event, type="REQUEST", methodArn=method_arn)
        payload.pop("body", None)
        payload.pop("isBase64Encoded", None)
    ttl = int(auth.get("authorizerResultTtlInSeconds", 300) or 0)
    ctx = event["requestContext"]  # answers cached per stage (FlushStageAuthorizersCache)
    key = (ctx["apiId"], ctx["stage"], auth["id"], tuple(values)) if ttl and values else None
    cached = server.auth_cache.get(key) if key else None
    if cached is not None:
        return _decide(cached[0], method_arn, 0)

    async def call() -> Authorized:
        from .serve import function_arn_of

        try:
            target = server.target(function_arn_of(auth["authorizerUri"]))
        except AwsError:
            raise Refused(500, "") from None
        api_id = event["requestContext"]["apiId"]
        src = f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/authorizers/{auth['id']}"
        if not server.may_invoke(auth.get("authorizerCredentials"), target, src):
            raise Refused(500, "")
        auth_rid = server.notes(ctx["requestId"])["authorizer_request_id"] = str(uuid.uuid4())  # (access log)
        value, latency = await run_lambda(
            lambda p: server.invoke(target.function, target.qualifier, p, request_id=auth_rid),
            v2_event.encode(payload))
        outcome = _decide(value, method_arn, latency)
        if key is not None:
            server.auth_cache.put(key, ttl, (value,))
        return outcome

    return call()


def _decide(value, method_arn: str, latency: int) -> Authorized:
    """An IAM-policy answer: explicit deny and no allow are told apart, as REST APIs do."""
    if not isinstance(value, dict) or not isinstance(value.get("policyDocument"), dict) or "principalId" not in value:
        raise Refused(500, "")
    request = policy_eval.Request(policy_eval.Principal.anonymous(), "execute-api:Invoke", method_arn)
    decision = policy_eval.evaluate([value["policyDocument"]], request)
    if decision is policy_eval.Decision.DENY:
        raise Refused(403, "User is not authorized to access this resource with an explicit deny")
    if decision is not policy_eval.Decision.ALLOW:
        raise Refused(403, "User is not authorized to access this resource")
    context = value.get("context") or {}
    if not isinstance(context, dict):
        raise Refused(500, "")
    key = value.get("usageIdentifierKey")  # the API key of an AUTHORIZER apiKeySource (usage_plans)
    return Authorized("lambda", context, str(value["principalId"]), latency,
                      usage_key=key if isinstance(key, str) else None)
