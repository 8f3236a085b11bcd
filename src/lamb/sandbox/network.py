"""A network of its own for every environment (the ``linux`` backend's network modes).

AWS: a function's execution environment reaches the internet (or its VPC) and
its own Runtime API, and nothing of the host it runs on or of other
environments (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html).

Modes (``--network`` / ``LAMB_NETWORK``):

* ``isolated`` (opt-in for now, see ``DEFAULT_MODE``): a network namespace per
  environment. Its loopback holds Lamb's two doors at the addresses the runtime
  is given, ``127.0.0.1:<Runtime API port>`` (``AWS_LAMBDA_RUNTIME_API``, the
  same in every environment, as on AWS) and ``127.0.0.1:<Lamb's port>``
  (``AWS_ENDPOINT_URL_LAMBDA``): listening sockets that Lamb itself opened inside
  the namespace and serves from its event loop, so no proxy sits in between.
  Egress: a veth pair, ``eth0`` inside with a /30 of 100.64.0.0/10 (RFC 6598),
  ``lb<block><slot>`` on the host, routed and masqueraded by the host (nftables
  table ``inet lamb``; ``net.ipv4.ip_forward`` is turned on). The table rejects
  whatever an environment sends to the host itself (any of its addresses, so
  none of its services), to another environment, to 127.0.0.0/8, to 100.64.0.0/10
  and to link-local 169.254.0.0/16 (the metadata address); inside, link-local is
  also a ``prohibit`` route. Abstract unix sockets belong to a network namespace,
  so the host's are out of reach too. DNS is the host's /etc/resolv.conf: a
  resolver on the host's loopback (systemd-resolved's 127.0.0.53) is not reachable.
* ``none``: the namespace with its loopback doors only: no egress at all.
* ``host`` (the default): the host's network namespace, as before: environments
  reach everything the host reaches, its loopback services included.

Namespaces are made ahead of demand by a maker process at nice 19 (the veth
pair, addresses and routes by rtnetlink, ``netlink.py``: no ``ip`` processes), which
sends each with Lamb's listening sockets in it over a unix socket; a cold start only
takes one, starts serving its listeners, joins it
(``setns`` on a descriptor the zygote receives with the spawn request) and hands
it back when the environment is gone; it is then destroyed, never reused. When
none is ready the start makes one itself. Which environment a connection comes
from is which namespace its socket lives in (``SIOCGSKNS``).
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import fcntl
import ipaddress
import itertools
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

from . import netlink

log = logging.getLogger("lamb.sandbox")

MODES = ("isolated", "none", "host")
CLONE_NEWNET = 0x40000000
SIOCGSKNS = 0x894C  # the network namespace of a socket, as a new descriptor
ADDRESSES = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 shared address space
BLOCK_PREFIX = 20  # one block of 4,096 addresses (1,024 environments at a time) per Lamb process
SLOTS = 1 << (32 - BLOCK_PREFIX - 2)  # /30s per block
LINK_LOCAL = "169.254.0.0/16"
LOCK_DIR = Path("/run/lamb")
DEFAULT_SPARES = 4

NFT_RULES = f"""
table inet lamb
flush table inet lamb
table inet lamb {{
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "lb*" reject with icmpx type admin-prohibited
  }}
  chain forward {{
    type filter hook forward priority 0; policy accept;
    iifname "lb*" oifname "lb*" reject with icmpx type admin-prohibited
    iifname "lb*" ip daddr {{ {LINK_LOCAL}, 127.0.0.0/8, {ADDRESSES} }} reject with icmpx type admin-prohibited
    iifname "lb*" meta nfproto ipv6 reject with icmpx type admin-prohibited
    oifname "lb*" ct state new reject with icmpx type admin-prohibited
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr {ADDRESSES} oifname != "lb*" masquerade
  }}
}}
"""

# A listener Lamb opens in every namespace: (port, serve) where serve(sock) starts serving it.
Serve = Callable[[socket.socket], Awaitable[asyncio.AbstractServer]]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def unavailable_reason(mode: str) -> str | None:
    """Why ``mode`` cannot run on this host, or None."""
    if mode == "host":
        return None
    if os.geteuid() != 0:
        return "not running as root"
    if not Path("/proc/thread-self/ns/net").exists():
        return "no network namespaces"
    if mode == "isolated":
        if shutil.which("nft") is None:
            return "no `nft` (install nftables)"
    return None


# Not ``isolated`` yet: a burst of hundreds of cold starts outruns the spare namespaces, and
# making them on the spot slows the burst (docs/status.md); ``--network isolated`` turns it on.
DEFAULT_MODE = "host"


def choose_mode(requested: str | None) -> tuple[str, str]:
    """(mode, note): ``requested`` when the host can, else the documented fallback and why."""
    if requested is not None and requested not in MODES:
        raise ValueError(f"unknown network mode {requested!r} (one of {', '.join(MODES)})")
    if requested is None:
        why = unavailable_reason("isolated")
        note = f"isolated unavailable here: {why}" if why else "the default; --network isolated gives each its own"
        return DEFAULT_MODE, note
    reason = unavailable_reason(requested)
    if reason is not None:
        raise RuntimeError(f"network mode {requested} is not available here: {reason}")
    return requested, ""


def socket_netns(sock: socket.socket) -> int | None:
    """The inode of the network namespace ``sock`` lives in (which environment it belongs to)."""
    try:
        fd = fcntl.ioctl(sock.fileno(), SIOCGSKNS)
    except OSError:
        return None
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


@dataclass
class Netns:
    fd: int  # keeps the namespace alive; sent to the zygote, which joins it
    ino: int
    sockets: list[socket.socket]
    iface: str | None = None  # host side of the veth pair (isolated)
    address: str | None = None  # the environment's eth0 address
    servers: list[asyncio.Future] = field(default_factory=list)

    def close(self) -> None:
        for fut in self.servers:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                fut.result().close()
            else:
                fut.add_done_callback(lambda f: f.cancelled() or f.exception() or f.result().close())
        for s in self.sockets:
            s.close()
        self.sockets.clear()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class NetworkPool:
    """Network namespaces made ahead of demand, one per environment."""

    def __init__(self, mode: str, spares: int = DEFAULT_SPARES):
        assert mode in ("isolated", "none")
        self.mode = mode
        self.spares = spares
        self.listeners: list[tuple[int, Serve]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: list[Netns] = []
        self._pending = 0  # asked of the maker, not yet received
        self._stop = False
        self._maker: subprocess.Popen | None = None
        self._channel: socket.socket | None = None
        self._host_ns = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self._block_lock: int | None = None
        self._block = 0
        # The maker process uses the first half of the block's slots, Lamb's own starts the second.
        self._slots = itertools.cycle(range(SLOTS // 2, SLOTS))
        self.made = 0

    # ------------------------------------------------------------ start
    def start(self, loop: asyncio.AbstractEventLoop, listeners: list[tuple[int, Serve]]) -> None:
        """Open ``listeners`` (port, serve) in every namespace from now on and begin making spares.

        Spares come from a maker process (``python -m lamb.sandbox.network``, at nice 19): making
        one costs ~1 ms of CPU in the kernel and in Python, which a thread of Lamb's would take
        from the event loop (the GIL) while it serves the very start the spare replaces.
        """
        self._loop = loop
        self.listeners = list(listeners)
        if self.mode == "isolated":
            self._block = self._claim_block()
            self._host_rules()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ports = ",".join(str(port) for port, _ in self.listeners) or "-"
        self._maker = subprocess.Popen(
            [sys.executable, "-m", "lamb.sandbox.network", str(theirs.fileno()), self.mode, str(self._block), ports],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, preexec_fn=_nice,
        )
        theirs.close()
        ours.setblocking(False)
        self._channel = ours
        loop.add_reader(ours.fileno(), self._receive)
        self._ask()

    def _ask(self) -> None:
        """Ask the maker for as many namespaces as are missing from the spares."""
        want = self.spares - len(self._ready) - self._pending
        if want > 0 and self._channel is not None:
            try:
                self._channel.send(b"+" * want)
                self._pending += want
            except OSError:
                pass

    def _receive(self) -> None:
        assert self._channel is not None
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._channel, 4096, 1 + len(self.listeners))
            except BlockingIOError:
                return
            except OSError:
                data, fds = b"", []
            if not data:
                self._lost_maker()
                return
            self._pending -= 1
            info = json.loads(data)
            if "error" in info:
                log.warning("network: the namespace maker failed: %s", info["error"])
                continue
            ns = Netns(fd=fds[0], ino=info["ino"], sockets=[socket.socket(fileno=fd) for fd in fds[1:]],
                       iface=info.get("iface"), address=info.get("address"))
            if self._stop:
                ns.close()
            else:
                self._ready.append(ns)

    def _lost_maker(self) -> None:
        if self._loop is not None and self._channel is not None:
            self._loop.remove_reader(self._channel.fileno())
            self._channel.close()
        self._channel = None
        if not self._stop:
            log.warning("network: the namespace maker ended; each start makes its own namespace")

    def _claim_block(self) -> int:
        """A block of addresses no other Lamb on this host holds (a lock file per block)."""
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        count = 1 << (BLOCK_PREFIX - ADDRESSES.prefixlen)
        start = os.getpid() % count
        for i in range(count):
            block = (start + i) % count
            fd = os.open(LOCK_DIR / f"net-{block}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._block_lock = fd
            return block
        raise RuntimeError("every network block of 100.64.0.0/10 is held by another Lamb")

    @staticmethod
    def _host_rules() -> None:
        subprocess.run(["nft", "-f", "-"], input=NFT_RULES.encode(), check=True, capture_output=True, timeout=30)
        with open("/proc/sys/net/ipv4/ip_forward", "r+") as f:
            if f.read().strip() != "1":
                f.seek(0)
                f.write("1")
                log.warning("network: turned on net.ipv4.ip_forward (environments' egress is routed by the host)")

    # ------------------------------------------------------------ use
    def take(self) -> Netns:
        """A namespace for a new environment (made on the spot when no spare is ready)."""
        ns = self._ready.pop() if self._ready else None
        self._ask()
        if ns is None:
            box: list = []
            worker = threading.Thread(target=lambda: box.append(self._make_safely()), daemon=True)
            worker.start()
            worker.join()
            ns = box[0]
            if isinstance(ns, BaseException):
                raise ns
        self._serve(ns)  # the runtime's first connection waits in the backlog until served
        return ns

    def release(self, ns: Netns) -> None:
        """The environment is gone: its namespace (and its veth pair) go with it."""
        ns.close()

    def close(self) -> None:
        self._stop = True
        ready, self._ready = self._ready, []
        for ns in ready:
            ns.close()
        self._lost_maker()
        if self._maker is not None:
            self._maker.kill()
            self._maker.wait()
            self._maker = None

    def describe(self) -> str:
        if self.mode == "none":
            return "network: none (a namespace per environment, Lamb's doors on its loopback, no egress)"
        net = self.block_network()
        return (f"network: isolated (a namespace per environment, egress through veth + nftables NAT from {net}; "
                "no host services, no other environments, no link-local)")

    def block_network(self) -> ipaddress.IPv4Network:
        size = 1 << (32 - BLOCK_PREFIX)
        return ipaddress.ip_network((int(ADDRESSES.network_address) + self._block * size, BLOCK_PREFIX))

    # ------------------------------------------------------------ making
    def _serve(self, ns: Netns) -> None:
        assert self._loop is not None
        for sock, (_, serve) in zip(ns.sockets, self.listeners):
            ns.servers.append(asyncio.ensure_future(serve(sock), loop=self._loop))

    def _make_safely(self) -> "Netns | BaseException":
        try:
            return self._make()
        except BaseException as e:  # noqa: BLE001 - reported to the caller
            return e

    def _make(self) -> Netns:
        """Make one namespace (in a thread of its own: unshare and setns change only the calling thread)."""
        libc = _libc()
        if libc.unshare(CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")
        ns = Netns(fd=-1, ino=0, sockets=[])
        try:
            ns.fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            ns.ino = os.fstat(ns.fd).st_ino
            netlink.link_up("lo")
            for port, _ in self.listeners:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
                s.listen(1024)
                s.setblocking(False)
                ns.sockets.append(s)
            if self.mode == "isolated":
                self._veth_inside(ns)
        except BaseException:
            self._back_to_host(libc)
            ns.close()
            raise
        self._back_to_host(libc)
        if self.mode == "isolated":
            try:
                with netlink.Rtnl() as host:  # opened back in the host's namespace
                    host.add_address(ns.iface, self._gateway(ns), 30)
                netlink.link_up(ns.iface)
            except BaseException:
                ns.close()
                raise
        self.made += 1
        return ns

    def _back_to_host(self, libc: ctypes.CDLL) -> None:
        if libc.setns(self._host_ns, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns back to the host's network: {os.strerror(err)}")

    def _gateway(self, ns: Netns) -> str:
        return str(ipaddress.ip_address(ns.address) - 1)

    def _veth_inside(self, ns: Netns) -> None:
        """From inside the namespace: eth0 (its host peer sent to Lamb's namespace), address, routes."""
        net = self.block_network()
        with netlink.Rtnl() as inside:
            for _ in range(SLOTS):
                slot = next(self._slots)
                iface = f"lb{self._block:02x}{slot:03x}"
                base = int(net.network_address) + slot * 4
                address, gateway = str(ipaddress.ip_address(base + 2)), str(ipaddress.ip_address(base + 1))
                try:
                    inside.add_veth("eth0", iface, self._host_ns)
                except FileExistsError:
                    continue  # the last user of this slot is still being torn down
                inside.add_address("eth0", address, 30)
                netlink.link_up("eth0")
                inside.add_default_route("eth0", gateway)
                inside.add_prohibit_route(LINK_LOCAL)
                ns.iface, ns.address = iface, address
                return
        raise OSError(errno.EADDRINUSE, "no free veth slot")




def _nice() -> None:
    os.nice(19)


def maker_main(argv: list[str]) -> None:
    """The maker process: one namespace (and Lamb's listeners in it) per byte Lamb sends.

    Replies one datagram per namespace, ``{"ino", "iface", "address"}`` with the namespace's
    descriptor and the listening sockets (``SCM_RIGHTS``), or ``{"error"}``.
    """
    fd, mode, block, ports = int(argv[0]), argv[1], int(argv[2]), argv[3]
    _libc().prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: never outlive Lamb
    channel = socket.socket(fileno=fd)
    pool = NetworkPool(mode)
    pool._block = block
    pool._slots = itertools.cycle(range(SLOTS // 2))
    pool.listeners = [(int(p), None) for p in ports.split(",") if p != "-"]  # type: ignore[misc]
    while True:
        try:
            asked = channel.recv(4096)
        except OSError:
            return
        if not asked:
            return  # Lamb is gone
        for _ in asked:
            ns = pool._make_safely()
            if isinstance(ns, BaseException):
                channel.send(json.dumps({"error": str(ns)}).encode())
                continue
            info = {"ino": ns.ino, "iface": ns.iface, "address": ns.address}
            try:
                socket.send_fds(channel, [json.dumps(info).encode()], [ns.fd, *(s.fileno() for s in ns.sockets)])
            except OSError:
                return
            finally:
                ns.close()  # Lamb holds its own copies now


if __name__ == "__main__":
    maker_main(sys.argv[1:])
