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
