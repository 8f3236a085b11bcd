"""Promise: a network of its own for every environment (``lamb.sandbox.network``).

From inside: Lamb's API and its own Runtime API at the addresses the runtime is given;
the outside through NAT; not the host's loopback services, not the host's own addresses,
not another environment, not the host's abstract unix sockets, not 169.254.169.254.

Traffic only goes to this machine: "the outside" is a network namespace this test makes
(198.18.x.2, routed by the host), and the metadata address is refused inside the
environment's own namespace before any packet leaves it.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import socket
import subprocess
import threading
import uuid

import pytest

from tests.integration.conftest import wait_for

from .conftest import LambServer, create, invoke, unique

PROBE = r'''
import errno, json, os, socket, urllib.error, urllib.request

LISTENER = []

def own_address():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("198.18.0.1", 9))  # UDP connect: picks the route, sends nothing
        return s.getsockname()[0]
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()

def connect(target):
    try:
        if target.get("abstract"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(3)
            s.connect("\0" + target["abstract"])
        else:
            s = socket.create_connection((target["host"], target["port"]), timeout=3)
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    try:
        s.settimeout(3)
        return "ok:" + s.recv(100).decode()
    except OSError as e:
        return "ok:" + errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()

def get(path):
    """GET one of Lamb's routes, signed with the function's own (role) credentials."""
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = os.environ["AWS_ENDPOINT_URL_LAMBDA"] + path
    signed = AWSRequest("GET", url)
    SigV4Auth(botocore.session.get_session().get_credentials().get_frozen_credentials(), "lambda",
              os.environ["AWS_REGION"]).add_auth(signed)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=dict(signed.headers.items())), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return repr(e)

def caller():
    """Lamb's API answers the function as its role (STS GetCallerIdentity, which every identity may call)."""
    import boto3
    try:
        return boto3.client("sts").get_caller_identity()["ResponseMetadata"]["HTTPStatusCode"]
    except Exception as e:
        return repr(e)

def handler(event, context):
    op = event["op"]
    if op == "connect":
        return {t.get("name", str(i)): connect(t) for i, t in enumerate(event["targets"])}
    if op == "listen":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 0))
        s.listen(16)
        s.setblocking(False)
        LISTENER.append(s)
        return {"address": own_address(), "port": s.getsockname()[1]}
    if op == "accepted":
        try:
            LISTENER[-1].accept()
            return True
        except BlockingIOError:
            return False
    if op == "env":
        return os.environ.get(event["key"])
    if op == "doors":
        return {"runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"], "lambda": os.environ["AWS_ENDPOINT_URL_LAMBDA"],
                "api": caller(), "own_address": own_address(),
                "private": {p: get(p) for p in ("/_lamb/health", "/_lamb/environments", "/_lamb/logs", "/_lamb/metrics")}}
'''

CLONE_NEWNET = 0x40000000


class Outside:
    """A network namespace standing for the internet: 198.18.<n>.2, routed from the host by a veth pair."""

    def __init__(self):
        n = uuid.uuid4().int % 250 + 1
        self.iface = f"tso{uuid.uuid4().hex[:8]}"
        self.host_side = f"198.18.{n}.1"
        self.address = f"198.18.{n}.2"
        self.seen: list[str] = []
        self._ns_fd = -1
        self._sock: socket.socket | None = None
        self._stop = False

    def __enter__(self) -> "Outside":
        done = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(done, errors), daemon=True)
        self._thread.start()
        done.wait(30)
        if errors:
            raise errors[0]
        subprocess.run(["ip", "-batch", "-"], check=True, input=(
            f"addr add {self.host_side}/30 dev {self.iface}\nlink set {self.iface} up\n").encode())
        return self

    def _run(self, done: threading.Event, errors: list) -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            assert libc.unshare(CLONE_NEWNET) == 0, os.strerror(ctypes.get_errno())
            self._ns_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            subprocess.run(["ip", "-batch", "-"], check=True, input=(
                f"link set lo up\nlink add eth0 type veth peer name {self.iface} netns /proc/{os.getpid()}/ns/net\n"
                f"addr add {self.address}/30 dev eth0\nlink set eth0 up\nroute add default via {self.host_side}\n"
            ).encode())
            self._sock = socket.socket()
            self._sock.bind((self.address, 0))
            self._sock.listen(16)
            self.port = self._sock.getsockname()[1]
        except BaseException as e:  # noqa: BLE001 - reported to __enter__
            errors.append(e)
            done.set()
            return
        done.set()
        while not self._stop:
            try:
                conn, peer = self._sock.accept()
            except OSError:
                return
            self.seen.append(peer[0])
            conn.sendall(b"outside")
            conn.close()

    def __exit__(self, *exc) -> None:
        self._stop = True
        if self._sock is not None:
            self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        self._thread.join(10)
        if self._ns_fd >= 0:
            os.close(self._ns_fd)
        subprocess.run(["ip", "link", "del", self.iface], capture_output=True)


def _probe(server: LambServer, **kw) -> str:
    name = unique("net")
    create(server.client(), name, PROBE, Timeout=30, **kw)
    return name


def _call(server: LambServer, name: str, **event):
    resp, out = invoke(server.client(), name, event)
    assert resp.get("FunctionError") is None, out
    return out


def _host_addresses() -> list[str]:
    """The host's own non-loopback IPv4 addresses (not the environments' veth ends)."""
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    addrs = []
    for line in out.splitlines():
        fields = line.split()
        if fields[1] != "lo" and not fields[1].startswith(("lb", "tso")):
            addrs.append(fields[3].split("/")[0])
    return addrs


@pytest.fixture
def isolated(linux_server) -> LambServer:
    assert "network: isolated" in linux_server.get_json("/_lamb/health")["sandbox_detail"]
    return linux_server


@pytest.fixture(scope="module")
def listeners():
    """A TCP service on the host's loopback, one on all its addresses, and an abstract unix socket."""
    loop_srv = socket.socket()
    loop_srv.bind(("127.0.0.1", 0))
    loop_srv.listen(16)
    any_srv = socket.socket()
    any_srv.bind(("0.0.0.0", 0))
    any_srv.listen(16)
    abstract = f"lamb-test-{uuid.uuid4().hex}"
    unix_srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_srv.bind("\0" + abstract)
    unix_srv.listen(16)
    yield {"loopback": loop_srv.getsockname()[1], "any": any_srv.getsockname()[1], "abstract": abstract}
    for s in (loop_srv, any_srv, unix_srv):
        s.close()


def test_isolated_environment_reaches_lamb_and_its_runtime_api_at_the_given_addresses(isolated):
    out = _call(isolated, _probe(isolated), op="doors")  # answered at all: its Runtime API works
    assert out["runtime_api"].startswith("127.0.0.1:")
    assert out["lambda"].startswith("http://127.0.0.1:")
    assert out["api"] == 200
    assert ipaddress.ip_address(out["own_address"]) in ipaddress.ip_network("100.64.0.0/10")


def test_isolated_environment_reaches_the_outside_through_nat(isolated):
    name = _probe(isolated)
    with Outside() as outside:
        out = _call(isolated, name, op="connect", targets=[{"host": outside.address, "port": outside.port}])
        assert out == {"0": "ok:outside"}
        assert outside.seen == [outside.host_side]  # masqueraded: the outside sees the host, not 100.64.x.x


def test_isolated_environment_does_not_reach_host_loopback_services(isolated, listeners):
    out = _call(isolated, _probe(isolated), op="connect", targets=[
        {"name": "loopback", "host": "127.0.0.1", "port": listeners["loopback"]},
        {"name": "any_via_loopback", "host": "127.0.0.1", "port": listeners["any"]},
    ])
    assert out == {"loopback": "ECONNREFUSED", "any_via_loopback": "ECONNREFUSED"}


def test_isolated_environment_does_not_reach_the_hosts_own_addresses(isolated, listeners):
    name = _probe(isolated)
    gateway = str(ipaddress.ip_address(_call(isolated, name, op="doors")["own_address"]) - 1)
    targets = [{"name": a, "host": a, "port": listeners["any"]} for a in [*_host_addresses(), gateway]]
    out = _call(isolated, name, op="connect", targets=targets)
    assert len(out) >= 2 and not [t for t, r in out.items() if r.startswith("ok")], out


def test_isolated_environment_does_not_reach_host_abstract_unix_sockets(isolated, listeners):
    out = _call(isolated, _probe(isolated), op="connect", targets=[{"abstract": listeners["abstract"]}])
    assert out == {"0": "ECONNREFUSED"}


def test_isolated_environment_does_not_reach_link_local_metadata(isolated):
    out = _call(isolated, _probe(isolated), op="connect", targets=[
        {"host": "169.254.169.254", "port": 80}, {"host": "169.254.170.2", "port": 80}])
    assert all(r in ("EACCES", "EHOSTUNREACH", "ENETUNREACH") for r in out.values()), out


def test_isolated_environment_does_not_reach_another_environment(isolated):
    a, b = _probe(isolated), _probe(isolated)
    where = _call(isolated, a, op="listen")
    out = _call(isolated, b, op="connect", targets=[{"host": where["address"], "port": where["port"]}])
    assert not out["0"].startswith("ok"), out
    assert _call(isolated, a, op="accepted") is False


def test_private_endpoints_never_answer_an_environment(isolated):
    out = _call(isolated, _probe(isolated), op="doors")
    assert set(out["private"].values()) == {403}, out["private"]


def test_network_none_has_no_egress_but_reaches_lamb(_server_pool, tmp_path):
    server = LambServer(tmp_path, extra_args=["--sandbox", "linux", "--network", "none"]).start()
    try:
        assert "network: none" in server.get_json("/_lamb/health")["sandbox_detail"]
        name = _probe(server)
        doors = _call(server, name, op="doors")
        assert doors["api"] == 200 and doors["own_address"] == "ENETUNREACH"
        with Outside() as outside:
            out = _call(server, name, op="connect", targets=[{"host": outside.address, "port": outside.port}])
        assert out == {"0": "ENETUNREACH"}
    finally:
        server.close()


def test_network_host_keeps_the_hosts_network(tmp_path, listeners):
    """For debugging: the host's network, its loopback services included (what `isolated` takes away)."""
    server = LambServer(tmp_path, extra_args=["--sandbox", "linux", "--network", "host"]).start()
    try:
        assert "network: host" in server.get_json("/_lamb/health")["sandbox_detail"]
        name = _probe(server)
        out = _call(server, name, op="connect", targets=[{"host": "127.0.0.1", "port": listeners["loopback"]}])
        assert out["0"].startswith("ok")
        # Lamb's private endpoints still never answer it: it is told apart by its uid.
        doors = _call(server, name, op="doors")
        assert doors["api"] == 200 and set(doors["private"].values()) == {403}, doors
        assert server.get_json("/_lamb/health")["status"] == "ok"  # the operator still gets them
    finally:
        server.close()


def test_isolated_is_the_default(_server_pool):
    from .conftest import server_for

    assert "network: isolated" in server_for(_server_pool, "linux").get_json("/_lamb/health")["sandbox_detail"]


def test_allowed_host_ports_and_passed_through_endpoints_are_reached_at_host_lamb_internal(tmp_path, listeners):
    """The user's way to their own services on the host's loopback: only the ports they allow
    (``--network-host-ports``) and those of the loopback endpoints they gave Lamb
    (``AWS_ENDPOINT_URL_*``), at ``host.lamb.internal``; nothing else of the host."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(4)
        endpoint = f"http://127.0.0.1:{other.getsockname()[1]}"
        server = LambServer(tmp_path, extra_args=["--sandbox", "linux", "--network-host-ports", str(listeners["loopback"])],
                            env={"AWS_ENDPOINT_URL_SQS": endpoint}).start()
        try:
            detail = server.get_json("/_lamb/health")["sandbox_detail"]
            assert "host.lamb.internal" in detail, detail
            name = _probe(server, Environment={"Variables": {}})
            env = _call(server, name, op="doors")
            assert env["lambda"].startswith("http://127.0.0.1:")
            out = _call(server, name, op="connect", targets=[
                {"name": "allowed", "host": "host.lamb.internal", "port": listeners["loopback"]},
                {"name": "endpoint", "host": "host.lamb.internal", "port": other.getsockname()[1]},
                {"name": "not_allowed", "host": "host.lamb.internal", "port": listeners["any"]},
                {"name": "own_loopback", "host": "127.0.0.1", "port": listeners["loopback"]},
            ])
            assert out["allowed"].startswith("ok") and out["endpoint"].startswith("ok"), out
            assert not out["not_allowed"].startswith("ok") and out["own_loopback"] == "ECONNREFUSED", out
            assert _call(server, name, op="env", key="AWS_ENDPOINT_URL_SQS") == \
                f"http://100.127.255.254:{other.getsockname()[1]}"  # host.lamb.internal's address
        finally:
            server.close()


def _links_of(block_net: str) -> list[str]:
    """The host's veth ends of one Lamb's environments (``lb<block><slot>``)."""
    from lamb.sandbox import network

    block = (int(ipaddress.ip_network(block_net).network_address)
             - int(network.ADDRESSES.network_address)) >> (32 - network.BLOCK_PREFIX)
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()
            if line.split(":")[1].strip().startswith(f"lb{block:02x}")]


def _block_of(server: LambServer) -> str:
    detail = server.get_json("/_lamb/health")["sandbox_detail"]
    return detail.split("NAT from ")[1].split(";")[0]


def test_namespaces_and_veths_go_when_lamb_stops_even_after_kill_9(tmp_path):
    server = LambServer(tmp_path, extra_args=["--sandbox", "linux"]).start()
    try:
        block = _block_of(server)
        name = _probe(server)
        _call(server, name, op="doors")
        assert _links_of(block)  # its environment's and the spares'
        server.kill9()  # Lamb's own clean-up never runs
        server.restart()  # its start removes what the killed one left (its environments' cgroups)
        wait_for(lambda: not _links_of(block), 60, 0.1, "the killed Lamb's veth pairs to go")
        block = _block_of(server)
        _call(server, name, op="doors")
        server.terminate()
        wait_for(lambda: not _links_of(block), 60, 0.1, "the veth pairs to go after a clean stop")
        assert not _nft_table_left() or _another_lamb_holds_a_block()
    finally:
        server.close()


def _nft_table_left() -> bool:
    return any(subprocess.run(["nft", "list", "table", "inet", table], capture_output=True).returncode == 0
               for table in ("lamb", "lamb_dns"))


def _another_lamb_holds_a_block() -> bool:
    """The table is shared by every Lamb on the host with isolated environments (other test runs)."""
    from lamb.sandbox import network

    return network._other_blocks_held()  # noqa: SLF001 - the rule Lamb itself uses to keep the table
