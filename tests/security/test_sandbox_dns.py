"""Promise: an isolated environment resolves names through the host's resolvers (issue 18).

AWS: a function resolves public names (and, in a VPC, the VPC's) with no set-up. With a network
namespace each, a resolver on the host's loopback (systemd-resolved's 127.0.0.53) is out of an
environment's reach; Lamb gives environments a resolv.conf naming ``network.DNS_ADDRESSES``, and
the host DNATs port 53 of those addresses (nothing else) to its resolvers
(lamb.sandbox.network). Here the resolver is a small DNS server of the test's on the host's
loopback (``LAMB_NETWORK_DNS``), so no internet is needed.
"""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from lamb.sandbox import network

from .conftest import LambServer, create, invoke, unique

NAME, ADDRESS = "lamb-dns-test.example", "192.0.2.77"  # TEST-NET-1: answered only by the test's server

RESOLVER = r'''
import socket

def handler(event, context):
    out = {}
    for name in event["names"]:
        try:
            out[name] = socket.gethostbyname(name)
        except OSError as e:
            out[name] = type(e).__name__
    with open("/etc/resolv.conf") as f:
        out["nameservers"] = [line.split()[1] for line in f if line.startswith("nameserver")]
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((out["nameservers"][0], 80))  # only port 53 of the resolver's address is forwarded
        out["port_80"] = "connected"
    except OSError as e:
        out["port_80"] = type(e).__name__
    finally:
        s.close()
    return out
'''


class _DnsServer:
    """Answers A queries for NAME over UDP on the host's loopback; NXDOMAIN for anything else."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.asked: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
            labels, i = [], 12
            while query[i]:
                labels.append(query[i + 1:i + 1 + query[i]].decode())
                i += 1 + query[i]
            question = query[12:i + 5]
            qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
            name = ".".join(labels).lower()
            self.asked.append(name)
            if name == NAME and qtype == 1:
                answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ADDRESS)
                header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0)
            else:  # NXDOMAIN (no AAAA either, so the resolver's answer is quick)
                answer = b""
                header = struct.pack("!HHHHHH", ident, 0x8183 if name != NAME else 0x8180, 1, 0, 0, 0)
            self.sock.sendto(header + question + answer, peer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def dns_server():
    server = _DnsServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def dns_lamb(dns_server, tmp_path_factory):
    server = LambServer(tmp_path_factory.mktemp("dns"), extra_args=["--sandbox", "linux", "--network", "isolated"],
                        env={"LAMB_NETWORK_DNS": f"127.0.0.1:{dns_server.port}"}).start()
    yield server
    server.close()


def test_an_isolated_environment_resolves_through_the_hosts_loopback_resolver(dns_lamb, dns_server):
    lam = dns_lamb.client()
    name = unique("dns")
    create(lam, name, RESOLVER, Timeout=30)
    resp, out = invoke(lam, name, {"names": [NAME, "localhost", "sandbox.localdomain", network.HOST_NAME]})
    assert resp.get("FunctionError") is None, out
    assert out["nameservers"] == [network.DNS_ADDRESSES[0]]
    assert out[NAME] == ADDRESS  # answered by the test's server on the host's 127.0.0.1
    assert NAME in dns_server.asked
    # /etc/hosts keeps its names, without asking the resolver
    assert out["localhost"] == "127.0.0.1"
    assert out["sandbox.localdomain"] == "127.0.0.1"
    assert out[network.HOST_NAME] == network.HOST_ADDRESS
    assert "localhost" not in dns_server.asked and "sandbox.localdomain" not in dns_server.asked
    assert out["port_80"] != "connected"


def test_an_unknown_name_fails_as_it_would_on_the_host(dns_lamb, dns_server):
    lam = dns_lamb.client()
    name = unique("dnsx")
    create(lam, name, RESOLVER, Timeout=30)
    resp, out = invoke(lam, name, {"names": ["no-such-name.example"]})
    assert resp.get("FunctionError") is None, out
    assert out["no-such-name.example"] == "gaierror"
    assert "no-such-name.example" in dns_server.asked  # the resolver was asked and said no
