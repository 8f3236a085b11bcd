"""REST API gateway responses (boto3's ``apigateway`` client, curl): the defaults GetGatewayResponses lists,
PutGatewayResponse/UpdateGatewayResponse/DeleteGatewayResponse, and customized responses replacing API
Gateway's own errors after a deployment (a missing resource, a failed request validation, a function error,
an integration timeout through DEFAULT_5XX), and gateway responses from an imported OpenAPI definition."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from .awscli import aws_json
from .conftest import unique
from .test_api_metrics import function
from .test_deploy_apis import curl

CODE = ("import json, time\n"
        "def handler(event, context):\n"
        "    q = event.get('queryStringParameters') or {}\n"
        "    if 'boom' in q:\n"
        "        raise ValueError('boom')\n"
        "    if 'slow' in q:\n"
        "        time.sleep(3)\n"
        "    return {'statusCode': 200, 'body': 'ok'}\n")


def _split(out: str) -> tuple[dict, str]:
    head, _, body = out.partition("\n\n")
    headers = {}
    for line in head.splitlines()[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return headers, body


def test_gateway_responses_replace_api_gateways_errors(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "gwresp", CODE)
    api = apigw.create_rest_api(name=unique("gwresp"))
    api_id = api["id"]
    listed = apigw.get_gateway_responses(restApiId=api_id)["items"]
    assert len(listed) == 21 and all(r["defaultResponse"] for r in listed)
    pages = list(apigw.get_paginator("get_gateway_responses").paginate(
        restApiId=api_id, PaginationConfig={"PageSize": 10}))
    assert [len(p["items"]) for p in pages] == [10, 10, 1]
    assert [r for p in pages for r in p["items"]] == listed
    by_type = {r["responseType"]: r for r in listed}
    assert by_type["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "403" and "statusCode" not in by_type["DEFAULT_5XX"]
    assert by_type["BAD_REQUEST_BODY"]["responseTemplates"] == {
        "application/json": '{"message":$context.error.messageString}'}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.get_gateway_response(restApiId=api_id, responseType="NOT_A_TYPE")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # the model's enum

    res = apigw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="hello")
    ids = {"restApiId": api_id, "resourceId": res["id"], "httpMethod": "GET"}
    validator = apigw.create_request_validator(restApiId=api_id, name="params", validateRequestParameters=True)
    apigw.put_method(**ids, authorizationType="NONE", requestValidatorId=validator["id"],
                     requestParameters={"method.request.header.X-Need": True})
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST", timeoutInMillis=1000,
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations")

    put = apigw.put_gateway_response(
        restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
        responseParameters={"gatewayresponse.header.X-Where": "'nowhere'"},
        responseTemplates={"application/json": '{"error": "$context.error.responseType", "path": "$context.path"}'})
    assert put["defaultResponse"] is False and put["statusCode"] == "404"
    apigw.put_gateway_response(
        restApiId=api_id, responseType="BAD_REQUEST_PARAMETERS",
        responseTemplates={"application/json": '{"bad": $context.error.messageString, '
                                               '"detail": "$context.error.validationErrorString"}'})
    apigw.put_gateway_response(restApiId=api_id, responseType="DEFAULT_5XX",
                               responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
                                                   "gatewayresponse.header.X-Stage": "stageVariables.env"})
    updated = apigw.update_gateway_response(restApiId=api_id, responseType="DEFAULT_5XX", patchOperations=[
        {"op": "add", "path": "/responseParameters/gatewayresponse.header.X-Rid", "value": "context.requestId"}])
    assert set(updated["responseParameters"]) == {"gatewayresponse.header.Access-Control-Allow-Origin",
                                                  "gatewayresponse.header.X-Stage", "gatewayresponse.header.X-Rid"}
    assert apigw.get_gateway_response(restApiId=api_id, responseType="DEFAULT_5XX")["defaultResponse"] is False
    apigw.create_deployment(restApiId=api_id, stageName="live", variables={"env": "dev"})
    base = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/live"

    status, out = curl(base + "/nothing", "-D", "-")
    headers, body = _split(out)
    assert status == 404 and json.loads(body) == {"error": "MISSING_AUTHENTICATION_TOKEN", "path": "/live/nothing"}
    assert headers["x-where"] == "nowhere"
    status, out = curl(base + "/hello")
    assert status == 400 and json.loads(out) == {"bad": "Missing required request parameters: [X-Need]",
                                                 "detail": "Missing required request parameters: [X-Need]"}
    assert curl(base + "/hello", "-H", "X-Need: 1") == (200, "ok")
    status, out = curl(base + "/hello?boom=1", "-D", "-", "-H", "X-Need: 1")  # a function error: DEFAULT_5XX
    headers, body = _split(out)
    assert status == 502 and json.loads(body) == {"message": "Internal server error"}
    assert (headers["access-control-allow-origin"], headers["x-stage"]) == ("*", "dev")
    assert headers["x-rid"] == headers["x-amzn-requestid"]
    status, out = curl(base + "/hello?slow=1", "-D", "-", "-H", "X-Need: 1")  # INTEGRATION_TIMEOUT → DEFAULT_5XX
    headers, body = _split(out)
    assert status == 504 and json.loads(body) == {"message": "Endpoint request timed out"}
    assert headers["access-control-allow-origin"] == "*"

    # deleted: back to the default, after the next deployment
    apigw.delete_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.delete_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert curl(base + "/nothing")[0] == 404  # the deployment still has it
    apigw.create_deployment(restApiId=api_id, stageName="live")
    assert curl(base + "/nothing") == (403, '{"message":"Missing Authentication Token"}')


def test_gateway_responses_from_an_openapi_definition(lamb_server, tmp_path):
    definition = {
        "swagger": "2.0", "info": {"title": unique("gwimport")},
        "paths": {"/mock": {"get": {"x-amazon-apigateway-integration": {
            "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200"}}}, "responses": {"200": {"description": "ok"}}}}},
        "x-amazon-apigateway-gateway-responses": {
            "DEFAULT_4XX": {"statusCode": 410, "responseParameters": {
                "gatewayresponse.header.Access-Control-Allow-Origin": "'https://example.com'"},
                "responseTemplates": {"application/json": '{"gone": $context.error.messageString}'}}},
    }
    (tmp_path / "api.json").write_text(json.dumps(definition))
    api_id = aws_json(lamb_server, "import-rest-api", "--body", f"fileb://{tmp_path / 'api.json'}",
                      service="apigateway")["id"]
    got = aws_json(lamb_server, "get-gateway-response", "--rest-api-id", api_id, "--response-type", "DEFAULT_4XX",
                   service="apigateway")
    assert got["statusCode"] == "410" and got["defaultResponse"] is False
    aws_json(lamb_server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "v1", service="apigateway")
    base = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1"
    status, out = curl(base + "/elsewhere", "-D", "-")
    headers, body = _split(out)
    assert status == 410 and json.loads(body) == {"gone": "Missing Authentication Token"}
    assert headers["access-control-allow-origin"] == "https://example.com"
    assert curl(base + "/mock")[0] == 200


def test_a_customized_response_replaces_an_aws_iam_refusal(lamb_server):
    """An AWS_IAM method's own refusals are API Gateway's errors too: its gateway responses apply."""
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "gwiam", CODE)
    api = apigw.create_rest_api(name=unique("gwiam"))
    api_id = api["id"]
    res = apigw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="private")
    ids = {"restApiId": api_id, "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="AWS_IAM")
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations")
    apigw.create_deployment(restApiId=api_id, stageName="live")
    url = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/live/private"
    assert curl(url) == (403, '{"message":"Missing Authentication Token"}')  # unsigned: API Gateway's own answer
    apigw.put_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="401",
                               responseTemplates={"application/json": '{"why": "$context.error.responseType"}'})
    apigw.create_deployment(restApiId=api_id, stageName="live")
    status, out = curl(url)
    assert status == 401 and json.loads(out) == {"why": "MISSING_AUTHENTICATION_TOKEN"}
