"""apis/access_log.py: destinations, $context rendering, the writer."""

from lamb.apis import access_log


def test_group_names_of_destinations():
    assert access_log.group_name("arn:aws:logs:us-east-1:123:log-group:my/api") == "my/api"
    assert access_log.group_name("arn:aws:logs:us-east-1:123:log-group:my-api:*") == "my-api"
    assert access_log.group_name("arn:aws:firehose:us-east-1:123:deliverystream/amazon-apigateway-x") is None
    assert access_log.group_name(None) is None


def test_render_and_settings():
    fmt = '$context.requestId $context.identity.sourceIp "$context.routeKey" $context.status $context.nope'
    assert access_log.render(fmt, {"requestId": "r1", "identity.sourceIp": "1.2.3.4", "routeKey": "GET /x",
                                   "status": 200}) == 'r1 1.2.3.4 "GET /x" 200 -'
    dest = "arn:aws:logs:r:1:log-group:g"
    assert access_log.settings({"AccessLogSettings": {"DestinationArn": dest, "Format": "$context.requestId"}}) == (
        "g", "$context.requestId")
    assert access_log.settings({"accessLogSettings": {"destinationArn": dest, "format": "f"}}) == ("g", "f")
    assert access_log.settings({"AccessLogSettings": {"DestinationArn": dest}}) is None
    assert access_log.settings({}) is None


def test_records_go_through_the_writer():
    written = []
    logs = access_log.AccessLogs(lambda *a: written.append(a), clock=lambda: 12.5)
    stage = {"AccessLogSettings": {"DestinationArn": "arn:aws:logs:r:1:log-group:g", "Format": "$context.status"}}
    logs.record(stage, "api1", "$default", {"status": 404})
    logs.record({}, "api1", "$default", {"status": 200})
    assert written == [("g", "api1_$default", 12500, "404")]


def test_braced_variables_and_json_values():
    fmt = '${context.requestId} $context.authorizer.b $context.authorizer.n\n'
    assert access_log.render(fmt, {"requestId": "r", "authorizer.b": True, "authorizer.n": 1}) == "r true 1"


def test_format_problems_as_create_and_update_stage_refuse_them():
    assert access_log.format_problem("$context.requestId", http=True) is None
    assert access_log.format_problem('{"id":"$context.extendedRequestId"}', http=False) is None
    assert access_log.format_problem("$context.extendedRequestId\n", http=False) is None  # a final newline (REST)
    assert access_log.format_problem("$context.status", http=True) == (
        "The following errors are found in Access Log Format: Access Log format must include either "
        "$context.requestId or $context.extendedRequestId : '$context.status'")
    assert access_log.format_problem("$context.requestIds", http=False) == (
        "Access Log format must include either $context.requestId or $context.extendedRequestId : "
        "'$context.requestIds'")
    assert access_log.format_problem("$context.requestId\n$context.status", http=False) == (
        "Access Log format must be single line, new line character is allowed only at end of the format: "
        "'$context.requestId\n$context.status'")


class _Authorized:
    def __init__(self, kind, context=None, principal_id=None, latency_ms=0, claims=None):
        self.kind, self.context, self.principal_id = kind, context, principal_id
        self.latency_ms, self.claims = latency_ms, claims


def test_context_values_of_what_a_request_met():
    base = {"requestId": "r", "status": 502}
    event = {"requestContext": {"resourceId": "res1", "identity": {
        "accountId": "123", "userArn": "arn:aws:iam::123:user/u", "accessKey": "AKIA", "clientCert": None,
        "apiKey": None}}}
    got = access_log.context_values(
        base, rest=True, event=event,
        authorized=_Authorized("lambda", {"user": "ann", "n": 1, "b": False, "o": {"a": 1}}, "p1", 7),
        error=("DEFAULT_5XX", 'Internal "server" error'),
        integration={"integrationStatus": 200, "error": "boom", "requestId": "r", "status": None})
    assert got == {
        "requestId": "r", "status": 502, "resourceId": "res1", "identity.accountId": "123",
        "identity.userArn": "arn:aws:iam::123:user/u", "authorizer.principalId": "p1", "authorizer.user": "ann",
        "authorizer.n": "1", "authorizer.b": "false", "authorizer.o": '{"a":1}', "authorizer.status": 200,
        "authorizer.latency": 7, "authorizer.integrationStatus": 200, "authorizer.integrationLatency": 7,
        "error.responseType": "DEFAULT_5XX", "error.message": 'Internal "server" error',
        "error.messageString": '"Internal \\"server\\" error"', "integration.integrationStatus": 200,
        "integration.error": "boom", "integration.requestId": "r", "integrationStatus": 200,
        "integrationErrorMessage": "boom", "awsEndpointRequestId": "r"}
    # HTTP APIs: JSON values, JWT claims, an authorizer's refusal.
    http = access_log.context_values({"status": 401}, rest=False, authorized=None, error=("UNAUTHORIZED", "Unauthorized"),
                                     authorizer_error="Unauthorized", identity={"accessKey": "AK", "caller": "c"})
    assert http == {"status": 401, "identity.caller": "c", "error.responseType": "UNAUTHORIZED",
                    "error.message": "Unauthorized", "error.messageString": '"Unauthorized"',
                    "authorizer.error": "Unauthorized", "authorizer.status": 401}
    jwt = access_log.context_values({}, rest=False, authorized=_Authorized("jwt", {}, None, 0,
                                                                         {"sub": "s", "groups": ["a", "b"]}))
    assert jwt == {"authorizer.claims.sub": "s", "authorizer.claims.groups": '["a","b"]'}


def test_validation_error_string_of_a_refused_request():
    got = access_log.context_values({"status": 400}, rest=True, error=(
        "BAD_REQUEST_BODY", "Invalid request body", "[object has missing required properties ([\"name\"])]"))
    assert got["error.validationErrorString"] == '[object has missing required properties (["name"])]'
    assert got["error.responseType"] == "BAD_REQUEST_BODY"


def test_the_consoles_clf_json_xml_and_csv_presets():
    """The formats API Gateway's console offers: plain substitution, values not escaped (as on AWS)."""
    values = {"identity.sourceIp": "1.2.3.4", "requestTime": "06/Dec/2026:23:00:00 +0000", "httpMethod": "GET",
              "resourcePath": "/pets", "protocol": "HTTP/1.1", "status": 200, "responseLength": 12,
              "requestId": "r-1", "extendedRequestId": "r-1"}
    clf = ('$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] '
           '"$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength '
           '$context.requestId $context.extendedRequestId')
    assert access_log.render(clf, values) == (
        '1.2.3.4 - - [06/Dec/2026:23:00:00 +0000] "GET /pets HTTP/1.1" 200 12 r-1 r-1')
    js = '{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "status": "$context.status" }'
    assert access_log.render(js, values) == '{ "requestId":"r-1", "ip": "1.2.3.4", "status": "200" }'
    xml = '<request id="$context.requestId"> <ip>$context.identity.sourceIp</ip> <status>$context.status</status> </request>'
    assert access_log.render(xml, values) == '<request id="r-1"> <ip>1.2.3.4</ip> <status>200</status> </request>'
    csv = "$context.identity.sourceIp,$context.identity.caller,$context.status,$context.requestId"
    assert access_log.render(csv, values) == "1.2.3.4,-,200,r-1"
    for fmt in (clf, js, xml, csv):
        assert access_log.format_problem(fmt, http=False) is None and access_log.format_problem(fmt, http=True) is None


def test_a_variable_ends_at_a_character_outside_names():
    values = {"identity.sourceIp": "1.2.3.4", "status": 200, "authorizer.claims.cognito:groups": "admins"}
    assert access_log.render("$context.identity.sourceIp-$context.status.", values) == "1.2.3.4-200."
    assert access_log.render("${context.authorizer.claims.cognito:groups}", values) == "admins"
