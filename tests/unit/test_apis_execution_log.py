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
