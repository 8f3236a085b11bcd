"""REST APIs through botocore's ``apigateway`` model (API Gateway v1, REST-JSON, paths ``/restapis``).

What Lambda proxy integrations need (https://docs.aws.amazon.com/apigateway/latest/api/):
CreateRestApi, GetRestApi(s), DeleteRestApi; CreateResource, GetResource(s), DeleteResource
(``{proxy+}`` path parts included); PutMethod, GetMethod, DeleteMethod (``ANY`` included);
PutIntegration, GetIntegration, DeleteIntegration (types ``AWS_PROXY`` and ``AWS`` to a Lambda function,
``AWS`` to other services' actions and paths (``apis/aws_services.py``), ``MOCK``; ``AWS`` and ``MOCK``
with mapping templates, ``apis/mapped.py``);
CreateDeployment (with ``stageName``: the stage is made or moved), GetDeployment(s);
CreateStage, GetStage(s), DeleteStage. Authorizers are below too; method and integration
responses are in ``apigateway_responses.py``, the PATCH-style Update* operations of RestApi, Stage,
Integration and IntegrationResponse in ``apigateway_patch.py``, imports in ``apigateway_import.py``.
Models, request validators and UpdateMethod are in ``apigateway_models.py``, gateway responses in
``apigateway_gateway_responses.py``. Other integration types are not served yet.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from ..apis import aws_services, binary, credentials, http_proxy, resource_policy
from ..apis.store import new_id
from ..protocol.errors import AwsError
from . import operation

if TYPE_CHECKING:
    from ..apis.store import HttpApiStore
    from .context import RequestContext

SERVICE = "apigateway"
METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _store(ctx: "RequestContext") -> "HttpApiStore":
    return ctx.lamb.http_apis.rest


def _bad(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def _not_found(ctx: "RequestContext", what: str, ident: str) -> AwsError:
    return AwsError("NotFoundException", f"Invalid {what} identifier specified {ctx.lamb.settings.account_id}:{ident}",
                    404)


def _doc(ctx: "RequestContext", api_id: str) -> dict:
    doc = _store(ctx).get(api_id)
    if doc is None:
        raise _not_found(ctx, "API", api_id)
    return doc


def _resource(ctx: "RequestContext", doc: dict, ident: str) -> dict:
    res = doc["resources"].get(ident)
    if res is None:
        raise _not_found(ctx, "Resource", ident)
    return res


def _method(ctx: "RequestContext", doc: dict, params: dict) -> dict:
    res = _resource(ctx, doc, params["resourceId"])
    method = (res.get("resourceMethods") or {}).get(params["httpMethod"])
    if method is None:
        raise _not_found(ctx, "Method", f"{params['resourceId']}:{params['httpMethod']}")
    return method


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _save(ctx: "RequestContext", api_id: str, doc: dict) -> None:
    _store(ctx).put(api_id, doc)


# ------------------------------------------------------------------ REST APIs
@operation("CreateRestApi", service=SERVICE)
def create_rest_api(ctx: "RequestContext", params: dict) -> dict:
    api_id = _store(ctx).fresh_id()
    root = new_id(10)
    api = {"id": api_id, "name": params["name"], "createdDate": time.time(), "rootResourceId": root,
           "apiKeySource": params.get("apiKeySource") or "HEADER",
           "endpointConfiguration": params.get("endpointConfiguration") or {"types": ["EDGE"]},
           "disableExecuteApiEndpoint": bool(params.get("disableExecuteApiEndpoint")), "tags": params.get("tags") or {}}
    for k in ("description", "version", "binaryMediaTypes", "minimumCompressionSize"):
        if params.get(k) is not None:
            api[k] = params[k]
    if params.get("policy"):
        api["policy"] = stored_policy(ctx, api_id, params["policy"])
    doc = {"api": api, "resources": {root: {"id": root, "path": "/"}}, "stages": {}, "deployments": {}}
    _save(ctx, api_id, doc)
    return api


def stored_policy(ctx: "RequestContext", api_id: str, text: str) -> str:
    """A resource policy as API Gateway keeps and returns it (``apis/resource_policy.stored``)."""
    try:
        return resource_policy.stored(
            text, f"arn:aws:execute-api:{ctx.lamb.settings.region}:{ctx.lamb.settings.account_id}:{api_id}")
    except ValueError as e:
        raise _bad(str(e)) from None


@operation("GetRestApi", service=SERVICE)
def get_rest_api(ctx: "RequestContext", params: dict) -> dict:
    return _doc(ctx, params["restApiId"])["api"]


@operation("GetRestApis", service=SERVICE)
def get_rest_apis(ctx: "RequestContext", params: dict) -> dict:
    store = _store(ctx)
    return {"items": [store.get(i)["api"] for i in store.ids()]}


@operation("DeleteRestApi", service=SERVICE)
def delete_rest_api(ctx: "RequestContext", params: dict) -> dict:
    _doc(ctx, params["restApiId"])
    if ctx.lamb.http_apis.domains.mapped(params["restApiId"]):  # custom domain names (apis/domains.py)
        raise _bad(f"Deleting RestApi {params['restApiId']} failed. Please remove all base path mappings related to "
                   "the RestApi in your domains.")
    _store(ctx).delete(params["restApiId"])
    return {}


# ------------------------------------------------------------------ resources
@operation("CreateResource", service=SERVICE)
def create_resource(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    parent = _resource(ctx, doc, params["parentId"])
    part = params["pathPart"]
    if not part or "/" in part or (("{" in part or "}" in part)
                                    and not (part.startswith("{") and part.endswith("}") and len(part) > 2)):
        raise _bad(f"Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end "
                   f"and an optional plus sign before the closing brace.")
    if parent["path"].endswith("+}"):
        raise _bad("A resource cannot be created under a greedy path variable.")
    if any(r.get("parentId") == parent["id"] and r.get("pathPart") == part for r in doc["resources"].values()):
        raise AwsError("ConflictException", f"Another resource with the same parent already has this name: {part}", 409)
    ident = new_id(6)
    res = {"id": ident, "parentId": parent["id"], "pathPart": part,
           "path": parent["path"].rstrip("/") + "/" + part}
    doc["resources"][ident] = res
    _save(ctx, params["restApiId"], doc)
    return res


@operation("GetResource", service=SERVICE)
def get_resource(ctx: "RequestContext", params: dict) -> dict:
    return _resource(ctx, _doc(ctx, params["restApiId"]), params["resourceId"])


@operation("GetResources", service=SERVICE)
def get_resources(ctx: "RequestContext", params: dict) -> dict:
    return {"items": sorted(_doc(ctx, params["restApiId"])["resources"].values(), key=lambda r: r["path"])}


@operation("DeleteResource", service=SERVICE)
def delete_resource(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    res = _resource(ctx, doc, params["resourceId"])
    if res["id"] == doc["api"]["rootResourceId"]:
        raise _bad("Cannot delete the root resource.")
    prefix = res["path"] + "/"
    for ident in [i for i, r in doc["resources"].items() if r is res or r["path"].startswith(prefix)]:
        del doc["resources"][ident]
    _save(ctx, params["restApiId"], doc)
    return {}


# ------------------------------------------------------------------ methods and integrations
@operation("PutMethod", service=SERVICE)
def put_method(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    res = _resource(ctx, doc, params["resourceId"])
    verb = params["httpMethod"]
    if verb not in METHODS:
        raise _bad(f"Invalid HttpMethod specified. Valid options are {','.join(METHODS)}")
    from .apigateway_models import check_method_request  # models and validators (it imports this module)

    kind = params["authorizationType"]
    methods = res.setdefault("resourceMethods", {})
    if verb in methods:
        raise AwsError("ConflictException", "Method already exists for this resource", 409)
    method = {"httpMethod": verb, "authorizationType": kind, "apiKeyRequired": bool(params.get("apiKeyRequired"))}
    if kind in ("CUSTOM", "COGNITO_USER_POOLS"):
        method["authorizerId"] = params.get("authorizerId")
    for k in ("operationName", "requestParameters", "requestModels", "requestValidatorId", "authorizationScopes"):
        if params.get(k) is not None:
            method[k] = params[k]
    check_authorization(doc, method)
    check_method_request(ctx, doc, method)
    methods[verb] = method
    _save(ctx, params["restApiId"], doc)
    return method


def check_authorization(doc: dict, method: dict) -> None:
    """The method's authorization type is served and names an authorizer of its kind (PutMethod, UpdateMethod)."""
    kind = method.get("authorizationType")
    if kind not in ("NONE", "CUSTOM", "COGNITO_USER_POOLS", "AWS_IAM"):  # AWS_IAM: apis/iam_auth.py
        raise _bad(f"authorizationType {kind} is not served by this Lamb server yet; use NONE, AWS_IAM, CUSTOM or "
                   f"COGNITO_USER_POOLS.")
    if kind in ("NONE", "AWS_IAM"):
        method.pop("authorizerId", None)
        return
    auth = (doc.setdefault("authorizers", {})).get(method.get("authorizerId") or "")
    if auth is None or (auth["type"] == "COGNITO_USER_POOLS") != (kind == "COGNITO_USER_POOLS"):
        raise _bad("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS "
                   "requires a valid authorizer.")


@operation("GetMethod", service=SERVICE)
def get_method(ctx: "RequestContext", params: dict) -> dict:
    return _method(ctx, _doc(ctx, params["restApiId"]), params)


@operation("DeleteMethod", service=SERVICE)
def delete_method(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    _method(ctx, doc, params)
    del doc["resources"][params["resourceId"]]["resourceMethods"][params["httpMethod"]]
    _save(ctx, params["restApiId"], doc)
    return {}


@operation("PutIntegration", service=SERVICE)
def put_integration(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    method = _method(ctx, doc, params)
    limits = ctx.lamb.settings.limits
    if params["type"] == "MOCK":  # answered by API Gateway itself (apis/mock.py): CORS preflights
        method["methodIntegration"] = integration = {
            "type": "MOCK", "passthroughBehavior": params.get("passthroughBehavior") or "WHEN_NO_MATCH",
            "timeoutInMillis": limits.rest_api_timeout_default_ms, "cacheNamespace": params["resourceId"],
            "cacheKeyParameters": [], "requestTemplates": params.get("requestTemplates") or {}}
        if params.get("contentHandling") is not None:  # the request's conversion (apis/binary.py)
            integration["contentHandling"] = content_handling(params["contentHandling"])
        _cache_key(integration, params)
        _save(ctx, params["restApiId"], doc)
        return integration
    kind = params["type"]
    if kind in ("HTTP_PROXY", "HTTP"):
        method["methodIntegration"] = integration = _http_integration(params, limits, timeout_max(doc["api"], limits))
        link = integration.get("connectionId") or ""
        if link and "${stageVariables." not in link and ctx.lamb.http_apis.vpc_links.get("v1", link) is None:
            raise _bad(f"Invalid VPC link identifier specified: {link}")
        _cache_key(integration, params)
        _save(ctx, params["restApiId"], doc)
        return integration
    if kind not in ("AWS_PROXY", "AWS"):
        raise _bad(f"Integration type {kind} is not served by this Lamb server yet; use AWS_PROXY, AWS, HTTP_PROXY, "
                   "HTTP or MOCK.")
    if not params.get("uri"):
        raise _bad("Enumeration value for IntegrationType must be non-empty")
    if kind == "AWS" and aws_services.is_service_uri(params["uri"]):  # another service than Lambda's
        integration = _aws_service_integration(params, limits, timeout_max(doc["api"], limits))
        method["methodIntegration"] = integration
        _cache_key(integration, params)
        _save(ctx, params["restApiId"], doc)
        return integration
    if kind == "AWS" and ":lambda:path/2015-03-31/functions/" not in params["uri"]:
        raise _bad("AWS ARN for integration must contain path or action")
    if params.get("integrationHttpMethod") != "POST":
        if kind == "AWS" and params.get("integrationHttpMethod") is None:
            raise _bad("Enumeration value for HttpMethod must be non-empty")
        raise _bad("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream "
                   "invocations.") if params.get("integrationHttpMethod") is None else _bad(
            f"{kind} integrations with Lambda require the integration HTTP method POST.")
    behavior = params.get("passthroughBehavior") or "WHEN_NO_MATCH"
    if behavior not in ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"):
        raise _bad("Invalid passthrough behavior specified")
    timeout = _timeout(params, limits, timeout_max(doc["api"], limits))
    integration = {"type": kind, "httpMethod": "POST", "uri": params["uri"], "timeoutInMillis": timeout,
                   "passthroughBehavior": behavior, "cacheNamespace": params["resourceId"],
                   "cacheKeyParameters": [], "connectionType": "INTERNET"}
    if params.get("contentHandling") is not None:  # AWS: the request's conversion (apis/binary.py)
        integration["contentHandling"] = content_handling(params["contentHandling"])
    if params.get("credentials") is not None:  # API Gateway invokes as this role (apis/credentials.py)
        integration["credentials"] = role_credentials(params["credentials"])
    if kind == "AWS" and params.get("requestTemplates"):
        integration["requestTemplates"] = params["requestTemplates"]
    if kind == "AWS" and params.get("requestParameters"):  # X-Amz-Invocation-Type: apis/mapped.py
        integration["requestParameters"] = params["requestParameters"]
    elif kind == "AWS_PROXY":  # kept and checked; of them only the Invoke call's X-Amz-Invocation-Type is applied
        _request_parameters(params, integration)  # (apis/rest.py): the proxy event is the method request's
    _cache_key(integration, params)
    method["methodIntegration"] = integration
    _save(ctx, params["restApiId"], doc)
    return integration


def _cache_key(integration: dict, params: dict) -> None:
    from .apigateway_cache import cache_key  # the stage cache's key (it imports this module)

    cache_key(integration, params)


def timeout_max(api: dict, limits) -> int:
    """The longest integration timeout of an API: ``rest_api_timeout_max_ms`` (raised with a quota increase)
    for Regional and private APIs, at most the default 29 s for edge-optimized ones, as on AWS."""
    types = set((api.get("endpointConfiguration") or {}).get("types") or ["EDGE"])
    if types & {"REGIONAL", "PRIVATE"}:
        return limits.rest_api_timeout_max_ms
    return min(limits.rest_api_timeout_max_ms, limits.rest_api_timeout_default_ms)


def _timeout(params: dict, limits, high: int) -> int:
    timeout = params.get("timeoutInMillis")
    if timeout is None:
        return limits.rest_api_timeout_default_ms
    if not limits.http_api_timeout_min_ms <= timeout <= high:
        raise _bad(f"Timeout should be between {limits.http_api_timeout_min_ms} ms and {high} ms")
    return timeout


def _http_integration(params: dict, limits, high: int) -> dict:
    """An HTTP_PROXY integration (apis/http_proxy.py: the request forwarded to an http(s) URI) or an
    HTTP one (the same, through mapping templates and integration responses: apis/mapped.py)."""
    if not params.get("integrationHttpMethod"):
        raise _bad("Enumeration value for HttpMethod must be non-empty")
    if params["integrationHttpMethod"] not in METHODS:
        raise _bad(f"Invalid HttpMethod specified. Valid options are {','.join(METHODS)}")
    if not http_proxy.is_http_url(params.get("uri")):
        raise _bad("Invalid HTTP endpoint specified for URI")
    connection = params.get("connectionType") or "INTERNET"
    if connection not in ("INTERNET", "VPC_LINK"):
        raise _bad(f"Invalid connectionType {connection}: use INTERNET or VPC_LINK.")
    if connection == "VPC_LINK" and not params.get("connectionId"):
        raise _bad("connectionId must be specified for connectionType VPC_LINK")
    if connection == "INTERNET" and params.get("connectionId"):
        raise _bad("connectionId is only supported for connectionType VPC_LINK")
    kind = params["type"]
    for k in ("credentials",) + (("contentHandling", "requestTemplates") if kind == "HTTP_PROXY" else ()):
        if params.get(k):
            raise _bad(f"{k} is not applied to {kind} integrations by this Lamb server; remove it.")
    behavior = params.get("passthroughBehavior") or "WHEN_NO_MATCH"
    if behavior not in ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"):
        raise _bad("Invalid passthrough behavior specified")
    integration = {"type": kind, "httpMethod": params["integrationHttpMethod"], "uri": params["uri"],
                   "timeoutInMillis": _timeout(params, limits, high), "passthroughBehavior": behavior,
                   "cacheNamespace": params["resourceId"], "cacheKeyParameters": [], "connectionType": connection}
    if connection == "VPC_LINK":  # a private integration through a v1 VPC link (apis/private_targets.py)
        integration["connectionId"] = params["connectionId"]
    if kind == "HTTP" and params.get("requestTemplates"):
        integration["requestTemplates"] = params["requestTemplates"]
    if kind == "HTTP" and params.get("contentHandling") is not None:
        integration["contentHandling"] = content_handling(params["contentHandling"])
    _request_parameters(params, integration)
    return integration


def _aws_service_integration(params: dict, limits, high: int) -> dict:
    """A type AWS integration to a service other than Lambda (apis/aws_services.py): its request built by the
    mapping templates and ``requestParameters``, signed as its ``credentials`` role."""
    if not params.get("integrationHttpMethod"):
        raise _bad("Enumeration value for HttpMethod must be non-empty")
    if params["integrationHttpMethod"] not in METHODS:
        raise _bad(f"Invalid HttpMethod specified. Valid options are {','.join(METHODS)}")
    behavior = params.get("passthroughBehavior") or "WHEN_NO_MATCH"
    if behavior not in ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"):
        raise _bad("Invalid passthrough behavior specified")
    integration = {"type": "AWS", "httpMethod": params["integrationHttpMethod"], "uri": params["uri"],
                   "timeoutInMillis": _timeout(params, limits, high), "passthroughBehavior": behavior,
                   "cacheNamespace": params["resourceId"], "cacheKeyParameters": [], "connectionType": "INTERNET"}
    if params.get("credentials") is not None:
        integration["credentials"] = role_credentials(params["credentials"])
    if params.get("requestTemplates"):
        integration["requestTemplates"] = params["requestTemplates"]
    if params.get("contentHandling") is not None:
        integration["contentHandling"] = content_handling(params["contentHandling"])
    _request_parameters(params, integration)
    return integration


def _request_parameters(params: dict, integration: dict) -> None:
    """``integration.request.path|querystring|header.<name>`` from a method request value, a stage variable, a
    context variable or a literal (apis/http_proxy.py maps them)."""
    for key, source in (params.get("requestParameters") or {}).items():
        where = key.removeprefix("integration.request.").partition(".")[0]
        if not key.startswith("integration.request.") or where not in ("path", "querystring", "header"):
            raise _bad(f"Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                       f"[Invalid mapping expression specified: {key}]")
        if not (source.startswith(("method.request.path.", "method.request.querystring.", "method.request.header.",
                                   "stageVariables.", "context.")) or (len(source) >= 2 and source[0] == source[-1] == "'")):
            raise _bad(f"Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                       f"[Invalid mapping expression parameter specified: {source}]")
    if params.get("requestParameters"):
        integration["requestParameters"] = params["requestParameters"]


def content_handling(value: str) -> str:
    """An integration's or integration response's ``contentHandling`` (apis/binary.py)."""
    if value not in binary.CONTENT_HANDLING:
        raise _bad("Invalid content handling specified")
    return value


def role_credentials(value: str) -> str:
    """An integration's or authorizer's ``credentials``: a role ARN, or ``arn:aws:iam::*:user/*`` (the
    AWS_IAM caller's own credentials, apis/credentials.py)."""
    if value != credentials.CALLER and not credentials.is_role_arn(value):
        raise _bad("Invalid ARN specified in the request")
    return value


@operation("GetIntegration", service=SERVICE)
def get_integration(ctx: "RequestContext", params: dict) -> dict:
    method = _method(ctx, _doc(ctx, params["restApiId"]), params)
    if "methodIntegration" not in method:
        raise AwsError("NotFoundException", "No integration defined for method", 404)
    return method["methodIntegration"]


@operation("DeleteIntegration", service=SERVICE)
def delete_integration(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    method = _method(ctx, doc, params)
    if method.pop("methodIntegration", None) is None:
        raise AwsError("NotFoundException", "No integration defined for method", 404)
    _save(ctx, params["restApiId"], doc)
    return {}


# ------------------------------------------------------------------ deployments and stages
def _new_stage(name: str, deployment_id: str, params: dict) -> dict:
    now = time.time()
    stage = {"stageName": name, "deploymentId": deployment_id, "createdDate": now, "lastUpdatedDate": now,
             "cacheClusterEnabled": False, "cacheClusterStatus": "NOT_AVAILABLE", "methodSettings": {},
             "tracingEnabled": bool(params.get("tracingEnabled")), "tags": params.get("tags") or {}}
    if params.get("variables"):
        stage["variables"] = params["variables"]
    if params.get("description"):
        stage["description"] = params["description"]
    from .apigateway_cache import set_cluster  # the stage's cache (it imports this module)

    set_cluster(stage, params.get("cacheClusterEnabled"), params.get("cacheClusterSize"))
    return stage


@operation("CreateDeployment", service=SERVICE)
def create_deployment(ctx: "RequestContext", params: dict) -> dict:
    import copy

    doc = _doc(ctx, params["restApiId"])
    if not any(r.get("resourceMethods") for r in doc["resources"].values()):
        raise _bad("The REST API doesn't contain any methods")
    if "PRIVATE" in ((doc["api"].get("endpointConfiguration") or {}).get("types") or []) and not doc["api"].get("policy"):
        raise _bad("Private REST API doesn't have a resource policy attached to it.")
    for res in doc["resources"].values():
        for verb, method in (res.get("resourceMethods") or {}).items():
            if "methodIntegration" not in method:
                raise _bad("No integration defined for method")
    dep = {"id": new_id(6), "createdDate": time.time(),
           "_snapshot": {"resources": copy.deepcopy(doc["resources"]),
                         "authorizers": copy.deepcopy(doc.get("authorizers") or {}),
                         # models, request validators and gateway responses (apigateway_models.py,
                         # apigateway_gateway_responses.py) take effect with a deployment, as on AWS
                         "models": copy.deepcopy(doc.get("models") or {}),
                         "requestValidators": copy.deepcopy(doc.get("requestValidators") or {}),
                         "gatewayResponses": copy.deepcopy(doc.get("gatewayResponses") or {}),
                         # so does the resource policy ("deploy the API again" after changing it)
                         "policy": doc["api"].get("policy")}}
    if params.get("description"):
        dep["description"] = params["description"]
    doc["deployments"][dep["id"]] = dep
    name = params.get("stageName")
    if name:
        stage = doc["stages"].get(name)
        if stage is None:
            doc["stages"][name] = _new_stage(name, dep["id"], {
                "variables": params.get("variables"), "description": params.get("stageDescription"),
                "cacheClusterEnabled": params.get("cacheClusterEnabled"), "cacheClusterSize": params.get("cacheClusterSize")})
        else:
            stage["deploymentId"] = dep["id"]
            stage["lastUpdatedDate"] = time.time()
            if params.get("variables"):
                stage["variables"] = {**(stage.get("variables") or {}), **params["variables"]}
            from .apigateway_cache import set_cluster  # the stage's cache (it imports this module)

            set_cluster(stage, params.get("cacheClusterEnabled"), params.get("cacheClusterSize"))
    _save(ctx, params["restApiId"], doc)
    return _public(dep)


@operation("GetDeployment", service=SERVICE)
def get_deployment(ctx: "RequestContext", params: dict) -> dict:
    dep = _doc(ctx, params["restApiId"])["deployments"].get(params["deploymentId"])
    if dep is None:
        raise _not_found(ctx, "Deployment", params["deploymentId"])
    return _public(dep)


@operation("GetDeployments", service=SERVICE)
def get_deployments(ctx: "RequestContext", params: dict) -> dict:
    return {"items": [_public(d) for d in _doc(ctx, params["restApiId"])["deployments"].values()]}


@operation("CreateStage", service=SERVICE)
def create_stage(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    name = params["stageName"]
    if name in doc["stages"]:
        raise AwsError("ConflictException", "Stage already exists", 409)
    if params["deploymentId"] not in doc["deployments"]:
        raise _bad("Invalid deployment identifier specified")
    doc["stages"][name] = stage = _new_stage(name, params["deploymentId"], params)
    _save(ctx, params["restApiId"], doc)
    return stage


@operation("GetStage", service=SERVICE)
def get_stage(ctx: "RequestContext", params: dict) -> dict:
    stage = _doc(ctx, params["restApiId"])["stages"].get(params["stageName"])
    if stage is None:
        raise _not_found(ctx, "Stage", params["stageName"])
    return stage


@operation("GetStages", service=SERVICE)
def get_stages(ctx: "RequestContext", params: dict) -> dict:
    return {"item": list(_doc(ctx, params["restApiId"])["stages"].values())}


@operation("DeleteStage", service=SERVICE)
def delete_stage(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    if doc["stages"].pop(params["stageName"], None) is None:
        raise _not_found(ctx, "Stage", params["stageName"])
    _save(ctx, params["restApiId"], doc)
    return {}


# ------------------------------------------------------------------ authorizers (Lambda TOKEN and REQUEST)
@operation("CreateAuthorizer", service=SERVICE)
def create_authorizer(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    kind = params["type"]
    if kind not in ("TOKEN", "REQUEST", "COGNITO_USER_POOLS"):
        raise _bad(f"Invalid authorizer type specified: {kind}")
    if kind == "COGNITO_USER_POOLS":
        return _cognito_authorizer(ctx, doc, params)
    if not params.get("authorizerUri"):
        raise _bad("Authorizer URI must be specified for authorizers of type TOKEN and REQUEST")
    if kind == "TOKEN" and not params.get("identitySource"):
        raise _bad("Identity source must be specified for authorizers of type TOKEN")
    ttl = params.get("authorizerResultTtlInSeconds")
    if ttl is not None and not 0 <= ttl <= ctx.lamb.settings.limits.http_api_authorizer_ttl_max_s:
        raise _bad("Authorizer result TTL must be between 0 and 3600 seconds")
    auth = {"id": new_id(6), "name": params["name"], "type": kind, "authorizerUri": params["authorizerUri"],
            "authType": params.get("authType") or "custom",
            "authorizerResultTtlInSeconds": 300 if ttl is None else ttl}
    for k in ("identitySource", "identityValidationExpression"):
        if params.get(k) is not None:
            auth[k] = params[k]
    if params.get("authorizerCredentials"):  # the authorizer is invoked as this role (apis/credentials.py)
        if not credentials.is_role_arn(params["authorizerCredentials"]):
            raise _bad("Invalid ARN specified in the request")
        auth["authorizerCredentials"] = params["authorizerCredentials"]
    doc.setdefault("authorizers", {})[auth["id"]] = auth
    _save(ctx, params["restApiId"], doc)
    return auth


_POOL_ARN = re.compile(r"arn:aws[a-z-]*:cognito-idp:([a-z0-9-]+):(\d{12}):userpool/([a-z0-9-]+_[A-Za-z0-9]+)")


def _cognito_authorizer(ctx: "RequestContext", doc: dict, params: dict) -> dict:
    """A COGNITO_USER_POOLS authorizer: its user pools' ARNs and the header carrying the token
    (``apis/cognito_auth.py`` verifies it)."""
    arns = params.get("providerARNs") or []
    if not arns:
        raise _bad("ProviderARNs need to be specified for COGNITO_USER_POOLS type authorizer")
    for arn in arns:
        if not _POOL_ARN.fullmatch(arn):
            raise _bad(f"Invalid provider ARN specified: {arn}")
    source = params.get("identitySource")
    if not source or not source.startswith("method.request.header."):
        raise _bad("Identity source must be specified for authorizers of type COGNITO_USER_POOLS and be a "
                   "method.request.header.* expression")
    ttl = params.get("authorizerResultTtlInSeconds")
    if ttl is not None and not 0 <= ttl <= ctx.lamb.settings.limits.http_api_authorizer_ttl_max_s:
        raise _bad("Authorizer result TTL must be between 0 and 3600 seconds")
    auth = {"id": new_id(6), "name": params["name"], "type": "COGNITO_USER_POOLS", "providerARNs": list(arns),
            "authType": params.get("authType") or "cognito_user_pools", "identitySource": source,
            "authorizerResultTtlInSeconds": 300 if ttl is None else ttl}
    if params.get("identityValidationExpression"):
        auth["identityValidationExpression"] = params["identityValidationExpression"]
    doc.setdefault("authorizers", {})[auth["id"]] = auth
    _save(ctx, params["restApiId"], doc)
    return auth


@operation("GetAuthorizer", service=SERVICE)
def get_authorizer(ctx: "RequestContext", params: dict) -> dict:
    auth = (_doc(ctx, params["restApiId"]).get("authorizers") or {}).get(params["authorizerId"])
    if auth is None:
        raise _not_found(ctx, "Authorizer", params["authorizerId"])
    return auth


@operation("GetAuthorizers", service=SERVICE)
def get_authorizers(ctx: "RequestContext", params: dict) -> dict:
    return {"items": list((_doc(ctx, params["restApiId"]).get("authorizers") or {}).values())}


@operation("DeleteAuthorizer", service=SERVICE)
def delete_authorizer(ctx: "RequestContext", params: dict) -> dict:
    doc = _doc(ctx, params["restApiId"])
    get_authorizer(ctx, params)
    del doc["authorizers"][params["authorizerId"]]
    _save(ctx, params["restApiId"], doc)
    return {}
