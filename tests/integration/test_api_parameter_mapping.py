"""HTTP APIs' parameter mapping on Lambda proxy (``AWS_PROXY``) integrations
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html):
``RequestParameters`` change the request before the event is built, so a Python function that
echoes its event sees the mapped headers, query string and path (payload 2.0 and 1.0);
``ResponseParameters`` change the answer mapped from the function's result (status code, headers).
Created with boto3 (CreateIntegration/UpdateIntegration, a stage with stage variables), called by
Host header and through the ``/_lamb/apis/<id>/<stage>/…`` path fallback; the keys AWS refuses
(reserved headers, unknown locations, status codes outside 200-599) are refused at create and
update."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import parse_qsl

import pytest
from botocore.exceptions import ClientError

from .conftest import create, unique
from .test_http_apis import allow

ECHO = """
import json
def handler(event, context):
    code = int((event.get("queryStringParameters") or {}).get("code", "200"))
    return {"statusCode": code, "body": json.dumps(event),
            "headers": {"Content-Type": "application/json", "X-Fn": "from-fn", "X-Remove": "gone"}}
"""

REQUEST = {"append:header.x-in": "added", "overwrite:header.x-new": "${request.querystring.q}/${stageVariables.env}",
           "remove:header.x-secret": "''", "overwrite:querystring.q": "mapped-$request.path.id",
           "remove:querystring.drop": "''", "append:querystring.who": "$request.header.x-who",
           "overwrite:path": "/rewritten/$request.path.id"}
RESPONSE = {"200": {"overwrite:statuscode": "202", "overwrite:header.x-out": "$response.header.x-fn",
                    "remove:header.x-remove": "''", "append:header.x-path": "$response.body.requestContext.stage"},
            "404": {"overwrite:statuscode": "410"}}


def by_host(server, api_id: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, body=body,
                     headers={"Host": f"{api_id}.execute-api.{server.region}.localhost:{server.port}", **(headers or {})})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def by_path(server, api_id: str, stage: str, path: str, headers: dict | None = None):
    req = urllib.request.Request(f"{server.url}/_lamb/apis/{api_id}/{stage}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@pytest.fixture(scope="module")
def api(lamb_server):
    client = lamb_server.client()
    name = unique("mapecho")
    arn = create(client, name, ECHO)["FunctionArn"]
    allow(client, name)
    v2 = lamb_server.client("apigatewayv2")
    api_id = v2.create_api(Name=unique("mapping"), ProtocolType="HTTP")["ApiId"]
    ids = {}
    for version, key in (("2.0", "POST /items/{id}"), ("1.0", "GET /v1/{id}")):
        integ = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                      PayloadFormatVersion=version, RequestParameters=REQUEST,
                                      ResponseParameters=RESPONSE)
        assert integ["RequestParameters"] == REQUEST and integ["ResponseParameters"] == RESPONSE
        v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ['IntegrationId']}")
        ids[version] = integ["IntegrationId"]
    plain = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                  PayloadFormatVersion="2.0")
    v2.create_route(ApiId=api_id, RouteKey="GET /plain", Target=f"integrations/{plain['IntegrationId']}")
    ids["plain"] = plain["IntegrationId"]
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"env": "dev"})
    return v2, api_id, ids


def test_payload_2_sees_the_mapped_request_and_the_client_the_mapped_answer(lamb_server, api):
    _, api_id, _ = api
    status, headers, body = by_host(
        lamb_server, api_id, "POST", "/prod/items/7?q=1&drop=x&keep=k", b"{}",
        {"Content-Type": "application/json", "X-In": "orig", "X-Secret": "s", "X-Who": "ann"})
    assert status == 202, body
    assert headers["x-out"] == "from-fn" and "x-remove" not in headers and headers["x-path"] == "prod"
    assert headers["apigw-requestid"]
    event = json.loads(body)
    got = event["headers"]
    assert got["x-in"] == "orig,added" and got["x-new"] == "1/dev" and "x-secret" not in got
    assert got["x-who"] == "ann" and got["x-forwarded-for"] == "127.0.0.1"  # others as they came, API Gateway's added
    assert event["rawPath"] == "/rewritten/7" and event["requestContext"]["http"]["path"] == "/rewritten/7"
    assert sorted(parse_qsl(event["rawQueryString"])) == [("keep", "k"), ("q", "mapped-7"), ("who", "ann")]
    assert event["queryStringParameters"] == {"keep": "k", "q": "mapped-7", "who": "ann"}
    assert event["pathParameters"] == {"id": "7"} and event["routeKey"] == "POST /items/{id}"


def test_payload_1_through_the_path_fallback(lamb_server, api):
    _, api_id, _ = api
    status, headers, body = by_path(lamb_server, api_id, "prod", "/v1/9?q=2&drop=y", {"X-Secret": "s"})
    assert status == 202, body
    assert headers["x-out"] == "from-fn" and "x-remove" not in headers
    event = json.loads(body)
    assert event["version"] == "1.0"
    assert event["path"] == "/rewritten/9" and event["requestContext"]["path"] == "/rewritten/9"
    assert event["queryStringParameters"] == {"q": "mapped-9", "who": ""}
    assert event["multiValueQueryStringParameters"] == {"q": ["mapped-9"], "who": [""]}
    assert event["headers"]["x-in"] == "added" and event["headers"]["x-new"] == "2/dev"
    assert event["multiValueHeaders"]["x-new"] == ["2/dev"] and "x-secret" not in event["headers"]


def test_response_parameters_are_chosen_by_the_functions_status(lamb_server, api):
    _, api_id, _ = api
    status, _, _ = by_host(lamb_server, api_id, "GET", "/prod/v1/1?code=404")
    assert status == 410  # the 404 mapping
    status, headers, _ = by_host(lamb_server, api_id, "GET", "/prod/v1/1?code=201")
    assert status == 201 and headers["x-remove"] == "gone" and "x-out" not in headers  # no mapping for 201
    status, headers, body = by_host(lamb_server, api_id, "GET", "/prod/plain?q=1", headers={"X-Secret": "s"})
    event = json.loads(body)  # an integration without mapping: the request as it came
    assert status == 200 and headers["x-remove"] == "gone"
    assert event["rawPath"] == "/prod/plain" and event["rawQueryString"] == "q=1" and event["headers"]["x-secret"] == "s"


def test_update_integration_applies_and_checks_new_mappings(lamb_server, api):
    v2, api_id, ids = api
    v2.update_integration(ApiId=api_id, IntegrationId=ids["plain"],
                          RequestParameters={"overwrite:header.x-updated": "$context.stage"},
                          ResponseParameters={"200": {"append:header.x-mapped": "yes"}})
    status, headers, body = by_path(lamb_server, api_id, "prod", "/plain")
    assert status == 200 and headers["x-mapped"] == "yes"
    assert json.loads(body)["headers"]["x-updated"] == "prod"
    for bad in ({"RequestParameters": {"overwrite:header.host": "x"}},
                {"RequestParameters": {"overwrite:header.X-Forwarded-For": "x"}},
                {"RequestParameters": {"overwrite:body": "x"}},
                {"RequestParameters": {"rename:header.x-a": "x"}},
                {"ResponseParameters": {"99": {"overwrite:statuscode": "200"}}},
                {"ResponseParameters": {"200": {"overwrite:path": "/x"}}},
                {"ResponseParameters": {"200": {"overwrite:header.content-length": "1"}}}):
        with pytest.raises(ClientError) as e:
            v2.update_integration(ApiId=api_id, IntegrationId=ids["plain"], **bad)
        assert e.value.response["Error"]["Code"] == "BadRequestException", bad
        with pytest.raises(ClientError) as e:
            v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
                                  IntegrationUri=f"arn:aws:lambda:{lamb_server.region}:{lamb_server.account_id}:"
                                                 "function:any", **bad)
        assert e.value.response["Error"]["Code"] == "BadRequestException", bad
    got = v2.get_integration(ApiId=api_id, IntegrationId=ids["plain"])
    assert got["RequestParameters"] == {"overwrite:header.x-updated": "$context.stage"}  # the refused ones not kept
    with pytest.raises(ClientError) as e:
        v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationSubtype="SQS-SendMessage",
                              PayloadFormatVersion="1.0", RequestParameters={"QueueUrl": "q", "MessageBody": "b"})
    assert e.value.response["Error"]["Code"] == "BadRequestException"


def test_imported_definition_applies_the_integrations_parameter_mapping(lamb_server):
    """ImportApi: an ``x-amazon-apigateway-integration``'s ``requestParameters`` and ``responseParameters``
    become the integration's parameter mapping, applied when the route is called."""
    lam, v2 = lamb_server.client(), lamb_server.client("apigatewayv2")
    fn = unique("pmimport")
    arn = create(lam, fn, ECHO)["FunctionArn"]
    allow(lam, fn)
    definition = {"openapi": "3.0.1", "info": {"title": unique("mapped-import"), "version": "1"}, "paths": {
        "/items/{id}": {"get": {"x-amazon-apigateway-integration": {
            "type": "aws_proxy", "httpMethod": "POST", "uri": arn, "payloadFormatVersion": "2.0",
            "requestParameters": {"append:header.x-in": "from-definition",
                                  "overwrite:querystring.q": "mapped-$request.path.id"},
            "responseParameters": {"200": {"overwrite:statuscode": "202", "overwrite:header.x-out": "imported"}}}}}}}
    api_id = v2.import_api(Body=json.dumps(definition))["ApiId"]
    integration = v2.get_integrations(ApiId=api_id)["Items"][0]
    assert integration["RequestParameters"] == {"append:header.x-in": "from-definition",
                                                "overwrite:querystring.q": "mapped-$request.path.id"}
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    status, headers, body = by_host(lamb_server, api_id, "GET", "/items/7?q=client")
    event = json.loads(body)
    assert (status, headers["x-out"]) == (202, "imported")
    assert event["headers"]["x-in"] == "from-definition" and event["queryStringParameters"] == {"q": "mapped-7"}
