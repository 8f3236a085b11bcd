"""apis/openapi.py: OpenAPI definitions with API Gateway's extensions → the management APIs' parameters."""

from __future__ import annotations

import json

import pytest

from lamb.apis import openapi

URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations"


def _op(**extra):
    return {"x-amazon-apigateway-integration": dict({"type": "aws_proxy", "httpMethod": "POST", "uri": URI}, **extra)}


def test_load_json_yaml_and_refusals():
    assert openapi.load(json.dumps({"openapi": "3.0.1"}))["openapi"] == "3.0.1"
    assert openapi.load(b"swagger: '2.0'\npaths: {}\n")["swagger"] == "2.0"
    with pytest.raises(openapi.ImportProblem, match="neither 'swagger' nor 'openapi'"):
        openapi.load('{"paths": {}}')
    with pytest.raises(openapi.ImportProblem, match="Invalid OpenAPI input"):
        openapi.load("a: [b")


def test_operations_any_method_default_path_and_security():
    doc = {"openapi": "3.0.1", "info": {"title": "t", "description": "d"}, "security": [{"jwt": ["read"]}],
           "paths": {"/items/{id}": {"get": _op(payloadFormatVersion="2.0"), "parameters": [],
                                     "x-amazon-apigateway-any-method": dict(_op(), security=[])},
                     "$default": {"x-amazon-apigateway-any-method": _op()}},
           "components": {"securitySchemes": {"jwt": {"type": "oauth2", "x-amazon-apigateway-authorizer": {
               "type": "jwt", "identitySource": "$request.header.Authorization",
               "jwtConfiguration": {"issuer": "https://idp", "audience": ["a"]}}}}},
           "x-amazon-apigateway-cors": {"allowOrigins": ["*"], "maxAge": 5, "other": 1}}
    d = openapi.read(doc)
    assert (d.title, d.description) == ("t", "d")
    got = [(o.path, o.method, o.security) for o in d.operations]
    assert got == [("/items/{id}", "GET", ("jwt", ["read"])), ("/items/{id}", "ANY", None), ("$default", "ANY", ("jwt", ["read"]))]
    assert [openapi.http_route_key(o) for o in d.operations] == ["GET /items/{id}", "ANY /items/{id}", "$default"]
    assert openapi.http_integration(d.operations[0])["PayloadFormatVersion"] == "2.0"
    assert openapi.http_integration(d.operations[1])["PayloadFormatVersion"] == "1.0"
    mapped = openapi.read({"openapi": "3.0.1", "paths": {"/a": {"get": _op(
        requestParameters={"overwrite:header.x-a": "1"}, responseParameters={"200": {"overwrite:statuscode": "201"}})}}})
    got = openapi.http_integration(mapped.operations[0])  # a Lambda proxy's parameter mapping
    assert (got["RequestParameters"], got["ResponseParameters"]) == ({"overwrite:header.x-a": "1"},
                                                                     {"200": {"overwrite:statuscode": "201"}})
    assert openapi.http_cors(d.cors) == {"AllowOrigins": ["*"], "MaxAge": 5}
    assert openapi.http_authorizer("jwt", d.schemes["jwt"]) == {
        "Name": "jwt", "AuthorizerType": "JWT", "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {"Issuer": "https://idp", "Audience": ["a"]}}


def test_request_authorizer_for_http_apis():
    scheme = {"type": "apiKey", "x-amazon-apigateway-authorizer": {
        "type": "request", "authorizerUri": URI, "identitySource": ["$request.header.Authorization"],
        "authorizerPayloadFormatVersion": "2.0", "enableSimpleResponses": True, "authorizerResultTtlInSeconds": 60}}
    assert openapi.http_authorizer("g", scheme) == {
        "Name": "g", "AuthorizerType": "REQUEST", "AuthorizerUri": URI, "AuthorizerPayloadFormatVersion": "2.0",
        "IdentitySource": ["$request.header.Authorization"], "AuthorizerResultTtlInSeconds": 60,
        "EnableSimpleResponses": True}


def test_rest_authorizers_and_integration():
    token = {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom",
             "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": URI}}
    assert openapi.rest_authorizer("Tok", token) == {
        "name": "Tok", "type": "TOKEN", "authorizerUri": URI, "authType": "custom",
        "identitySource": "method.request.header.Authorization"}
    assert openapi.rest_authorizer("c", {"in": "header", "name": "X-Token", "x-amazon-apigateway-authorizer": {
        "type": "cognito_user_pools", "providerARNs": ["arn:p"]}}) == {
        "name": "c", "type": "COGNITO_USER_POOLS", "providerARNs": ["arn:p"], "authType": "cognito_user_pools",
        "identitySource": "method.request.header.X-Token"}
    with pytest.raises(openapi.ImportProblem, match="cognito_user_pools"):
        openapi.rest_authorizer("c", {"x-amazon-apigateway-authorizer": {"type": "oauth"}})
    d = openapi.read({"swagger": "2.0", "paths": {"/a": {"post": _op(timeoutInMillis=5000)}},
                      "x-amazon-apigateway-binary-media-types": ["image/png"]})
    assert d.title == "imported-api" and d.binary_media_types == ["image/png"]
    assert openapi.rest_integration(d.operations[0]) == {"type": "AWS_PROXY", "uri": URI,
                                                         "integrationHttpMethod": "POST", "timeoutInMillis": 5000}
    assert openapi.path_parts("/a/{b}/{proxy+}") == ["a", "{b}", "{proxy+}"]


def test_import_errors_name_the_operation():
    with pytest.raises(openapi.ImportProblem, match="No integration defined for method 'GET' at path '/a'"):
        openapi.read({"openapi": "3.0.1", "paths": {"/a": {"get": {}}}})
    with pytest.raises(openapi.ImportProblem, match="paths must begin with '/'"):
        openapi.read({"openapi": "3.0.1", "paths": {"a": {"get": _op()}}})
    d = openapi.read({"openapi": "3.0.1", "paths": {"/m": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}}}})
    with pytest.raises(openapi.ImportProblem, match="integration type 'mock' is not served"):
        openapi.http_integration(d.operations[0])


def test_rest_non_proxy_aws_integration_with_templates_and_responses():
    integ = {"type": "aws", "uri": URI, "httpMethod": "POST", "passthroughBehavior": "when_no_templates",
             "requestTemplates": {"application/json": '{"id": "$input.params(\'id\')"}'},
             "responses": {"default": {"statusCode": "200"},
                           "Bad:.*": {"statusCode": "400", "responseTemplates": {"application/json": "{}"}}}}
    d = openapi.read({"swagger": "2.0", "paths": {"/a/{id}": {"get": {"x-amazon-apigateway-integration": integ,
                                                                      "responses": {"200": {}}}}}})
    op = d.operations[0]
    assert openapi.rest_integration(op) == {
        "type": "AWS", "uri": URI, "integrationHttpMethod": "POST", "passthroughBehavior": "WHEN_NO_TEMPLATES",
        "requestTemplates": integ["requestTemplates"]}
    method, responses = openapi.rest_responses(op)
    assert set(method) == {"200", "400"}
    assert responses == {"200": {}, "400": {"selectionPattern": "Bad:.*", "responseTemplates": {"application/json": "{}"}}}
    with pytest.raises(openapi.ImportProblem, match="integration type 'aws' is not served"):
        openapi.http_integration(op)  # HTTP APIs take aws_proxy only
    mapped = openapi.read({"swagger": "2.0", "paths": {"/a": {"post": {"x-amazon-apigateway-integration": dict(
        integ, requestParameters={"integration.request.header.X-Amz-Invocation-Type": "'Event'"})}}}})
    assert openapi.rest_integration(mapped.operations[0])["requestParameters"] == {
        "integration.request.header.X-Amz-Invocation-Type": "'Event'"}  # the Invoke call's type (apis/mapped.py)


def test_rest_models_validators_and_parameters():
    doc = {"swagger": "2.0", "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": True}},
           "x-amazon-apigateway-request-validator": "all",
           "x-amazon-apigateway-gateway-responses": {"DEFAULT_4XX": {"statusCode": "410"}},
           "definitions": {"Pet": {"type": "object", "properties": {"tag": {"$ref": "#/definitions/Tag"}}},
                           "Tag": {"type": "string"}},
           "paths": {"/p/{id}": {"parameters": [{"name": "id", "in": "path", "required": True}],
                                 "post": dict(_op(), parameters=[
                                     {"name": "q", "in": "query"}, {"name": "X-K", "in": "header", "required": True},
                                     {"name": "b", "in": "body", "schema": {"$ref": "#/definitions/Pet"}}])}}}
    d = openapi.read(doc)
    op = d.operations[0]
    assert op.validator == "all" and op.request_models == {"application/json": "Pet"}
    assert op.request_parameters == {"method.request.path.id": True, "method.request.querystring.q": False,
                                     "method.request.header.X-K": True}
    assert set(d.models) == {"Pet", "Tag"} and d.gateway_responses == {"DEFAULT_4XX": {"statusCode": "410"}}
    assert openapi.rest_model_schema(d.models["Pet"], "a1")["properties"]["tag"]["$ref"] == \
        "https://apigateway.amazonaws.com/restapis/a1/models/Tag"
    with pytest.raises(openapi.ImportProblem, match="Invalid request validator 'nope'"):
        openapi.read(dict(doc, **{"x-amazon-apigateway-request-validator": "nope"}))


def test_aws_iam_operations_from_a_sigv4_scheme_or_the_auth_extension():
    from lamb.apis import openapi as oa

    integ = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "arn:aws:lambda:us-east-1:1:function:f",
                                                  "httpMethod": "POST"}}
    doc = {"swagger": "2.0", "info": {"title": "t"},
           "securityDefinitions": {"AWS_IAM": {"type": "apiKey", "name": "Authorization", "in": "header",
                                               "x-amazon-apigateway-authtype": "awsSigv4"}},
           "paths": {"/a": {"get": dict(integ, security=[{"AWS_IAM": []}])},
                     "/b": {"get": dict(integ, **{"x-amazon-apigateway-auth": {"type": "AWS_IAM"}})},
                     "/c": {"get": dict(integ)}}}
    assert [op.iam for op in oa.read(doc).operations] == [True, True, False]


def test_rest_integration_cache_key():
    integ = {"type": "aws_proxy", "uri": URI, "httpMethod": "POST", "cacheNamespace": "pets",
             "cacheKeyParameters": ["method.request.path.id", "method.request.querystring.q"]}
    d = openapi.read({"swagger": "2.0", "paths": {"/p/{id}": {"get": {"x-amazon-apigateway-integration": integ}}}})
    out = openapi.rest_integration(d.operations[0])
    assert (out["cacheNamespace"], out["cacheKeyParameters"]) == ("pets", integ["cacheKeyParameters"])


def test_http_aws_service_integration():
    d = openapi.read({"openapi": "3.0.1", "paths": {"/send": {"post": {"x-amazon-apigateway-integration": {
        "type": "aws_proxy", "integrationSubtype": "SQS-SendMessage", "credentials": "arn:aws:iam::1:role/r",
        "payloadFormatVersion": "1.0", "timeoutInMillis": 5000,
        "requestParameters": {"QueueUrl": "https://q", "MessageBody": "$request.body"}}}}}})
    assert openapi.http_integration(d.operations[0]) == {
        "IntegrationType": "AWS_PROXY", "IntegrationSubtype": "SQS-SendMessage", "PayloadFormatVersion": "1.0",
        "RequestParameters": {"QueueUrl": "https://q", "MessageBody": "$request.body"}, "TimeoutInMillis": 5000,
        "CredentialsArn": "arn:aws:iam::1:role/r"}
