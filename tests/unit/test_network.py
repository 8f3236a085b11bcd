"""lamb.sandbox.network: modes, and namespaces with Lamb's listeners inside (needs root, as the linux sandbox)."""

from __future__ import annotations

import asyncio
import ipaddress
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


def test_a_block_holds_aws_default_concurrency_and_spares():
    maker_slots = network.SLOTS - network.OWN_SLOTS
    assert maker_slots >= 1000 + network.DEFAULT_SPARES + 64  # 1,000 environments, spares, veths being torn down
    last_block = network.block_network(network.BLOCKS - 1)
    assert last_block.subnet_of(network.ADDRESSES) and last_block.num_addresses == 4 * network.SLOTS
    # HOST_ADDRESS is in the one block never handed out
    host = ipaddress.ip_address(network.HOST_ADDRESS)
    assert not any(host in network.block_network(b) for b in range(network.BLOCKS))
    assert host in network.block_network(network.BLOCKS)
    # the host-side veth name of the last slot of the last block fits IFNAMSIZ (15 characters)
    assert len(f"lb{network.BLOCKS - 1:02x}{network.SLOTS - 1:03x}") <= 15
    assert network.SLOTS - 1 <= 0xFFF and network.BLOCKS - 1 <= 0xFF  # the name's fixed-width fields


def test_a_block_the_hosts_routes_overlap_is_not_claimed():
    pool = network.NetworkPool("none")
    start = os.getpid() % network.BLOCKS
    taken = [network.block_network(start), network.block_network((start + 1) % network.BLOCKS).supernet(new_prefix=16)]
    block = pool._claim_block(routes=taken)
    try:
        net = network.block_network(block)
        assert not any(net.overlaps(route) for route in taken)
    finally:
        os.close(pool._block_lock)  # the block's lock only: this pool put no rules on the host
        pool._block_lock = None
        pool.close()


def test_host_routes_are_read_from_the_main_table(tmp_path):
    table = tmp_path / "route"
    table.write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"  # default: not a block's concern
        "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"  # 192.168.2.0/24
        "tun0\t00004064\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"  # 100.64.0.0/16 (a VPN)
        "lb01002\t0C004064\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n"  # a Lamb's veth (any version's)
    )
    assert network.host_routes(str(table)) == [ipaddress.ip_network("192.168.2.0/24"),
                                               ipaddress.ip_network("100.64.0.0/16"),
                                               ipaddress.ip_network("100.64.0.12/30")]


def test_environments_get_the_hosts_ipv4_resolvers_at_the_dns_addresses(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# systemd-resolved\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver 10.0.0.2\n"
                    "nameserver 10.0.0.3\nnameserver 10.0.0.4\noptions edns0 trust-ad\nsearch corp.example\n")
    assert network.host_resolvers(str(conf)) == (["127.0.0.53", "10.0.0.2", "10.0.0.3"],
                                                 ["options edns0 trust-ad", "search corp.example"])
    inside = network.resolv_conf([("127.0.0.53", 53), ("10.0.0.2", 53)], str(conf))
    assert inside == (f"nameserver {network.DNS_ADDRESSES[0]}\nnameserver {network.DNS_ADDRESSES[1]}\n"
                      "options edns0 trust-ad\nsearch corp.example\n")
    empty = tmp_path / "empty"
    empty.write_text("search x\n")
    assert network.host_resolvers(str(empty))[0] == ["127.0.0.1"]  # glibc's default without a nameserver line
    assert network.dns_resolvers("127.0.0.1:5353, 10.0.0.9") == [("127.0.0.1", 5353), ("10.0.0.9", 53)]
    # the DNS addresses are in the block no Lamb hands out, with HOST_ADDRESS
    for address in network.DNS_ADDRESSES:
        assert ipaddress.ip_address(address) in network.block_network(network.BLOCKS)


def test_dns_forwarding_is_per_block_and_port_53_only():
    net = network.block_network(3)
    add = network._block_dns("add", net, [(network.DNS_ADDRESSES[0], ("127.0.0.53", 53))])
    assert add == f"add element inet lamb_dns dns {{ {net} . {network.DNS_ADDRESSES[0]} : 127.0.0.53 . 53 }}\n"
    assert network._block_dns("delete", net, []) == ""
    rule = 'iifname "lb*" meta l4proto { tcp, udp } th dport 53 dnat ip to ip saddr . ip daddr map @dns'
    assert f"add rule inet lamb_dns prerouting {rule}" in network.nft_rules()
