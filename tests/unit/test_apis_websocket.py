"""WebSocket APIs' pure parts (route selection, the @connections path, Lambda proxy answers, the
connection's ARN) and one connection's frames and limits over an in-memory transport."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import pytest
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import CloseConnection, Ping, Pong, TextMessage

from lamb.apis import websocket
from lamb.http.server import Request
from lamb.limits import Limits


@pytest.mark.parametrize("expression,text,key", [
    ("$request.body.action", '{"action": "send"}', "send"),
    ("${request.body.action}", '{"action": "send"}', "send"),
    ("$request.body.a.b", '{"a": {"b": 3}}', "3"),
    ("$request.body.action", '{"action": true}', "true"),
    ("$request.body.action", '{"other": 1}', None),
    ("$request.body.action", '{"action": {"x": 1}}', None),
    ("$request.body.action", "not json", None),
    ("$request.body.action", '["action"]', None),
    ("${request.body.version}-beta", '{"version": 2}', "2-beta"),
    ("${request.body.service}/$request.body.action", '{"service": "a", "action": "b"}', "a/b"),
    ("${request.body.service}/$request.body.action", '{"service": "a"}', None),
    ("\\$default", "anything", "$default"),
])
def test_select_route(expression, text, key):
    assert websocket.select_route(expression, text) == key


def test_selection_problem():
    assert websocket.selection_problem("$request.body.action") is None
    assert websocket.selection_problem("${request.body.message.type}") is None
    assert "required" in websocket.selection_problem(None)
    assert websocket.selection_problem("$request.header.x") is not None
    assert websocket.selection_problem("${request.body.v}-beta") is None
    assert websocket.selection_problem("\\$default") is None
    assert websocket.selection_problem("$context.x") is not None


def _req(path: str, auth: str = "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/execute-api/aws4_request, x") -> Request:
    return Request("POST", path, "", {"authorization": auth}, b"", None)  # type: ignore[arg-type]


def test_management_path():
    assert websocket.management_path(_req("/prod/@connections/abc=")) == "/@connections/abc="
    assert websocket.management_path(_req("/@connections/abc=")) == "/@connections/abc="
    assert websocket.management_path(_req("/_lamb/apis/a1/prod/@connections/abc=")) == "/@connections/abc="
    assert websocket.management_path(_req("/a/b/@connections/abc=")) is None  # not a stage prefix
    assert websocket.management_path(_req("/prod/@connections/abc=/x")) is None
    unsigned = _req("/prod/@connections/abc=", auth="")
    assert websocket.management_path(unsigned) is None
    other = _req("/prod/@connections/abc=", auth="AWS4-HMAC-SHA256 Credential=A/20261206/us-east-1/lambda/aws4_request")
    assert websocket.management_path(other) is None


def test_proxy_response():
    assert websocket.proxy_response(b"null") == (200, None, {})
    assert websocket.proxy_response(b'{"statusCode": 403}') == (403, None, {})
    assert websocket.proxy_response(b'{"statusCode": "201", "body": "x", "headers": {"A": 1}}') == (201, "x", {"A": "1"})
    assert websocket.proxy_response(b'{"body": {"a": 1}}') == (200, '{"a": 1}', {})
    assert websocket.proxy_response(b'"text"') == (200, '"text"', {})
    assert websocket.proxy_response(b'{"statusCode": "x"}') is None
    assert websocket.proxy_response(b"{not json") is None


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = False

    def write(self, data) -> None:
        self.out += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


class Result(SimpleNamespace):
    pass


def _server(limits: Limits, answers: dict):
    """A WebSocketServer whose integration answers from ``answers`` (route key -> payload) and
    records the events it got."""
    events: list[dict] = []

    def invoke(function, qualifier, payload, request_id):
        event = json.loads(payload)
        events.append(event)
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(Result(function_error=None, payload=answers.get(event["requestContext"]["routeKey"], b"null")))
        return fut

    target = SimpleNamespace(function="fn", qualifier=None, arn="arn:aws:lambda:us-east-1:1:function:fn")
    targets: list[str] = []
    invoker = websocket.Invoker(lambda arn: targets.append(arn) or target, lambda role, t, source: True, invoke,
                                lambda uri: uri)
    routes = {f"r{i}": {"RouteId": f"r{i}", "RouteKey": key, "Target": "integrations/i1"}
              for i, key in enumerate(["$default", "echo", "$disconnect"])}
    routes["r1"]["_responses"] = {"x": {"RouteResponseKey": "$default"}}
    doc = {"api": {"RouteSelectionExpression": "$request.body.action"},
           "stages": {"dev": {"DeploymentId": "d1"}},
           "deployments": {"d1": {"_snapshot": {"routes": routes, "integrations": {
               "i1": {"IntegrationType": "AWS_PROXY", "IntegrationUri": "${stageVariables.name}", "TimeoutInMillis": 29000}}}}}}
    connections = websocket.Connections()
    server = websocket.WebSocketServer(invoker=invoker, connections=connections, docs=lambda api_id: doc,
                                       domain=lambda api_id: f"{api_id}.example", region="us-east-1",
                                       account_id="1", limits=limits, port=lambda: 9000)
    server.targets = targets  # type: ignore[attr-defined]
    return server, events


def _open(server, connected_at_ms: int | None = None) -> tuple[websocket.WsConnection, Transport, Connection]:
    connected_at_ms = connected_at_ms or int(time.time() * 1000)
    conn = websocket.WsConnection(server, "a1", "dev", "a1.example", "cid=", websocket.Peer("10.0.0.1", "ua"),
                                  connected_at_ms, {"name": "fn"})
    transport = Transport()
    conn.connection_made(transport, b"")
    return conn, transport, Connection(ConnectionType.CLIENT)


def _received(client: Connection, transport: Transport) -> list:
    client.receive_data(bytes(transport.out))
    transport.out.clear()
    return list(client.events())


async def _settle(server) -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    while server._tasks:
        await asyncio.gather(*list(server._tasks))


def test_messages_are_routed_and_two_way_routes_answer():
    async def main():
        server, events = _server(Limits(), {"echo": b'{"statusCode": 200, "body": "echoed"}',
                                            "$default": b'{"statusCode": 200, "body": "one-way"}'})
        conn, transport, client = _open(server)
        assert server.connections.get("cid=") is conn
        conn.data_received(client.send(TextMessage(data='{"action": "echo"}')))
        conn.data_received(client.send(TextMessage(data="plain")))
        conn.data_received(client.send(Ping(payload=b"p")))
        await _settle(server)
        got = _received(client, transport)
        assert [type(e) for e in got] == [Pong, TextMessage] and got[1].data == "echoed"  # $default is one-way
        keys = [e["requestContext"]["routeKey"] for e in events]
        assert keys == ["echo", "$default"]
        assert server.targets == ["fn", "fn"] and events[0]["stageVariables"] == {"name": "fn"}
        rc = events[0]["requestContext"]
        assert rc["eventType"] == "MESSAGE" and rc["connectionId"] == "cid=" and rc["identity"] == {"sourceIp": "10.0.0.1"}
        assert rc["domainName"] == "a1.example" and rc["connectedAt"] == conn.connected_at_ms and rc["messageId"]
        conn.data_received(client.send(CloseConnection(code=1000, reason="bye")))
        await _settle(server)
        assert server.connections.get("cid=") is None and transport.closed
        gone = events[-1]
        assert gone["requestContext"]["eventType"] == "DISCONNECT"
        assert gone["requestContext"]["disconnectStatusCode"] == 1000

    asyncio.run(main())


@pytest.mark.parametrize("frame,message,size", [(16, 1000, 17), (1000, 32, 33)], ids=["frame", "message"])
def test_over_the_frame_or_message_limit_closes_with_1009(frame, message, size):
    async def main():
        server, events = _server(Limits(websocket_frame_max_bytes=frame, websocket_message_max_bytes=message), {})
        conn, transport, client = _open(server)
        if size > frame:  # and a message after it in the same read: not routed once the limit closed it
            conn.data_received(client.send(TextMessage(data="x" * size)) + client.send(TextMessage(data="{}")))
        else:  # several frames of one message
            for i in range(0, size, 8):
                part = "x" * min(8, size - i)
                conn.data_received(client.send(TextMessage(data=part, message_finished=i + 8 >= size)))
        await _settle(server)
        closes = [e for e in _received(client, transport) if isinstance(e, CloseConnection)]
        assert closes and closes[0].code == 1009
        assert server.connections.get("cid=") is None
        assert [e["requestContext"]["eventType"] for e in events] == ["DISCONNECT"]

    asyncio.run(main())


@pytest.mark.parametrize("limits,connected_ago_s", [(Limits(websocket_idle_timeout_s=0), 0),
                                                     (Limits(), Limits().websocket_connection_max_s)],
                         ids=["idle", "duration"])
def test_the_idle_and_duration_limits_close_with_1001_and_posting_after_close_fails(limits, connected_ago_s):
    async def main():
        server, _ = _server(limits, {})
        conn, transport, client = _open(server, int((time.time() - connected_ago_s) * 1000))
        while server.connections.get("cid=") is not None:
            await asyncio.sleep(0.01)
        closes = [e for e in _received(client, transport) if isinstance(e, CloseConnection)]
        assert closes and closes[0].code == 1001
        with pytest.raises(ConnectionError):
            conn.send(b"late")

    asyncio.run(main())


def test_connection_arn_and_info():
    async def main():
        server, _ = _server(Limits(), {})
        conn, _, _ = _open(server, 1_000_000)
        arn = websocket.connection_arn(server.connections, "us-east-1", "1", "cid=", "DeleteConnection")
        assert arn == "arn:aws:execute-api:us-east-1:1:a1/dev/DELETE/@connections/cid="
        assert websocket.connection_arn(server.connections, "us-east-1", "1", "x", "PostToConnection") == \
            "arn:aws:execute-api:us-east-1:1:*/*/POST/@connections/x"
        info = conn.info()
        assert info["ConnectedAt"] == 1000.0 and info["LastActiveAt"] >= 1000.0 and info["Identity"] == {"SourceIp": "10.0.0.1", "UserAgent": "ua"}
        conn.close()

    asyncio.run(main())


def test_a_server_close_ends_the_socket_when_the_client_answers():
    async def main():
        server, _ = _server(Limits(), {})
        conn, transport, client = _open(server)
        conn.close(1000)
        assert not transport.closed and server.connections.get("cid=") is None
        closing = [e for e in _received(client, transport) if isinstance(e, CloseConnection)]
        conn.data_received(client.send(closing[0].response()))
        assert transport.closed

    asyncio.run(main())
