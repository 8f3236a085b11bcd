"""A network of its own for every environment (the ``linux`` backend's network modes).

AWS: a function's execution environment reaches the internet (or its VPC) and
its own Runtime API, and nothing of the host it runs on or of other
environments (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html).

Modes (``--network`` / ``LAMB_NETWORK``):

* ``isolated`` (the default where the host allows it): a network namespace per
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
  so the host's are out of reach too. DNS: an environment's /etc/resolv.conf names
  ``DNS_ADDRESSES``, which the host DNATs (port 53, UDP and TCP, nothing else) to the IPv4
  resolvers of its own /etc/resolv.conf, wherever they are: on its loopback
  (systemd-resolved's 127.0.0.53), at a link-local address, or on the network. No IPv6:
  an environment has none, and an IPv6-only resolver list leaves it without DNS.
  Services the user runs on the host's loopback are reached, when the user allows their
  ports (``--network-host-ports`` / ``LAMB_NETWORK_HOST_PORTS``, and the ports of the
  loopback ``AWS_ENDPOINT_URL_*`` Lamb passes through), at ``host.lamb.internal``
  (``HOST_ADDRESS``): the host DNATs that address and those ports to its 127.0.0.1
  (``route_localnet`` on the environment's veth only).
* ``none``: the namespace with its loopback doors only: no egress at all.
* ``host``: the host's network namespace, as before (debugging): environments
  reach everything the host reaches, its loopback services included.

Namespaces are made ahead of demand by a maker process at nice 19 (the veth
pair, addresses and routes by rtnetlink, ``netlink.py``: no ``ip`` processes), which
sends each with Lamb's listening sockets in it over a unix socket; a cold start only
takes one, starts serving its listeners, joins it
(``setns`` on a descriptor the zygote receives with the spawn request) and hands
it back when the environment is gone; it is then destroyed, never reused. ``spares``
are kept ready (like the cgroup spares, ``cgroups.SpareGroups``). When none is ready
the start waits (``acquire``, without blocking the event loop) for the next one the
maker sends, and the maker runs at normal priority while any start waits, so a burst
of cold starts is served in order of arrival and none fails for want of a namespace.
Which environment a connection comes from is which namespace its socket lives in
(``SIOCGSKNS``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
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
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

from . import netlink, prioritize_maker
from ..cpus import release

log = logging.getLogger("lamb.sandbox")

MODES = ("isolated", "none", "host")
CLONE_NEWNET = 0x40000000
SIOCGSKNS = 0x894C  # the network namespace of a socket, as a new descriptor
ADDRESSES = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 shared address space
# One block of 16,384 addresses per Lamb process: 4,096 /30 slots, of which the maker has 4,032 (AWS's
# default concurrency of 1,000 environments, their spares, and veths still being torn down).
BLOCK_PREFIX = 18
SLOTS = 1 << (32 - BLOCK_PREFIX - 2)  # /30s per block
OWN_SLOTS = 64  # the last ones, for namespaces Lamb makes itself when its maker is gone; the maker has the rest
LINK_LOCAL = "169.254.0.0/16"
LOCK_DIR = Path("/run/lamb")
DEFAULT_SPARES = 8  # as many as cgroups.SpareGroups keeps
REFILL_DELAY_S = 0.05  # a spare taken is made again this long after (unless starts wait)
# The host, as environments reach the loopback services whose ports the user allows. Outside every
# block Lamb hands out (the last block is never claimed), so no environment's own address.
HOST_ADDRESS = "100.127.255.254"
HOST_NAME = "host.lamb.internal"
BLOCKS = (1 << (BLOCK_PREFIX - ADDRESSES.prefixlen)) - 1  # the last one holds HOST_ADDRESS

# The resolvers of the host's /etc/resolv.conf, as environments reach them (up to three, as glibc
# reads): the host DNATs port 53 (UDP and TCP) of these addresses to the host's resolvers, which
# may sit on the host's loopback (systemd-resolved's 127.0.0.53) or at a link-local address.
# In the last block, with HOST_ADDRESS, outside every block Lamb hands out.
DNS_ADDRESSES = ("100.127.255.253", "100.127.255.252", "100.127.255.251")


def nft_rules() -> str:
    """The ``inet lamb`` table, whose set ``host_ports`` (block . port) holds each Lamb's own elements,
    and ``inet lamb_dns``, whose map ``dns`` (block . one of DNS_ADDRESSES : resolver . port) does.
    DNS has a table of its own, which a Lamb of an earlier version, remaking ``inet lamb`` with its
    own rules while this one runs, leaves alone."""
    return f"""
table inet lamb
flush table inet lamb
table inet lamb {{
  set host_ports {{
    type ipv4_addr . inet_service; flags interval;
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "lb*" ip daddr {HOST_ADDRESS} meta l4proto {{ tcp, udp }} ip saddr . th dport @host_ports dnat ip to 127.0.0.1
  }}
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "lb*" ct status dnat accept
    iifname "lb*" reject with icmpx type admin-prohibited
  }}
  chain forward {{
    type filter hook forward priority 0; policy accept;
    iifname "lb*" ct status dnat accept
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
table inet lamb_dns {{
  map dns {{
    type ipv4_addr . ipv4_addr : ipv4_addr . inet_service; flags interval;
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
  }}
}}
flush chain inet lamb_dns prerouting
add rule inet lamb_dns prerouting iifname "lb*" meta l4proto {{ tcp, udp }} th dport 53 dnat ip to ip saddr . ip daddr map @dns
"""


def dns_resolvers(setting: str = "") -> list[tuple[str, int]]:
    """The resolvers environments' DNS is sent to: ``setting`` (``--network-dns``, e.g.
    ``127.0.0.1:5353,10.0.0.2``), else the IPv4 ones of the host's /etc/resolv.conf, port 53."""
    if not setting.strip():
        return [(r, 53) for r in host_resolvers()[0]]
    out = []
    for item in setting.split(",")[:len(DNS_ADDRESSES)]:
        address, _, port = item.strip().partition(":")
        out.append((str(ipaddress.IPv4Address(address)), int(port or 53)))
    return out


def host_resolvers(path: str = "/etc/resolv.conf") -> tuple[list[str], list[str]]:
    """The host's IPv4 resolvers (at most three; 127.0.0.1 when the file names none, as glibc does)
    and its other lines (search, domain, options), which environments keep."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    resolvers, rest, named = [], [], False
    for line in lines:
        fields = line.split()
        if not fields or fields[0].startswith(("#", ";")):
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            named = True
            try:
                address = ipaddress.ip_address(fields[1].split("%")[0])
            except ValueError:
                continue
            if address.version == 4 and len(resolvers) < len(DNS_ADDRESSES):
                resolvers.append(str(address))  # environments have no IPv6: an IPv6 resolver is left out
        else:
            rest.append(line)
    return (resolvers if named else ["127.0.0.1"]), rest


def resolv_conf(resolvers: list[tuple[str, int]], path: str = "/etc/resolv.conf") -> str:
    """An environment's /etc/resolv.conf: ``resolvers`` at DNS_ADDRESSES, the host's other lines kept."""
    return "".join(f"nameserver {inside}\n" for inside, _ in zip(DNS_ADDRESSES, resolvers)) + "".join(
        line + "\n" for line in host_resolvers(path)[1])

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


DEFAULT_MODE = "isolated"


def parse_ports(text: str) -> list[tuple[int, int]]:
    """``"4566,5000-5100"`` -> ``[(4566, 4566), (5000, 5100)]`` (ValueError on anything else)."""
    out = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"not a port or port range: {part!r}")
        out.append((first, last))
    return out


LOOPBACK_NAMES = ("localhost", "ip6-localhost")


def inside_endpoints(endpoints: dict[str, str], lamb_port: int) -> tuple[dict[str, str], list[int]]:
    """The ``AWS_ENDPOINT_URL*`` variables as an environment with a namespace of its own reaches
    them, and the host ports that takes: one on the host's loopback names ``HOST_ADDRESS`` (the
    address of ``HOST_NAME``) instead: an address, as 127.0.0.1 was, so S3 clients keep path-style
    requests rather than prefixing the bucket to a name. Lamb's own port stays, as Lamb listens
    there inside the namespace too."""
    out: dict[str, str] = {}
    ports: list[int] = []
    for key, url in endpoints.items():
        if not key.startswith("AWS_ENDPOINT_URL"):
            continue
        parts = urllib.parse.urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            continue
        host = (parts.hostname or "").lower()
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host in LOOPBACK_NAMES
        if not loopback:
            continue
        if port == lamb_port:
            out[key] = urllib.parse.urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))
            continue
        out[key] = urllib.parse.urlunsplit(parts._replace(netloc=f"{HOST_ADDRESS}:{port}"))
        ports.append(port)
    return out, sorted(set(ports))


def choose_mode(requested: str | None) -> tuple[str, str]:
    """(mode, note): ``requested`` when the host can, else the documented fallback and why."""
    if requested is not None and requested not in MODES:
        raise ValueError(f"unknown network mode {requested!r} (one of {', '.join(MODES)})")
    if requested is None:
        why = unavailable_reason(DEFAULT_MODE)
        if why is not None:
            return "host", f"isolated unavailable here ({why}): environments share the host's network"
        return DEFAULT_MODE, ""
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

    def __init__(self, mode: str, spares: int = DEFAULT_SPARES, host_ports: list[tuple[int, int]] | None = None,
                 resolvers: list[tuple[str, int]] | None = None):
        assert mode in ("isolated", "none")
        self.mode = mode
        self.spares = spares
        self.host_ports = list(host_ports or [])  # the host's loopback ports environments reach at HOST_ADDRESS
        # (address, port): the DNS resolvers environments reach at DNS_ADDRESSES
        self.resolvers = dns_resolvers() if resolvers is None else resolvers
        self.listeners: list[tuple[int, Serve]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: list[Netns] = []
        self._waiters: collections.deque[asyncio.Future] = collections.deque()  # starts waiting, in order
        self._pending = 0  # asked of the maker, not yet received
        self._urgent = False  # the maker runs at normal priority (starts are waiting)
        self._refill: asyncio.TimerHandle | None = None
        self._stop = False
        self._maker: subprocess.Popen | None = None
        self._channel: socket.socket | None = None
        self._host_ns = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self._block_lock: int | None = None
        self._block = 0
        # The maker process uses the block's slots but the last OWN_SLOTS, which Lamb's own starts use.
        self._slots = itertools.cycle(range(SLOTS - OWN_SLOTS, SLOTS))
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
            with _rules_lock():
                self._block = self._claim_block()
                self._host_rules(self.host_ports)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ports = ",".join(str(port) for port, _ in self.listeners) or "-"
        self._maker = subprocess.Popen(
            [sys.executable, "-m", "lamb.sandbox.network", str(theirs.fileno()), self.mode, str(self._block), ports,
             "localnet" if self._localnet() else "-"],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, preexec_fn=_nice,
        )
        release(self._maker.pid)
        theirs.close()
        ours.setblocking(False)
        self._channel = ours
        loop.add_reader(ours.fileno(), self._receive)
        self._ask()

    def _ask(self) -> None:
        """Ask the maker for as many namespaces as the spares and the waiting starts miss."""
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()  # a start that gave up (its task was cancelled)
        waiting = sum(1 for w in self._waiters if not w.done())
        want = self.spares + waiting - len(self._ready) - self._pending
        if want > 0 and self._channel is not None:
            try:
                self._channel.send(b"+" * want)
                self._pending += want
            except OSError:
                pass
        self._prioritize(waiting > 0)

    def _prioritize(self, urgent: bool) -> None:
        if urgent != self._urgent and self._maker is not None and prioritize_maker(self._maker.pid, urgent):
            self._urgent = urgent

    def _hand_out(self, ns: Netns) -> None:
        """A new namespace: to the start waiting longest, else to the spares."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(ns)
                return
        self._ready.append(ns)

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
                waiter = next((w for w in self._waiters if not w.done()), None)
                if waiter is not None:  # one start fails with the maker's reason, the others wait on
                    self._waiters.remove(waiter)
                    waiter.set_exception(OSError(errno.EAGAIN, f"no network namespace: {info['error']}"))
                self._ask()
                continue
            ns = Netns(fd=fds[0], ino=info["ino"], sockets=[socket.socket(fileno=fd) for fd in fds[1:]],
                       iface=info.get("iface"), address=info.get("address"))
            if self._stop:
                ns.close()
            else:
                self._hand_out(ns)
            self._ask()

    def _lost_maker(self) -> None:
        if self._loop is not None and self._channel is not None:
            self._loop.remove_reader(self._channel.fileno())
            self._channel.close()
        self._channel = None
        self._pending = 0
        if not self._stop:
            log.warning("network: the namespace maker ended; each start makes its own namespace")
            waiting, self._waiters = self._waiters, collections.deque()
            for waiter in waiting:
                if not waiter.done() and self._loop is not None:
                    self._loop.create_task(self._make_for(waiter))

    async def _make_for(self, waiter: asyncio.Future) -> None:
        """Without a maker: make one in a worker thread (unshare and setns change only that thread)."""
        assert self._loop is not None
        try:
            ns = await self._loop.run_in_executor(None, self._make)
        except Exception as e:  # noqa: BLE001 - the start that waits reports it
            if not waiter.done():
                waiter.set_exception(e)
            return
        if waiter.done():
            ns.close()
        else:
            waiter.set_result(ns)

    def _localnet(self) -> bool:
        """Whether environments' packets are DNATed to the host's loopback (``route_localnet``)."""
        return bool(self.host_ports) or any(ipaddress.ip_address(r).is_loopback for r, _ in self.resolvers)

    def _claim_block(self, routes: list[ipaddress.IPv4Network] | None = None) -> int:
        """A block of addresses no other Lamb on this host holds (a lock file per block) and no route
        of the host's covers or overlaps (``routes``, else the host's main table)."""
        LOCK_DIR.mkdir(parents=True, exist_ok=True)
        routes = host_routes() if routes is None else routes
        start = os.getpid() % BLOCKS
        for i in range(BLOCKS):
            block = (start + i) % BLOCKS
            if any(block_network(block).overlaps(route) for route in routes):
                continue  # the host already uses these addresses (a VPN, a CGNAT link)
            fd = os.open(LOCK_DIR / f"net-{block}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._block_lock = fd
            return block
        raise RuntimeError("every network block of 100.64.0.0/10 is held by another Lamb")

    def _host_rules(self, host_ports: list[tuple[int, int]]) -> None:
        """The ``inet lamb`` table (the same for every Lamb on this host: its chains are made again,
        its set's elements kept), and the host ports this Lamb's environments (its block) may reach."""
        net = self.block_network()
        rules = nft_rules() + _block_ports("delete", net, _set_ports(net))  # a killed Lamb's of this block
        rules += _block_dns("delete", net, _map_dns(net))
        rules += _block_ports("add", net, host_ports)
        if self.mode == "isolated":
            rules += _block_dns("add", net, list(zip(DNS_ADDRESSES, self.resolvers)))
        try:
            _nft(rules)
        except RuntimeError:
            if _other_blocks_held(self._block):
                raise
            # Left by a Lamb of another version, with no Lamb using it now: made again.
            subprocess.run(["nft", "delete", "table", "inet", "lamb"], capture_output=True, timeout=30)
            _nft(rules)
        with open("/proc/sys/net/ipv4/ip_forward", "r+") as f:
            if f.read().strip() != "1":
                f.seek(0)
                f.write("1")
                log.warning("network: turned on net.ipv4.ip_forward (environments' egress is routed by the host)")

    # ------------------------------------------------------------ use
    async def acquire(self) -> Netns:
        """A namespace for a new environment: a spare, else the next one made (the event loop and
        other starts go on meanwhile). Starts are served in the order they asked."""
        assert self._loop is not None, "start() first"
        if self._stop:
            raise RuntimeError("the network pool is closed")
        if self._ready and not self._waiters:
            ns = self._ready.pop()
            # Refill once this start is done (making a namespace holds kernel locks a start may need).
            if self._refill is None:
                self._refill = self._loop.call_later(REFILL_DELAY_S, self._refill_now)
        else:
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            if self._ready:
                self._hand_out(self._ready.pop())
            elif self._channel is None:
                self._waiters.remove(waiter)
                self._loop.create_task(self._make_for(waiter))
            self._ask()
            try:
                ns = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    waiter.result().close()  # handed over just as the start gave up
                raise
        self._serve(ns)  # the runtime's first connection waits in the backlog until served
        return ns

    async def open_connection(self, ns: Netns, host: str, port: int) -> tuple:
        """``asyncio.open_connection`` from inside ``ns`` (to a listener of its environment's): the
        socket is made in a worker thread that joins ``ns`` for the moment."""
        assert self._loop is not None
        sock = await self._loop.run_in_executor(None, self._socket_in, ns.fd)
        try:
            sock.setblocking(False)
            await self._loop.sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock)

    def _socket_in(self, ns_fd: int) -> socket.socket:
        libc = _libc()
        if libc.setns(ns_fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns: {os.strerror(err)}")
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            self._back_to_host(libc)

    def _refill_now(self) -> None:
        self._refill = None
        self._ask()

    def waiting(self) -> int:
        """Starts waiting for a namespace now."""
        return sum(1 for w in self._waiters if not w.done())

    def release(self, ns: Netns) -> None:
        """The environment is gone: its namespace (and its veth pair) go with it."""
        ns.close()

    def close(self) -> None:
        self._stop = True
        if self._refill is not None:
            self._refill.cancel()
            self._refill = None
        ready, self._ready = self._ready, []
        for ns in ready:
            ns.close()
        waiting, self._waiters = self._waiters, collections.deque()
        for waiter in waiting:
            if not waiter.done():
                waiter.set_exception(RuntimeError("Lamb is stopping"))
        self._lost_maker()
        if self._maker is not None:
            self._maker.kill()
            self._maker.wait()
            self._maker = None
        if self._block_lock is not None:
            remove_host_rules(self._block_lock, self.block_network())
            self._block_lock = None

    def describe(self) -> str:
        if self.mode == "none":
            return "network: none (a namespace per environment, Lamb's doors on its loopback, no egress)"
        net = self.block_network()
        ports = ",".join(f"{a}-{b}" if a != b else str(a) for a, b in self.host_ports)
        hosts = f"the host's loopback ports {ports} at {HOST_NAME}" if ports else "no host services"
        dns = ", ".join(f"{a}:{p}" if p != 53 else a for a, p in self.resolvers) or "none (no IPv4 resolver)"
        return (f"network: isolated (a namespace per environment, egress through veth + nftables NAT from {net}; "
                f"{hosts}, no other environments, no link-local; DNS: {dns}; no IPv6)")

    def block_network(self) -> ipaddress.IPv4Network:
        return block_network(self._block)

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
                if self._localnet():  # the DNAT to the host's loopback (HOST_ADDRESS, a resolver), on this veth only
                    with open(f"/proc/sys/net/ipv4/conf/{ns.iface}/route_localnet", "w") as f:
                        f.write("1")
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


def block_network(block: int) -> ipaddress.IPv4Network:
    """The addresses of block number ``block`` of ADDRESSES."""
    return ipaddress.ip_network((int(ADDRESSES.network_address) + (block << (32 - BLOCK_PREFIX)), BLOCK_PREFIX))


def host_routes(path: str = "/proc/net/route") -> list[ipaddress.IPv4Network]:
    """The networks of the host's IPv4 routes (main table) but the default route. Veths of other
    Lambs count too: one of another version may cut 100.64.0.0/10 into blocks of another size."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    routes = []
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        dest = ipaddress.IPv4Address(int(fields[1], 16).to_bytes(4, "little"))
        prefix = bin(int(fields[7], 16)).count("1")
        if prefix:
            routes.append(ipaddress.ip_network(f"{dest}/{prefix}", strict=False))
    return routes


@contextlib.contextmanager
def _rules_lock():
    """Lambs starting and stopping on one host change the shared table one at a time."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    fd = os.open(LOCK_DIR / "rules.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _nft(rules: str) -> None:
    if not rules:
        return
    proc = subprocess.run(["nft", "-f", "-"], input=rules.encode(), capture_output=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"nft: {proc.stderr.decode(errors='replace').strip()}")


def merge_ports(ports: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Port ranges without overlaps (the set refuses an element overlapping another)."""
    out: list[tuple[int, int]] = []
    for first, last in sorted(ports):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def _block_ports(verb: str, net: ipaddress.IPv4Network, ports: list[tuple[int, int]]) -> str:
    """``add``/``delete element`` of the set for ``ports`` from the environments of block ``net``."""
    ports = merge_ports(ports)
    if not ports:
        return ""
    elements = ", ".join(f"{net} . {a}-{b}" if a != b else f"{net} . {a}" for a, b in ports)
    return f"{verb} element inet lamb host_ports {{ {elements} }}\n"


def _set_ports(net: ipaddress.IPv4Network) -> list[tuple[int, int]]:
    """The ports the set holds for block ``net`` now (left by a Lamb of that block that was killed)."""
    out = []
    for elem in _nft_elements("set", "lamb", "host_ports"):
        addr, port = (elem.get("elem", {}).get("val", elem) if isinstance(elem, dict) else elem)["concat"]
        if addr.get("prefix", {}).get("addr") == str(net.network_address):
            out.append(tuple(port["range"]) if isinstance(port, dict) else (port, port))
    return out


def _nft_elements(kind: str, table: str, name: str) -> list:
    """The elements of the set or map ``name`` of the ``inet`` ``table`` (none when it is not there)."""
    proc = subprocess.run(["nft", "-j", "list", kind, "inet", table, name], capture_output=True, timeout=30)
    if proc.returncode != 0:
        return []
    return [elem for item in json.loads(proc.stdout).get("nftables", []) for elem in item.get(kind, {}).get("elem", [])]


def _block_dns(verb: str, net: ipaddress.IPv4Network, entries: list) -> str:
    """``add``/``delete element`` of the map ``dns`` for block ``net``: ``entries`` are (inside address,
    (resolver, port)) to add, or inside addresses to delete."""
    if not entries:
        return ""
    if verb == "add":
        elements = ", ".join(f"{net} . {inside} : {address} . {port}" for inside, (address, port) in entries)
    else:
        elements = ", ".join(f"{net} . {inside}" for inside in entries)
    return f"{verb} element inet lamb_dns dns {{ {elements} }}\n"


def _map_dns(net: ipaddress.IPv4Network) -> list[str]:
    """The inside addresses the map ``dns`` holds for block ``net`` now (left by a killed Lamb)."""
    out = []
    for elem in _nft_elements("map", "lamb_dns", "dns"):
        block, inside = (elem[0] if isinstance(elem, list) else elem)["concat"]
        if isinstance(block, dict) and block.get("prefix", {}).get("addr") == str(net.network_address):
            out.append(inside)
    return out


def remove_host_rules(block_lock: int, net: ipaddress.IPv4Network) -> None:
    """Give the block back; delete the ``inet lamb`` table once no Lamb on this host holds one
    (they share it), else only this block's host ports."""
    with _rules_lock():
        os.close(block_lock)
        if not _other_blocks_held():
            for table in ("lamb", "lamb_dns"):
                subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True, timeout=30)
            return
        try:  # another Lamb runs with isolated environments
            _nft(_block_ports("delete", net, _set_ports(net)) + _block_dns("delete", net, _map_dns(net)))
        except RuntimeError as e:
            log.warning("network: could not remove this Lamb's host ports: %s", e)


def _other_blocks_held(own: int | None = None) -> bool:
    """Whether another Lamb holds an address block (``own``: this one's, skipped)."""
    for lock in LOCK_DIR.glob("net-*.lock"):
        if lock.name == f"net-{own}.lock":
            continue
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
    return False


def maker_main(argv: list[str]) -> None:
    """The maker process: one namespace (and Lamb's listeners in it) per byte Lamb sends.

    Replies one datagram per namespace, ``{"ino", "iface", "address"}`` with the namespace's
    descriptor and the listening sockets (``SCM_RIGHTS``), or ``{"error"}``.
    """
    fd, mode, block, ports = int(argv[0]), argv[1], int(argv[2]), argv[3]
    _libc().prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: never outlive Lamb
    channel = socket.socket(fileno=fd)
    pool = NetworkPool(mode, host_ports=[(1, 1)] if argv[4:5] == ["localnet"] else None)
    pool.resolvers = []  # route_localnet follows argv alone
    pool._block = block
    pool._slots = itertools.cycle(range(SLOTS - OWN_SLOTS))
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
