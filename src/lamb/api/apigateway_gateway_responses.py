"""Gateway responses of REST APIs: PutGatewayResponse, GetGatewayResponse, GetGatewayResponses,
UpdateGatewayResponse (PATCH: ``/statusCode``, ``/responseParameters/<key>``,
``/responseTemplates/<content type>``) and DeleteGatewayResponse (back to the default).

https://docs.aws.amazon.com/apigateway/latest/api/API_PutGatewayResponse.html. Customized responses are
stored in the API (``gatewayResponses``), reach a deployment's snapshot and are applied to API Gateway's
own errors by ``apis/rest.py`` (``apis/gateway_responses.py``); the types not customized are listed with
their defaults (``defaultResponse: true``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..apis import gateway_responses
from ..protocol.errors import AwsError
from . import apigateway as rest
from . import operation
from .apigateway_models import page
from .apigateway_patch import _invalid, _ops, _patch_map, _unescape

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = rest.SERVICE


def _type(params: dict) -> str:
    kind = params["responseType"]
    if kind not in gateway_responses.TYPES:
        raise rest._bad(f"Invalid response type specified: {kind}")
    return kind


def _check(response: dict) -> None:
    code = response.get("statusCode")
    if code is not None and not re.fullmatch(r"[1-5]\d\d", str(code)):
        raise rest._bad("Invalid status code: should be a 3-digit number between 100 and 599")
    for key in response.get("responseParameters") or {}:
        if not key.startswith("gatewayresponse.header."):
            raise rest._bad(f"Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                            f"[Invalid mapping expression specified: {key}]")


@operation("PutGatewayResponse", service=SERVICE)
def put_gateway_response(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    kind = _type(params)
    response: dict = {"responseType": kind, "defaultResponse": False,
                      "responseParameters": params.get("responseParameters") or {},
                      "responseTemplates": params.get("responseTemplates") or {}}
    if params.get("statusCode"):
        response["statusCode"] = params["statusCode"]
    _check(response)
    doc.setdefault("gatewayResponses", {})[kind] = response
    rest._save(ctx, params["restApiId"], doc)
    return response


def _shown(doc: dict, kind: str) -> dict:
    return (doc.get("gatewayResponses") or {}).get(kind) or gateway_responses.default(kind)


@operation("GetGatewayResponse", service=SERVICE)
def get_gateway_response(ctx: "RequestContext", params: dict) -> dict:
    return _shown(rest._doc(ctx, params["restApiId"]), _type(params))


@operation("GetGatewayResponses", service=SERVICE)
def get_gateway_responses(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    return page(params, [_shown(doc, kind) for kind in gateway_responses.TYPES])


@operation("UpdateGatewayResponse", service=SERVICE)
def update_gateway_response(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    kind = _type(params)
    response = dict(_shown(doc, kind), defaultResponse=False)
    for op in _ops(params):
        path, verb, value = op.get("path") or "", op["op"], op.get("value")
        parts = path.split("/")[1:]
        if path == "/statusCode" and verb in ("replace", "remove"):
            if verb == "remove" or not value:
                response.pop("statusCode", None)
            else:
                response["statusCode"] = value
        elif parts[:1] in (["responseParameters"], ["responseTemplates"]) and len(parts) == 2:
            _patch_map(response, parts[0], _unescape(parts[1]), verb, value)
            response.setdefault(parts[0], {})
        else:
            raise _invalid(op)
    _check(response)
    doc.setdefault("gatewayResponses", {})[kind] = response
    rest._save(ctx, params["restApiId"], doc)
    return response


@operation("DeleteGatewayResponse", service=SERVICE)
def delete_gateway_response(ctx: "RequestContext", params: dict) -> dict:
    doc = rest._doc(ctx, params["restApiId"])
    kind = _type(params)
    if (doc.get("gatewayResponses") or {}).pop(kind, None) is None:
        raise AwsError("NotFoundException", "Invalid Gateway Response specified", 404)
    rest._save(ctx, params["restApiId"], doc)
    return {}
