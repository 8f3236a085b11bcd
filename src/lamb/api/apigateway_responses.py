"""Method and integration responses of REST APIs (what MOCK integrations answer with).

PutMethodResponse/GetMethodResponse/DeleteMethodResponse and PutIntegrationResponse/
GetIntegrationResponse/DeleteIntegrationResponse
(https://docs.aws.amazon.com/apigateway/latest/api/API_PutIntegrationResponse.html and beside it).
Stored in the method (``methodResponses``) and its integration (``integrationResponses``), so a
deployment's snapshot carries them; ``apis/mock.py`` serves them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol.errors import AwsError
from . import apigateway as rest
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = rest.SERVICE


def _status(params: dict) -> str:
    code = params["statusCode"]
    if not (len(code) == 3 and code.isdigit() and "1" <= code[0] <= "5"):
        raise rest._bad("Invalid status code: should be a 3-digit number between 100 and 599")
    return code


def _integration(ctx: "RequestContext", doc: dict, params: dict) -> dict:
    method = rest._method(ctx, doc, params)
    if "methodIntegration" not in method:
        raise AwsError("NotFoundException", "No integration defined for method", 404)
    return method["methodIntegration"]


@operation("PutMethodResponse", service=SERVICE)
def put_method_response(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    method = rest._method(ctx, doc, params)
    code = _status(params)
    response = {"statusCode": code}
    for k in ("responseParameters", "responseModels"):
        if params.get(k):
            response[k] = params[k]
    method.setdefault("methodResponses", {})[code] = response
    rest._save(ctx, params["restApiId"], doc)
    return response


def _responses(ctx: "RequestContext", params: dict, kind: str) -> tuple[dict, dict]:
    """(the API's document, the method's ``methodResponses`` or its integration's ``integrationResponses``)."""
    doc = rest._doc(ctx, params["restApiId"])
    if kind == "method":
        return doc, rest._method(ctx, doc, params).setdefault("methodResponses", {})
    return doc, _integration(ctx, doc, params).setdefault("integrationResponses", {})


def _found(responses: dict, code: str) -> dict:
    found = responses.get(code)
    if found is None:
        raise AwsError("NotFoundException", "Invalid Response status code specified", 404)
    return found


def _get(ctx: "RequestContext", params: dict, kind: str) -> dict:
    return _found(_responses(ctx, params, kind)[1], params["statusCode"])


def _delete(ctx: "RequestContext", params: dict, kind: str) -> dict:
    doc, responses = _responses(ctx, params, kind)
    _found(responses, params["statusCode"])
    del responses[params["statusCode"]]
    rest._save(ctx, params["restApiId"], doc)
    return {}


@operation("GetMethodResponse", service=SERVICE)
def get_method_response(ctx: "RequestContext", params: dict) -> dict:
    return _get(ctx, params, "method")


@operation("DeleteMethodResponse", service=SERVICE)
def delete_method_response(ctx: "RequestContext", params: dict) -> dict:
    return _delete(ctx, params, "method")


@operation("PutIntegrationResponse", service=SERVICE)
def put_integration_response(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    integration = _integration(ctx, doc, params)
    method = rest._method(ctx, doc, params)
    code = _status(params)
    if code not in (method.get("methodResponses") or {}):
        raise rest._bad("Invalid Response status code specified")
    response = {"statusCode": code}
    for k in ("selectionPattern", "responseParameters", "responseTemplates"):
        if params.get(k) is not None:
            response[k] = params[k]
    if params.get("contentHandling") is not None:  # the response's conversion (apis/binary.py)
        response["contentHandling"] = rest.content_handling(params["contentHandling"])
    integration.setdefault("integrationResponses", {})[code] = response
    rest._save(ctx, params["restApiId"], doc)
    return response


@operation("GetIntegrationResponse", service=SERVICE)
def get_integration_response(ctx: "RequestContext", params: dict) -> dict:
    return _get(ctx, params, "integration")


@operation("DeleteIntegrationResponse", service=SERVICE)
def delete_integration_response(ctx: "RequestContext", params: dict) -> dict:
    return _delete(ctx, params, "integration")
