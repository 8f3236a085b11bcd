"""lamb.sandbox.network: modes, and namespaces with Lamb's listeners inside (needs root, as the linux sandbox)."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from lamb.sandbox import network


def test_modes_and_fallback():
    assert network.choose_mode(None) == ("isolated", "")  # the default: this host has nft and namespaces
    assert network.choose_mode("isolated") == ("isolated", "")
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
                ns = await pool.acquire()
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


def test_a_burst_waits_for_namespaces_in_order_without_blocking_the_loop():
    """No spares at all: every start waits for the maker, the loop keeps running, none fails."""
    async def run():
        loop = asyncio.get_running_loop()
        pool = network.NetworkPool("none", spares=0)
        pool.start(loop, [])
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        clock = asyncio.ensure_future(ticker())
        try:
            starts = [asyncio.ensure_future(pool.acquire()) for _ in range(12)]
            await asyncio.sleep(0)
            assert pool.waiting() == 12
            got = await asyncio.wait_for(asyncio.gather(*starts), 60)
            assert len({ns.ino for ns in got}) == 12 and pool.waiting() == 0
            assert ticks > 12  # the loop ran while they waited
            for ns in got:
                pool.release(ns)
        finally:
            clock.cancel()
            pool.close()

    asyncio.run(run())


def test_a_start_that_gives_up_leaves_nothing_behind():
    async def run():
        loop = asyncio.get_running_loop()
        pool = network.NetworkPool("none", spares=0)
        pool.start(loop, [])
        try:
            gave_up = asyncio.ensure_future(pool.acquire())
            await asyncio.sleep(0)
            gave_up.cancel()
            ns = await asyncio.wait_for(pool.acquire(), 60)  # served, though the maker was asked once more
            pool.release(ns)
        finally:
            pool.close()
        assert pool.waiting() == 0

    asyncio.run(run())


def test_closing_fails_the_starts_still_waiting():
    async def run():
        pool = network.NetworkPool("none", spares=0)
        pool.start(asyncio.get_running_loop(), [])
        waiting = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        pool.close()
        with pytest.raises(RuntimeError):
            await waiting

    asyncio.run(run())


def test_ports_setting():
    assert network.parse_ports("4566, 5000-5100,") == [(4566, 4566), (5000, 5100)]
    assert network.parse_ports("") == []
    for bad in ("0", "70000", "9-3", "x"):
        with pytest.raises(ValueError):
            network.parse_ports(bad)


def test_endpoints_on_the_hosts_loopback_name_the_hosts_address_from_inside():
    env, ports = network.inside_endpoints({
        "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_S3": "http://localhost:5000/path",
        "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9000",
        "AWS_ENDPOINT_URL_KINESIS": "https://kinesis.example.com",
        "AWS_ACCESS_KEY_ID": "x",
    }, 9000)
    assert env == {"AWS_ENDPOINT_URL_SQS": f"http://{network.HOST_ADDRESS}:4566",
                   "AWS_ENDPOINT_URL_S3": f"http://{network.HOST_ADDRESS}:5000/path",
                   "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9000"}
    assert ports == [4566, 5000]


def test_overlapping_port_ranges_merge():
    assert network.merge_ports([(32768, 60999), (52609, 52609), (4566, 4566), (4567, 4570)]) == [
        (4566, 4570), (32768, 60999)]


def test_connections_into_a_namespace_reach_its_own_listeners():
    """What Lamb does for a Telemetry API destination: connect from inside the environment's network."""
    async def run():
        loop = asyncio.get_running_loop()
        pool = network.NetworkPool("none", spares=1)
        pool.start(loop, [])
        try:
            ns = await pool.acquire()
            inside = await loop.run_in_executor(None, pool._socket_in, ns.fd)
            inside.bind(("127.0.0.1", 0))
            inside.listen(1)
            port = inside.getsockname()[1]
            reader, writer = await pool.open_connection(ns, "127.0.0.1", port)
            conn, _ = inside.accept()
            assert network.socket_netns(conn) == ns.ino
            writer.close()
            conn.close()
            inside.close()
            pool.release(ns)
        finally:
            pool.close()

    asyncio.run(run())
