"""UpdateRestApi, UpdateStage, UpdateIntegration and UpdateIntegrationResponse: REST API Update*
operations with PATCH operations.

API Gateway v1 changes a resource with a list of ``patchOperations`` (``op``: add, remove,
replace; ``path``; ``value`` as a string), https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html.
The paths served here are those of
https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateRestApi.html (name, description,
binaryMediaTypes, minimumCompressionSize, disableExecuteApiEndpoint, apiKeySource, policy) and
https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateStage.html (deploymentId, description,
variables, tracingEnabled, accessLogSettings, and the method settings' paths of
``apis/method_settings.py``: throttling, execution logging, detailed metrics),
https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateIntegration.html (uri, passthroughBehavior,
timeoutInMillis, requestTemplates, requestParameters) and
https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateIntegrationResponse.html (selectionPattern,
responseTemplates, responseParameters): what Terraform sends when a mapping template changes. In a
path a ``/`` inside a name is written ``~1`` (``/binaryMediaTypes/image~1png``). Other paths answer BadRequestException.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Callable

from ..apis import access_log, aws_services, http_proxy, method_settings
from ..protocol.errors import AwsError
from . import apigateway as rest
from . import apigateway_responses as responses
from .apigateway_cache import patch_cache_key, patch_stage_cache
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = rest.SERVICE


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _bool(value: str | None) -> bool:
    return str(value).lower() == "true"


def _invalid(op: dict) -> Exception:
    return rest._bad(f"Invalid patch path '{op.get('path')}' specified for op '{op.get('op')}'")


def _ops(params: dict) -> list[dict]:
    ops = params.get("patchOperations") or []
    for op in ops:
        if op.get("op") not in ("add", "remove", "replace"):
            raise rest._bad(f"Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
    return ops


def patch_rest_api(api: dict, ops: list[dict], policy_of: "Callable[[str], str]") -> None:
    """``policy_of``: a ``/policy`` value as API Gateway keeps it (``apigateway.stored_policy``)."""
    for op in ops:
        path, kind, value = op.get("path") or "", op["op"], op.get("value")
        parts = path.split("/")[1:]
        if parts[:1] == ["binaryMediaTypes"] and len(parts) == 2 and kind in ("add", "remove", "replace"):
            types = list(api.get("binaryMediaTypes") or [])
            name = _unescape(parts[1])
            if kind in ("remove", "replace") and name in types:
                types.remove(name)
            if kind == "add" and name not in types:
                types.append(name)
            if kind == "replace" and value and value not in types:
                types.append(value)
            api["binaryMediaTypes"] = types
        elif path == "/policy" and kind == "replace":  # kept as API Gateway keeps it (an empty value removes it)
            if value:
                api["policy"] = policy_of(value)
            else:
                api.pop("policy", None)
        elif path in ("/name", "/description", "/apiKeySource") and kind == "replace":
            if path == "/name" and not value:
                raise rest._bad("Invalid name: name cannot be blank")
            api[path[1:]] = value
        elif path == "/minimumCompressionSize" and kind == "replace":
            if value in (None, ""):
                api.pop("minimumCompressionSize", None)
            else:
                api["minimumCompressionSize"] = int(value)
        elif path == "/disableExecuteApiEndpoint" and kind == "replace":
            api["disableExecuteApiEndpoint"] = _bool(value)
        else:
            raise _invalid(op)


def patch_stage(stage: dict, deployments: dict, ops: list[dict], method_defaults: dict | None = None) -> None:
    for op in ops:
        path, kind, value = op.get("path") or "", op["op"], op.get("value")
        parts = path.split("/")[1:]
        if path == "/deploymentId" and kind == "replace":
            if value not in deployments:
                raise rest._bad("Invalid deployment identifier specified")
            stage["deploymentId"] = value
        elif path == "/description" and kind == "replace":
            stage["description"] = value
        elif path == "/tracingEnabled" and kind == "replace":
            stage["tracingEnabled"] = _bool(value)
        elif parts[:1] == ["variables"] and len(parts) == 2:
            variables = dict(stage.get("variables") or {})
            if kind == "remove":
                variables.pop(_unescape(parts[1]), None)
            else:
                variables[_unescape(parts[1])] = value
            stage["variables"] = variables
        elif parts[:1] == ["accessLogSettings"] and len(parts) <= 2:
            settings = dict(stage.get("accessLogSettings") or {})
            if kind == "remove":
                settings = {} if len(parts) == 1 else {k: v for k, v in settings.items() if k != parts[1]}
            elif len(parts) == 2 and parts[1] in ("destinationArn", "format"):
                if parts[1] == "format" and (problem := access_log.format_problem(value or "", http=False)):
                    raise AwsError("BadRequestException", problem, 400)
                settings[parts[1]] = value
            else:
                raise _invalid(op)
            if settings:
                stage["accessLogSettings"] = settings
            else:
                stage.pop("accessLogSettings", None)
        elif patch_stage_cache(stage, parts, kind, value):  # the cache cluster's paths (apigateway_cache.py)
            pass
        else:
            _method_setting(stage, path, kind, value, method_defaults)
    stage["lastUpdatedDate"] = time.time()


def _method_setting(stage: dict, path: str, kind: str, value: str | None, defaults: dict | None) -> None:
    """A ``/{resource path}/{http method}/{setting}`` path (``apis/method_settings.py``); any other path
    answers AWS's list of the stage's paths."""
    settings = dict(stage.get("methodSettings") or {})
    try:
        if not method_settings.patch(settings, path, kind, value, defaults or method_settings.defaults(10_000, 5_000)):
            raise method_settings.Invalid(f"Invalid method setting path: {path}. Must be one of: "
                                          f"{method_settings.VALID_PATHS}")
    except method_settings.Invalid as e:
        raise rest._bad(str(e)) from None
    stage["methodSettings"] = settings


@operation("UpdateRestApi", service=SERVICE)
def update_rest_api(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    api = dict(doc["api"])
    patch_rest_api(api, _ops(params), lambda text: rest.stored_policy(ctx, api["id"], text))
    doc["api"] = api
    rest._save(ctx, params["restApiId"], doc)
    return api


def _patch_map(target: dict, key: str, name: str, kind: str, value: str | None) -> None:
    """An add/replace/remove on one entry of a map member (``/requestTemplates/application~1json``)."""
    values = dict(target.get(key) or {})
    if kind == "remove":
        values.pop(name, None)
    else:
        values[name] = value
    if values:
        target[key] = values
    else:
        target.pop(key, None)


def _content_handling(target: dict, kind: str, value: str | None) -> None:
    if kind == "remove" or not value:
        target.pop("contentHandling", None)
    else:
        target["contentHandling"] = rest.content_handling(value)


def patch_integration(integration: dict, ops: list[dict], timeout_range: tuple[int, int]) -> None:
    for op in ops:
        path, kind, value = op.get("path") or "", op["op"], op.get("value")
        parts = path.split("/")[1:]
        if parts[:1] in (["requestTemplates"], ["requestParameters"]) and len(parts) == 2:
            _patch_map(integration, parts[0], _unescape(parts[1]), kind, value)
        elif path == "/uri" and kind == "replace":
            if integration.get("type") in ("HTTP_PROXY", "HTTP") and not http_proxy.is_http_url(value):
                raise rest._bad("Invalid HTTP endpoint specified for URI")
            lambda_or_service = aws_services.is_service_uri(value) or \
                ":lambda:path/2015-03-31/functions/" in (value or "")  # Lambda's, or another service's action/path
            if integration.get("type") == "MOCK" or (integration.get("type") == "AWS" and not lambda_or_service):
                raise rest._bad("Invalid integration URI specified")
            integration["uri"] = value
        elif path == "/contentHandling" and kind in ("replace", "add", "remove"):
            _content_handling(integration, kind, value)
        elif path in ("/connectionType", "/connectionId") and kind == "replace" and \
                integration.get("type") in ("HTTP_PROXY", "HTTP"):  # a private integration (VPC link) or not
            if path == "/connectionType" and value not in ("INTERNET", "VPC_LINK"):
                raise rest._bad(f"Invalid connectionType {value}: use INTERNET or VPC_LINK.")
            integration[path[1:]] = value
            if integration.get("connectionType") == "INTERNET":
                integration.pop("connectionId", None)
        elif patch_cache_key(integration, path, kind, value):  # apigateway_cache.py
            pass
        elif path == "/credentials" and kind in ("replace", "add", "remove"):
            if kind == "remove" or not value:
                integration.pop("credentials", None)
            else:
                integration["credentials"] = rest.role_credentials(value)
        elif path == "/passthroughBehavior" and kind == "replace":
            if value not in ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"):
                raise rest._bad("Invalid passthrough behavior specified")
            integration["passthroughBehavior"] = value
        elif path == "/timeoutInMillis" and kind == "replace":
            low, high = timeout_range
            if not str(value).isdigit() or not low <= int(value) <= high:
                raise rest._bad(f"Timeout should be between {low} ms and {high} ms")
            integration["timeoutInMillis"] = int(value)
        else:
            raise _invalid(op)


def patch_integration_response(response: dict, ops: list[dict]) -> None:
    for op in ops:
        path, kind, value = op.get("path") or "", op["op"], op.get("value")
        parts = path.split("/")[1:]
        if parts[:1] in (["responseTemplates"], ["responseParameters"]) and len(parts) == 2:
            _patch_map(response, parts[0], _unescape(parts[1]), kind, value)
        elif path == "/contentHandling" and kind in ("replace", "add", "remove"):
            _content_handling(response, kind, value)
        elif path == "/selectionPattern" and kind in ("replace", "remove"):
            if kind == "remove" or not value:
                response.pop("selectionPattern", None)
            else:
                response["selectionPattern"] = value
        else:
            raise _invalid(op)


@operation("UpdateIntegration", service=SERVICE)
def update_integration(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    limits = ctx.lamb.settings.limits
    integration = copy.deepcopy(responses._integration(ctx, doc, params))
    patch_integration(integration, _ops(params), (limits.http_api_timeout_min_ms, rest.timeout_max(doc["api"], limits)))
    rest._method(ctx, doc, params)["methodIntegration"] = integration
    rest._save(ctx, params["restApiId"], doc)
    return integration


@operation("UpdateIntegrationResponse", service=SERVICE)
def update_integration_response(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    found = responses._integration(ctx, doc, params).setdefault("integrationResponses", {}).get(params["statusCode"])
    if found is None:
        raise AwsError("NotFoundException", "Invalid Response status code specified", 404)
    response = copy.deepcopy(found)
    patch_integration_response(response, _ops(params))
    responses._integration(ctx, doc, params)["integrationResponses"][params["statusCode"]] = response
    rest._save(ctx, params["restApiId"], doc)
    return response


@operation("UpdateStage", service=SERVICE)
def update_stage(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    found = doc["stages"].get(params["stageName"])
    if found is None:
        raise rest._not_found(ctx, "Stage", params["stageName"])
    stage = dict(found)
    limits = ctx.lamb.settings.limits
    patch_stage(stage, doc["deployments"], _ops(params),
                method_settings.defaults(limits.apigateway_account_rate_limit, limits.apigateway_account_burst_limit))
    doc["stages"][params["stageName"]] = stage
    rest._save(ctx, params["restApiId"], doc)
    return stage
