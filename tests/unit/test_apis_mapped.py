"""apis/mapped.py: non-proxy integrations' request and response mapping."""

from __future__ import annotations

import pytest

from lamb.apis import mapped

SEEN = mapped.Templated({"path": {"id": "7"}, "querystring": {}, "header": {}}, {"stage": "live"}, {"env": "dev"})
INTEGRATION = {
    "requestTemplates": {"application/json": '{"id": "$input.params(\'id\')", "body": $input.json(\'$\')}'},
    "integrationResponses": {
        "200": {"statusCode": "200", "responseTemplates": {"application/json": '{"got": $input.json(\'$.value\')}',
                                                           "text/plain": "$input.path('$.value')"}},
        "400": {"statusCode": "400", "selectionPattern": "Bad:.*",
                "responseTemplates": {"application/json": '{"error": "$input.path(\'$.errorMessage\')"}'},
                "responseParameters": {"method.response.header.X-Stage": "context.stage",
                                       "method.response.header.X-Kind": "integration.response.body.errorType",
                                       "method.response.header.X-Fixed": "'yes'"}}}}


def test_request_template_and_passthrough():
    assert mapped.request_payload(INTEGRATION, b'{"a": 1}', None, SEEN) == b'{"id": "7", "body": {"a":1}}'
    assert mapped.request_payload(INTEGRATION, b"raw", "text/plain", SEEN) == b"raw"  # WHEN_NO_MATCH
    for behavior in ("NEVER", "WHEN_NO_TEMPLATES"):
        with pytest.raises(mapped.Unsupported):
            mapped.request_payload(dict(INTEGRATION, passthroughBehavior=behavior), b"raw", "text/plain", SEEN)
    assert mapped.request_payload({"passthroughBehavior": "WHEN_NO_TEMPLATES"}, b"raw", "text/plain", SEEN) == b"raw"


def test_selection_by_error_message():
    error = b'{"errorMessage": "Bad: no id", "errorType": "ValueError"}'
    assert mapped.select(INTEGRATION, mapped.error_message(error))["statusCode"] == "400"
    assert mapped.select(INTEGRATION, "Something else")["statusCode"] == "200"  # unmatched: the default
    assert mapped.select(INTEGRATION, None)["statusCode"] == "200"
    assert mapped.select({"integrationResponses": {"4": {"statusCode": "400", "selectionPattern": "x"}}}, None) is None
    assert mapped.select(INTEGRATION, "xBad: no")["statusCode"] == "200"  # the pattern matches the whole text


def test_response_templates_and_parameters():
    ok = mapped.select(INTEGRATION, None)
    assert mapped.response(ok, b'{"value": [1]}', None, SEEN) == (200, [("Content-Type", "application/json")],
                                                                  b'{"got": [1]}')
    assert mapped.response(ok, b'{"value": "v"}', "text/plain, */*", SEEN) == (200, [("Content-Type", "text/plain")],
                                                                               b"v")
    bad = mapped.select(INTEGRATION, "Bad: x")
    status, headers, body = mapped.response(bad, b'{"errorMessage": "Bad: x", "errorType": "ValueError"}', None, SEEN)
    assert (status, body) == (400, b'{"error": "Bad: x"}')
    assert headers == [("Content-Type", "application/json"), ("X-Stage", "live"), ("X-Kind", "ValueError"),
                       ("X-Fixed", "yes")]
    assert mapped.response({"statusCode": "200"}, b'{"a": 1}', None, SEEN) == (
        200, [("Content-Type", "application/json")], b'{"a": 1}')  # no template: passed through


def test_invocation_type_from_request_parameters():
    def kind(source, seen=SEEN):
        return mapped.invocation_type({"requestParameters": {mapped.INVOCATION_TYPE: source}}, seen)

    assert mapped.invocation_type({}, SEEN) == "RequestResponse"
    assert kind("'Event'") == "Event"
    seen = mapped.Templated({"path": {}, "querystring": {"mode": "DryRun"}, "header": {"invocationtype": "Event"}},
                            {}, {"how": "Event"})
    assert kind("method.request.header.InvocationType", seen) == "Event"  # header names ignore case
    assert kind("method.request.querystring.mode", seen) == "DryRun"
    assert kind("stageVariables.how", seen) == "Event"
    assert kind("method.request.querystring.absent", seen) == "RequestResponse"
