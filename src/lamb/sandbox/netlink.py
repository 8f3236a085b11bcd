"""The few rtnetlink requests a network namespace needs: a veth pair, addresses, routes, links up.

What ``ip link add … type veth peer …``, ``ip addr add`` and ``ip route add`` send
(rtnetlink(7)), from Lamb's own process: no fork and exec of ``ip`` per environment
(three of them cost a spare namespace ~5 ms of CPU, which a busy host takes from the
next cold start). A netlink socket belongs to the network namespace of the thread
that opens it, so ``Rtnl()`` opened inside a namespace configures that namespace.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct

RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
NLMSG_ERROR = 2
IFLA_IFNAME, IFLA_LINKINFO, IFLA_NET_NS_FD = 3, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE = 254, 3, 0
RTN_UNICAST, RTN_PROHIBIT = 1, 8
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1

_HDR = struct.Struct("=LHHLL")  # nlmsghdr
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg
_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg
_RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg


def _attr(kind: int, payload: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def _ip(address: str) -> bytes:
    return ipaddress.IPv4Address(address).packed


class Rtnl:
    """A NETLINK_ROUTE socket in the calling thread's network namespace."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Rtnl":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, kind: int, body: bytes, flags: int = 0) -> None:
        self._seq += 1
        msg = _HDR.pack(_HDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, self._seq, 0) + body
        self.sock.send(msg)
        while True:
            data = self.sock.recv(65536)
            offset = 0
            while offset + _HDR.size <= len(data):
                length, mtype, _, seq, _ = _HDR.unpack_from(data, offset)
                if mtype == NLMSG_ERROR and seq == self._seq:
                    err = -struct.unpack_from("=i", data, offset + _HDR.size)[0]
                    if err:
                        raise OSError(err, f"rtnetlink: {os.strerror(err)}")
                    return
                offset += max(length + (-length % 4), _HDR.size)

    def add_veth(self, name: str, peer: str, peer_netns_fd: int) -> None:
        """``ip link add <name> type veth peer name <peer> netns <fd>``."""
        peer_info = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + _attr(IFLA_IFNAME, peer.encode() + b"\0") \
            + _attr(IFLA_NET_NS_FD, struct.pack("=I", peer_netns_fd))
        linkinfo = _attr(IFLA_INFO_KIND, b"veth\0") + _attr(IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer_info))
        body = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + _attr(IFLA_IFNAME, name.encode() + b"\0") \
            + _attr(IFLA_LINKINFO, linkinfo)
        self._request(RTM_NEWLINK, body, NLM_F_CREATE | NLM_F_EXCL)

    def add_address(self, iface: str, address: str, prefixlen: int) -> None:
        """``ip addr add <address>/<prefixlen> dev <iface>``."""
        body = _IFADDR.pack(socket.AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, socket.if_nametoindex(iface)) \
            + _attr(IFA_LOCAL, _ip(address)) + _attr(IFA_ADDRESS, _ip(address))
        self._request(RTM_NEWADDR, body, NLM_F_CREATE | NLM_F_EXCL)

    def add_default_route(self, iface: str, gateway: str) -> None:
        """``ip route add default via <gateway> dev <iface>``."""
        body = _RTMSG.pack(socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0) \
            + _attr(RTA_GATEWAY, _ip(gateway)) + _attr(RTA_OIF, struct.pack("=I", socket.if_nametoindex(iface)))
        self._request(RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_EXCL)

    def add_prohibit_route(self, network: str) -> None:
        """``ip route add prohibit <network>``: connecting there fails at once (EACCES)."""
        net = ipaddress.IPv4Network(network)
        body = _RTMSG.pack(socket.AF_INET, net.prefixlen, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE,
                           RTN_PROHIBIT, 0) + _attr(RTA_DST, net.network_address.packed)
        self._request(RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_EXCL)


def link_up(iface: str) -> None:
    """``ip link set <iface> up`` (in the calling thread's namespace)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", iface.encode(), 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", iface.encode(), flags | IFF_UP))
