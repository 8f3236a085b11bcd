"""apis/validation.py: models' schemas, required request parameters and bodies against models."""

import json

import pytest

from lamb.apis import validation

API = "abc123"
PET = {"type": "object", "required": ["name"],
       "properties": {"name": {"type": "string"},
                      "tag": {"$ref": f"https://apigateway.amazonaws.com/restapis/{API}/models/Tag"}}}
MODELS = {"Pet": {"schema": json.dumps(PET)}, "Tag": {"schema": '{"enum": ["cat", "dog"]}'},
          **validation.DEFAULT_MODELS}
VALIDATORS = {"v1": {"validateRequestBody": True, "validateRequestParameters": True},
              "params": {"validateRequestParameters": True}}


def _check(method, body=b"", content_type="application/json", query=None, headers=None, path=None):
    return validation.validate(method, VALIDATORS, MODELS, API, path=path or {}, query=query or {},
                               headers=headers or {}, body=body, content_type=content_type)


def test_schema_check():
    assert validation.check_schema('{"type": "object"}') == {"type": "object"}
    for bad in ("", "nope", "[]", '{"type": 5}', '{"required": []}'):
        with pytest.raises(ValueError, match="Invalid model schema specified|must not be empty"):
            validation.check_schema(bad)
    for model in validation.DEFAULT_MODELS.values():
        validation.check_schema(model["schema"])


def test_required_parameters_present_and_not_blank():
    params = {"method.request.querystring.q": True, "method.request.header.X-Key": True,
              "method.request.path.id": True, "method.request.querystring.opt": False}
    assert validation.missing_parameters(params, {"id": "1"}, {"q": " "}, {"x-key": "k"}) == ["q"]
    assert validation.missing_parameters(params, {}, {}, {}) == ["q", "X-Key", "id"]
    assert validation.missing_parameters({"method.request.multivaluequerystring.m": True}, {}, {"m": "1"}, {}) == []
    method = {"requestValidatorId": "params", "requestParameters": params}
    got = _check(method, query={"q": "1"}, path={"id": "1"})
    assert got == ("BAD_REQUEST_PARAMETERS", "Missing required request parameters: [X-Key]",
                   "Missing required request parameters: [X-Key]")
    assert _check(dict(method, requestValidatorId=None)) is None  # no validator, nothing checked


def test_body_against_the_model_for_its_content_type():
    method = {"requestValidatorId": "v1", "requestModels": {"application/json": "Pet", "$default": "Empty"}}
    assert _check(method, b'{"name": "rex", "tag": "dog"}') is None
    for bad in (b'{"tag": "dog"}', b'{"name": "rex", "tag": "cow"}', b"not json", b""):
        got = _check(method, bad, "application/json; charset=utf-8")
        assert got.response_type == "BAD_REQUEST_BODY" and got.message == "Invalid request body", bad
    assert "'name' is a required property" in _check(method, b"{}").detail
    assert _check(method, b"{}", "text/plain") is None  # $default: Empty, an object
    assert _check(method, b"[]", "text/plain").message == "Invalid request body"
    assert _check({"requestValidatorId": "params", "requestModels": {"application/json": "Pet"}}, b"{}") is None
    assert validation.model_for({"application/json": "Pet"}, "text/plain") is None
