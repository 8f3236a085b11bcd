"""Model features Lambda's model does not use today, exercised through other rest-json models.

Protocol is driven only by the model, so it must handle greedy labels, jsonvalue
headers and header timestamps the day Lambda's model grows them.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lamb.protocol import AwsError, Protocol
from tests.unit.test_protocol import client_parse, server_parse, wire_request


@pytest.fixture(scope="module")
def lex() -> Protocol:
    return Protocol("lex-runtime")


@pytest.fixture(scope="module")
def mediastore() -> Protocol:
    return Protocol("mediastore-data")


def test_jsonvalue_headers_round_trip(lex):
    params = {
        "botName": "Bot",
        "botAlias": "prod",
        "userId": "user-1",
        "sessionAttributes": {"k": "v", "nested": {"n": [1, 2]}},
        "requestAttributes": {"r": "ü"},
        "contentType": "text/plain; charset=utf-8",
        "accept": "text/plain",
        "inputStream": b"hello",
    }
    parsed = server_parse(lex, "PostContent", params)
    assert parsed == params  # the headers went base64(JSON) on the wire and came back as objects

    result = {
        "contentType": "text/plain",
        "intentName": "Order",
        "slots": {"size": "large"},
        "sessionAttributes": {"a": "b"},
        "dialogState": "Fulfilled",
        "audioStream": b"\x00audio",
    }
    response = lex.serialize("PostContent", result)
    sent = dict(response[1])
    assert sent["x-amz-lex-slots"] != '{"size":"large"}'  # encoded, not plain JSON
    parsed = client_parse(lex, "PostContent", response)
    assert parsed.pop("audioStream") == "\x00audio"
    assert parsed == {k: v for k, v in result.items() if k != "audioStream"}


def test_greedy_label_and_header_timestamps(mediastore):
    params = {"Path": "folder/sub.dir/file_1~v2.mp4", "Range": "bytes=0-99"}
    method, path, query, headers, body = wire_request(mediastore, "GetObject", params)
    assert path == "/folder/sub.dir/file_1~v2.mp4"  # a greedy label keeps its slashes
    op, labels = mediastore.route(method, path, query)
    assert op.name == "GetObject" and labels == {"Path": "folder/sub.dir/file_1~v2.mp4"}
    assert mediastore.parse(op, labels, query, headers, body) == params
    assert mediastore.route("GET", "/")[0].name == "ListItems"
    assert mediastore.route("PUT", "/a/b")[0].name == "PutObject"

    modified = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
    result = {"LastModified": modified, "ContentLength": 2**40, "ETag": "e", "StatusCode": 206, "Body": b"x"}
    response = mediastore.serialize(op, result)
    sent = dict(response[1])
    assert sent["Last-Modified"] == "Mon, 04 Mar 2024 05:06:07 GMT"  # rfc822 is the header default
    assert sent["Content-Length"] == str(2**40)
    parsed = client_parse(mediastore, "GetObject", response)
    assert parsed["LastModified"] == modified and parsed["ContentLength"] == 2**40 and parsed["StatusCode"] == 206


def test_bad_jsonvalue_header(lex):
    op, labels = lex.route("POST", "/bot/b/alias/a/user/u/content")
    with pytest.raises(AwsError) as info:
        lex.parse(op, labels, "", {"x-amz-lex-session-attributes": "not-base64-json", "content-type": "text/plain"}, b"")
    assert info.value.code == "SerializationException"


def test_structure_output_json_body(lex):
    result = {"sessionId": "s", "dialogAction": {"type": "Close", "fulfillmentState": "Fulfilled"}, "recentIntentSummaryView": []}
    response = lex.serialize("GetSession", result)
    assert json.loads(response[2]) == result
    assert client_parse(lex, "GetSession", response) == result
