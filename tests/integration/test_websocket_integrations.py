"""WebSocket APIs' non-proxy integrations, AWS_IAM on ``$connect`` and closing on deletion, against a real
``lamb serve`` with real WebSocket clients (``test_websocket_apis.Client``): MOCK, HTTP (a backend the test
runs on loopback), HTTP_PROXY, AWS to a Lambda function (non-proxy) and AWS to SQS (moto's server, a separate
process) with ``RequestTemplates`` picked by ``TemplateSelectionExpression``, ``RequestParameters``,
integration responses selected by ``/regex/`` keys and ``$default``, response templates, ``$context``
variables in templates, and route responses sending the result back
(https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-transformations.html)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError
from wsproto.events import CloseConnection

from .async_support import moto, serving  # noqa: F401  (fixtures)
from .conftest import create, unique, wait_for
from .test_api_integration_credentials import user
from .test_websocket_apis import Client

FUNCTION = """
def handler(event, context):
    print("GOT " + str(event.get("text")))
    if event.get("fail"):
        raise RuntimeError("bad: " + event["fail"])
    return {"reply": "got " + event["text"], "connection": event["connection"]}
"""
TRUST_APIGW = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


class Backend(BaseHTTPRequestHandler):
    """Answers with what it got; ``/status/<n>`` answers with status n."""

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        data = json.dumps({"method": self.command, "path": self.path, "body": body,
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(int(self.path.split("/status/")[1].split("?")[0]) if "/status/" in self.path else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_PUT = do_POST

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def backend():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(moto, tmp_path_factory):  # noqa: F811
    yield from serving(moto.env(), tmp_path_factory, "ws-integrations")


def _api(v2) -> str:
    return v2.create_api(Name=unique("wsint"), ProtocolType="WEBSOCKET",
                         RouteSelectionExpression="$request.body.action")["ApiId"]


def _route(v2, api_id: str, key: str, integration: dict, responses: dict[str, dict] | None = None,
           two_way: bool = True, **route) -> str:
    integ = v2.create_integration(ApiId=api_id, **integration)
    for response_key, fields in (responses or {}).items():
        v2.create_integration_response(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                                       IntegrationResponseKey=response_key, **fields)
    made = v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ['IntegrationId']}", **route)
    if two_way:
        v2.create_route_response(ApiId=api_id, RouteId=made["RouteId"], RouteResponseKey="$default")
    return integ["IntegrationId"]


def _stage(v2, api_id: str, **kw) -> None:
    v2.create_stage(ApiId=api_id, StageName="test", AutoDeploy=True, **kw)


def test_management_of_integration_responses(server):
    v2 = server.client("apigatewayv2")
    api_id = _api(v2)
    integ = v2.create_integration(ApiId=api_id, IntegrationType="MOCK", TemplateSelectionExpression="\\$default",
                                  RequestTemplates={"$default": '{"statusCode": 200}'})
    assert integ["IntegrationType"] == "MOCK" and integ["RequestTemplates"] == {"$default": '{"statusCode": 200}'}
    # "Currently the value is fixed depending on the integrationType" (AWS)
    assert integ["IntegrationResponseSelectionExpression"] == "${integration.response.statuscode}"
    function = v2.create_integration(ApiId=api_id, IntegrationType="AWS", IntegrationUri=(
        f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{server.region}:{server.account_id}:function:f/invocations"))
    assert function["IntegrationResponseSelectionExpression"] == "${integration.response.body.errorMessage}"
    made = v2.create_integration_response(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                                          IntegrationResponseKey="/2\\d\\d/", ResponseTemplates={"$default": "ok"},
                                          TemplateSelectionExpression="\\$default")
    made.pop("ResponseMetadata")
    assert made["IntegrationResponseKey"] == "/2\\d\\d/"
    got = v2.get_integration_response(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                                      IntegrationResponseId=made["IntegrationResponseId"])
    got.pop("ResponseMetadata")
    assert got == made
    assert v2.get_integration_responses(ApiId=api_id, IntegrationId=integ["IntegrationId"])["Items"] == [made]
    assert "_responses" not in json.dumps(v2.get_integration(ApiId=api_id, IntegrationId=integ["IntegrationId"]))
    with pytest.raises(ClientError) as e:
        v2.create_integration_response(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                                       IntegrationResponseKey="/2\\d\\d/")
    assert e.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as e:
        v2.create_integration_response(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                                       IntegrationResponseKey="200")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    updated = v2.update_integration_response(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                                             IntegrationResponseId=made["IntegrationResponseId"],
                                             ResponseTemplates={"$default": "changed"})
    assert updated["ResponseTemplates"] == {"$default": "changed"}
    v2.delete_integration_response(ApiId=api_id, IntegrationId=integ["IntegrationId"],
                                   IntegrationResponseId=made["IntegrationResponseId"])
    assert v2.get_integration_responses(ApiId=api_id, IntegrationId=integ["IntegrationId"])["Items"] == []
    for bad in ({"IntegrationType": "HTTP", "IntegrationUri": "not a url", "IntegrationMethod": "POST"},
                {"IntegrationType": "MOCK", "RequestParameters": {"integration.request.header.x": "nowhere.x"}},
                {"IntegrationType": "AWS_PROXY", "IntegrationUri": "arn:aws:lambda:us-east-1:1:function:f",
                 "RequestTemplates": {"$default": "x"}}):
        with pytest.raises(ClientError) as e:
            v2.create_integration(ApiId=api_id, **bad)
        assert e.value.response["Error"]["Code"] == "BadRequestException", bad
    http_api = v2.create_api(Name=unique("http"), ProtocolType="HTTP")["ApiId"]
    proxy = v2.create_integration(ApiId=http_api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                  IntegrationUri="http://127.0.0.1:1/x")
    with pytest.raises(ClientError) as e:
        v2.create_integration_response(ApiId=http_api, IntegrationId=proxy["IntegrationId"],
                                       IntegrationResponseKey="$default")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    v2.delete_api(ApiId=http_api)
    v2.delete_api(ApiId=api_id)


def test_mock_integrations_with_context_variables(server):
    v2 = server.client("apigatewayv2")
    api_id = _api(v2)
    _route(v2, api_id, "$connect", {"IntegrationType": "MOCK", "TemplateSelectionExpression": "\\$default",
                                    "RequestTemplates": {"$default": '{"statusCode": 200}'}},
           {"$default": {}}, two_way=False)
    _route(v2, api_id, "hello", {"IntegrationType": "MOCK", "TemplateSelectionExpression": "${request.body.mood}",
                                 "RequestTemplates": {"angry": '{"statusCode": 418}',
                                                      "$default": '{"statusCode": 200}'}},
           {"$default": {"TemplateSelectionExpression": "\\$default", "ResponseTemplates": {"$default": (
               '{"connectionId": "$context.connectionId", "routeKey": "$context.routeKey", '
               '"eventType": "$context.eventType", "stage": "$context.stage", "apiId": "$context.apiId", '
               '"messageId": "$context.messageId", "color": "$stageVariables.color"}')}},
            "/4\\d\\d/": {"ResponseTemplates": {"$default": "teapot $context.requestId"}}})
    _route(v2, api_id, "quiet", {"IntegrationType": "MOCK"}, {"$default": {"ResponseTemplates": {"$default": "x"}}},
           two_way=False)
    _route(v2, api_id, "nomatch", {"IntegrationType": "MOCK", "RequestTemplates": {"$default": '{"statusCode": 500}'}},
           {"/2\\d\\d/": {"ResponseTemplates": {"$default": "never"}}})
    _stage(v2, api_id, StageVariables={"color": "blue"})
    c = Client(server, api_id)
    try:
        assert c.status == 101
        c.send({"action": "hello", "mood": "calm"})
        got = c.recv_json()
        assert got["routeKey"] == "hello" and got["eventType"] == "MESSAGE" and got["stage"] == "test"
        assert got["apiId"] == api_id and got["color"] == "blue"
        assert len(got["connectionId"]) == 16 and got["messageId"] and got["messageId"] != got["connectionId"]
        c.send({"action": "hello", "mood": "angry"})
        teapot = c.recv()
        assert teapot.startswith("teapot ") and len(teapot) > len("teapot ")
        c.send({"action": "quiet"})  # one-way: nothing comes back; the next answer is the next route's
        c.send({"action": "nomatch"})  # no integration response for 500: the integration failed
        failed = c.recv_json()
        assert failed["message"] == "Internal server error" and failed["connectionId"] == got["connectionId"]
    finally:
        c.close()
    v2.delete_api(ApiId=api_id)


def test_http_and_http_proxy_integrations(server, backend):
    v2 = server.client("apigatewayv2")
    api_id = _api(v2)
    _route(v2, api_id, "$connect", {"IntegrationType": "MOCK"}, {"$default": {}}, two_way=False)
    _route(v2, api_id, "ask", {
        "IntegrationType": "HTTP", "IntegrationMethod": "POST", "IntegrationUri": backend + "/status/{code}",
        "TemplateSelectionExpression": "${request.body.kind}",
        "RequestTemplates": {"greet": '{"hello": $input.json(\'$.name\'), "conn": "$context.connectionId"}',
                             "$default": '{"other": "$input.path(\'$.kind\')"}'},
        "RequestParameters": {"integration.request.path.code": "route.request.body.code",
                              "integration.request.querystring.who": "route.request.querystring.who",
                              "integration.request.header.X-Route": "context.routeKey",
                              "integration.request.header.X-Color": "stageVariables.color",
                              "integration.request.header.X-Fixed": "'fixed'"}},
        {"/2\\d\\d/": {"TemplateSelectionExpression": "\\$default", "ResponseTemplates": {"$default": (
            '{"status": "ok", "sent": $input.json(\'$.body\'), "path": "$input.path(\'$.path\')", '
            '"route": "$input.path(\'$.headers.x-route\')", "color": "$input.path(\'$.headers.x-color\')", '
            '"fixed": "$input.path(\'$.headers.x-fixed\')"}')}},
         "/4\\d\\d/": {"ResponseTemplates": {"$default": '{"status": "client error"}'}},
         "$default": {"ResponseTemplates": {"$default": '{"status": "other"}'}}})
    _route(v2, api_id, "proxy", {"IntegrationType": "HTTP_PROXY", "IntegrationMethod": "PUT",
                                 "IntegrationUri": backend + "/proxied"})
    _stage(v2, api_id, StageVariables={"color": "green"})
    c = Client(server, api_id, query="who=me")
    try:
        assert c.status == 101
        c.send({"action": "ask", "kind": "greet", "name": "Ann", "code": "201"})
        got = c.recv_json()
        assert got["status"] == "ok" and got["path"] == "/status/201?who=me", got
        sent = json.loads(got["sent"])
        assert sent["hello"] == "Ann" and len(sent["conn"]) == 16
        assert (got["route"], got["color"], got["fixed"]) == ("ask", "green", "fixed")
        c.send({"action": "ask", "kind": "other", "code": "404"})
        assert c.recv_json() == {"status": "client error"}
        c.send({"action": "ask", "kind": "other", "code": "503"})
        assert c.recv_json() == {"status": "other"}
        c.send(json.dumps({"action": "proxy", "raw": 1}))
        proxied = c.recv_json()
        assert proxied["method"] == "PUT" and proxied["path"] == "/proxied"
        assert json.loads(proxied["body"]) == {"action": "proxy", "raw": 1}
    finally:
        c.close()
    v2.delete_api(ApiId=api_id)


def test_lambda_non_proxy_integration(server):
    name = unique("wsfn")
    arn = create(server.client(), name, FUNCTION)["FunctionArn"]
    server.client().add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com")
    v2 = server.client("apigatewayv2")
    api_id = _api(v2)
    uri = f"arn:aws:apigateway:{server.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    _route(v2, api_id, "$default", {
        "IntegrationType": "AWS", "IntegrationUri": uri,
        "RequestTemplates": {"$default": '{"text": $input.json(\'$.text\'), "fail": $input.json(\'$.fail\'), '
                                         '"connection": "$context.connectionId"}'}},
        {"$default": {"ResponseTemplates": {"$default": '{"answer": $input.json(\'$.reply\'), '
                                                        '"same": "$input.path(\'$.connection\')"}'}},
         "/bad: .*/": {"ResponseTemplates": {"$default": "refused: $input.path('$.errorMessage')"}}})
    _route(v2, api_id, "later", {  # the Invoke call's X-Amz-Invocation-Type mapped to Event, as REST APIs do
        "IntegrationType": "AWS", "IntegrationUri": uri,
        "RequestParameters": {"integration.request.header.X-Amz-Invocation-Type": "'Event'"},
        "RequestTemplates": {"$default": '{"text": "queued-$context.messageId", "connection": ""}'}},
        {"$default": {"ResponseTemplates": {"$default": "accepted"}}})
    _stage(v2, api_id)
    c = Client(server, api_id)
    try:
        assert c.status == 101
        c.send({"text": "hi", "fail": None})
        got = c.recv_json()
        assert got["answer"] == "got hi" and len(got["same"]) == 16
        c.send({"text": "x", "fail": "thing"})
        assert c.recv() == "refused: bad: thing"
        c.send({"action": "later"})
        assert c.recv() == "accepted"
        logs = server.client("logs")

        def ran() -> bool:
            try:
                return bool(logs.filter_log_events(logGroupName=f"/aws/lambda/{name}",
                                                   filterPattern='"GOT queued-"')["events"])
            except ClientError:  # the group is not there yet
                return False

        wait_for(ran, 60, 0.5, "the Event invocation to run")
    finally:
        c.close()
    v2.delete_api(ApiId=api_id)


def test_sqs_and_dynamodb_integrations(server, moto):  # noqa: F811
    name = unique("wsq")
    url, _ = moto.queue(name)
    account = url.rstrip("/").split("/")[-2]
    role = server.ensure_role(f"arn:aws:iam::{server.account_id}:role/{unique('wsapigw')}", trust=TRUST_APIGW,
                              policy={"Version": "2012-10-17", "Statement": [
                                  {"Effect": "Allow", "Action": ["sqs:SendMessage", "dynamodb:PutItem"],
                                   "Resource": "*"}]})
    table = unique("wsitems")
    dynamodb = moto.client("dynamodb")
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    v2 = server.client("apigatewayv2")
    api_id = _api(v2)
    _route(v2, api_id, "enqueue", {
        "IntegrationType": "AWS", "IntegrationMethod": "POST", "CredentialsArn": role,
        "IntegrationUri": f"arn:aws:apigateway:{server.region}:sqs:path/{account}/{name}",
        "RequestParameters": {"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
        "TemplateSelectionExpression": "\\$default",
        "RequestTemplates": {"$default": "Action=SendMessage&MessageBody=$util.urlEncode($input.json('$.item'))"
                                         "&MessageAttribute.1.Name=connection&MessageAttribute.1.Value.DataType=String"
                                         "&MessageAttribute.1.Value.StringValue=$context.connectionId"}},
        {"/2\\d\\d/": {"ResponseTemplates": {"$default": '{"queued": true}'}},
         "$default": {"ResponseTemplates": {"$default": "not queued"}}})
    _route(v2, api_id, "save", {  # DynamoDB PutItem (an action form), the item keyed by the connection
        "IntegrationType": "AWS", "IntegrationMethod": "POST", "CredentialsArn": role,
        "IntegrationUri": f"arn:aws:apigateway:{server.region}:dynamodb:action/PutItem",
        "RequestTemplates": {"$default": '{"TableName": "' + table + '", "Item": {"id": {"S": '
                                         '"$context.connectionId"}, "note": {"S": "$input.path(\'$.note\')"}}}'}},
        {"/2\\d\\d/": {"ResponseTemplates": {"$default": "saved"}},
         "/4\\d\\d/": {"ResponseTemplates": {"$default": "refused $input.path('$.__type')"}}})
    _stage(v2, api_id)
    c = Client(server, api_id)
    try:
        assert c.status == 101
        c.send({"action": "enqueue", "item": {"id": 7}})
        assert c.recv_json() == {"queued": True}
        messages = moto.receive(url, timeout=60)
        assert [json.loads(m["Body"]) for m in messages] == [{"id": 7}]
        connection_id = messages[0]["MessageAttributes"]["connection"]["StringValue"]
        assert len(connection_id) == 16
        c.send({"action": "save", "note": "kept"})
        assert c.recv() == "saved"
        assert dynamodb.get_item(TableName=table, Key={"id": {"S": connection_id}})["Item"] == {
            "id": {"S": connection_id}, "note": {"S": "kept"}}
    finally:
        c.close()
    v2.delete_api(ApiId=api_id)


def _signed_headers(server, api_id: str, creds) -> list[tuple[str, str]]:
    host = f"{api_id}.execute-api.{server.region}.localhost:{server.port}"
    req = AWSRequest("GET", f"http://{host}/test")
    SigV4Auth(creds, "execute-api", server.region).add_auth(req)
    return [(k, v) for k, v in req.headers.items() if k.lower() != "host"]


def test_aws_iam_on_connect(server):
    from botocore.credentials import Credentials

    v2 = server.client("apigatewayv2")
    api_id = _api(v2)
    connect_arn = f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/test/$connect"
    _route(v2, api_id, "$connect", {"IntegrationType": "MOCK"}, {"$default": {}}, two_way=False,
           AuthorizationType="AWS_IAM")
    _route(v2, api_id, "who", {"IntegrationType": "MOCK"}, {"$default": {"ResponseTemplates": {
        "$default": '{"userArn": "$context.identity.userArn"}'}}})
    with pytest.raises(ClientError) as e:  # AWS_IAM only on $connect
        v2.create_route(ApiId=api_id, RouteKey="other", AuthorizationType="AWS_IAM")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    _stage(v2, api_id)
    allowed_arn, allowed = user(server, {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": connect_arn})
    _, denied = user(server, {"Effect": "Allow", "Action": "execute-api:Invoke",
                              "Resource": f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/other/*"})
    assert Client(server, api_id).status == 403  # not signed
    assert Client(server, api_id, headers=_signed_headers(server, api_id, denied)).status == 403
    bad = Credentials(allowed.access_key, "wrong" + allowed.secret_key)
    assert Client(server, api_id, headers=_signed_headers(server, api_id, bad)).status == 403
    c = Client(server, api_id, headers=_signed_headers(server, api_id, allowed))
    try:
        assert c.status == 101
        c.send({"action": "who"})
        assert c.recv_json() == {"userArn": allowed_arn}
    finally:
        c.close()
    # Signed in the query string (SigV4 presigning), as browser clients do.
    host = f"{api_id}.execute-api.{server.region}.localhost:{server.port}"
    req = AWSRequest("GET", f"http://{host}/test")
    SigV4QueryAuth(allowed, "execute-api", server.region, expires=300).add_auth(req)
    c = Client(server, api_id, query=req.url.split("?", 1)[1])
    try:
        assert c.status == 101
    finally:
        c.close()
    v2.delete_api(ApiId=api_id)


def _closed(c: Client) -> CloseConnection:
    got = c.recv()
    assert isinstance(got, CloseConnection), got
    return got


def test_connections_close_when_their_stage_or_api_is_deleted(server):
    v2 = server.client("apigatewayv2")
    api_id = _api(v2)
    _route(v2, api_id, "$default", {"IntegrationType": "MOCK"}, {"$default": {"ResponseTemplates": {"$default": "up"}}})
    _stage(v2, api_id)
    v2.create_stage(ApiId=api_id, StageName="other", AutoDeploy=True)
    first, second = Client(server, api_id), Client(server, api_id, stage="other")
    try:
        assert first.status == second.status == 101
        v2.delete_stage(ApiId=api_id, StageName="other")
        assert _closed(second).code == 1001
        first.send("still there?")
        assert first.recv() == "up"  # the other stage's connection stays
        v2.delete_api(ApiId=api_id)
        assert _closed(first).code == 1001
        assert Client(server, api_id).status != 101  # the API is gone
    finally:
        first.close()
        second.close()


def test_execution_logs_by_route_settings(server):
    v2, apigw, logs, iam = (server.client(s) for s in ("apigatewayv2", "apigateway", "logs", "iam"))
    api_id = _api(v2)
    _route(v2, api_id, "$connect", {"IntegrationType": "MOCK"}, {"$default": {}}, two_way=False)
    _route(v2, api_id, "$default", {"IntegrationType": "MOCK"},
           {"$default": {"ResponseTemplates": {"$default": "echoed $context.routeKey"}}})
    for key in ("failing", "quiet"):
        _route(v2, api_id, key, {"IntegrationType": "MOCK", "RequestTemplates": {"$default": (
            '{"statusCode": 500}' if key == "failing" else '{"statusCode": 200}')}},
            {"/2\\d\\d/": {"ResponseTemplates": {"$default": f"{key} answered"}}})
    _stage(v2, api_id, DefaultRouteSettings={"LoggingLevel": "INFO", "DataTraceEnabled": True},
           RouteSettings={"failing": {"LoggingLevel": "ERROR"}, "quiet": {"LoggingLevel": "ERROR"}})
    group = f"/aws/apigateway/{api_id}/test"

    def events() -> list[str]:
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            return []
        return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]

    role = iam.create_role(RoleName=unique("wslogs"), AssumeRolePolicyDocument=json.dumps(TRUST_APIGW))["Role"]["Arn"]
    previous = apigw.get_account().get("cloudwatchRoleArn")
    apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
    try:
        c = Client(server, api_id)
        try:
            assert c.status == 101
            c.send("hello there")
            assert c.recv() == "echoed $default"
            c.send({"action": "quiet"})
            assert c.recv() == "quiet answered"
            c.send({"action": "failing"})
            assert c.recv_json()["message"] == "Internal server error"
        finally:
            c.close()
        wait_for(lambda: any("No match for output mapping" in e for e in events()) and
                 sum("WebSocket Request Route: [$connect]" in e for e in events()) == 1, 60, 0.2,
                 "the execution log lines")
        lines = events()
        assert any(e.endswith(f"is connecting to WebSocket API [{api_id}].") for e in lines), lines
        assert any("WebSocket Request Route: [$default]" in e for e in lines)
        assert any(e.endswith("Method request body before transformations: hello there") for e in lines)
        assert any(e.endswith("Method response body after transformations: echoed $default") for e in lines)
        assert not any("quiet" in e for e in lines)  # ERROR: a message that did not fail writes nothing
        assert not any("WebSocket Request Route: [failing]" in e for e in lines)  # ERROR: only the failure
        failing = [e for e in lines if "No match for output mapping" in e]
        rid = failing[0][1:failing[0].index(")")]
        assert [e for e in lines if e.startswith(f"({rid})")][-1] == f"({rid}) Method completed with status: 500"
    finally:
        apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                               "value": previous or ""}])
    v2.delete_api(ApiId=api_id)


def test_api_keys_and_usage_plans(server):
    v2, apigw = server.client("apigatewayv2"), server.client("apigateway")
    with pytest.raises(ClientError) as e:
        v2.create_api(Name="x", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
                      ApiKeySelectionExpression="$request.querystring.key")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    api_id = _api(v2)
    _route(v2, api_id, "$connect", {"IntegrationType": "MOCK"}, {"$default": {}}, two_way=False, ApiKeyRequired=True)
    _route(v2, api_id, "paid", {"IntegrationType": "MOCK"}, {"$default": {"ResponseTemplates": {
        "$default": '{"keyId": "$context.identity.apiKeyId"}'}}}, ApiKeyRequired=True)
    _route(v2, api_id, "free", {"IntegrationType": "MOCK"}, {"$default": {"ResponseTemplates": {"$default": "free"}}})
    _stage(v2, api_id)
    key = apigw.create_api_key(name=unique("wskey"), enabled=True)
    stray = apigw.create_api_key(name=unique("stray"), enabled=True)  # in no plan
    plan = apigw.create_usage_plan(name=unique("wsplan"), apiStages=[{"apiId": api_id, "stage": "test"}],
                                   quota={"limit": 3, "period": "DAY"})
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    try:
        assert Client(server, api_id).status == 403
        assert Client(server, api_id, headers=[("x-api-key", stray["value"])]).status == 403
        assert Client(server, api_id, headers=[("x-api-key", "x" * 40)]).status == 403
        c = Client(server, api_id, headers=[("x-api-key", key["value"])])  # the quota's first request
        try:
            assert c.status == 101
            c.send({"action": "paid"})
            assert c.recv_json() == {"keyId": key["id"]}
            c.send({"action": "paid"})
            assert c.recv_json() == {"keyId": key["id"]}
            c.send({"action": "paid"})  # the fourth request of a quota of three
            refused = c.recv_json()
            assert refused["message"] == "Limit Exceeded" and refused["connectionId"], refused
            c.send({"action": "free"})  # a route without ApiKeyRequired is not counted
            assert c.recv() == "free"
        finally:
            c.close()
        assert Client(server, api_id, headers=[("x-api-key", key["value"])]).status == 429
    finally:
        apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
            {"op": "remove", "path": "/apiStages", "value": f"{api_id}:test"}])
        apigw.delete_usage_plan(usagePlanId=plan["id"])
    v2.delete_api(ApiId=api_id)


KEY_AUTHORIZER = """
def handler(event, context):
    token = (event.get("queryStringParameters") or {}).get("token", "")
    return {"principalId": "u", "usageIdentifierKey": token,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]}}
"""


def test_api_key_from_the_authorizer_and_a_mock_connect_refusing(server):
    v2, apigw = server.client("apigatewayv2"), server.client("apigateway")
    name = unique("wskeyauth")
    auth_arn = create(server.client(), name, KEY_AUTHORIZER)["FunctionArn"]
    server.client().add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com")
    api_id = v2.create_api(Name=unique("wskeys"), ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
                           ApiKeySelectionExpression="$context.authorizer.usageIdentifierKey")["ApiId"]
    auth = v2.create_authorizer(ApiId=api_id, Name="k", AuthorizerType="REQUEST", AuthorizerUri=auth_arn,
                                IdentitySource=["route.request.querystring.token"])
    _route(v2, api_id, "$connect", {"IntegrationType": "MOCK", "TemplateSelectionExpression": "\\$default",
                                    "RequestTemplates": {"$default": '{"statusCode": 200}'}},
           {"$default": {}}, two_way=False, ApiKeyRequired=True, AuthorizationType="CUSTOM",
           AuthorizerId=auth["AuthorizerId"])
    _route(v2, api_id, "whoami", {"IntegrationType": "MOCK"}, {"$default": {"ResponseTemplates": {
        "$default": '{"key": "$context.identity.apiKeyId", "principal": "$context.authorizer.principalId"}'}}})
    _stage(v2, api_id)
    key = apigw.create_api_key(name=unique("wsakey"), enabled=True)
    plan = apigw.create_usage_plan(name=unique("wsaplan"), apiStages=[{"apiId": api_id, "stage": "test"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    try:
        assert Client(server, api_id, query="token=" + "y" * 30).status == 403  # a key no plan holds
        c = Client(server, api_id, query="token=" + key["value"])
        try:
            assert c.status == 101
            c.send({"action": "whoami"})
            assert c.recv_json() == {"key": key["id"], "principal": "u"}
        finally:
            c.close()
    finally:
        apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
            {"op": "remove", "path": "/apiStages", "value": f"{api_id}:test"}])
        apigw.delete_usage_plan(usagePlanId=plan["id"])
    v2.delete_api(ApiId=api_id)
    # A MOCK $connect whose request template sets 403: the handshake is refused with it.
    api_id = _api(v2)
    _route(v2, api_id, "$connect", {"IntegrationType": "MOCK", "RequestTemplates": {
        "$default": '{"statusCode": #if($input.params(\'let\') == "in")200#{else}403#end}'}}, {"$default": {}},
        two_way=False)
    _stage(v2, api_id)
    assert Client(server, api_id).status == 403
    c = Client(server, api_id, query="let=in")
    try:
        assert c.status == 101
    finally:
        c.close()
    v2.delete_api(ApiId=api_id)
