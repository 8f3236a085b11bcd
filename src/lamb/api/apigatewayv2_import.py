"""ImportApi and ReimportApi: an HTTP API from an OpenAPI definition (``apis/openapi.py``).

https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html (PUT /v2/apis) and
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid.html (PUT /v2/apis/{apiId});
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html. Each operation
becomes a route (``GET /items/{id}``, ``ANY`` for ``x-amazon-apigateway-any-method``, ``$default``)
with its own integration; security schemes become authorizers (JWT or Lambda REQUEST);
``x-amazon-apigateway-cors`` the API's CORS configuration. The parts are validated as
CreateRoute/CreateIntegration/CreateAuthorizer validate them and written in one change, so a
failed import leaves nothing. ReimportApi replaces the routes, integrations, authorizers and
CORS configuration and keeps the stages; stages with AutoDeploy get a new deployment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..apis import openapi
from ..apis.store import new_id
from . import apigatewayv2 as v2
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = v2.SERVICE


def _definition(params: dict) -> openapi.Definition:
    """The definition (``Basepath`` other than ``ignore`` is refused: not served; Lamb imports with
    no warnings, everything it cannot serve is an error, so ``FailOnWarnings`` changes nothing)."""
    if (params.get("Basepath") or "ignore") != "ignore":
        raise v2._bad(f"Basepath {params['Basepath']} is not served by this Lamb server; use ignore.")
    try:
        return openapi.read(openapi.load(params.get("Body") or ""))
    except openapi.ImportProblem as e:
        raise v2._bad(str(e)) from None


def _parts(ctx: "RequestContext", doc: dict, definition: openapi.Definition) -> None:
    """Fill ``doc``'s routes, integrations and authorizers from the definition (validated)."""
    try:
        auth_ids = {}
        for name, scheme in definition.schemes.items():
            item = v2._authorizer_fields(ctx, {"AuthorizerId": new_id()}, openapi.http_authorizer(name, scheme))
            doc["authorizers"][item["AuthorizerId"]] = item
            auth_ids[name] = item["AuthorizerId"]
        for op in definition.operations:
            key = v2._route_key(openapi.http_route_key(op))
            if any(r["RouteKey"] == key for r in doc["routes"].values()):
                raise v2._bad(f"Errors found during import:\n\tDuplicate route key '{key}'.")
            integration = v2._integration_fields(openapi.http_integration(op),
                                                 {"IntegrationId": new_id(), "ConnectionType": "INTERNET"})
            v2._check_timeout(ctx, integration)
            doc["integrations"][integration["IntegrationId"]] = integration
            params: dict = {"Target": f"integrations/{integration['IntegrationId']}"}
            if op.security is not None:
                auth = doc["authorizers"][auth_ids[op.security[0]]]
                params.update(AuthorizerId=auth["AuthorizerId"],
                              AuthorizationType="JWT" if auth["AuthorizerType"] == "JWT" else "CUSTOM")
                if op.security[1]:
                    params["AuthorizationScopes"] = op.security[1]
            elif op.iam:  # apis/iam_auth.py
                params["AuthorizationType"] = "AWS_IAM"
            if op.operation_name:
                params["OperationName"] = op.operation_name
            route = {"RouteId": new_id(), "RouteKey": key, "ApiKeyRequired": False, "AuthorizationType": "NONE"}
            v2._route_fields(ctx, doc, route, params)
            doc["routes"][route["RouteId"]] = route
    except openapi.ImportProblem as e:
        raise v2._bad(str(e)) from None


def _api_fields(doc: dict, definition: openapi.Definition) -> None:
    api = doc["api"]
    api["Name"] = definition.title
    if definition.description:
        api["Description"] = definition.description
    cors = openapi.http_cors(definition.cors)
    if cors:
        api["CorsConfiguration"] = cors
    else:
        api.pop("CorsConfiguration", None)


@operation("ImportApi", service=SERVICE)
def import_api(ctx: "RequestContext", params: dict) -> dict:
    definition = _definition(params)
    api_id = v2.create_api(ctx, {"Name": definition.title, "ProtocolType": "HTTP"})["ApiId"]
    doc = v2._doc(ctx, api_id)
    try:
        _api_fields(doc, definition)
        _parts(ctx, doc, definition)
    except Exception:
        v2._store(ctx).delete(api_id)
        raise
    v2._store(ctx).put(api_id, doc)
    return v2._view(ctx, doc)


@operation("ReimportApi", service=SERVICE)
def reimport_api(ctx: "RequestContext", params: dict) -> dict:
    import copy

    doc = copy.deepcopy(v2._doc(ctx, params["ApiId"]))
    definition = _definition(params)
    doc["routes"], doc["integrations"], doc["authorizers"] = {}, {}, {}
    _api_fields(doc, definition)
    _parts(ctx, doc, definition)
    v2._save(ctx, params["ApiId"], doc, redeploy=True)
    return v2._view(ctx, doc)
