"""Models, request validators and UpdateMethod of REST APIs (botocore's ``apigateway`` model).

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html:
CreateModel/GetModel/GetModels/UpdateModel/DeleteModel (JSON Schema draft 4 schemas, checked by
``apis/validation.py``; every API has the default ``Empty`` and ``Error`` models),
CreateRequestValidator/GetRequestValidator(s)/UpdateRequestValidator/DeleteRequestValidator, and
UpdateMethod with PATCH operations (``/requestValidatorId``, ``/requestParameters/<key>``,
``/requestModels/<content type>``, ``/authorizationType``, ``/authorizerId``,
``/authorizationScopes``, ``/apiKeyRequired``, ``/operationName``). A deployment's snapshot carries
the models and validators (``apigateway.create_deployment``), which ``apis/rest.py`` applies.
A model in use by a method, or a validator in use, is not deleted (BadRequestException).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import TYPE_CHECKING

from ..apis import validation
from ..apis.store import new_id
from ..protocol.errors import AwsError
from . import apigateway as rest
from . import operation
from .apigateway_patch import _bool, _invalid, _ops, _patch_map, _unescape

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = rest.SERVICE
_NAME = re.compile(r"[A-Za-z0-9]+")


def page(params: dict, items: list) -> dict:
    """API Gateway v1's paging: ``limit`` (25 by default, at most 500) items from ``position`` (an opaque
    token; the next one is returned while items remain)."""
    limit = params.get("limit") or 25
    if not 1 <= limit <= 500:
        raise rest._bad("Limit must be between 1 and 500")
    try:
        start = int(base64.urlsafe_b64decode((params.get("position") or "MA==").encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise rest._bad("Invalid position parameter") from None
    out: dict = {"items": items[start:start + limit]}
    if start + limit < len(items):
        out["position"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return out


def models_of(doc: dict) -> dict:
    """The API's models by name (the default ``Empty`` and ``Error`` ones made on first use)."""
    if "models" not in doc:
        doc["models"] = {name: dict(model, id=new_id(6)) for name, model in validation.DEFAULT_MODELS.items()}
    return doc["models"]


def validators_of(doc: dict) -> dict:
    return doc.setdefault("requestValidators", {})


def _model(ctx: "RequestContext", doc: dict, name: str) -> dict:
    model = models_of(doc).get(name)
    if model is None:
        raise AwsError("NotFoundException", "Invalid model name specified", 404)
    return model


def _schema(text: str | None) -> None:
    try:
        validation.check_schema(text)
    except ValueError as e:
        raise rest._bad(f"Invalid model specified: Validation Result: warnings : [], errors : [{e}]") from None


def _methods(doc: dict):
    for res in doc["resources"].values():
        for verb, method in (res.get("resourceMethods") or {}).items():
            yield res, verb, method


def check_method_request(ctx: "RequestContext", doc: dict, method: dict) -> None:
    """A method's validator and models exist (PutMethod, UpdateMethod)."""
    validator = method.get("requestValidatorId")
    if validator and validator not in validators_of(doc):
        raise rest._bad("Invalid Request Validator identifier specified")
    for name in (method.get("requestModels") or {}).values():
        if name not in models_of(doc):
            raise rest._bad(f"Invalid model identifier specified: {name}")
    for key in method.get("requestParameters") or {}:
        if not re.fullmatch(r"method\.request\.(querystring|header|path|multivaluequerystring|multivalueheader)\.[^.]+",
                            key):
            raise rest._bad(f"Invalid mapping expression specified: Validation Result: warnings : [], "
                            f"errors : [Invalid method request parameter name specified: {key}]")


# ------------------------------------------------------------------ models
@operation("CreateModel", service=SERVICE)
def create_model(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    name = params["name"]
    if not _NAME.fullmatch(name or ""):
        raise rest._bad("Model name must be alphanumeric")
    if name in models_of(doc):
        raise AwsError("ConflictException", "Model name already exists for this REST API", 409)
    if not params.get("contentType"):
        raise rest._bad("Content type must be specified")
    _schema(params.get("schema"))
    model = {"id": new_id(6), "name": name, "contentType": params["contentType"], "schema": params["schema"]}
    if params.get("description") is not None:
        model["description"] = params["description"]
    models_of(doc)[name] = model
    rest._save(ctx, params["restApiId"], doc)
    return model


def _flattened(doc: dict, api_id: str, schema: object, seen: tuple = ()) -> object:
    """The schema with every ``$ref`` to another model of the API replaced by that model's schema."""
    if isinstance(schema, list):
        return [_flattened(doc, api_id, v, seen) for v in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    prefix = validation.MODEL_URL.format(api=api_id, name="")
    if isinstance(ref, str) and ref.startswith(prefix) and ref not in seen:
        target = models_of(doc).get(ref[len(prefix):])
        if target is not None:
            return _flattened(doc, api_id, json.loads(target["schema"]), seen + (ref,))
    return {k: _flattened(doc, api_id, v, seen) for k, v in schema.items()}


@operation("GetModel", service=SERVICE)
def get_model(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    model = _model(ctx, doc, params["modelName"])
    if params.get("flatten"):
        model = dict(model, schema=json.dumps(_flattened(doc, params["restApiId"], json.loads(model["schema"]))))
    return model


@operation("GetModels", service=SERVICE)
def get_models(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    fresh = "models" not in doc
    items = sorted(models_of(doc).values(), key=lambda m: m["name"])
    if fresh:
        rest._save(ctx, params["restApiId"], doc)
    return page(params, items)


@operation("UpdateModel", service=SERVICE)
def update_model(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    model = dict(_model(ctx, doc, params["modelName"]))
    for op in _ops(params):
        if op.get("path") == "/schema" and op["op"] == "replace":
            _schema(op.get("value"))
            model["schema"] = op["value"]
        elif op.get("path") == "/description" and op["op"] == "replace":
            model["description"] = op.get("value")
        else:
            raise _invalid(op)
    models_of(doc)[model["name"]] = model
    rest._save(ctx, params["restApiId"], doc)
    return model


@operation("DeleteModel", service=SERVICE)
def delete_model(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    name = _model(ctx, doc, params["modelName"])["name"]
    return _remove(ctx, params, doc, models_of(doc), name,
                   lambda method: name in (method.get("requestModels") or {}).values(),
                   f"Cannot delete model '{name}', is referenced in method request:")


def _remove(ctx: "RequestContext", params: dict, doc: dict, table: dict, key: str, in_use, refusal: str) -> dict:
    """Delete ``table[key]`` unless a method uses it (BadRequestException naming the method)."""
    for res, verb, method in _methods(doc):
        if in_use(method):
            raise rest._bad(f"{refusal} {res['path']}/{verb}")
    del table[key]
    rest._save(ctx, params["restApiId"], doc)
    return {}


# ------------------------------------------------------------------ request validators
def _validator(ctx: "RequestContext", doc: dict, ident: str) -> dict:
    found = validators_of(doc).get(ident)
    if found is None:
        raise rest._not_found(ctx, "Request Validator", ident)
    return found


@operation("CreateRequestValidator", service=SERVICE)
def create_request_validator(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    validator = {"id": new_id(6), "name": params.get("name") or "",
                 "validateRequestBody": bool(params.get("validateRequestBody")),
                 "validateRequestParameters": bool(params.get("validateRequestParameters"))}
    validators_of(doc)[validator["id"]] = validator
    rest._save(ctx, params["restApiId"], doc)
    return validator


@operation("GetRequestValidator", service=SERVICE)
def get_request_validator(ctx: "RequestContext", params: dict) -> dict:
    return _validator(ctx, rest._doc(ctx, params["restApiId"]), params["requestValidatorId"])


@operation("GetRequestValidators", service=SERVICE)
def get_request_validators(ctx: "RequestContext", params: dict) -> dict:
    return page(params, list(validators_of(rest._doc(ctx, params["restApiId"])).values()))


@operation("UpdateRequestValidator", service=SERVICE)
def update_request_validator(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    validator = dict(_validator(ctx, doc, params["requestValidatorId"]))
    for op in _ops(params):
        path = op.get("path")
        if path == "/name" and op["op"] == "replace":
            validator["name"] = op.get("value") or ""
        elif path in ("/validateRequestBody", "/validateRequestParameters") and op["op"] == "replace":
            validator[path[1:]] = _bool(op.get("value"))
        else:
            raise _invalid(op)
    validators_of(doc)[validator["id"]] = validator
    rest._save(ctx, params["restApiId"], doc)
    return validator


@operation("DeleteRequestValidator", service=SERVICE)
def delete_request_validator(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    ident = _validator(ctx, doc, params["requestValidatorId"])["id"]
    return _remove(ctx, params, doc, validators_of(doc), ident,
                   lambda method: method.get("requestValidatorId") == ident,
                   f"Cannot delete request validator '{ident}', it is used by method")


# ------------------------------------------------------------------ UpdateMethod
def patch_method(method: dict, ops: list[dict]) -> None:
    for op in ops:
        path, kind, value = op.get("path") or "", op["op"], op.get("value")
        parts = path.split("/")[1:]
        if parts[:1] == ["requestParameters"] and len(parts) == 2:
            _patch_map(method, "requestParameters", _unescape(parts[1]), kind,
                       _bool(value) if kind != "remove" else None)
        elif parts[:1] == ["requestModels"] and len(parts) == 2:
            _patch_map(method, "requestModels", _unescape(parts[1]), kind, value)
        elif path == "/authorizationScopes" and kind in ("add", "remove"):
            scopes = [s for s in method.get("authorizationScopes") or [] if s != value]
            if kind == "add" and value:
                scopes.append(value)
            if scopes:
                method["authorizationScopes"] = scopes
            else:
                method.pop("authorizationScopes", None)
        elif path in ("/requestValidatorId", "/authorizerId", "/operationName") and kind in ("replace", "remove"):
            if kind == "remove" or not value:
                method.pop(path[1:], None)
            else:
                method[path[1:]] = value
        elif path == "/authorizationType" and kind == "replace":
            method["authorizationType"] = value
        elif path == "/apiKeyRequired" and kind == "replace":
            method["apiKeyRequired"] = _bool(value)
        else:
            raise _invalid(op)


@operation("UpdateMethod", service=SERVICE)
def update_method(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    method = copy.deepcopy(rest._method(ctx, doc, params))
    patch_method(method, _ops(params))
    rest.check_authorization(doc, method)
    check_method_request(ctx, doc, method)
    doc["resources"][params["resourceId"]]["resourceMethods"][params["httpMethod"]] = method
    rest._save(ctx, params["restApiId"], doc)
    return method
