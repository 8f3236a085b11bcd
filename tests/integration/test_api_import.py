"""OpenAPI import with the AWS CLI: ``aws apigateway import-rest-api``/``put-rest-api`` and
``aws apigatewayv2 import-api``/``reimport-api`` against Lamb, then the APIs called over HTTP."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
import yaml

from .awscli import aws, aws_json
from .conftest import create, unique
from .test_deploy_apis import curl

ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"path": event.get("rawPath") or event["path"],
                                                  "resource": event.get("resource"), "route": event.get("routeKey"),
                                                  "version": event.get("version")})}
"""


@pytest.fixture(scope="module")
def echo(lamb_server):
    client = lamb_server.client()
    name = unique("imp")
    arn = create(client, name, ECHO)["FunctionArn"]
    client.add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                          Principal="apigateway.amazonaws.com")
    return f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"


def _integration(uri: str, **extra) -> dict:
    return {"x-amazon-apigateway-integration": dict({"type": "aws_proxy", "httpMethod": "POST", "uri": uri}, **extra)}


def _host(server, api_id: str) -> str:
    return f"http://{api_id}.execute-api.{server.region}.localhost:{server.port}"


def test_import_rest_api_then_put_overwrite(lamb_server, echo, tmp_path):
    spec = {"swagger": "2.0", "info": {"title": "pets", "version": "1", "description": "all pets"},
            "x-amazon-apigateway-binary-media-types": ["image/png"],
            "x-amazon-apigateway-policy": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]},
            "paths": {"/pets": {"get": _integration(echo)},
                      "/pets/{id}": {"x-amazon-apigateway-any-method": _integration(echo)}}}
    (tmp_path / "api.json").write_text(json.dumps(spec))
    api = aws_json(lamb_server, "import-rest-api", "--body", f"fileb://{tmp_path / 'api.json'}",
                   "--parameters", "endpointConfigurationTypes=REGIONAL", service="apigateway")
    api_id = api["id"]
    assert api["name"] == "pets" and api["binaryMediaTypes"] == ["image/png"]
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    resources = aws_json(lamb_server, "get-resources", "--rest-api-id", api_id, service="apigateway")["items"]
    assert {r["path"]: sorted(r.get("resourceMethods", {})) for r in resources} == {
        "/": [], "/pets": ["GET"], "/pets/{id}": ["ANY"]}
    aws_json(lamb_server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "v1", service="apigateway")
    status, body = curl(_host(lamb_server, api_id) + "/v1/pets/9")
    assert status == 200 and json.loads(body)["resource"] == "/pets/{id}"

    # merge (the default): the definition's paths are added, what it leaves out stays
    lean = {"swagger": "2.0", "info": {"title": "pets", "version": "1"}, "paths": {"/vets": {"get": _integration(echo)}}}
    (tmp_path / "merge.json").write_text(json.dumps(lean))
    api = aws_json(lamb_server, "put-rest-api", "--rest-api-id", api_id, "--body", f"fileb://{tmp_path / 'merge.json'}",
                   "--parameters", "endpointConfigurationTypes=EDGE", service="apigateway")
    assert (api["description"], api["binaryMediaTypes"], "policy" in api) == ("all pets", ["image/png"], True)
    assert api["endpointConfiguration"]["types"] == ["EDGE"]  # the parameter applies here as on ImportRestApi
    paths = {r["path"] for r in aws_json(lamb_server, "get-resources", "--rest-api-id", api_id,
                                         service="apigateway")["items"]}
    assert paths == {"/", "/pets", "/pets/{id}", "/vets"}

    # overwrite: the paths are replaced, and what the definition leaves out is cleared, the policy included
    spec["paths"] = {"/owners": {"post": _integration(echo)}}
    spec["info"] = {"title": "owners", "version": "1"}
    for extension in ("x-amazon-apigateway-binary-media-types", "x-amazon-apigateway-policy"):
        del spec[extension]
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(spec))
    api = aws_json(lamb_server, "put-rest-api", "--rest-api-id", api_id, "--mode", "overwrite",
                   "--body", f"fileb://{tmp_path / 'api.yaml'}", service="apigateway")
    assert api["name"] == "owners"
    assert not {"description", "binaryMediaTypes", "policy"} & set(api), api
    paths = {r["path"] for r in aws_json(lamb_server, "get-resources", "--rest-api-id", api_id,
                                         service="apigateway")["items"]}
    assert paths == {"/", "/owners"}
    status, _ = curl(_host(lamb_server, api_id) + "/v1/pets/9")
    assert status == 200  # the stage still serves its deployment until the next one
    aws_json(lamb_server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "v1", service="apigateway")
    assert curl(_host(lamb_server, api_id) + "/v1/pets/9")[0] == 403
    assert curl(_host(lamb_server, api_id) + "/v1/owners", "-X", "POST")[0] == 200

    # an import Lamb cannot serve fails and leaves nothing behind
    before = aws_json(lamb_server, "get-rest-apis", service="apigateway")["items"]
    (tmp_path / "bad.json").write_text(json.dumps({"swagger": "2.0", "info": {"title": "bad"}, "paths": {
        "/ok": {"get": _integration(echo)}, "/web": {"get": {"x-amazon-apigateway-integration": {
            "type": "aws", "httpMethod": "GET", "uri": "arn:aws:apigateway:us-east-1:s3:bucket/key"}}}}}))
    bad = aws(lamb_server, "import-rest-api", "--body", f"fileb://{tmp_path / 'bad.json'}", service="apigateway",
              check=False)
    assert "BadRequestException" in bad.stderr and "AWS ARN for integration must contain path or action" in bad.stderr
    assert aws_json(lamb_server, "get-rest-apis", service="apigateway")["items"] == before


def test_import_http_api_then_reimport(lamb_server, echo, tmp_path):
    spec = {"openapi": "3.0.1", "info": {"title": "shop", "version": "1"},
            "x-amazon-apigateway-cors": {"allowOrigins": ["https://shop.example"], "allowMethods": ["GET"]},
            "paths": {"/items/{id}": {"get": _integration(echo, payloadFormatVersion="2.0")},
                      "$default": {"x-amazon-apigateway-any-method": _integration(echo, payloadFormatVersion="1.0")}}}
    (tmp_path / "api.json").write_text(json.dumps(spec))
    api = aws_json(lamb_server, "import-api", "--body", f"file://{tmp_path / 'api.json'}", service="apigatewayv2")
    api_id = api["ApiId"]
    assert api["Name"] == "shop" and api["CorsConfiguration"]["AllowOrigins"] == ["https://shop.example"]
    routes = aws_json(lamb_server, "get-routes", "--api-id", api_id, service="apigatewayv2")["Items"]
    assert sorted(r["RouteKey"] for r in routes) == ["$default", "GET /items/{id}"]
    aws_json(lamb_server, "create-stage", "--api-id", api_id, "--stage-name", "$default", "--auto-deploy",
             service="apigatewayv2")
    status, body = curl(_host(lamb_server, api_id) + "/items/3")
    assert status == 200 and json.loads(body)["route"] == "GET /items/{id}"
    status, body = curl(_host(lamb_server, api_id) + "/other")
    assert status == 200 and json.loads(body)["version"] == "1.0"

    spec["paths"] = {"/things": {"post": _integration(echo, payloadFormatVersion="2.0")}}
    del spec["x-amazon-apigateway-cors"]
    (tmp_path / "api.json").write_text(json.dumps(spec))
    api = aws_json(lamb_server, "reimport-api", "--api-id", api_id, "--body", f"file://{tmp_path / 'api.json'}",
                   service="apigatewayv2")
    assert "CorsConfiguration" not in api
    routes = aws_json(lamb_server, "get-routes", "--api-id", api_id, service="apigatewayv2")["Items"]
    assert [r["RouteKey"] for r in routes] == ["POST /things"]
    assert curl(_host(lamb_server, api_id) + "/things", "-X", "POST")[0] == 200  # auto-deployed
    assert curl(_host(lamb_server, api_id) + "/items/3") == (404, '{"message":"Not Found"}')

    bad = aws(lamb_server, "import-api", "--body", '{"openapi": "3.0.1", "paths": {"/a": {"get": {}}}}',
              service="apigatewayv2", check=False)
    assert "BadRequestException" in bad.stderr and "No integration defined for method 'GET' at path '/a'" in bad.stderr


REVERSE = """
import base64
def handler(event, context):
    data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream",
                                           "x-was-base64": str(event["isBase64Encoded"])},
            "body": base64.b64encode(data[::-1]).decode(), "isBase64Encoded": True}
"""


def test_rest_binary_media_types(lamb_server, tmp_path):
    client = lamb_server.client()
    name = unique("rev")
    arn = create(client, name, REVERSE)["FunctionArn"]
    client.add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                          Principal="apigateway.amazonaws.com")
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    (tmp_path / "api.json").write_text(json.dumps({
        "swagger": "2.0", "info": {"title": "bin"}, "x-amazon-apigateway-binary-media-types": ["image/*"],
        "paths": {"/rev": {"post": _integration(uri)}}}))
    api_id = aws_json(lamb_server, "import-rest-api", "--body", f"fileb://{tmp_path / 'api.json'}",
                      service="apigateway")["id"]
    aws_json(lamb_server, "create-deployment", "--rest-api-id", api_id, "--stage-name", "v1", service="apigateway")
    (tmp_path / "in.bin").write_bytes(bytes(range(256)))
    url = _host(lamb_server, api_id) + "/v1/rev"
    out = subprocess.run(["curl", "-s", "-D", str(tmp_path / "h"), "--data-binary", f"@{tmp_path / 'in.bin'}",
                          "-H", "Content-Type: image/png", "-H", "Accept: image/png", url], capture_output=True, timeout=60)
    assert out.stdout == bytes(range(256))[::-1]
    assert "x-was-base64: True" in (tmp_path / "h").read_text()
    # the same bytes without an Accept that names a binary type: the base64 text the function returned
    out = subprocess.run(["curl", "-s", "--data-binary", f"@{tmp_path / 'in.bin'}", "-H", "Content-Type: image/png",
                          "-H", "Accept: application/json", url], capture_output=True, timeout=60)
    assert base64.b64decode(out.stdout) == bytes(range(256))[::-1]
    # text bodies reach the function as text
    status, body = curl(url, "-d", "hello", "-H", "Content-Type: text/plain", "-H", "Accept: image/jpeg", "-D", "-")
    assert status == 200 and "x-was-base64: False" in body and body.endswith("olleh")
    # UpdateRestApi: binary types changed with PATCH operations
    api = aws_json(lamb_server, "update-rest-api", "--rest-api-id", api_id, "--patch-operations",
                   "op=remove,path=/binaryMediaTypes/image~1*", "op=add,path=/binaryMediaTypes/application~1json",
                   service="apigateway")
    assert api["binaryMediaTypes"] == ["application/json"]
