"""WebSocket APIs: a message's round trip through a two-way route beside the same function's Invoke.

    python benchmarks/websocket.py [--endpoint http://127.0.0.1:9000] [--requests 5000]

Without --endpoint it starts its own ``lamb serve`` (and stops it afterwards). It creates one function
answering ``{"statusCode": 200, "body": "hello"}`` and a WebSocket API whose ``$default`` route (with a
route response: two-way) integrates it, deployed to stage ``bench``. It opens one WebSocket connection
(wsproto over a socket with TCP_NODELAY, as the tests' client) and one keep-alive HTTP connection, warms
both, then measures in the same run, in alternating blocks of 500, sequential latency (p50/p90/p99):
``message`` = send a text frame, receive the answer frame (route selection, the MESSAGE event, the
invocation, the answer frame); ``invoke`` = a signed Invoke of the same warm function with a payload
of the same size.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function_url import alternating, summary  # noqa: E402
from invoke_latency import (boto_kw, call, connect, create_function, latency_args, start_server,  # noqa: E402
                            stop_server, use_endpoint, zip_of)

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hello'}\n"


def make_api(endpoint: str, name: str) -> str:
    import boto3

    kw = boto_kw(endpoint)
    v2 = boto3.client("apigatewayv2", **kw)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    api = v2.create_api(Name="bench-ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    integ = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn)
    route = v2.create_route(ApiId=api["ApiId"], RouteKey="$default", Target=f"integrations/{integ['IntegrationId']}")
    v2.create_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api["ApiId"], StageName="bench", AutoDeploy=True)
    boto3.client("lambda", **kw).add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                                Principal="apigateway.amazonaws.com")
    return api["ApiId"]


class Ws:
    def __init__(self, endpoint: str, api_id: str) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, Request

        host, port = endpoint.split("//", 1)[1].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=f"{api_id}.execute-api.us-east-1.localhost:{port}", target="/bench")))
        while not any(isinstance(e, AcceptConnection) for e in self._events()):
            pass

    def _events(self) -> list:
        self.ws.receive_data(self.sock.recv(65536))
        return list(self.ws.events())

    def round_trip(self, text: str) -> str:
        from wsproto.events import TextMessage

        self.sock.sendall(self.ws.send(TextMessage(data=text)))
        while True:
            for e in self._events():
                if isinstance(e, TextMessage):
                    return e.data


def measure(endpoint: str, api_id: str, name: str, n: int, block: int = 500) -> dict[str, list[float]]:
    ws = Ws(endpoint, api_id)
    http = connect(endpoint)
    message = json.dumps({"action": "other", "n": 1})
    path = f"/2015-03-31/functions/{name}/invocations"

    def one(kind: str) -> int:
        if kind == "message":
            assert ws.round_trip(message) == "hello"
            return 200
        return call(http, "POST", path, message.encode())[0]

    return alternating({kind: functools.partial(one, kind) for kind in ("message", "invoke")}, n, block)


def main() -> None:
    args = latency_args().parse_args()
    proc = data = None
    endpoint = args.endpoint and use_endpoint(args.endpoint)
    if endpoint is None:
        proc, endpoint, data = start_server()
    try:
        name = f"bench-ws-{os.getpid()}"
        create_function(endpoint, name, args.runtime, {"Code": {"ZipFile": zip_of(HANDLER)}})
        lat = measure(endpoint, make_api(endpoint, name), name, args.requests)
        message, invoke = summary(lat["message"]), summary(lat["invoke"])
        print(json.dumps({"sequential_ms": {"message": message, "invoke": invoke,
                                            "message_over_invoke_p50": round(message["p50"] / invoke["p50"], 3)}}))
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
