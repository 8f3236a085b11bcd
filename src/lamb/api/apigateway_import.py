"""ImportRestApi and PutRestApi: a REST API from an OpenAPI definition (``apis/openapi.py``).

https://docs.aws.amazon.com/apigateway/latest/api/API_ImportRestApi.html,
https://docs.aws.amazon.com/apigateway/latest/api/API_PutRestApi.html. The definition's
paths become resources (created along each path), its operations methods with their
``AWS_PROXY`` integrations, its security schemes Lambda authorizers; everything goes through
the same handlers as CreateResource/PutMethod/PutIntegration/CreateAuthorizer, so the
same validation applies. An import that fails leaves nothing behind: ImportRestApi deletes
the API it started, PutRestApi restores the API as it was. PutRestApi's ``overwrite`` mode
(the default is ``merge``) replaces the resources and authorizers, clears the API's description,
binary media types, minimum compression size and resource policy unless the definition sets them
(``OVERWRITTEN``), and keeps stages and deployments; the definition's title becomes the API's name.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING

from ..apis import openapi
from . import apigateway as rest
from . import apigateway_gateway_responses as gateway
from . import apigateway_models as models
from . import apigateway_responses as responses
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = rest.SERVICE


def _definition(params: dict) -> openapi.Definition:
    try:
        return openapi.read(openapi.load(params.get("body") or b""))
    except openapi.ImportProblem as e:
        raise rest._bad(str(e)) from None


def _apply(ctx: "RequestContext", api_id: str, definition: openapi.Definition) -> None:
    doc = rest._doc(ctx, api_id)
    try:
        auth_ids = {name: rest.create_authorizer(ctx, dict(openapi.rest_authorizer(name, scheme), restApiId=api_id))["id"]
                    for name, scheme in definition.schemes.items()}
    except openapi.ImportProblem as e:
        raise rest._bad(str(e)) from None
    validator_ids = _models_and_validators(ctx, api_id, definition)
    by_path = {r["path"]: r["id"] for r in rest._doc(ctx, api_id)["resources"].values()}
    for op in definition.operations:
        if op.path == "$default":
            raise rest._bad("Errors found during import:\n\tInvalid path '$default' for a REST API.")
        parent, path = by_path["/"], ""
        for part in openapi.path_parts(op.path):
            path += "/" + part
            if path not in by_path:
                by_path[path] = rest.create_resource(ctx, {"restApiId": api_id, "parentId": parent,
                                                          "pathPart": part})["id"]
            parent = by_path[path]
        method = {"restApiId": api_id, "resourceId": parent, "httpMethod": op.method, "authorizationType": "NONE"}
        if op.security is not None:
            cognito = str(definition.schemes[op.security[0]][openapi.AUTHORIZER].get("type", "")).upper() \
                == "COGNITO_USER_POOLS"
            method.update(authorizationType="COGNITO_USER_POOLS" if cognito else "CUSTOM",
                          authorizerId=auth_ids[op.security[0]])
            if cognito and op.security[1]:
                method["authorizationScopes"] = op.security[1]
        elif op.iam:  # apis/iam_auth.py
            method["authorizationType"] = "AWS_IAM"
        if op.api_key:  # apis/usage_plans.py
            method["apiKeyRequired"] = True
        if op.operation_name:
            method["operationName"] = op.operation_name
        if op.validator is not None:
            method["requestValidatorId"] = validator_ids[op.validator]
        if op.request_parameters:
            method["requestParameters"] = op.request_parameters
        if op.request_models:
            method["requestModels"] = op.request_models
        methods = rest._doc(ctx, api_id)["resources"][parent].get("resourceMethods") or {}
        if op.method in methods:  # merge mode: the definition's method replaces the API's
            rest.delete_method(ctx, {"restApiId": api_id, "resourceId": parent, "httpMethod": op.method})
        rest.put_method(ctx, method)
        try:
            integration = openapi.rest_integration(op)
        except openapi.ImportProblem as e:
            raise rest._bad(str(e)) from None
        where = {"restApiId": api_id, "resourceId": parent, "httpMethod": op.method}
        method_responses, integration_responses = openapi.rest_responses(op) if integration["type"] in ("MOCK", "AWS", "HTTP") \
            else ({}, {})
        for code, response in method_responses.items():
            responses.put_method_response(ctx, dict(response, statusCode=code, **where))
        rest.put_integration(ctx, dict(integration, **where))
        for code, response in integration_responses.items():
            responses.put_integration_response(ctx, dict(response, statusCode=code, **where))


def _models_and_validators(ctx: "RequestContext", api_id: str, definition: openapi.Definition) -> dict[str, str]:
    """The definition's models (created or replaced), request validators (by name) and gateway
    responses; the validators' ids by name."""
    existing = models.models_of(rest._doc(ctx, api_id))
    for name, schema in definition.models.items():
        text = json.dumps(openapi.rest_model_schema(schema, api_id))
        if name in existing:
            models.update_model(ctx, {"restApiId": api_id, "modelName": name,
                                      "patchOperations": [{"op": "replace", "path": "/schema", "value": text}]})
        else:
            models.create_model(ctx, {"restApiId": api_id, "name": name, "contentType": "application/json",
                                      "schema": text})
    ids = {v["name"]: v["id"] for v in models.validators_of(rest._doc(ctx, api_id)).values()}
    for name, spec in definition.validators.items():
        if name in ids:
            models.update_request_validator(ctx, {"restApiId": api_id, "requestValidatorId": ids[name],
                                                  "patchOperations": [
                {"op": "replace", "path": f"/{k}", "value": str(bool((spec or {}).get(k))).lower()}
                for k in ("validateRequestBody", "validateRequestParameters")]})
        else:
            ids[name] = models.create_request_validator(ctx, dict(spec or {}, restApiId=api_id, name=name))["id"]
    for kind, spec in definition.gateway_responses.items():
        gateway.put_gateway_response(ctx, {"restApiId": api_id, "responseType": kind,
                                           **{k: (str(v) if k == "statusCode" else v) for k, v in (spec or {}).items()
                                              if k in ("statusCode", "responseParameters", "responseTemplates") and v}})
    return ids


# What PutRestApi's overwrite mode clears when the definition leaves it out (AWS: overwrite "will delete
# existing literal properties if they are not explicitly set in the OpenAPI definition", the resource
# policy among them, as Terraform's AWS provider documents and works around).
OVERWRITTEN = ("description", "binaryMediaTypes", "minimumCompressionSize", "policy")


def _api_fields(definition: openapi.Definition, api: dict, *, overwrite: bool = False) -> None:
    if overwrite:
        for k in OVERWRITTEN:
            api.pop(k, None)
        api["apiKeySource"] = "HEADER"
    api["name"] = definition.title
    if definition.description:
        api["description"] = definition.description
    if definition.binary_media_types:
        api["binaryMediaTypes"] = definition.binary_media_types
    if definition.api_key_source:
        api["apiKeySource"] = definition.api_key_source


def _parameters(params: dict) -> dict:
    """The import's ``parameters``: ``endpointConfigurationTypes`` is applied, ``ignore=documentation``
    is what Lamb does anyway; ``basepath`` other than ``ignore`` is refused (not served)."""
    given = params.get("parameters") or {}
    if given.get("basepath", "ignore") != "ignore":
        raise rest._bad(f"basepath={given['basepath']} is not served by this Lamb server; use ignore.")
    types = given.get("endpointConfigurationTypes")
    return {"endpointConfiguration": {"types": [t.strip() for t in types.split(",")]}} if types else {}


@operation("ImportRestApi", service=SERVICE)
def import_rest_api(ctx: "RequestContext", params: dict) -> dict:
    definition = _definition(params)
    api = rest.create_rest_api(ctx, {"name": definition.title, "description": definition.description,
                                     "binaryMediaTypes": definition.binary_media_types or None,
                                     "apiKeySource": definition.api_key_source, "policy": definition.policy,
                                     **_parameters(params)})
    try:
        _apply(ctx, api["id"], definition)
    except Exception:
        rest._store(ctx).delete(api["id"])
        raise
    return rest._doc(ctx, api["id"])["api"]


@operation("PutRestApi", service=SERVICE)
def put_rest_api(ctx: "RequestContext", params: dict) -> dict:
    api_id = params["restApiId"]
    before = copy.deepcopy(rest._doc(ctx, api_id))
    mode = params.get("mode") or "merge"
    if mode not in ("merge", "overwrite"):
        raise rest._bad(f"Invalid mode: {mode}. Valid values are merge and overwrite.")
    definition = _definition(params)
    given = _parameters(params)
    doc = copy.deepcopy(before)
    if mode == "overwrite":
        root = doc["api"]["rootResourceId"]
        doc["resources"] = {root: {"id": root, "path": "/"}}
        doc["authorizers"] = {}
        doc["requestValidators"] = {}
        doc.pop("models", None)
        doc.pop("gatewayResponses", None)
    _api_fields(definition, doc["api"], overwrite=mode == "overwrite")
    if "endpointConfiguration" in given:  # parameters endpointConfigurationTypes, as ImportRestApi takes it
        doc["api"]["endpointConfiguration"] = {**doc["api"].get("endpointConfiguration", {}),
                                               **given["endpointConfiguration"]}
    if definition.policy:  # x-amazon-apigateway-policy
        doc["api"]["policy"] = rest.stored_policy(ctx, api_id, definition.policy)
    rest._save(ctx, api_id, doc)
    try:
        _apply(ctx, api_id, definition)
    except Exception:
        rest._save(ctx, api_id, before)
        raise
    return rest._doc(ctx, api_id)["api"]


@operation("DeleteDeployment", service=SERVICE)
def delete_deployment(ctx: "RequestContext", params: dict) -> dict:
    """https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteDeployment.html: refused while a stage uses it."""
    doc = rest._doc(ctx, params["restApiId"])
    ident = params["deploymentId"]
    if ident not in doc["deployments"]:
        raise rest._not_found(ctx, "Deployment", ident)
    if any(s.get("deploymentId") == ident for s in doc["stages"].values()):
        raise rest._bad("Active stages pointing to this deployment must be moved or deleted")
    del doc["deployments"][ident]
    rest._save(ctx, params["restApiId"], doc)
    return {}
