"""HTTP APIs through botocore's ``apigatewayv2`` model (REST-JSON, signing name ``apigateway``).

Create/Get/Update/Delete and Get… (list) for APIs, routes, integrations, authorizers and
stages; CreateDeployment, GetDeployment(s), DeleteDeployment; TagResource, UntagResource,
GetTags (https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/). Quick create
(``Target`` on CreateApi: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop.html#http-api-examples.cli.quick-create)
makes a managed AWS_PROXY integration (payload 2.0), its route (``RouteKey`` or ``$default``)
and a ``$default`` stage with AutoDeploy. A stage with AutoDeploy gets a new deployment on
every change of the routes, integrations or authorizers. Served: ``ProtocolType`` HTTP,
integrations of type ``AWS_PROXY`` to Lambda functions and ``HTTP_PROXY`` to http(s) URLs or, with
``ConnectionType`` VPC_LINK, to an ALB/NLB listener or a Cloud Map service through a VPC link
(apigateway_vpc_links.py, apis/private_targets.py), both
with parameter mapping (``RequestParameters``/``ResponseParameters``, checked here, applied by
apis/http_proxy.py), and AWS service integrations (``AWS_PROXY`` with ``IntegrationSubtype``: checked
here, called by apis/aws_services.py); ``ProtocolType`` WEBSOCKET (served by apis/websocket.py) with a
``RouteSelectionExpression`` over ``request.body``, route keys ``$connect``, ``$disconnect``,
``$default`` or custom, AWS_PROXY integrations (payload 1.0) and MOCK, HTTP, HTTP_PROXY and AWS ones
with request templates, request parameters and integration responses (apis/ws_mapping.py),
``$default`` route responses (two-way routes), REQUEST authorizers or AWS_IAM on ``$connect`` and
``ApiKeyRequired`` routes. HTTP APIs' other integration types are refused.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..apis import access_log, aws_services, credentials, http_proxy, private_targets, routing, websocket, ws_mapping
from ..apis.jwt_auth import issuer_allowed
from ..apis.store import empty, new_id, snapshot
from ..protocol.errors import AwsError
from . import operation

if TYPE_CHECKING:
    from ..apis.store import HttpApiStore
    from .context import RequestContext

SERVICE = "apigatewayv2"


def _bad(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def _not_found(ctx: "RequestContext", what: str, ident: str) -> AwsError:
    return AwsError("NotFoundException",
                    f"Invalid {what} identifier specified {ctx.lamb.settings.account_id}:{ident}", 404,
                    fields={"ResourceType": what})


def _store(ctx: "RequestContext") -> "HttpApiStore":
    return ctx.lamb.http_apis.store


def _doc(ctx: "RequestContext", api_id: str) -> dict:
    doc = _store(ctx).get(api_id)
    if doc is None:
        raise _not_found(ctx, "API", api_id)
    return doc


def _part(ctx: "RequestContext", doc: dict, part: str, what: str, ident: str) -> dict:
    item = doc[part].get(ident)
    if item is None:
        raise _not_found(ctx, what, ident)
    return item


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _page(params: dict, items: list[dict]) -> dict:
    start = int(params.get("NextToken") or 0) if (params.get("NextToken") or "0").isdigit() else 0
    size = int(params["MaxResults"]) if (params.get("MaxResults") or "").isdigit() else len(items) or 1
    out: dict = {"Items": [_public(i) for i in items[start:start + size]]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


def api_arn(region: str, api_id: str, stage: str | None = None) -> str:
    arn = f"arn:aws:apigateway:{region}::/apis/{api_id}"
    return arn if stage is None else f"{arn}/stages/{stage}"


def _view(ctx: "RequestContext", doc: dict) -> dict:
    api = dict(doc["api"])
    api["ApiEndpoint"] = ctx.lamb.http_apis.endpoint(api["ApiId"], api.get("ProtocolType", "HTTP"))
    return api


def _is_websocket(doc: dict) -> bool:
    return doc["api"].get("ProtocolType") == "WEBSOCKET"


def _save(ctx: "RequestContext", api_id: str, doc: dict, *, redeploy: bool = False) -> None:
    """Write the API; with ``redeploy`` (routes, integrations or authorizers changed),
    stages with AutoDeploy get a new deployment first."""
    if redeploy:
        for stage in doc["stages"].values():
            if stage.get("AutoDeploy"):
                _deploy(doc, stage, "", auto=True)
    _store(ctx).put(api_id, doc)


def _deploy(doc: dict, stage: dict | None, description: str, *, auto: bool = False) -> dict:
    dep_id = new_id()
    while dep_id in doc["deployments"]:
        dep_id = new_id()
    deployment = {"DeploymentId": dep_id, "CreatedDate": time.time(), "DeploymentStatus": "DEPLOYED",
                  "AutoDeployed": auto, "_snapshot": snapshot(doc)}
    if description:
        deployment["Description"] = description
    doc["deployments"][dep_id] = deployment
    if stage is not None:
        stage["DeploymentId"] = dep_id
        stage["LastUpdatedDate"] = time.time()
    return deployment


# ------------------------------------------------------------------ validation
def _route_key(key: str, websocket_api: bool = False) -> str:
    if websocket_api:  # $connect, $disconnect, $default or a custom key (the selection expression's value)
        if not key or key.startswith("$") and key not in websocket.RESERVED:
            raise _bad(f"Unable to create Route. The route key '{key}' is invalid: a WebSocket API's route keys "
                       "are $connect, $disconnect, $default or custom keys not starting with '$'.")
        return key
    try:
        routing.parse(key)
    except routing.BadRouteKey:
        raise _bad(f"Unable to create Route. The route key '{key}' is invalid: use '$default' or "
                   "'<METHOD> /<path>' with a method among " + ", ".join(routing.METHODS) + ".") from None
    return key


def _target(ctx: "RequestContext", doc: dict, target: str | None) -> str | None:
    if target is None:
        return None
    prefix, _, ident = target.partition("/")
    if prefix != "integrations" or ident not in doc["integrations"]:
        raise _bad(f"Invalid target: {target}. Targets must be of the form integrations/<integration id> "
                   "and the integration must exist.")
    return target


def _integration_fields(params: dict, old: dict | None, websocket_api: bool = False) -> dict:
    item = dict(old or {})
    for k, v in params.items():
        if k != "ApiId" and v is not None:
            item[k] = v
    kind = item.get("IntegrationType")
    if websocket_api:
        return _websocket_integration(item)
    if kind == "HTTP_PROXY":
        return _http_proxy_fields(item)
    if kind != "AWS_PROXY":
        raise _bad(f"Integration type {kind} is not served by this Lamb server; use AWS_PROXY to a Lambda function "
                   "or HTTP_PROXY to an http(s) URL.")
    if item.get("ConnectionType", "INTERNET") != "INTERNET":
        raise _bad("ConnectionType VPC_LINK is supported only for HTTP_PROXY integrations.")
    if item.get("IntegrationSubtype"):
        return _aws_service_fields(item)
    item.setdefault("IntegrationMethod", "POST")
    uri = item.get("IntegrationUri")
    if not uri:
        raise _bad("IntegrationUri is required for AWS_PROXY integrations.")
    if item.get("PayloadFormatVersion") not in ("1.0", "2.0"):
        raise _bad("PayloadFormatVersion must be 1.0 or 2.0 for AWS_PROXY integrations of HTTP APIs.")
    _role(item.get("CredentialsArn"))
    _check_mappings(item)
    return item


def _websocket_integration(item: dict) -> dict:
    """A WebSocket API's integration (apis/websocket.py): AWS_PROXY to a Lambda function (payload 1.0), or
    MOCK, HTTP, HTTP_PROXY or AWS (a Lambda function or another service) with request templates and
    parameters and integration responses (apis/ws_mapping.py)."""
    kind = item.get("IntegrationType")
    if kind not in ("AWS_PROXY", "AWS", "HTTP", "HTTP_PROXY", "MOCK"):
        raise _bad(f"Invalid integration type {kind}: use AWS, AWS_PROXY, HTTP, HTTP_PROXY or MOCK.")
    if item.get("IntegrationSubtype"):
        raise _bad("IntegrationSubtype is not supported for WebSocket APIs.")
    if item.get("ConnectionType", "INTERNET") != "INTERNET":
        raise _bad("ConnectionType VPC_LINK is not served by this Lamb server; use INTERNET.")
    uri = item.get("IntegrationUri")
    if kind == "MOCK":
        if uri:
            raise _bad("IntegrationUri is not used for MOCK integrations; remove it.")
    elif not uri:
        raise _bad(f"IntegrationUri is required for {kind} integrations.")
    elif kind.startswith("HTTP") and not http_proxy.is_http_url(uri):
        raise _bad("Invalid HTTP endpoint specified for URI")
    elif kind == "AWS" and not aws_services.is_service_uri(uri) and ":lambda:path/" not in uri:
        raise _bad(f"Invalid URI {uri} for an AWS integration: use arn:aws:apigateway:<region>:<service>:"
                   "action|path/... (Lambda: ...:lambda:path/2015-03-31/functions/<function ARN>/invocations).")
    method = item.get("IntegrationMethod")
    if kind.startswith("HTTP") and not method:
        raise _bad(f"IntegrationMethod is required for {kind} integrations.")
    if method is not None and method != "ANY" and method not in routing.METHODS:
        raise _bad(f"Invalid IntegrationMethod {method}.")
    if kind in ("AWS_PROXY", "AWS"):
        item.setdefault("IntegrationMethod", "POST")
    if item.setdefault("PayloadFormatVersion", "1.0") != "1.0":
        raise _bad("PayloadFormatVersion must be 1.0 for WebSocket APIs.")
    proxied = kind in ("AWS_PROXY", "HTTP_PROXY")
    for member in ("RequestTemplates", "TemplateSelectionExpression") + (("RequestParameters",) if kind ==
                                                                          "AWS_PROXY" else ()):
        if proxied and item.get(member):
            raise _bad(f"{member} is not supported for {kind} integrations.")
    if item.get("ResponseParameters"):
        raise _bad("ResponseParameters are supported only for HTTP APIs.")
    problem = ws_mapping.check(item)
    if problem:
        raise _bad(problem)
    if proxied:  # the answer passes through: no integration responses
        item.pop("IntegrationResponseSelectionExpression", None)
    else:  # "fixed depending on the integrationType" (AWS): read-only in the API
        item["IntegrationResponseSelectionExpression"] = ws_mapping.response_selection(
            kind == "AWS" and not aws_services.is_service_uri(uri))
    if kind.startswith("HTTP") and item.get("CredentialsArn"):
        raise _bad("CredentialsArn is not used for HTTP integrations; remove it.")
    _role(item.get("CredentialsArn"))
    return item


def _aws_service_fields(item: dict) -> dict:
    """An AWS service integration (apis/aws_services.py): a subtype, its role, payload 1.0, its parameters."""
    item.setdefault("PayloadFormatVersion", "1.0")
    problem = aws_services.check_subtype(item)
    if problem:
        raise _bad(problem)
    if item.get("IntegrationUri"):
        raise _bad("IntegrationUri is not used for AWS service integrations (IntegrationSubtype); remove it.")
    _role(item["CredentialsArn"])
    problem = http_proxy.check_response_parameters(item.get("ResponseParameters") or {})
    if problem:
        raise _bad(problem)
    return item


def _http_proxy_fields(item: dict) -> dict:
    """An HTTP proxy integration (apis/http_proxy.py): an http(s) URI, a method, payload 1.0, mappings."""
    connection = item.setdefault("ConnectionType", "INTERNET")
    if connection == "VPC_LINK":  # a private integration (apis/private_targets.py)
        _private_fields(item)
    elif connection != "INTERNET":
        raise _bad(f"Invalid ConnectionType {connection}: use INTERNET or VPC_LINK.")
    elif not http_proxy.is_http_url(item.get("IntegrationUri")):
        raise _bad("Invalid HTTP endpoint specified for URI")
    elif item.get("ConnectionId"):
        raise _bad("ConnectionId is only supported for ConnectionType VPC_LINK.")
    elif item.get("TlsConfig"):
        raise _bad("TlsConfig is only supported for private integrations.")
    method = item.get("IntegrationMethod")
    if not method:
        raise _bad("IntegrationMethod is required for HTTP_PROXY integrations.")
    if method != "ANY" and method not in routing.METHODS:
        raise _bad(f"Invalid IntegrationMethod {method}.")
    if item.setdefault("PayloadFormatVersion", "1.0") != "1.0":
        raise _bad("HTTP_PROXY integrations support only PayloadFormatVersion 1.0.")
    if item.get("CredentialsArn"):
        raise _bad("CredentialsArn is not used for HTTP integrations; remove it.")
    _check_mappings(item)
    return item


def _private_fields(item: dict) -> None:
    """A private integration: a VPC link (or a stage variable naming one) and an ALB/NLB listener ARN or a
    Cloud Map service ARN (with ``?`` attribute filters) as its URI."""
    if not item.get("ConnectionId"):
        raise _bad("ConnectionId is required for ConnectionType VPC_LINK.")
    uri = item.get("IntegrationUri") or ""
    if not (private_targets.is_listener(uri) or private_targets.is_cloud_map(uri.partition("?")[0])):
        raise _bad("For VPC_LINK integrations, IntegrationUri must be the ARN of an Application Load Balancer or "
                   "Network Load Balancer listener, or of an AWS Cloud Map service.")


def _check_link(ctx: "RequestContext", item: dict) -> None:
    """A private integration's VPC link must be a v2 link of this account (unless a stage variable names it)."""
    ident = item.get("ConnectionId") or ""
    if item.get("ConnectionType") == "VPC_LINK" and "${stageVariables." not in ident and \
            ctx.lamb.http_apis.vpc_links.get("v2", ident) is None:
        raise _bad(f"Invalid VpcLink identifier specified: {ident}")


def _check_mappings(item: dict) -> None:
    """HTTP APIs' parameter mapping of an HTTP or a Lambda proxy: the keys AWS accepts
    (apis/http_proxy.py applies them)."""
    problem = http_proxy.check_request_parameters(item.get("RequestParameters") or {}) or \
        http_proxy.check_response_parameters(item.get("ResponseParameters") or {})
    if problem:
        raise _bad(problem)


def _role(arn: str | None) -> None:
    """``CredentialsArn``: a role API Gateway assumes, or ``arn:aws:iam::*:user/*`` (apis/credentials.py)."""
    if arn is None:
        return
    if arn != credentials.CALLER and not credentials.is_role_arn(arn):  # the caller's: an AWS_IAM route's signer
        raise _bad(f"Invalid ARN specified in the request: {arn}")


def _check_timeout(ctx: "RequestContext", item: dict, websocket_api: bool = False) -> None:
    limits = ctx.lamb.settings.limits
    most = limits.websocket_timeout_max_ms if websocket_api else limits.http_api_timeout_max_ms
    t = item.get("TimeoutInMillis")
    if t is None:
        item["TimeoutInMillis"] = most
    elif not limits.http_api_timeout_min_ms <= t <= most:
        raise _bad(f"Timeout must be between {limits.http_api_timeout_min_ms} ms and {most} ms.")


def _quick_create(ctx: "RequestContext", doc: dict, target: str, route_key: str | None,
                  role: str | None = None) -> None:
    integration = {"IntegrationId": new_id(), "IntegrationType": "AWS_PROXY", "IntegrationMethod": "POST",
                   "IntegrationUri": target, "PayloadFormatVersion": "2.0", "ConnectionType": "INTERNET",
                   "ApiGatewayManaged": True}
    if role is not None:
        _role(role)
        integration["CredentialsArn"] = role
    _check_timeout(ctx, integration)
    doc["integrations"][integration["IntegrationId"]] = integration
    route = {"RouteId": new_id(), "RouteKey": _route_key(route_key or routing.DEFAULT),
             "AuthorizationType": "NONE", "ApiKeyRequired": False, "ApiGatewayManaged": True,
             "Target": f"integrations/{integration['IntegrationId']}"}
    doc["routes"][route["RouteId"]] = route
    now = time.time()
    stage = {"StageName": "$default", "AutoDeploy": True, "ApiGatewayManaged": True, "CreatedDate": now,
             "LastUpdatedDate": now, "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
             "RouteSettings": {}, "StageVariables": {}, "Tags": {}}
    doc["stages"]["$default"] = stage
    _deploy(doc, stage, "Automatic deployment triggered by changes to the Api configuration", auto=True)


# ------------------------------------------------------------------ APIs
def _check_key_selection(params: dict) -> None:
    """``ApiKeySelectionExpression``: AWS's two values (apis/websocket.py reads the key by it)."""
    found = params.get("ApiKeySelectionExpression")
    if found is not None and found not in websocket.KEY_SELECTIONS:
        raise _bad(f"Invalid API key selection expression specified: {found}. Supported values are "
                   + " and ".join(websocket.KEY_SELECTIONS) + ".")


@operation("CreateApi", service=SERVICE)
def create_api(ctx: "RequestContext", params: dict) -> dict:
    protocol = params["ProtocolType"]
    _check_key_selection(params)
    if protocol == "WEBSOCKET":
        problem = websocket.selection_problem(params.get("RouteSelectionExpression"))
        if problem:
            raise _bad(problem)
        for http_only in ("CorsConfiguration", "Target", "RouteKey", "CredentialsArn"):
            if params.get(http_only) is not None:
                raise _bad(f"{http_only} is supported only for HTTP APIs.")
    elif protocol != "HTTP":
        raise _bad(f"ProtocolType {protocol} is not served by this Lamb server; use HTTP or WEBSOCKET.")
    api_id = _store(ctx).fresh_id()
    api = {"ApiId": api_id, "Name": params["Name"], "ProtocolType": protocol, "CreatedDate": time.time(),
           "RouteSelectionExpression": params.get("RouteSelectionExpression") or "${request.method} ${request.path}",
           "ApiKeySelectionExpression": params.get("ApiKeySelectionExpression") or "$request.header.x-api-key",
           "DisableExecuteApiEndpoint": bool(params.get("DisableExecuteApiEndpoint")),
           "IpAddressType": params.get("IpAddressType") or "ipv4", "Tags": params.get("Tags") or {}}
    for k in ("Description", "Version", "CorsConfiguration", "DisableSchemaValidation"):
        if params.get(k) is not None:
            api[k] = params[k]
    doc = empty(api)
    if params.get("Target"):
        _quick_create(ctx, doc, params["Target"], params.get("RouteKey"), params.get("CredentialsArn"))
    elif params.get("RouteKey") or params.get("CredentialsArn"):
        raise _bad("RouteKey and CredentialsArn can be specified only with Target (quick create).")
    _store(ctx).put(api_id, doc)
    return _view(ctx, doc)


@operation("GetApi", service=SERVICE)
def get_api(ctx: "RequestContext", params: dict) -> dict:
    return _view(ctx, _doc(ctx, params["ApiId"]))


@operation("GetApis", service=SERVICE)
def get_apis(ctx: "RequestContext", params: dict) -> dict:
    store = _store(ctx)
    return _page(params, [_view(ctx, store.get(i)) for i in store.ids()])


@operation("UpdateApi", service=SERVICE)
def update_api(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    api = doc["api"]
    _check_key_selection(params)
    if _is_websocket(doc) and params.get("RouteSelectionExpression") is not None:
        problem = websocket.selection_problem(params["RouteSelectionExpression"])
        if problem:
            raise _bad(problem)
    if _is_websocket(doc) and any(params.get(k) is not None for k in ("CorsConfiguration", "Target", "CredentialsArn")):
        raise _bad("CorsConfiguration, Target and CredentialsArn are supported only for HTTP APIs.")
    for k in ("Name", "Description", "Version", "CorsConfiguration", "RouteSelectionExpression",
              "ApiKeySelectionExpression", "DisableExecuteApiEndpoint", "DisableSchemaValidation", "IpAddressType"):
        if params.get(k) is not None:
            api[k] = params[k]
    quick = bool(params.get("Target") or params.get("CredentialsArn"))
    _role(params.get("CredentialsArn"))
    for integration in doc["integrations"].values() if quick else ():  # quick update of the managed integration
        if integration.get("ApiGatewayManaged"):
            if params.get("Target"):
                integration["IntegrationUri"] = params["Target"]
            if params.get("CredentialsArn"):
                integration["CredentialsArn"] = params["CredentialsArn"]
    _save(ctx, params["ApiId"], doc, redeploy=quick)
    return _view(ctx, doc)


@operation("DeleteApi", service=SERVICE)
def delete_api(ctx: "RequestContext", params: dict) -> dict:
    _doc(ctx, params["ApiId"])
    if ctx.lamb.http_apis.domains.mapped(params["ApiId"]):  # custom domain names (apis/domains.py)
        raise _bad(f"Deleting API {params['ApiId']} failed. Please remove all API mappings for the API from your "
                   "custom domain names.")
    _store(ctx).delete(params["ApiId"])
    return {}


@operation("DeleteCorsConfiguration", service=SERVICE)
def delete_cors(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    doc["api"].pop("CorsConfiguration", None)
    _save(ctx, params["ApiId"], doc)
    return {}


# ------------------------------------------------------------------ routes
@operation("CreateRoute", service=SERVICE)
def create_route(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    key = _route_key(params["RouteKey"], _is_websocket(doc))
    if any(r["RouteKey"] == key for r in doc["routes"].values()):
        raise AwsError("ConflictException", f"Unable to create Route. A route with key '{key}' already exists.", 409)
    route = {"RouteId": new_id(), "RouteKey": key, "ApiKeyRequired": bool(params.get("ApiKeyRequired")),
             "AuthorizationType": params.get("AuthorizationType") or "NONE"}
    _route_fields(ctx, doc, route, params)
    doc["routes"][route["RouteId"]] = route
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return _public(route)


def _route_fields(ctx: "RequestContext", doc: dict, route: dict, params: dict) -> None:
    for k in ("AuthorizationScopes", "AuthorizerId", "OperationName", "RequestParameters", "AuthorizationType",
              "ApiKeyRequired", "RouteResponseSelectionExpression"):
        if params.get(k) is not None:
            route[k] = params[k]
    if not _is_websocket(doc) and params.get("RouteResponseSelectionExpression") is not None:
        raise _bad("RouteResponseSelectionExpression is supported only for WebSocket APIs.")
    if _is_websocket(doc):
        for unsupported in ("RequestModels", "ModelSelectionExpression"):
            if params.get(unsupported):
                raise _bad(f"{unsupported} (request validation) is not served by this Lamb server for WebSocket APIs.")
        if route.get("RouteResponseSelectionExpression") not in (None, "$default"):
            raise _bad("RouteResponseSelectionExpression must be $default for WebSocket APIs.")
        kind = route.get("AuthorizationType", "NONE")
        if kind not in ("NONE", "CUSTOM", "AWS_IAM"):
            raise _bad(f"AuthorizationType {kind} is not supported for WebSocket APIs; use NONE, AWS_IAM or CUSTOM.")
        if kind != "NONE" and route["RouteKey"] != websocket.CONNECT:
            raise _bad("Authorization is supported only on the $connect route of a WebSocket API.")
    if params.get("Target") is not None:
        route["Target"] = _target(ctx, doc, params["Target"])
    kind = route.get("AuthorizationType", "NONE")
    if kind not in ("NONE", "CUSTOM", "JWT", "AWS_IAM"):  # AWS_IAM: apis/iam_auth.py
        raise _bad(f"AuthorizationType {kind} is not served by this Lamb server; use NONE, AWS_IAM, CUSTOM or JWT.")
    if kind not in ("NONE", "AWS_IAM"):
        auth = doc["authorizers"].get(route.get("AuthorizerId") or "")
        if auth is None:
            raise _bad(f"Unable to find authorizer with id {route.get('AuthorizerId')}")
        wanted = "REQUEST" if kind == "CUSTOM" else "JWT"
        if auth["AuthorizerType"] != wanted:
            raise _bad(f"AuthorizationType {kind} requires an authorizer of type {wanted}.")
    else:
        route.pop("AuthorizerId", None)


@operation("GetRoute", service=SERVICE)
def get_route(ctx: "RequestContext", params: dict) -> dict:
    return _public(_part(ctx, _doc(ctx, params["ApiId"]), "routes", "Route", params["RouteId"]))


@operation("GetRoutes", service=SERVICE)
def get_routes(ctx: "RequestContext", params: dict) -> dict:
    return _page(params, list(_doc(ctx, params["ApiId"])["routes"].values()))


@operation("UpdateRoute", service=SERVICE)
def update_route(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    route = _part(ctx, doc, "routes", "Route", params["RouteId"])
    if params.get("RouteKey") is not None:
        key = _route_key(params["RouteKey"], _is_websocket(doc))
        if any(r["RouteKey"] == key and r is not route for r in doc["routes"].values()):
            raise AwsError("ConflictException", f"Unable to update Route. A route with key '{key}' already exists.",
                           409)
        route["RouteKey"] = key
    _route_fields(ctx, doc, route, params)
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return _public(route)


@operation("DeleteRoute", service=SERVICE)
def delete_route(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    _part(ctx, doc, "routes", "Route", params["RouteId"])
    del doc["routes"][params["RouteId"]]
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return {}


# ------------------------------------------------------------------ route responses (WebSocket APIs)
# A route with a route response is two-way: its integration's answer goes back to the client
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html).
# Kept in the route (``_responses``), so deployments snapshot them with it.
def _route_responses(ctx: "RequestContext", params: dict) -> tuple[dict, dict]:
    doc = _doc(ctx, params["ApiId"])
    route = _part(ctx, doc, "routes", "Route", params["RouteId"])
    if not _is_websocket(doc):
        raise _bad("Route responses are supported only for WebSocket APIs.")
    return doc, route.setdefault("_responses", {})


def _route_response_fields(item: dict, params: dict) -> dict:
    for k in ("ModelSelectionExpression", "ResponseModels", "ResponseParameters"):
        if params.get(k) is not None:
            if k != "ModelSelectionExpression" and params[k]:
                raise _bad(f"{k} of route responses is not served by this Lamb server.")
            item[k] = params[k]
    return item


@operation("CreateRouteResponse", service=SERVICE)
def create_route_response(ctx: "RequestContext", params: dict) -> dict:
    doc, responses = _route_responses(ctx, params)
    key = params["RouteResponseKey"]
    if key != "$default":
        raise _bad("Only the $default route response is supported for WebSocket APIs.")
    if any(r["RouteResponseKey"] == key for r in responses.values()):
        raise AwsError("ConflictException", f"Unable to create RouteResponse. A route response with key '{key}' "
                       "already exists.", 409)
    item = _route_response_fields({"RouteResponseId": new_id(), "RouteResponseKey": key}, params)
    responses[item["RouteResponseId"]] = item
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return item


def _route_response(ctx: "RequestContext", params: dict) -> tuple[dict, dict]:
    """(the API's document, the route response ``RouteResponseId`` names)."""
    doc, responses = _route_responses(ctx, params)
    return doc, _part(ctx, {"responses": responses}, "responses", "RouteResponse", params["RouteResponseId"])


@operation("GetRouteResponse", service=SERVICE)
def get_route_response(ctx: "RequestContext", params: dict) -> dict:
    return _route_response(ctx, params)[1]


@operation("GetRouteResponses", service=SERVICE)
def get_route_responses(ctx: "RequestContext", params: dict) -> dict:
    return _page(params, list(_route_responses(ctx, params)[1].values()))


@operation("UpdateRouteResponse", service=SERVICE)
def update_route_response(ctx: "RequestContext", params: dict) -> dict:
    doc, item = _route_response(ctx, params)
    if params.get("RouteResponseKey") not in (None, "$default"):
        raise _bad("Only the $default route response is supported for WebSocket APIs.")
    _route_response_fields(item, params)
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return item


@operation("DeleteRouteResponse", service=SERVICE)
def delete_route_response(ctx: "RequestContext", params: dict) -> dict:
    doc, responses = _route_responses(ctx, params)
    if responses.pop(params["RouteResponseId"], None) is None:
        raise _not_found(ctx, "RouteResponse", params["RouteResponseId"])
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return {}


# ------------------------------------------------------------------ integrations
@operation("CreateIntegration", service=SERVICE)
def create_integration(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    item = _integration_fields(params, {"IntegrationId": new_id(), "ConnectionType": "INTERNET"}, _is_websocket(doc))
    _check_link(ctx, item)
    _check_timeout(ctx, item, _is_websocket(doc))
    doc["integrations"][item["IntegrationId"]] = item
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return _public(item)


@operation("GetIntegration", service=SERVICE)
def get_integration(ctx: "RequestContext", params: dict) -> dict:
    return _public(_part(ctx, _doc(ctx, params["ApiId"]), "integrations", "Integration", params["IntegrationId"]))


@operation("GetIntegrations", service=SERVICE)
def get_integrations(ctx: "RequestContext", params: dict) -> dict:
    return _page(params, list(_doc(ctx, params["ApiId"])["integrations"].values()))


@operation("UpdateIntegration", service=SERVICE)
def update_integration(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    old = _part(ctx, doc, "integrations", "Integration", params["IntegrationId"])
    item = _integration_fields(params, old, _is_websocket(doc))
    _check_link(ctx, item)
    _check_timeout(ctx, item, _is_websocket(doc))
    doc["integrations"][item["IntegrationId"]] = item
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return _public(item)


@operation("DeleteIntegration", service=SERVICE)
def delete_integration(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    ident = params["IntegrationId"]
    _part(ctx, doc, "integrations", "Integration", ident)
    if any(r.get("Target") == f"integrations/{ident}" for r in doc["routes"].values()):
        raise AwsError("ConflictException",
                       f"Cannot delete Integration {ident}: it is the target of a route.", 409)
    del doc["integrations"][ident]
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return {}


# ------------------------------------------------------------------ integration responses (WebSocket APIs)
# A non-proxy integration's answer goes through the integration response its key selects
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-integration-responses.html;
# apis/ws_mapping.py). Kept in the integration (``_responses``), so deployments snapshot them with it.
_INTEGRATION_RESPONSE_FIELDS = ("ContentHandlingStrategy", "IntegrationResponseKey", "ResponseParameters",
                                "ResponseTemplates", "TemplateSelectionExpression")


def _integration_responses(ctx: "RequestContext", params: dict) -> tuple[dict, dict]:
    doc = _doc(ctx, params["ApiId"])
    integration = _part(ctx, doc, "integrations", "Integration", params["IntegrationId"])
    if not _is_websocket(doc):
        raise _bad("Integration responses are supported only for WebSocket APIs.")
    return doc, integration.setdefault("_responses", {})


def _integration_response_fields(item: dict, params: dict, responses: dict) -> dict:
    for k in _INTEGRATION_RESPONSE_FIELDS:
        if params.get(k) is not None:
            item[k] = params[k]
    problem = ws_mapping.response_key_problem(item["IntegrationResponseKey"])
    if problem:
        raise _bad(problem)
    if any(r["IntegrationResponseKey"] == item["IntegrationResponseKey"]
           for r in responses.values() if r["IntegrationResponseId"] != item["IntegrationResponseId"]):
        raise AwsError("ConflictException", "Unable to create IntegrationResponse. An integration response with key "
                       f"'{item['IntegrationResponseKey']}' already exists.", 409)
    if item.get("ResponseParameters"):
        raise _bad("ResponseParameters of integration responses have no effect for WebSocket APIs (a message has "
                   "no headers); remove them.")
    if item.get("ContentHandlingStrategy") not in (None, "CONVERT_TO_TEXT", "CONVERT_TO_BINARY"):
        raise _bad(f"Invalid ContentHandlingStrategy {item['ContentHandlingStrategy']}: use CONVERT_TO_TEXT or "
                   "CONVERT_TO_BINARY.")
    return item


@operation("CreateIntegrationResponse", service=SERVICE)
def create_integration_response(ctx: "RequestContext", params: dict) -> dict:
    doc, responses = _integration_responses(ctx, params)
    item = _integration_response_fields({"IntegrationResponseId": new_id()}, params, responses)
    responses[item["IntegrationResponseId"]] = item
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return item


def _integration_response(ctx: "RequestContext", params: dict) -> tuple[dict, dict, dict]:
    doc, responses = _integration_responses(ctx, params)
    return doc, responses, _part(ctx, {"responses": responses}, "responses", "IntegrationResponse",
                                 params["IntegrationResponseId"])


@operation("GetIntegrationResponse", service=SERVICE)
def get_integration_response(ctx: "RequestContext", params: dict) -> dict:
    return _integration_response(ctx, params)[2]


@operation("GetIntegrationResponses", service=SERVICE)
def get_integration_responses(ctx: "RequestContext", params: dict) -> dict:
    return _page(params, list(_integration_responses(ctx, params)[1].values()))


@operation("UpdateIntegrationResponse", service=SERVICE)
def update_integration_response(ctx: "RequestContext", params: dict) -> dict:
    doc, responses, item = _integration_response(ctx, params)
    updated = _integration_response_fields(dict(item), params, responses)
    responses[item["IntegrationResponseId"]] = updated
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return updated


@operation("DeleteIntegrationResponse", service=SERVICE)
def delete_integration_response(ctx: "RequestContext", params: dict) -> dict:
    doc, responses, item = _integration_response(ctx, params)
    del responses[item["IntegrationResponseId"]]
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return {}


# ------------------------------------------------------------------ authorizers
def _authorizer_fields(ctx: "RequestContext", item: dict, params: dict, websocket_api: bool = False) -> dict:
    limits = ctx.lamb.settings.limits
    for k, v in params.items():
        if k != "ApiId" and v is not None:
            item[k] = v
    kind = item.get("AuthorizerType")
    if websocket_api:
        return _websocket_authorizer(item)
    if kind == "REQUEST":
        if not item.get("AuthorizerUri"):
            raise _bad("AuthorizerUri is required for REQUEST authorizers.")
        if item.get("AuthorizerPayloadFormatVersion") not in ("1.0", "2.0"):
            raise _bad("AuthorizerPayloadFormatVersion is required for REQUEST authorizers: 1.0 or 2.0.")
        if item.get("EnableSimpleResponses") and item["AuthorizerPayloadFormatVersion"] != "2.0":
            raise _bad("Simple responses are supported only with AuthorizerPayloadFormatVersion 2.0.")
        ttl = item.setdefault("AuthorizerResultTtlInSeconds", 0)
        if not 0 <= ttl <= limits.http_api_authorizer_ttl_max_s:
            raise _bad(f"AuthorizerResultTtlInSeconds must be between 0 and {limits.http_api_authorizer_ttl_max_s}.")
        if ttl and not item.get("IdentitySource"):
            raise _bad("IdentitySource is required when caching is enabled.")
        if item.get("AuthorizerCredentialsArn") is not None and not credentials.is_role_arn(
                item["AuthorizerCredentialsArn"]):
            raise _bad(f"Invalid ARN specified in the request: {item['AuthorizerCredentialsArn']}")
    elif kind == "JWT":
        jwt = item.get("JwtConfiguration") or {}
        if not jwt.get("Issuer"):
            raise _bad("JwtConfiguration.Issuer is required for JWT authorizers.")
        if not issuer_allowed(jwt["Issuer"]):
            raise _bad("The issuer must be an https URL (Lamb also accepts http on a loopback host).")
        if not item.get("IdentitySource"):
            raise _bad("IdentitySource is required for JWT authorizers.")
    else:
        raise _bad(f"AuthorizerType {kind} is not supported for HTTP APIs.")
    return item


def _websocket_authorizer(item: dict) -> dict:
    """A WebSocket API's REQUEST authorizer, run on ``$connect`` (apis/websocket.py)."""
    if item.get("AuthorizerType") != "REQUEST":
        raise _bad(f"AuthorizerType {item.get('AuthorizerType')} is not supported for WebSocket APIs; use REQUEST.")
    if not item.get("AuthorizerUri"):
        raise _bad("AuthorizerUri is required for REQUEST authorizers.")
    for member in ("AuthorizerPayloadFormatVersion", "EnableSimpleResponses", "JwtConfiguration"):
        if item.get(member) is not None:
            raise _bad(f"{member} is supported only for HTTP APIs.")
    if item.get("AuthorizerResultTtlInSeconds"):  # "Supported only for HTTP API Lambda authorizers" (AWS)
        raise _bad("AuthorizerResultTtlInSeconds is supported only for HTTP API Lambda authorizers.")
    for source in item.get("IdentitySource") or []:
        if not source.startswith(websocket.IDENTITY_SOURCES):
            raise _bad(f"Invalid identity source {source}: use route.request.header.<name>, "
                       "route.request.querystring.<name> or stageVariables.<name>.")
    role = item.get("AuthorizerCredentialsArn")
    if role is not None and not credentials.is_role_arn(role):
        raise _bad(f"Invalid ARN specified in the request: {role}")
    return item


@operation("CreateAuthorizer", service=SERVICE)
def create_authorizer(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    item = _authorizer_fields(ctx, {"AuthorizerId": new_id()}, params, _is_websocket(doc))
    doc["authorizers"][item["AuthorizerId"]] = item
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return item


@operation("GetAuthorizer", service=SERVICE)
def get_authorizer(ctx: "RequestContext", params: dict) -> dict:
    return _part(ctx, _doc(ctx, params["ApiId"]), "authorizers", "Authorizer", params["AuthorizerId"])


@operation("GetAuthorizers", service=SERVICE)
def get_authorizers(ctx: "RequestContext", params: dict) -> dict:
    return _page(params, list(_doc(ctx, params["ApiId"])["authorizers"].values()))


@operation("UpdateAuthorizer", service=SERVICE)
def update_authorizer(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    old = _part(ctx, doc, "authorizers", "Authorizer", params["AuthorizerId"])
    item = _authorizer_fields(ctx, dict(old), params, _is_websocket(doc))
    doc["authorizers"][item["AuthorizerId"]] = item
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return item


@operation("DeleteAuthorizer", service=SERVICE)
def delete_authorizer(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    ident = params["AuthorizerId"]
    _part(ctx, doc, "authorizers", "Authorizer", ident)
    if any(r.get("AuthorizerId") == ident for r in doc["routes"].values()):
        raise AwsError("ConflictException", f"Cannot delete authorizer {ident}: a route uses it.", 409)
    del doc["authorizers"][ident]
    _save(ctx, params["ApiId"], doc, redeploy=True)
    return {}


# ------------------------------------------------------------------ stages and deployments
_STAGE_FIELDS = ("AccessLogSettings", "AutoDeploy", "DefaultRouteSettings", "Description", "RouteSettings",
                 "StageVariables", "ClientCertificateId")


def _stage_fields(doc: dict, stage: dict, params: dict) -> None:
    fmt = (params.get("AccessLogSettings") or {}).get("Format")
    if fmt is not None and (problem := access_log.format_problem(fmt, http=True)):
        raise _bad(problem)
    for k in _STAGE_FIELDS:
        if params.get(k) is not None:
            stage[k] = params[k]
    if params.get("DeploymentId") is not None:
        if params["DeploymentId"] not in doc["deployments"]:
            raise _bad(f"Deployment {params['DeploymentId']} does not exist.")
        stage["DeploymentId"] = params["DeploymentId"]
    stage["LastUpdatedDate"] = time.time()


@operation("CreateStage", service=SERVICE)
def create_stage(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    name = params["StageName"]
    if name in doc["stages"]:
        raise AwsError("ConflictException", f"Stage already exists", 409)
    stage = {"StageName": name, "CreatedDate": time.time(), "AutoDeploy": False,
             "DefaultRouteSettings": {"DetailedMetricsEnabled": False}, "RouteSettings": {},
             "StageVariables": {}, "Tags": params.get("Tags") or {}}
    _stage_fields(doc, stage, params)
    if stage.get("AutoDeploy"):
        _deploy(doc, stage, "Automatic deployment triggered by changes to the Api configuration", auto=True)
    doc["stages"][name] = stage
    _save(ctx, params["ApiId"], doc)
    return stage


@operation("GetStage", service=SERVICE)
def get_stage(ctx: "RequestContext", params: dict) -> dict:
    return _part(ctx, _doc(ctx, params["ApiId"]), "stages", "Stage", params["StageName"])


@operation("GetStages", service=SERVICE)
def get_stages(ctx: "RequestContext", params: dict) -> dict:
    return _page(params, list(_doc(ctx, params["ApiId"])["stages"].values()))


@operation("UpdateStage", service=SERVICE)
def update_stage(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    stage = _part(ctx, doc, "stages", "Stage", params["StageName"])
    was_auto = stage.get("AutoDeploy")
    _stage_fields(doc, stage, params)
    if stage.get("AutoDeploy") and not was_auto:
        _deploy(doc, stage, "Automatic deployment triggered by changes to the Api configuration", auto=True)
    _save(ctx, params["ApiId"], doc)
    return stage


@operation("DeleteStage", service=SERVICE)
def delete_stage(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    _part(ctx, doc, "stages", "Stage", params["StageName"])
    del doc["stages"][params["StageName"]]
    _save(ctx, params["ApiId"], doc)
    return {}


@operation("CreateDeployment", service=SERVICE)
def create_deployment(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    stage = None
    if params.get("StageName"):
        stage = _part(ctx, doc, "stages", "Stage", params["StageName"])
        if stage.get("AutoDeploy"):
            raise _bad(f"Cannot create a deployment for a stage with AutoDeploy enabled: {params['StageName']}")
    deployment = _deploy(doc, stage, params.get("Description") or "")
    _save(ctx, params["ApiId"], doc)
    return _public(deployment)


@operation("GetDeployment", service=SERVICE)
def get_deployment(ctx: "RequestContext", params: dict) -> dict:
    return _public(_part(ctx, _doc(ctx, params["ApiId"]), "deployments", "Deployment", params["DeploymentId"]))


@operation("GetDeployments", service=SERVICE)
def get_deployments(ctx: "RequestContext", params: dict) -> dict:
    return _page(params, list(_doc(ctx, params["ApiId"])["deployments"].values()))


@operation("DeleteDeployment", service=SERVICE)
def delete_deployment(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["ApiId"])
    ident = params["DeploymentId"]
    _part(ctx, doc, "deployments", "Deployment", ident)
    if any(s.get("DeploymentId") == ident for s in doc["stages"].values()):
        raise _bad(f"Active stages pointing to this deployment must be moved or deleted")
    del doc["deployments"][ident]
    _save(ctx, params["ApiId"], doc)
    return {}


# ------------------------------------------------------------------ tags
def _tagged(ctx: "RequestContext", arn: str) -> tuple[str, dict, dict]:
    """(api id, its document, the record whose Tags an ARN names: the API or a stage)."""
    prefix = f"arn:aws:apigateway:{ctx.lamb.settings.region}::/apis/"
    if not arn.startswith(prefix):
        raise _not_found(ctx, "Resource", arn)
    api_id, _, rest = arn[len(prefix):].partition("/")
    doc = _doc(ctx, api_id)
    if not rest:
        return api_id, doc, doc["api"]
    kind, _, name = rest.partition("/")
    if kind != "stages":
        raise _not_found(ctx, "Resource", arn)
    return api_id, doc, _part(ctx, doc, "stages", "Stage", name)


@operation("TagResource", service=SERVICE)
def tag_resource(ctx: "RequestContext", params: dict) -> dict:
    from . import apigateway_vpc_links, apigatewayv2_domains  # their tags (those modules import this one)

    link = apigateway_vpc_links.tagged(ctx, params["ResourceArn"])
    if link is not None:  # a VPC link's tags
        apigateway_vpc_links.save_tags(ctx, link, {**(link.get("Tags") or {}), **(params.get("Tags") or {})})
        return {}
    domain = apigatewayv2_domains.tagged(ctx, params["ResourceArn"])
    if domain is not None:  # a custom domain name's tags
        tags = {**(domain.get("tags") or {}), **(params.get("Tags") or {})}
        if len(tags) > ctx.lamb.settings.limits.tags_per_resource:
            raise _bad(f"Too many tags: at most {ctx.lamb.settings.limits.tags_per_resource} per resource.")
        apigatewayv2_domains.save_tags(ctx, domain, tags)
        return {}
    api_id, doc, record = _tagged(ctx, params["ResourceArn"])
    tags = dict(record.get("Tags") or {})
    tags.update(params.get("Tags") or {})
    if len(tags) > ctx.lamb.settings.limits.tags_per_resource:
        raise _bad(f"Too many tags: at most {ctx.lamb.settings.limits.tags_per_resource} per resource.")
    record["Tags"] = tags
    _save(ctx, api_id, doc)
    return {}


@operation("UntagResource", service=SERVICE)
def untag_resource(ctx: "RequestContext", params: dict) -> dict:
    from . import apigateway_vpc_links, apigatewayv2_domains  # their tags (those modules import this one)

    link = apigateway_vpc_links.tagged(ctx, params["ResourceArn"])
    if link is not None:
        apigateway_vpc_links.save_tags(ctx, link, {k: v for k, v in (link.get("Tags") or {}).items()
                                                   if k not in params["TagKeys"]})
        return {}
    domain = apigatewayv2_domains.tagged(ctx, params["ResourceArn"])
    if domain is not None:
        apigatewayv2_domains.save_tags(ctx, domain, {k: v for k, v in (domain.get("tags") or {}).items()
                                                     if k not in params["TagKeys"]})
        return {}
    api_id, doc, record = _tagged(ctx, params["ResourceArn"])
    record["Tags"] = {k: v for k, v in (record.get("Tags") or {}).items() if k not in params["TagKeys"]}
    _save(ctx, api_id, doc)
    return {}


@operation("GetTags", service=SERVICE)
def get_tags(ctx: "RequestContext", params: dict) -> dict:
    from . import apigateway_vpc_links, apigatewayv2_domains  # their tags (those modules import this one)

    link = apigateway_vpc_links.tagged(ctx, params["ResourceArn"])
    if link is not None:
        return {"Tags": dict(link.get("Tags") or {})}
    domain = apigatewayv2_domains.tagged(ctx, params["ResourceArn"])
    if domain is not None:
        return {"Tags": dict(domain.get("tags") or {})}
    return {"Tags": dict(_tagged(ctx, params["ResourceArn"])[2].get("Tags") or {})}
