"""apis/execution_log.py: the lines of a REST request at each logging level, and when they are written."""

from lamb.apis import execution_log as el

RID = "6f1c0d3e-0000-4000-8000-000000000001"


def _request(**kw) -> el.Request:
    base = dict(request_id=RID, api_id="abc123", stage="live", http_method="GET", resource="GET /pets/{id}",
                path="/pets/7", path_parameters={"id": "7"}, query={"q": "1"}, headers={"Accept": "*/*"},
                body=b"", endpoint="https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f/invocations",
                endpoint_body=b'{"path":"/pets/7"}', endpoint_answer=b'{"statusCode":200,"body":"ok"}',
                integration_ms=12.7, status=200, response_headers=[("Content-Type", "text/plain")],
                response_body=b"ok", error=None)
    base.update(kw)
    return el.Request(**base)


def test_info_lines_are_awss():
    lines = el.lines("INFO", False, _request())
    assert all(line.startswith(f"({RID}) ") for line in lines)
    text = [line[len(RID) + 3:] for line in lines]
    assert text[0] == f"Extended Request Id: {RID}"
    assert text[1] == f"Verifying Usage Plan for request: {RID}. API Key:  API Stage: abc123/live"
    assert "HTTP Method: GET, Resource Path: /pets/7" in text
    assert "Received response. Status: 200, Integration latency: 12 ms" in text
    assert text[-2:] == ["Successfully completed execution", "Method completed with status: 200"]
    assert not any(t.startswith("Method request path") or "after transformations" in t for t in text)


def test_data_trace_adds_the_data():
    text = el.lines("INFO", True, _request())
    assert f"({RID}) Method request path: {{id=7}}" in text
    assert f"({RID}) Method request headers: {{Accept=*/*}}" in text
    assert f"({RID}) Endpoint request body after transformations: {{\"path\":\"/pets/7\"}}" in text
    assert f"({RID}) Endpoint response body before transformations: {{\"statusCode\":200,\"body\":\"ok\"}}" in text
    assert f"({RID}) Method response body after transformations: ok" in text
    long = el.lines("INFO", True, _request(body=b"x" * 5000))
    cut = next(line for line in long if "Method request body" in line)
    assert len(cut.encode()) == el.MAX_LINE_BYTES and cut.endswith("[TRUNCATED]")


def test_error_level_logs_failures_only():
    assert el.lines("ERROR", True, _request()) == []
    failed = _request(status=504, error="Execution failed due to a timeout error", integration_ms=None)
    assert el.lines("ERROR", False, failed) == [f"({RID}) Execution failed due to a timeout error",
                                               f"({RID}) Method completed with status: 504"]
    assert el.lines("OFF", True, failed) == []


def test_written_only_with_a_role_and_a_level():
    written = []
    role = [None]
    logs = el.ExecutionLogs(lambda *a: written.append(a), lambda: role[0], clock=lambda: 1.5)
    logs.record({"loggingLevel": "INFO"}, _request())
    assert written == []  # no CloudWatch role on the account: nothing, as on AWS
    role[0] = "arn:aws:iam::123456789012:role/logs"
    logs.record({"loggingLevel": "OFF"}, _request())
    assert written == []
    logs.record({"loggingLevel": "INFO"}, _request())
    groups = {(g, s) for g, s, _, _ in written}
    assert len(groups) == 1
    group, stream = groups.pop()
    assert group == "API-Gateway-Execution-Logs_abc123/live" and len(stream) == 32
    assert written[0][2] == 1500 and written[-1][3].endswith("Method completed with status: 200")


def test_authorizer_lines():
    text = [line.split(") ", 1)[1] for line in el.lines("INFO", False, _request(authorizer="62mgrc"))]
    assert text[1:3] == [f"Starting authorizer: 62mgrc for request: {RID}", "Successfully completed authorizer execution"]
    refused = _request(authorizer="62mgrc", unauthorized=True, status=401, endpoint=None, integration_ms=None)
    assert [line.split(") ", 1)[1] for line in el.lines("INFO", False, refused)] == [
        f"Extended Request Id: {RID}", f"Starting authorizer: 62mgrc for request: {RID}",
        f"Unauthorized request: {RID}", "Method completed with status: 401"]


def _ws(**kw) -> el.WsRequest:
    base = dict(request_id=RID, api_id="ws1", stage="live", route_key="say", event_type="MESSAGE",
                connection_id="Df14mfUXIAMCIyg=", source_ip="1.2.3.4", user_agent="ua", body=b'{"action":"say"}',
                endpoint="https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f/invocations",
                endpoint_body=b"{}", endpoint_answer=b'{"statusCode":200}', integration_ms=5.2, status=200,
                response_body=b"said", error=None)
    base.update(kw)
    return el.WsRequest(**base)


def test_websocket_lines():
    text = [line[len(RID) + 3:] for line in el.websocket_lines("INFO", True, _ws())]
    assert "WebSocket Request Route: [say]" in text
    assert "Method request body before transformations: {\"action\":\"say\"}" in text
    assert "Received response. Integration latency: 5 ms" in text
    assert text[-3:] == ["Method response body after transformations: said", "Successfully completed execution",
                         "Method completed with status: 200"]
    connect = [line[len(RID) + 3:] for line in el.websocket_lines("INFO", False, _ws(event_type="CONNECT",
                                                                                      route_key="$connect"))]
    assert "Client [UserAgent: ua, SourceIp: 1.2.3.4] is connecting to WebSocket API [ws1]." in connect
    assert not any("transformations" in t for t in connect)
    assert el.websocket_lines("ERROR", True, _ws()) == []
    assert el.websocket_lines("OFF", True, _ws(error="boom")) == []
    assert el.websocket_lines("ERROR", False, _ws(error="boom", status=500)) == [
        f"({RID}) boom", f"({RID}) Method completed with status: 500"]
    assert el.websocket_group("ws1", "live") == "/aws/apigateway/ws1/live"


def test_websocket_lines_written_by_route_settings():
    written = []
    logs = el.ExecutionLogs(lambda *a: written.append(a), lambda: "arn:aws:iam::1:role/r", clock=lambda: 1.0)
    logs.record_websocket({"LoggingLevel": "OFF"}, _ws())
    logs.record_websocket({"LoggingLevel": "INFO"}, _ws())
    assert written and {w[0] for w in written} == {"/aws/apigateway/ws1/live"}
    written.clear()
    el.ExecutionLogs(lambda *a: written.append(a), lambda: None).record_websocket({"LoggingLevel": "INFO"}, _ws())
    assert written == []  # no CloudWatch role on the account
