"""apis/gateway_responses.py: defaults, the DEFAULT_4XX/5XX fallback and rendering."""

import json

from lamb.apis import gateway_responses as gr


def test_defaults_as_aws_lists_them():
    assert gr.default("UNAUTHORIZED") == {"responseType": "UNAUTHORIZED", "defaultResponse": True, "statusCode": "401",
                                          "responseParameters": {},
                                          "responseTemplates": {"application/json": '{"message":$context.error.messageString}'}}
    assert "statusCode" not in gr.default("DEFAULT_4XX")
    assert (gr.TYPES["INTEGRATION_TIMEOUT"], gr.TYPES["MISSING_AUTHENTICATION_TOKEN"], gr.TYPES["THROTTLED"]) == (
        "504", "403", "429")


def test_effective_falls_back_by_status_class():
    custom = {"DEFAULT_4XX": {"responseParameters": {"gatewayresponse.header.A": "'1'"}},
              "UNAUTHORIZED": {"statusCode": "418"}}
    assert gr.effective(custom, "UNAUTHORIZED", 401)["statusCode"] == "418"
    assert gr.effective(custom, "MISSING_AUTHENTICATION_TOKEN", 403)["statusCode"] == "403"
    assert gr.effective(custom, "INTEGRATION_TIMEOUT", 504) is None
    assert gr.effective({"DEFAULT_5XX": {"statusCode": "599"}}, "INTEGRATION_TIMEOUT", 504)["statusCode"] == "599"
    assert gr.effective({}, "UNAUTHORIZED", 401) is None


def test_render_headers_and_template():
    response = {"statusCode": "400", "responseParameters": {
        "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
        "gatewayresponse.header.X-Q": "method.request.querystring.q",
        "gatewayresponse.header.X-Key": "method.request.header.x-key",
        "gatewayresponse.header.X-Stage": "stageVariables.env",
        "gatewayresponse.header.X-Rid": "context.requestId"},
        "responseTemplates": {"application/json": '{"error": $context.error.messageString, '
                                                  '"type": "$context.error.responseType", '
                                                  '"detail": "$context.error.validationErrorString"}'}}
    status, headers, body = gr.render(response, message='Invalid "body"', response_type="BAD_REQUEST_BODY", accept=None,
                                      params={"querystring": {"q": "1"}, "header": {"X-Key": "k"}},
                                      context={"requestId": "r1"}, variables={"env": "dev"}, validation_error="[x]")
    assert status == 400 and json.loads(body) == {"error": 'Invalid "body"', "type": "BAD_REQUEST_BODY",
                                                  "detail": "[x]"}
    assert headers == [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*"), ("X-Q", "1"),
                       ("X-Key", "k"), ("X-Stage", "dev"), ("X-Rid", "r1")]
    _, headers, body = gr.render({"statusCode": "500", "responseTemplates": {}}, message=None, response_type="X",
                                 accept=None, params={}, context={}, variables={})
    assert body == b'{"message":null}'
