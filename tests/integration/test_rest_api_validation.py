"""REST API models and request validators (boto3's ``apigateway`` client, the AWS CLI, curl): a model's
schema checked on CreateModel, required query string/header parameters and a body checked against the
method's model before the function runs (400 with AWS's messages), UpdateMethod and UpdateRequestValidator
changing what is checked, and validators and models from an imported OpenAPI definition."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from .awscli import aws_json
from .conftest import unique
from .test_api_metrics import function
from .test_deploy_apis import curl

ECHO = ("import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'body': json.dumps({'q': (event.get('queryStringParameters') or {}).get('q'),"
        " 'body': event.get('body')})}\n")

PET = {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Pet", "type": "object",
       "required": ["name", "price"],
       "properties": {"name": {"type": "string"}, "price": {"type": "number", "minimum": 0},
                      "tag": {"$ref": "https://apigateway.amazonaws.com/restapis/{api}/models/Tag"}}}
TAG = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "string", "enum": ["cat", "dog"]}


def _head_and_body(out: str) -> tuple[str, dict]:
    head, _, payload = out.partition("\n\n")
    return head.lower(), json.loads(payload)


def test_models_and_validators_check_requests_before_the_function(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "valid", ECHO)
    api = apigw.create_rest_api(name=unique("validated"))
    api_id = api["id"]
    assert {m["name"] for m in apigw.get_models(restApiId=api_id)["items"]} == {"Empty", "Error"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.create_model(restApiId=api_id, name="Bad", contentType="application/json",
                           schema='{"type": "object", "properties": {"a": {"type": 5}}}')
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    assert e.value.response["Error"]["Message"].startswith("Invalid model specified: Validation Result: warnings : []")
    apigw.create_model(restApiId=api_id, name="Tag", contentType="application/json", schema=json.dumps(TAG))
    pet = apigw.create_model(restApiId=api_id, name="Pet", contentType="application/json",
                             schema=json.dumps(PET).replace("{api}", api_id), description="a pet")
    assert (pet["name"], pet["description"]) == ("Pet", "a pet")
    flat = json.loads(apigw.get_model(restApiId=api_id, modelName="Pet", flatten=True)["schema"])
    assert flat["properties"]["tag"]["enum"] == ["cat", "dog"]

    both = apigw.create_request_validator(restApiId=api_id, name="all", validateRequestBody=True,
                                          validateRequestParameters=True)
    assert apigw.get_request_validator(restApiId=api_id, requestValidatorId=both["id"])["name"] == "all"
    res = apigw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="pets")
    ids = {"restApiId": api_id, "resourceId": res["id"], "httpMethod": "POST"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.put_method(**ids, authorizationType="NONE", requestValidatorId="nope00")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    method = apigw.put_method(**ids, authorizationType="NONE", requestValidatorId=both["id"],
                              requestModels={"application/json": "Pet"},
                              requestParameters={"method.request.querystring.q": True,
                                                 "method.request.header.X-Key": True,
                                                 "method.request.querystring.opt": False})
    assert method["requestValidatorId"] == both["id"]
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        apigw.delete_model(restApiId=api_id, modelName="Pet")
    assert "is referenced in method request" in e.value.response["Error"]["Message"]
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    url = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/pets"
    good = '{"name": "rex", "price": 3, "tag": "dog"}'

    status, out = curl(url, "-D", "-", "-X", "POST", "-H", "Content-Type: application/json", "-d", good)
    head, body = _head_and_body(out)
    assert status == 400 and body == {"message": "Missing required request parameters: [q, X-Key]"}
    assert "x-amzn-errortype: badrequestexception" in head
    status, out = curl(url + "?q=", "-X", "POST", "-H", "X-Key: k", "-d", good)  # blank is missing
    assert (status, json.loads(out)) == (400, {"message": "Missing required request parameters: [q]"})
    status, out = curl(url + "?q=1", "-X", "POST", "-H", "X-Key: k", "-H", "Content-Type: application/json",
                       "-d", good)
    assert status == 200 and json.loads(out) == {"q": "1", "body": good}
    for bad in ('{"name": "rex"}', '{"name": "rex", "price": -1}', '{"name": "rex", "price": 1, "tag": "cow"}',
                "not json", ""):
        status, out = curl(url + "?q=1", "-D", "-", "-X", "POST", "-H", "X-Key: k",
                           "-H", "Content-Type: application/json", "-d", bad)
        head, body = _head_and_body(out)
        assert (status, body) == (400, {"message": "Invalid request body"}), bad
        assert "x-amzn-errortype: badrequestexception" in head
    # no model for text/plain: the body is not checked
    status, out = curl(url + "?q=1", "-X", "POST", "-H", "X-Key: k", "-H", "Content-Type: text/plain", "-d", "hi")
    assert status == 200 and json.loads(out)["body"] == "hi"

    # UpdateMethod / UpdateRequestValidator change what is checked (after a new deployment)
    apigw.update_method(**ids, patchOperations=[
        {"op": "remove", "path": "/requestParameters/method.request.header.X-Key"}])
    apigw.update_request_validator(restApiId=api_id, requestValidatorId=both["id"], patchOperations=[
        {"op": "replace", "path": "/validateRequestBody", "value": "false"}])
    got = apigw.get_method(**ids)
    assert "method.request.header.X-Key" not in got["requestParameters"]
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    status, out = curl(url + "?q=2", "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"name": 1}')
    assert status == 200 and json.loads(out)["q"] == "2"
    apigw.update_method(**ids, patchOperations=[{"op": "remove", "path": "/requestValidatorId"}])
    with pytest.raises(botocore.exceptions.ClientError):
        apigw.delete_request_validator(restApiId=api_id, requestValidatorId="nope00")
    apigw.delete_request_validator(restApiId=api_id, requestValidatorId=both["id"])
    assert apigw.get_request_validators(restApiId=api_id)["items"] == []


def test_validators_and_models_from_an_openapi_definition(lamb_server, tmp_path):
    arn = function(lamb_server, "validimp", ECHO)
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    definition = {
        "openapi": "3.0.1", "info": {"title": unique("imported-validation")},
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True},
            "params": {"validateRequestBody": False, "validateRequestParameters": True}},
        "x-amazon-apigateway-request-validator": "params",
        "paths": {"/items": {
            "get": {"parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
                    "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": uri}},
            "post": {"x-amazon-apigateway-request-validator": "all",
                     "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                     "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": uri}}}},
        "components": {"schemas": {
            "Item": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"},
                                                                          "owner": {"$ref": "#/components/schemas/Owner"}}},
            "Owner": {"type": "string", "minLength": 2}}},
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(definition))
    api_id = aws_json(lamb_server, "import-rest-api", "--body", f"fileb://{path}", service="apigateway")["id"]
    apigw = lamb_server.client("apigateway")
    assert {v["name"] for v in apigw.get_request_validators(restApiId=api_id)["items"]} == {"all", "params"}
    assert {"Item", "Owner"} <= {m["name"] for m in apigw.get_models(restApiId=api_id)["items"]}
    item = json.loads(apigw.get_model(restApiId=api_id, modelName="Item")["schema"])
    assert item["properties"]["owner"]["$ref"] == f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Owner"
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    url = f"http://{api_id}.execute-api.{lamb_server.region}.localhost:{lamb_server.port}/v1/items"
    status, out = curl(url)
    assert (status, json.loads(out)) == (400, {"message": "Missing required request parameters: [q]"})
    assert curl(url + "?q=x")[0] == 200
    status, out = curl(url, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"id": 1, "owner": "a"}')
    assert (status, json.loads(out)) == (400, {"message": "Invalid request body"})
    assert curl(url, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"id": 1, "owner": "ab"}')[0] == 200
