"""api/apigateway_models.py: UpdateMethod's PATCH operations and the default models."""

import pytest

from lamb.api.apigateway_models import models_of, page, patch_method
from lamb.protocol.errors import AwsError


def test_method_paths():
    method = {"httpMethod": "GET", "authorizationType": "NONE", "requestParameters": {"method.request.header.A": True}}
    patch_method(method, [
        {"op": "add", "path": "/requestParameters/method.request.querystring.q", "value": "true"},
        {"op": "remove", "path": "/requestParameters/method.request.header.A"},
        {"op": "add", "path": "/requestModels/application~1json", "value": "Pet"},
        {"op": "replace", "path": "/requestValidatorId", "value": "v1"},
        {"op": "add", "path": "/authorizationScopes", "value": "read"},
        {"op": "replace", "path": "/apiKeyRequired", "value": "true"}])
    assert method == {"httpMethod": "GET", "authorizationType": "NONE",
                      "requestParameters": {"method.request.querystring.q": True},
                      "requestModels": {"application/json": "Pet"}, "requestValidatorId": "v1",
                      "authorizationScopes": ["read"], "apiKeyRequired": True}
    patch_method(method, [{"op": "remove", "path": "/requestValidatorId"},
                          {"op": "remove", "path": "/authorizationScopes", "value": "read"},
                          {"op": "remove", "path": "/requestModels/application~1json"}])
    assert "requestValidatorId" not in method and "authorizationScopes" not in method and "requestModels" not in method
    with pytest.raises(AwsError):
        patch_method(method, [{"op": "replace", "path": "/httpMethod", "value": "POST"}])


def test_default_models_made_once():
    doc = {}
    first = models_of(doc)
    assert sorted(first) == ["Empty", "Error"] and models_of(doc) is first


def test_paging_by_position():
    items = list(range(30))
    first = page({}, items)
    assert first["items"] == list(range(25)) and "position" in first
    assert page({"position": first["position"]}, items) == {"items": list(range(25, 30))}
    assert page({"limit": 30}, items) == {"items": items}
    for bad in ({"limit": 501}, {"position": "!!"}):
        with pytest.raises(AwsError):
            page(bad, items)
