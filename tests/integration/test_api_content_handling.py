"""contentHandling of REST API non-proxy integrations and integration responses, through a real REST
API (boto3's ``apigateway`` client, http.client with raw bytes): a binary upload converted to
base64 text for the request template (CONVERT_TO_TEXT), the function's base64 answer converted back
to bytes (CONVERT_TO_BINARY), a base64 text request decoded (CONVERT_TO_BINARY), and the Accept
header choosing without contentHandling, as "Content type conversions in API Gateway" tabulates."""

from __future__ import annotations

import base64
import http.client
import json

import pytest
from botocore.exceptions import ClientError

from .conftest import unique
from .test_api_metrics import function

CODE = ("import base64\n"
        "def handler(event, context):\n"
        "    if 'data' in event:\n"
        "        raw = base64.b64decode(event['data'])\n"
        "        return {'png': base64.b64encode(raw[::-1]).decode(), 'size': len(raw)}\n"
        "    return {'echo': event}\n")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def request(server, api_id: str, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        h = {"Host": f"{api_id}.execute-api.{server.region}.localhost:{server.port}", **(headers or {})}
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_content_handling_converts_request_and_response_payloads(lamb_server):
    apigw = lamb_server.client("apigateway")
    arn = function(lamb_server, "conv", CODE)
    api = apigw.create_rest_api(name=unique("conv"), binaryMediaTypes=["image/png"])
    uri = f"arn:aws:apigateway:{lamb_server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"

    def method(part: str, verb: str, *, request: dict, response: dict) -> dict:
        res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=part)
        ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": verb}
        apigw.put_method(**ids, authorizationType="NONE")
        apigw.put_method_response(**ids, statusCode="200")
        apigw.put_integration(**ids, type="AWS", integrationHttpMethod="POST", uri=uri, **request)
        apigw.put_integration_response(**ids, statusCode="200", **response)
        return ids

    # A binary upload reaches the template as base64 text; the function's base64 answer leaves as bytes.
    flip = method("flip", "POST", request={"contentHandling": "CONVERT_TO_TEXT",
                                            "requestTemplates": {"image/png": '{"data": "$input.body"}'}},
                  response={"contentHandling": "CONVERT_TO_BINARY",
                            "responseTemplates": {"image/png": "$input.path('$.png')"}})
    assert apigw.get_integration(**flip)["contentHandling"] == "CONVERT_TO_TEXT"
    assert apigw.get_integration_response(**flip, statusCode="200")["contentHandling"] == "CONVERT_TO_BINARY"
    # Base64 text sent as text/plain reaches the function decoded (here: JSON, so Lambda takes it).
    unwrap = method("unwrap", "POST", request={"contentHandling": "CONVERT_TO_BINARY"}, response={})
    # No contentHandling on the response: the first Accept type decides (binary: base64-decoded).
    plain = method("plain", "POST", request={}, response={"responseTemplates": {"application/json": "$input.path('$.png')"}})
    apigw.create_deployment(restApiId=api["id"], stageName="v1")

    status, body = request(lamb_server, api["id"], "POST", "/v1/flip", PNG,
                           {"Content-Type": "image/png", "Accept": "image/png"})
    assert (status, body) == (200, PNG[::-1])

    wrapped = base64.b64encode(json.dumps({"id": "x"}).encode())
    status, body = request(lamb_server, api["id"], "POST", "/v1/unwrap", wrapped, {"Content-Type": "text/plain"})
    assert status == 200 and json.loads(body) == {"echo": {"id": "x"}}
    status, body = request(lamb_server, api["id"], "POST", "/v1/unwrap", b"not base64!", {"Content-Type": "text/plain"})
    assert status == 500 and json.loads(body) == {"message": "Internal server error"}

    data = base64.b64encode(b"abc").decode()
    status, body = request(lamb_server, api["id"], "POST", "/v1/plain", json.dumps({"data": data}).encode(),
                           {"Content-Type": "application/json", "Accept": "image/png"})
    assert (status, body) == (200, b"cba")
    status, body = request(lamb_server, api["id"], "POST", "/v1/plain", json.dumps({"data": data}).encode(),
                           {"Content-Type": "application/json", "Accept": "application/json"})
    assert (status, body) == (200, base64.b64encode(b"cba"))

    # UpdateIntegrationResponse changes it; a value that is not one of the two is refused.
    apigw.update_integration_response(**plain, statusCode="200", patchOperations=[
        {"op": "replace", "path": "/contentHandling", "value": "CONVERT_TO_BINARY"}])
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    status, body = request(lamb_server, api["id"], "POST", "/v1/plain", json.dumps({"data": data}).encode(),
                           {"Content-Type": "application/json", "Accept": "application/json"})
    assert (status, body) == (200, b"cba")
    with pytest.raises(ClientError) as e:
        apigw.put_integration(**plain, type="AWS", integrationHttpMethod="POST", uri=uri, contentHandling="BASE64")
    assert e.value.response["Error"]["Code"] == "ValidationException"  # the model's enum, as AWS checks it
    assert "Member must satisfy enum value set: [CONVERT_TO_BINARY, CONVERT_TO_TEXT]" in e.value.response["Error"]["Message"]
