"""WebSocket APIs (apigatewayv2 ``ProtocolType: WEBSOCKET``) against a real ``lamb serve``: boto3 to
create them, a real WebSocket client (wsproto over a socket) to connect, Python functions behind the
routes, and boto3's ``apigatewaymanagementapi`` (from the test and from inside a function) for the
@connections API. Events are compared with AWS's documented shapes
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-overview.html)."""

from __future__ import annotations

import json
import socket
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, RejectConnection, RejectData, Request,
                            TextMessage)

from .conftest import ROLE, LambServer, client_config, create, unique, wait_for

HANDLER = """
import json, boto3

def handler(event, context):
    rc = event["requestContext"]
    print("EVENT " + json.dumps(event))
    route = rc["routeKey"]
    if route == "$connect":
        q = event.get("queryStringParameters") or {}
        if q.get("deny"):
            return {"statusCode": 403}
        if q.get("raise"):
            raise RuntimeError("refused by raising")
        return {"statusCode": 200}
    if route == "$disconnect":
        return {"statusCode": 200}
    if route == "echo":
        return {"statusCode": 200, "body": json.dumps({"route": route, "event": event})}
    if route == "push":
        body = json.loads(event["body"])
        client = boto3.client("apigatewaymanagementapi")  # AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: Lamb
        client.post_to_connection(ConnectionId=rc["connectionId"], Data=json.dumps({"pushed": body["text"]}).encode())
        info = client.get_connection(ConnectionId=rc["connectionId"])
        client.post_to_connection(ConnectionId=rc["connectionId"],
                                  Data=json.dumps({"sourceIp": info["Identity"]["SourceIp"]}).encode())
        return {"statusCode": 200, "body": "one-way: never sent"}
    if route == "trypush":
        try:
            boto3.client("apigatewaymanagementapi").post_to_connection(ConnectionId=rc["connectionId"], Data=b"x")
            return {"statusCode": 200, "body": "posted"}
        except Exception as e:
            return {"statusCode": 200, "body": "refused:" + e.response["Error"]["Code"]}
    if route == "fail":
        raise RuntimeError("boom")
    return {"statusCode": 200, "body": "default:" + event["body"] + ":" + str(event["isBase64Encoded"])}
"""


@pytest.fixture(scope="module")
def server():
    s = LambServer().start()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def fn(server):
    name = unique("ws")
    # The function's role may manage the connections of WebSocket APIs (execute-api:ManageConnections).
    role = server.ensure_role(f"arn:aws:iam::{server.account_id}:role/ws-test", policy={
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:ManageConnections",
             "Resource": f"arn:aws:execute-api:{server.region}:{server.account_id}:*/test/*/@connections/*"}]})
    arn = create(server.client(), name, HANDLER, Role=role)["FunctionArn"]
    server.client().add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com")
    return name, arn


def _api(server, arn: str, routes: list[str], two_way: tuple[str, ...] = ()) -> str:
    v2 = server.client("apigatewayv2")
    api = v2.create_api(Name=unique("wsapi"), ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    api_id = api["ApiId"]
    assert api["ApiEndpoint"] == f"ws://{api_id}.execute-api.{server.region}.localhost:{server.port}"
    integration = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn)
    assert integration["PayloadFormatVersion"] == "1.0"
    for key in routes:
        route = v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration['IntegrationId']}")
        if key in two_way:
            v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="test", AutoDeploy=True)
    return api_id


@pytest.fixture(scope="module")
def api(server, fn):
    return _api(server, fn[1], ["$connect", "$disconnect", "$default", "echo", "push", "fail"], ("echo", "$default"))


class Client:
    """A WebSocket client: wsproto over a plain socket to Lamb's port."""

    def __init__(self, server, api_id: str, stage: str = "test", query: str = "", by_path: bool = False,
                 headers: list[tuple[str, str]] | None = None):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        self.ws = WSConnection(ConnectionType.CLIENT)
        host = f"{api_id}.execute-api.{server.region}.localhost:{server.port}"
        target = f"/_lamb/apis/{api_id}/{stage}" if by_path else f"/{stage}"
        if by_path:
            host = f"127.0.0.1:{server.port}"
        self.sock.sendall(self.ws.send(Request(host=host, target=target + (f"?{query}" if query else ""),
                                               extra_headers=[(b"user-agent", b"lamb-test")] +
                                               [(k.encode(), v.encode()) for k, v in headers or []])))
        self.status: int | None = None
        self.pending: list = []
        self._parts: list = []
        while self.status is None:
            for event in self._events():
                if isinstance(event, AcceptConnection):
                    self.status = 101
                elif isinstance(event, RejectConnection):
                    self.status = event.status_code
                else:
                    self.pending.append(event)

    def _events(self) -> list:
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("the server closed the connection")
        self.ws.receive_data(data)
        return list(self.ws.events())

    def send(self, message) -> None:
        if isinstance(message, dict):
            message = json.dumps(message)
        event = TextMessage(data=message) if isinstance(message, str) else BytesMessage(data=message)
        self.sock.sendall(self.ws.send(event))

    def recv(self):
        """The next whole message (str or bytes), or the CloseConnection event."""
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if isinstance(event, RejectData):
                    continue
                if isinstance(event, CloseConnection):
                    return event
                self._parts.append(event.data)
                if event.message_finished:
                    parts, self._parts = self._parts, []
                    return "".join(parts) if isinstance(parts[0], str) else b"".join(parts)
            self.pending.extend(self._events())

    def recv_json(self) -> dict:
        message = self.recv()
        assert isinstance(message, str), message
        return json.loads(message)

    def close(self) -> None:
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000, reason="bye")))
        except Exception:
            pass
        self.sock.close()


def management(server, api_id: str | None = None, stage: str = "test"):
    """boto3's @connections client at the path-fallback endpoint (or Lamb's port itself)."""
    url = f"{server.url}/_lamb/apis/{api_id}/{stage}" if api_id else server.url
    return boto3.client("apigatewaymanagementapi", endpoint_url=url, region_name=server.region,
                        config=client_config(), **server.credentials())


def logged(server, fn_name: str, connection_id: str, event_type: str) -> dict | None:
    logs = server.client("logs")
    try:
        found = logs.filter_log_events(logGroupName=f"/aws/lambda/{fn_name}", filterPattern=f'"{connection_id}"')
    except ClientError:
        return None
    for e in found["events"]:
        message = e["message"]
        if message.startswith("EVENT "):
            event = json.loads(message[6:])
            if event["requestContext"]["eventType"] == event_type and \
                    event["requestContext"]["connectionId"] == connection_id:
                return event
    return None


def test_management_validation(server, fn):
    v2 = server.client("apigatewayv2")
    with pytest.raises(ClientError) as e:
        v2.create_api(Name="x", ProtocolType="WEBSOCKET")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as e:
        v2.create_api(Name="x", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
                      Target=fn[1])
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    api = v2.create_api(Name="x", ProtocolType="WEBSOCKET", RouteSelectionExpression="${request.body.action}")
    assert v2.get_api(ApiId=api["ApiId"])["ProtocolType"] == "WEBSOCKET"
    with pytest.raises(ClientError) as e:
        v2.create_route(ApiId=api["ApiId"], RouteKey="$other")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as e:
        v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=fn[1],
                              TimeoutInMillis=30_000)
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as e:  # request validation is not served: refused, not ignored
        v2.create_route(ApiId=api["ApiId"], RouteKey="validated", ModelSelectionExpression="$request.body.type")
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    route = v2.create_route(ApiId=api["ApiId"], RouteKey="custom")
    rr = v2.create_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseKey="$default")
    rr.pop("ResponseMetadata")
    assert v2.get_route_responses(ApiId=api["ApiId"], RouteId=route["RouteId"])["Items"] == [rr]
    assert "_responses" not in json.dumps(v2.get_route(ApiId=api["ApiId"], RouteId=route["RouteId"]))
    with pytest.raises(ClientError) as e:
        v2.create_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseKey="$default")
    assert e.value.response["Error"]["Code"] == "ConflictException"
    v2.delete_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseId=rr["RouteResponseId"])
    assert v2.get_route_responses(ApiId=api["ApiId"], RouteId=route["RouteId"])["Items"] == []
    v2.delete_api(ApiId=api["ApiId"])


def test_connect_refused(server, api):
    assert Client(server, api, query="deny=1").status == 403
    assert Client(server, api, query="raise=1").status == 502
    assert Client(server, api, stage="nostage").status == 403


def test_routes_events_and_two_way(server, fn, api):
    c = Client(server, api, query="a=1&a=2&b=x")
    assert c.status == 101
    try:
        c.send({"action": "echo", "n": 1})
        answer = c.recv_json()
        assert answer["route"] == "echo"
        event = answer["event"]
        rc = event["requestContext"]
        assert rc["eventType"] == "MESSAGE" and rc["routeKey"] == "echo" and rc["messageDirection"] == "IN"
        assert rc["apiId"] == api and rc["stage"] == "test" and rc["identity"]["sourceIp"] == "127.0.0.1"
        assert rc["domainName"] == f"{api}.execute-api.{server.region}.localhost"
        assert rc["messageId"] and rc["requestId"] and isinstance(rc["connectedAt"], int)
        assert event["body"] == json.dumps({"action": "echo", "n": 1}) and event["isBase64Encoded"] is False
        connection_id = rc["connectionId"]

        c.send("not json")  # $default (two-way)
        assert c.recv() == "default:not json:False"
        c.send(b"\x00\x01")  # binary: $default, base64
        assert c.recv() == "default:AAE=:True"
        c.send({"action": "fail"})
        failed = c.recv_json()
        assert failed["message"] == "Internal server error" and failed["connectionId"] == connection_id

        c.send({"action": "push", "text": "hello"})  # PostToConnection and GetConnection from inside a function
        assert c.recv_json() == {"pushed": "hello"}
        assert c.recv_json() == {"sourceIp": "127.0.0.1"}

        connect = wait_for(lambda: logged(server, fn[0], connection_id, "CONNECT"), 60, 0.5, what="$connect event")
        assert connect["requestContext"]["routeKey"] == "$connect"
        assert connect["queryStringParameters"] == {"a": "2", "b": "x"}
        assert connect["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
        assert connect["headers"]["user-agent"] == "lamb-test"
        assert connect["multiValueHeaders"]["sec-websocket-version"] == ["13"]
        assert connect["requestContext"]["identity"]["userAgent"] == "lamb-test"
    finally:
        c.close()
    gone = wait_for(lambda: logged(server, fn[0], connection_id, "DISCONNECT"), 60, 0.5, what="$disconnect event")
    assert gone["requestContext"]["routeKey"] == "$disconnect"
    assert gone["requestContext"]["disconnectStatusCode"] == 1000


def test_no_default_route_is_forbidden(server, fn):
    api_id = _api(server, fn[1], ["echo"])
    c = Client(server, api_id, by_path=True)  # no $connect route: accepted
    assert c.status == 101
    try:
        c.send({"action": "other"})
        answer = c.recv_json()
        assert answer["message"] == "Forbidden" and answer["connectionId"] and answer["requestId"]
        c.send({"action": "echo"})  # one-way (no route response): nothing comes back, the next answer is Forbidden
        c.send("plain")
        assert c.recv_json()["message"] == "Forbidden"
    finally:
        c.close()


def test_connections_api(server, api):
    c = Client(server, api)
    assert c.status == 101
    c.send({"action": "echo"})
    connection_id = c.recv_json()["event"]["requestContext"]["connectionId"]
    mgmt = management(server, api)
    info = mgmt.get_connection(ConnectionId=connection_id)
    assert info["Identity"]["SourceIp"] == "127.0.0.1" and info["Identity"]["UserAgent"] == "lamb-test"
    assert info["ConnectedAt"] <= info["LastActiveAt"]
    mgmt.post_to_connection(ConnectionId=connection_id, Data=b'{"from": "outside"}')
    assert c.recv_json() == {"from": "outside"}
    management(server).post_to_connection(ConnectionId=connection_id, Data=b"\xff\xfe")  # Lamb's port: binary
    assert c.recv() == b"\xff\xfe"
    with pytest.raises(ClientError) as e:
        mgmt.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
    # The model's own constraint (Data at most 131072 bytes) answers first, as Lamb's validator does for every model.
    assert e.value.response["Error"]["Code"] == "ValidationException"
    mgmt.delete_connection(ConnectionId=connection_id)
    closed = c.recv()
    assert isinstance(closed, CloseConnection) and closed.code == 1000
    c.sock.close()
    for call in (lambda: mgmt.post_to_connection(ConnectionId=connection_id, Data=b"late"),
                 lambda: mgmt.get_connection(ConnectionId=connection_id),
                 lambda: mgmt.delete_connection(ConnectionId=connection_id)):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "GoneException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_frame_over_32_kb_closes_with_1009(server, api):
    c = Client(server, api)
    assert c.status == 101
    try:
        c.send("x" * (32 * 1024 + 1))
        closed = c.recv()
        assert isinstance(closed, CloseConnection) and closed.code == 1009
    finally:
        c.sock.close()


def test_plain_http_request(server, api):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", "/test", headers={"Host": f"{api}.execute-api.{server.region}.localhost:{server.port}"})
    r = conn.getresponse()
    assert r.status == 426
    r.read()
    conn.close()


def test_manage_connections_needs_the_iam_action(server, fn):
    """A function whose role may not execute-api:ManageConnections gets ForbiddenException."""
    name = unique("wsdenied")
    arn = create(server.client(), name, HANDLER, Role=ROLE)["FunctionArn"]  # lambda:* only
    server.client().add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com")
    denied = _api(server, arn, ["trypush"], ("trypush",))
    c = Client(server, denied)
    try:
        c.send({"action": "trypush"})
        assert c.recv() == "refused:ForbiddenException"
    finally:
        c.close()
    allowed = _api(server, fn[1], ["trypush"], ("trypush",))
    c = Client(server, allowed)
    try:
        c.send({"action": "trypush"})
        assert c.recv() == "x"
        assert c.recv() == "posted"
    finally:
        c.close()


AUTHORIZER = """
import json

def handler(event, context):
    assert event["type"] == "REQUEST" and event["requestContext"]["eventType"] == "CONNECT"
    token = event["queryStringParameters"]["token"]
    if token == "boom":
        raise RuntimeError("authorizer failed")
    effect = "Allow" if token == "good" else "Deny"
    return {"principalId": "user-" + token, "context": {"tier": "gold", "arn": event["methodArn"]},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
"""


def test_connect_authorizer(server, fn):
    name = unique("wsauth")
    auth_arn = create(server.client(), name, AUTHORIZER)["FunctionArn"]
    server.client().add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com")
    api_id = _api(server, fn[1], ["echo"], ("echo",))  # $connect: only the authorizer
    v2 = server.client("apigatewayv2")
    with pytest.raises(ClientError) as e:
        v2.create_authorizer(ApiId=api_id, Name="a", AuthorizerType="REQUEST", AuthorizerUri=auth_arn,
                             IdentitySource=["$request.header.Auth"])
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    auth = v2.create_authorizer(ApiId=api_id, Name="a", AuthorizerType="REQUEST", AuthorizerUri=auth_arn,
                                IdentitySource=["route.request.querystring.token"])
    echo = next(r for r in v2.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "echo")
    with pytest.raises(ClientError) as e:  # authorization only on $connect
        v2.update_route(ApiId=api_id, RouteId=echo["RouteId"], AuthorizationType="CUSTOM",
                        AuthorizerId=auth["AuthorizerId"])
    assert e.value.response["Error"]["Code"] == "BadRequestException"
    v2.create_route(ApiId=api_id, RouteKey="$connect", AuthorizationType="CUSTOM", AuthorizerId=auth["AuthorizerId"])
    assert Client(server, api_id).status == 401
    assert Client(server, api_id, query="token=bad").status == 403
    assert Client(server, api_id, query="token=boom").status == 500
    c = Client(server, api_id, query="token=good")
    assert c.status == 101
    try:
        c.send({"action": "echo"})
        authorizer = c.recv_json()["event"]["requestContext"]["authorizer"]
        assert authorizer["principalId"] == "user-good" and authorizer["tier"] == "gold"
        assert authorizer["arn"] == f"arn:aws:execute-api:{server.region}:{server.account_id}:{api_id}/test/$connect"
        assert isinstance(authorizer["integrationLatency"], int)
    finally:
        c.close()


def test_stage_throttling(server, fn):
    """A route's bucket of one token that refills in hours: the second message (and connection) is
    refused (429 on $connect, AWS's Too Many Requests frame for a message)."""
    api_id = _api(server, fn[1], ["echo"], ("echo",))
    slow = {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.0001}
    server.client("apigatewayv2").update_stage(ApiId=api_id, StageName="test",
                                               RouteSettings={"echo": slow, "$connect": slow})
    c = Client(server, api_id)
    assert c.status == 101
    try:
        assert Client(server, api_id).status == 429
        c.send({"action": "echo"})
        c.send({"action": "echo"})
        answers = [c.recv_json(), c.recv_json()]
        refused = [a for a in answers if a.get("message") == "Too Many Requests"]
        assert len(refused) == 1 and refused[0]["connectionId"] and refused[0]["requestId"]
        assert sum(1 for a in answers if a.get("route") == "echo") == 1
    finally:
        c.close()


def test_metrics(server, fn):
    """AWS/ApiGateway's WebSocket metrics through CloudWatch's API, per route with detailed metrics."""
    api_id = _api(server, fn[1], ["$connect", "echo", "fail"], ("echo",))
    v2 = server.client("apigatewayv2")
    v2.update_stage(ApiId=api_id, StageName="test", DefaultRouteSettings={"DetailedMetricsEnabled": True})
    c = Client(server, api_id)
    assert c.status == 101
    try:
        c.send({"action": "echo"})
        c.recv_json()
        c.send({"action": "fail"})
        assert c.recv_json()["message"] == "Internal server error"
        c.send({"action": "none"})  # no route, no $default
        assert c.recv_json()["message"] == "Forbidden"
    finally:
        c.close()
    cw = server.client("cloudwatch")

    def total(metric: str, statistic: str = "Sum", **dims: str) -> float:
        now = time.time()
        points = cw.get_metric_statistics(
            Namespace="AWS/ApiGateway", MetricName=metric, StartTime=now - 900, EndTime=now + 120, Period=60,
            Statistics=[statistic], Dimensions=[{"Name": k, "Value": v} for k, v in {"ApiId": api_id, **dims}.items()])
        return sum(p[statistic] for p in points["Datapoints"])

    # in: 3 messages; out: the echo's answer and two error frames
    wait_for(lambda: total("MessageCount") == 6, 60, 0.5, what="MessageCount 6")
    assert total("ConnectCount", Stage="test") == 1
    assert total("ClientError", Stage="test", Route="$default") == 1
    assert total("ExecutionError", Stage="test", Route="fail") == 1
    assert total("MessageCount", Stage="test", Route="echo") == 1
    assert total("IntegrationLatency", "SampleCount", Stage="test", Route="echo") == 1


def test_access_log(server, fn):
    """A stage's AccessLogSettings: one line per connect, message and disconnect, read from Lamb's log store."""
    from .test_api_access_logs import lines

    api_id = _api(server, fn[1], ["$connect", "echo"], ("echo",))
    group = unique("/ws/access")
    fmt = ('{"requestId":"$context.requestId","type":"$context.eventType","route":"$context.routeKey",'
           '"status":"$context.status","connectionId":"$context.connectionId","ip":"$context.identity.sourceIp",'
           '"il":"$context.integrationLatency","error":"$context.error.message","messageId":"$context.messageId"}')
    server.client("apigatewayv2").update_stage(ApiId=api_id, StageName="test", AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{server.region}:{server.account_id}:log-group:{group}", "Format": fmt})
    c = Client(server, api_id)
    assert c.status == 101
    try:
        c.send({"action": "echo"})
        connection_id = c.recv_json()["event"]["requestContext"]["connectionId"]
        c.send({"action": "none"})
        assert c.recv_json()["message"] == "Forbidden"
    finally:
        c.close()
    wait_for(lambda: len(lines(server, group)) == 4, 60, 0.2, what="four access log lines")
    by_type = {}
    for line in lines(server, group):
        assert line["connectionId"] == connection_id and line["ip"] == "127.0.0.1" and line["_stream"] == f"{api_id}_test"
        by_type.setdefault(line["type"], []).append(line)
    assert [(x["route"], x["status"]) for x in by_type["CONNECT"]] == [("$connect", "200")]
    assert by_type["CONNECT"][0]["il"].isdigit()
    assert sorted((x["route"], x["status"], x["error"]) for x in by_type["MESSAGE"]) == [
        ("$default", "403", "Forbidden"), ("echo", "200", "-")]
    assert all(x["messageId"] != "-" for x in by_type["MESSAGE"])
    assert [(x["route"], x["status"]) for x in by_type["DISCONNECT"]] == [("$disconnect", "200")]
