"""apis/ws_mapping.py: WebSocket APIs' template selection, request parameters and integration responses."""

from __future__ import annotations

import base64

import pytest

from lamb.apis import vtl, ws_mapping
from lamb.apis.ws_mapping import Seen

CTX = {"connectionId": "abc=", "routeKey": "r", "identity": {"sourceIp": "1.2.3.4"}}


def seen(body="", headers=None, query=None) -> Seen:
    return Seen(body, headers or {}, query or {}, CTX, {"v": "stage-value"})


def test_select_key():
    assert ws_mapping.select_key(None, seen()) == "$default"
    assert ws_mapping.select_key("\\$default", seen()) == "$default"
    assert ws_mapping.select_key("${request.body.a.b}-x", seen('{"a": {"b": "k"}}')) == "k-x"
    assert ws_mapping.select_key("static", seen()) == "static"
    assert ws_mapping.select_key("${integration.response.statuscode}", seen(), ws_mapping.Answer(404, b"")) == "404"
    assert ws_mapping.select_key("$context.routeKey", seen()) == "r"


def test_request_payload_templates_and_passthrough():
    integration = {"TemplateSelectionExpression": "${request.body.kind}",
                   "RequestTemplates": {"a": '{"got": $input.json(\'$.n\'), "c": "$context.connectionId"}',
                                        "$default": "default $stageVariables.v"}}
    assert ws_mapping.request_payload(integration, seen('{"kind": "a", "n": 1}')) == b'{"got": 1, "c": "abc="}'
    assert ws_mapping.request_payload(integration, seen('{"kind": "b"}')) == b"default stage-value"
    only_a = {"TemplateSelectionExpression": "${request.body.kind}", "RequestTemplates": {"a": "A"}}
    assert ws_mapping.request_payload(only_a, seen('{"kind": "z"}')) == b'{"kind": "z"}'  # WHEN_NO_MATCH
    with pytest.raises(ws_mapping.Unsupported):
        ws_mapping.request_payload(dict(only_a, PassthroughBehavior="NEVER"), seen('{"kind": "z"}'))
    with pytest.raises(ws_mapping.Unsupported):
        ws_mapping.request_payload(dict(only_a, PassthroughBehavior="WHEN_NO_TEMPLATES"), seen('{"kind": "z"}'))
    assert ws_mapping.request_payload({"PassthroughBehavior": "WHEN_NO_TEMPLATES"}, seen("raw")) == b"raw"
    assert ws_mapping.request_payload({"ContentHandlingStrategy": "CONVERT_TO_TEXT"}, seen(b"\xff")) == b"/w=="


def test_request_parameters():
    integration = {"RequestParameters": {
        "integration.request.header.X-A": "route.request.header.authorization",
        "integration.request.querystring.q": "route.request.querystring.q",
        "integration.request.path.p": "route.request.body.item.id",
        "integration.request.header.X-C": "context.identity.sourceIp",
        "integration.request.header.X-S": "stageVariables.v",
        "integration.request.header.X-L": "'literal'"}}
    out = ws_mapping.request_parameters(integration, seen('{"item": {"id": 5}}', {"Authorization": "t"}, {"q": "1"}))
    assert out == {"path": {"p": "5"}, "querystring": {"q": "1"},
                   "header": {"X-A": "t", "X-C": "1.2.3.4", "X-S": "stage-value", "X-L": "literal"}}


def test_check():
    assert ws_mapping.check({"RequestParameters": {"integration.request.header.x": "route.request.header.y"}}) is None
    assert "Invalid mapping" in ws_mapping.check({"RequestParameters": {"method.request.header.x": "'a'"}})
    assert "Invalid mapping" in ws_mapping.check({"RequestParameters": {"integration.request.header.x": "x.y"}})
    assert "PassthroughBehavior" in ws_mapping.check({"PassthroughBehavior": "SOMETIMES"})
    assert "ContentHandlingStrategy" in ws_mapping.check({"ContentHandlingStrategy": "X"})


def test_integration_responses():
    responses = {"1": {"IntegrationResponseKey": "/2\\d\\d/"}, "2": {"IntegrationResponseKey": "$default"},
                 "3": {"IntegrationResponseKey": "/bad.*/"}}
    assert ws_mapping.select_response(responses, "201")["IntegrationResponseKey"] == "/2\\d\\d/"
    assert ws_mapping.select_response(responses, "2011")["IntegrationResponseKey"] == "$default"  # whole text
    assert ws_mapping.select_response(responses, "bad: x")["IntegrationResponseKey"] == "/bad.*/"
    assert ws_mapping.select_response({"1": {"IntegrationResponseKey": "/2\\d\\d/"}}, "500") is None
    assert ws_mapping.response_key_problem("$default") is None
    assert ws_mapping.response_key_problem("/4\\d\\d/") is None
    assert ws_mapping.response_key_problem("200") is not None
    assert ws_mapping.response_key_problem("/(/") is not None


def test_selection_text():
    Answer = ws_mapping.Answer
    failed = Answer(500, b'{"errorMessage": "bad: x", "errorType": "E"}')
    assert ws_mapping.selection_text({}, failed, True) == "bad: x"  # Lambda: the error message
    assert ws_mapping.selection_text({}, Answer(200, b'{"ok": 1}'), True) == ""  # a success: $default only
    assert ws_mapping.selection_text({}, Answer(404, b""), False) == "404"  # HTTP, MOCK: the status code
    custom = {"IntegrationResponseSelectionExpression": "${integration.response.header.X-Kind}-x"}
    assert ws_mapping.selection_text(custom, Answer(200, b"", (("x-kind", "k"),)), False) == "k-x"
    assert ws_mapping.response_selection(True) == "${integration.response.body.errorMessage}"
    assert ws_mapping.response_selection(False) == "${integration.response.statuscode}"


def test_response_payload():
    Answer = ws_mapping.Answer
    chosen = {"TemplateSelectionExpression": "${integration.response.statuscode}",
              "ResponseTemplates": {"404": "missing $input.path('$.id')", "$default": "ok $context.connectionId"}}
    assert ws_mapping.response_payload(chosen, Answer(404, b'{"id": 3}'), seen()) == "missing 3"
    assert ws_mapping.response_payload(chosen, Answer(200, b'{"id": 3}'), seen()) == "ok abc="
    by_header = {"TemplateSelectionExpression": "$integration.response.header.Content-Type",
                 "ResponseTemplates": {"text/plain": "text", "$default": "other"}}
    assert ws_mapping.response_payload(by_header, Answer(200, b"", (("Content-Type", "text/plain"),)), seen()) == "text"
    assert ws_mapping.response_payload({}, Answer(200, b"plain"), seen()) == "plain"
    assert ws_mapping.response_payload({}, Answer(200, b"\xff"), seen()) == b"\xff"
    converted = ws_mapping.response_payload({"ContentHandlingStrategy": "CONVERT_TO_TEXT"}, Answer(200, b"\xff"), seen())
    assert converted == "/w=="
    binary = ws_mapping.response_payload({"ContentHandlingStrategy": "CONVERT_TO_BINARY"},
                                         Answer(200, base64.b64encode(b"\x00\x01")), seen())
    assert binary == b"\x00\x01"
    with pytest.raises(vtl.TemplateError):
        ws_mapping.response_payload({"ContentHandlingStrategy": "CONVERT_TO_BINARY"}, Answer(200, b"not base64!"),
                                    seen())
