"""Payload format 1.0 events and responses (lamb.apis.payload_v1)."""

import json

import pytest

from lamb.apis import payload_v1
from lamb.urls.response import Malformed


def test_event_fields_as_aws_documents():
    e = payload_v1.build(method="GET", path="/my/path", raw_query="p1=a&p1=b&p2=c", headers={"header1": "v"},
                         body=b"", resource="/my/path", route_key="GET /my/path", stage="$default", api_id="id",
                         domain="id.execute-api.us-east-1.localhost", account_id="123456789012",
                         source_ip="192.0.2.1", request_id="rid", extra_headers={}, path_parameters={},
                         stage_variables={}, authorizer=None, now_ms=1583349317135)
    assert e["version"] == "1.0" and e["resource"] == "/my/path" and e["httpMethod"] == "GET"
    assert e["queryStringParameters"] == {"p1": "b", "p2": "c"}
    assert e["multiValueQueryStringParameters"] == {"p1": ["a", "b"], "p2": ["c"]}
    assert e["multiValueHeaders"] == {"header1": ["v"]}
    assert e["pathParameters"] is None and e["stageVariables"] is None and e["body"] is None
    ctx = e["requestContext"]
    assert ctx["requestTime"] == "04/Mar/2020:19:15:17 +0000" and ctx["requestTimeEpoch"] == 1583349317135
    assert ctx["identity"]["sourceIp"] == "192.0.2.1" and ctx["identity"]["userArn"] is None
    assert ctx["authorizer"] == {"claims": None, "scopes": None}


def test_response():
    status, headers, body, encoded = payload_v1.response(json.dumps({
        "statusCode": 201, "headers": {"a": "1"}, "multiValueHeaders": {"b": ["2", "3"]}, "body": "aGk=",
        "isBase64Encoded": True}).encode())
    assert status == 201 and body == b"hi" and encoded is True
    assert payload_v1.response(b'{"statusCode": 200, "body": "aGk=", "isBase64Encoded": false}')[2:] == (b"aGk=", False)
    assert ("b", "2") in headers and ("b", "3") in headers and ("a", "1") in headers
    for bad in (b"not json", b'{"body": "x"}', b'{"statusCode": "x"}', b'"text"'):
        with pytest.raises(Malformed):
            payload_v1.response(bad)
