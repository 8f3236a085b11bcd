"""The @connections handlers (PostToConnection, GetConnection, DeleteConnection) over an open
connection of the account and region's registry, and GoneException once it is gone."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from wsproto.events import BytesMessage, CloseConnection, TextMessage

from lamb.api import apigatewaymanagement as mgmt
from lamb.limits import Limits
from lamb.protocol.errors import AwsError

from .test_apis_websocket import _open, _server


def _ctx(connections):
    return SimpleNamespace(lamb=SimpleNamespace(http_apis=SimpleNamespace(websockets=connections),
                                                settings=SimpleNamespace(limits=Limits(websocket_message_max_bytes=8))))


def test_post_get_delete_and_gone():
    async def main():
        server, _ = _server(Limits(), {})
        conn, transport, client = _open(server)
        ctx = _ctx(server.connections)
        assert mgmt.post_to_connection(ctx, {"ConnectionId": "cid=", "Data": b"hi"}) == {}
        assert mgmt.post_to_connection(ctx, {"ConnectionId": "cid=", "Data": b"\xff"}) == {}
        client.receive_data(bytes(transport.out))
        transport.out.clear()
        got = list(client.events())
        assert isinstance(got[0], TextMessage) and got[0].data == "hi"
        assert isinstance(got[1], BytesMessage) and got[1].data == b"\xff"
        with pytest.raises(AwsError) as e:
            mgmt.post_to_connection(ctx, {"ConnectionId": "cid=", "Data": b"123456789"})
        assert (e.value.code, e.value.status) == ("PayloadTooLargeException", 413)
        info = mgmt.get_connection(ctx, {"ConnectionId": "cid="})
        assert info["Identity"]["SourceIp"] == "10.0.0.1"
        assert mgmt.delete_connection(ctx, {"ConnectionId": "cid="}) == {}
        client.receive_data(bytes(transport.out))
        closes = [e for e in client.events() if isinstance(e, CloseConnection)]
        assert closes and closes[0].code == 1000
        for op, params in ((mgmt.post_to_connection, {"Data": b"x"}), (mgmt.get_connection, {}),
                           (mgmt.delete_connection, {})):
            with pytest.raises(AwsError) as e:
                op(ctx, {"ConnectionId": "cid=", **params})
            assert (e.value.code, e.value.status, e.value.message) == ("GoneException", 410, "")

    asyncio.run(main())
