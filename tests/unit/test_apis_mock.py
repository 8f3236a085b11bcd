"""apis/mock.py: MOCK integrations (SAM's CORS preflight shape)."""

from lamb.apis import mapped, mock, openapi

SAM_CORS = {"type": "mock", "requestTemplates": {"application/json": '{\n  "statusCode" : 200\n}\n'},
            "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{}\n"},
                                      "responseParameters": {
                                          "method.response.header.Access-Control-Allow-Origin": "'*'",
                                          "method.response.header.X-Dynamic": "integration.response.header.x"}}}}


def _stored(integ: dict) -> dict:
    op = openapi.Operation("/x", "OPTIONS", integ, responses={"200": {"headers": {"Access-Control-Allow-Origin": {}}}})
    method, responses = openapi.rest_responses(op)
    assert method == {"200": {"responseParameters": {"method.response.header.Access-Control-Allow-Origin": False}}}
    return dict(openapi.rest_integration(op), integrationResponses={
        code: dict(r, statusCode=code) for code, r in responses.items()})


def test_sam_cors_preflight():
    status, headers, body = mock.answer(_stored(SAM_CORS))
    assert (status, body) == (200, b"{}\n")
    assert headers == [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*")]


def test_selection_by_status_and_missing_responses():
    integ = {"requestTemplates": {"application/json": '{"statusCode": 404}'}, "integrationResponses": {
        "200": {"statusCode": "200"}, "404": {"statusCode": "404", "selectionPattern": r"4\d{2}",
                                              "responseTemplates": {"application/json": '{"m": "$input.body"}'}}}}
    assert mock.answer(integ) == (404, [("Content-Type", "application/json")], b'{"m": ""}')  # an empty $input
    assert mock.status_of({"requestTemplates": {"application/json": "#set($x = 1)"}}) == "200"
    assert mock.answer({"requestTemplates": {}}) is None


def test_templates_are_evaluated_with_the_request():
    integ = {"requestTemplates": {"application/json": '#set($c = $input.params("code")){"statusCode": $c}'},
             "integrationResponses": {"200": {"statusCode": "200"}, "418": {
                 "statusCode": "418", "selectionPattern": "418",
                 "responseTemplates": {"application/json": '{"stage": "$context.stage", "env": "$stageVariables.env"}'},
                 "responseParameters": {"method.response.header.X-Env": "stageVariables.env"}}}}
    seen = mapped.Templated({"path": {}, "querystring": {"code": "418"}, "header": {}}, {"stage": "live"}, {"env": "dev"})
    assert mock.answer(integ, seen=seen) == (
        418, [("Content-Type", "application/json"), ("X-Env", "dev")], b'{"stage": "live", "env": "dev"}')
    seen = mapped.Templated({"path": {}, "querystring": {"code": "200"}, "header": {}}, {}, {})
    assert mock.answer(integ, seen=seen)[0] == 200
