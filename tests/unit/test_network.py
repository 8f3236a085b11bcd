"""lamb.sandbox.network: modes, and namespaces with Lamb's listeners inside (needs root, as the linux sandbox)."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from lamb.sandbox import network


def test_modes_and_fallback():
    assert network.choose_mode(None)[0] == "host"  # isolated is opt-in (bursts, see docs/status.md)
    assert network.choose_mode("isolated") == ("isolated", "")  # this host has nft and namespaces
    assert network.choose_mode("none") == ("none", "")
    assert network.choose_mode("host") == ("host", "")
    with pytest.raises(ValueError):
        network.choose_mode("bridge")


def test_socket_netns_tells_namespaces_apart():
    with socket.socket() as s:
        assert network.socket_netns(s) == os.stat("/proc/self/ns/net").st_ino


def test_pool_makes_namespaces_with_lambs_listeners_inside():
    async def run():
        loop = asyncio.get_running_loop()
        accepted = []

        async def serve(sock):
            return await loop.create_server(lambda: _Record(accepted), sock=sock)

        with socket.socket() as host_side:
            host_side.bind(("127.0.0.1", 0))
            port = host_side.getsockname()[1]
            pool = network.NetworkPool("none", spares=1)
            pool.start(loop, [(port, serve)])
            try:
                ns = pool.take()
                assert ns.iface is None  # "none": loopback only
                inside = network.socket_netns(ns.sockets[0])
                assert inside == ns.ino != network.socket_netns(host_side)
                assert ns.sockets[0].getsockname() == ("127.0.0.1", port)
                pool.release(ns)
                assert ns.fd == -1 and ns.sockets == []
            finally:
                pool.close()

    asyncio.run(run())


class _Record(asyncio.Protocol):
    def __init__(self, into: list):
        self.into = into

    def connection_made(self, transport):
        self.into.append(transport)
