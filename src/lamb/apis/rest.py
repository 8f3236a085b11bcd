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
  ``timeoutInMillis`` (29 s by default): 504 ``{"message": "Endpoint request timed out"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from ..http.server import Request, Response
from ..protocol.errors import AwsError
from ..services.lineage import with_root
from ..urls import event as v2_event
from ..urls.response import Malformed
from . import deadline, payload_v1
from .permission import source_arn
from .routing import RouteTable

log = logging.getLogger("lamb.apis.rest")


def _message(status: int, message: str, rid: str, *, spaced: bool = True) -> Response:
    body = json.dumps({"message": message}, separators=(", ", ": ") if spaced else (",", ":")).encode()
    return Response(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", rid)], body)


def missing_token(rid: str) -> Response:
    return _message(403, "Missing Authentication Token", rid, spaced=False)


class RestDeployed:
    def __init__(self, snapshot: dict) -> None:
        self.resources: dict = snapshot["resources"]
        routes = {}
        for res in self.resources.values():
            for verb in res.get("resourceMethods") or {}:
                routes[f"{res['id']} {verb}"] = {"RouteKey": f"{verb} {res['path']}"}
        self.table = RouteTable(routes)


def serve(server, req: Request, doc: dict, api_id: str, stage_name: str | None, path: str, rid: str):
    """One request to a REST API (``server``: the HttpApiServer, for its collaborators)."""
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
        deployed = server._deployed[key] = RestDeployed(dep["_snapshot"])
    match = deployed.table.match(req.method, path)
    if match is None:
        return missing_token(rid)
    res_id, verb = match.route_id.split(" ", 1)
    resource = deployed.resources[res_id]
    integration = resource["resourceMethods"][verb].get("methodIntegration")
    if integration is None:
        return missing_token(rid)
    variables = stage.get("variables") or {}
    from .serve import _STAGE_VAR, function_arn_of  # the same URI forms as HTTP APIs

    uri = _STAGE_VAR.sub(lambda m: variables.get(m.group(1), ""), integration["uri"])
    internal = _message(500, "Internal server error", rid)
    try:
        target = server.target(function_arn_of(uri))
    except AwsError:
        return internal
    src = source_arn(server.region, server.account_id, api_id, stage_name, req.method, f"{verb} {resource['path']}")
    if not server.permission.allowed(target.record, target.arn, src):
        log.info("REST API %s: %s does not allow apigateway.amazonaws.com for %s", api_id, target.arn, src)
        return internal
    peer = req.conn.transport.get_extra_info("peername") if req.conn is not None and req.conn.transport else None
    source_ip = peer[0] if peer else ""
    now_ms = int(time.time() * 1000)
    trace = with_root(req.headers.get("x-amzn-trace-id"))
    event = payload_v1.build(
        method=req.method, path=path, raw_query=req.query, headers=req.headers, body=req.body,
        resource=resource["path"], route_key="", stage=stage_name, api_id=api_id,
        domain=server.addresses().domain(api_id), account_id=server.account_id, source_ip=source_ip,
        request_id=rid, extra_headers={"X-Amzn-Trace-Id": trace, "X-Forwarded-For": source_ip,
                                       "X-Forwarded-Port": str(server.port()), "X-Forwarded-Proto": "http"},
        path_parameters=match.path_parameters, stage_variables=variables, authorizer=None, now_ms=now_ms)
    del event["version"]
    ctx = event["requestContext"]
    del ctx["routeKey"]
    ctx["resourceId"] = res_id
    ctx["path"] = f"/{stage_name}{path}"
    ctx["authorizer"] = None
    try:
        pending = server.invoke(target.function, target.qualifier, v2_event.encode(event), trace_header=trace,
                                request_id=rid)
    except AwsError:
        return _message(502, "Internal server error", rid)
    def done(f: asyncio.Future) -> Response:
        if f.exception() is not None or f.result().function_error:
            return _message(502, "Internal server error", rid)
        try:
            status, headers, body = payload_v1.response(f.result().payload)
        except Malformed:
            return _message(502, "Internal server error", rid)
        headers.append(("x-amzn-RequestId", rid))
        return Response(status, headers, body)

    return deadline.within(pending, integration.get("timeoutInMillis", 29_000) / 1000.0,
                           lambda: _message(504, "Endpoint request timed out", rid), done)
