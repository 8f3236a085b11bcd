"""Models and request validation of REST APIs (JSON Schema draft 4, by ``jsonschema``).

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html:
a method's request validator (``requestValidatorId``) says what API Gateway checks before the
integration runs:

- ``validateRequestParameters``: every request parameter the method marks required
  (``method.request.querystring.q: true``, ``method.request.header.X-Key: true``,
  ``method.request.path.id: true``) is present and not blank; otherwise 400
  ``{"message": "Missing required request parameters: [q, X-Key]"}`` (gateway response
  ``BAD_REQUEST_PARAMETERS``). Only presence is checked, not type or format.
- ``validateRequestBody``: the body must satisfy the model the method names for the request's
  Content-Type in ``requestModels`` (``$default`` when none matches; no model, no check); otherwise
  400 ``{"message": "Invalid request body"}`` (``BAD_REQUEST_BODY``). A body that is not JSON fails;
  an empty body is validated as ``{}``.

A model's schema may refer to another model of the API as
``https://apigateway.amazonaws.com/restapis/<api-id>/models/<name>`` (AWS's form); those are resolved
among the API's models. ``$context.error.validationErrorString`` gets jsonschema's messages (AWS's
validator words them differently). Pure: no I/O.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple

import jsonschema
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4

MODEL_URL = "https://apigateway.amazonaws.com/restapis/{api}/models/{name}"
DRAFT4_URI = "http://json-schema.org/draft-04/schema#"

# The two models every REST API starts with (GetModels on a new API lists them).
DEFAULT_MODELS = {
    "Empty": {"name": "Empty", "description": "This is a default empty schema model", "contentType": "application/json",
              "schema": '{\n  "$schema": "http://json-schema.org/draft-04/schema#",\n  "title" : "Empty Schema",\n'
                        '  "type" : "object"\n}'},
    "Error": {"name": "Error", "description": "This is a default error schema model", "contentType": "application/json",
              "schema": '{\n  "$schema" : "http://json-schema.org/draft-04/schema#",\n  "title" : "Error Schema",\n'
                        '  "type" : "object",\n  "properties" : {\n    "message" : { "type" : "string" }\n  }\n}'},
}


class Invalid(NamedTuple):
    """Why a request failed validation: the gateway response type and its message."""

    response_type: str  # BAD_REQUEST_PARAMETERS | BAD_REQUEST_BODY
    message: str
    detail: str  # $context.error.validationErrorString


def check_schema(text: str | None) -> dict:
    """A model's schema parsed and checked as a draft 4 schema; raises ``ValueError`` with the reason."""
    if text is None or not str(text).strip():
        raise ValueError("Model schema must not be empty")
    try:
        schema = json.loads(text)
    except ValueError as e:
        raise ValueError(f"Invalid model schema specified: {e}") from None
    if not isinstance(schema, dict):
        raise ValueError("Invalid model schema specified: a schema is a JSON object")
    try:
        jsonschema.Draft4Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ValueError(f"Invalid model schema specified: {e.message}") from None
    return schema


def _present(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def missing_parameters(request_parameters: Mapping[str, bool] | None, path: Mapping[str, str],
                       query: Mapping[str, str], headers: Mapping[str, str]) -> list[str]:
    """The names of required request parameters absent or blank in the request, in declared order."""
    lowered = {k.lower(): v for k, v in headers.items()}
    missing = []
    for key, required in (request_parameters or {}).items():
        if not required or not key.startswith("method.request."):
            continue
        where, _, name = key[len("method.request."):].partition(".")
        where = where.removeprefix("multivalue")  # multivaluequerystring / multivalueheader: the same presence
        if where == "header":
            value = lowered.get(name.lower())
        elif where == "querystring":
            value = query.get(name)
        elif where == "path":
            value = path.get(name)
        else:
            continue
        if not _present(value):
            missing.append(name)
    return missing


def model_for(request_models: Mapping[str, str] | None, content_type: str | None) -> str | None:
    """The model named for the request's media type (``application/json`` without one), else ``$default``'s."""
    if not request_models:
        return None
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    for key, name in request_models.items():
        if key.lower() == media:
            return name
    return request_models.get("$default")


def _registry(api_id: str, models: Mapping[str, dict]) -> Registry:
    resources = []
    for name, model in models.items():
        try:
            schema = json.loads(model.get("schema") or "{}")
        except ValueError:
            continue
        resources.append((MODEL_URL.format(api=api_id, name=name), Resource.from_contents(schema, DRAFT4)))
    return Registry().with_resources(resources)


def body_errors(schema: dict, document: Any, api_id: str, models: Mapping[str, dict]) -> list[str]:
    """jsonschema's messages for the document against the schema (empty when it is valid)."""
    validator = jsonschema.Draft4Validator(schema, registry=_registry(api_id, models))
    try:
        return [e.message for e in validator.iter_errors(document)]
    except Unresolvable as e:  # a $ref to no model: the body cannot pass
        return [str(e)]


def validate(method: Mapping, validators: Mapping[str, dict], models: Mapping[str, dict], api_id: str, *,
             path: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str], body: bytes,
             content_type: str | None) -> Invalid | None:
    """The method's request validator applied to one request: None when it passes (or has none)."""
    validator = validators.get(method.get("requestValidatorId") or "")
    if validator is None:
        return None
    if validator.get("validateRequestParameters"):
        missing = missing_parameters(method.get("requestParameters"), path, query, headers)
        if missing:
            message = f"Missing required request parameters: [{', '.join(missing)}]"
            return Invalid("BAD_REQUEST_PARAMETERS", message, message)
    if validator.get("validateRequestBody"):
        name = model_for(method.get("requestModels"), content_type)
        model = models.get(name) if name else None
        if model is not None:
            try:
                schema = json.loads(model.get("schema") or "{}")
                document = json.loads(body) if body.strip() else {}
            except ValueError as e:
                return Invalid("BAD_REQUEST_BODY", "Invalid request body", f"[Invalid JSON: {e}]")
            errors = body_errors(schema, document, api_id, models)
            if errors:
                return Invalid("BAD_REQUEST_BODY", "Invalid request body", "[" + ", ".join(errors) + "]")
    return None
