"""UpdateRestApi and UpdateStage: REST API Update* operations with PATCH operations.

API Gateway v1 changes a resource with a list of ``patchOperations`` (``op``: add, remove,
replace; ``path``; ``value`` as a string), https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html.
The paths served here are those of
https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateRestApi.html (name, description,
binaryMediaTypes, minimumCompressionSize, disableExecuteApiEndpoint, apiKeySource, policy) and
https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateStage.html (deploymentId, description,
variables, tracingEnabled, accessLogSettings, and of the method settings ``/*/*/metrics/enabled``: the
stage's detailed CloudWatch metrics, ``apis/metrics.py``). In a path a ``/`` inside a name is written
``~1`` (``/binaryMediaTypes/image~1png``). Other paths answer BadRequestException.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import apigateway as rest
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


def patch_rest_api(api: dict, ops: list[dict]) -> None:
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
        elif path in ("/name", "/description", "/apiKeySource", "/policy") and kind == "replace":
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


def patch_stage(stage: dict, deployments: dict, ops: list[dict]) -> None:
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
                settings[parts[1]] = value
            else:
                raise _invalid(op)
            if settings:
                stage["accessLogSettings"] = settings
            else:
                stage.pop("accessLogSettings", None)
        elif parts == ["*", "*", "metrics", "enabled"] and kind == "replace":
            settings = dict(stage.get("methodSettings") or {})
            settings["*/*"] = dict(settings.get("*/*") or {}, metricsEnabled=_bool(value))
            stage["methodSettings"] = settings
        else:
            raise _invalid(op)
    stage["lastUpdatedDate"] = time.time()


@operation("UpdateRestApi", service=SERVICE)
def update_rest_api(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    api = dict(doc["api"])
    patch_rest_api(api, _ops(params))
    doc["api"] = api
    rest._save(ctx, params["restApiId"], doc)
    return api


@operation("UpdateStage", service=SERVICE)
def update_stage(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    found = doc["stages"].get(params["stageName"])
    if found is None:
        raise rest._not_found(ctx, "Stage", params["stageName"])
    stage = dict(found)
    patch_stage(stage, doc["deployments"], _ops(params))
    doc["stages"][params["stageName"]] = stage
    rest._save(ctx, params["restApiId"], doc)
    return stage
