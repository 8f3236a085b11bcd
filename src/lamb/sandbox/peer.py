"""Who is on the other end of a loopback TCP connection.

Environments share the host's network namespace, so any local process can
connect to any environment's Runtime API port. The isolating backend runs each
environment under a uid of its own, and the Runtime API accepts a connection
only from that uid: the kernel's sock_diag netlink interface
(NETLINK_SOCK_DIAG, ``inet_diag_req_v2``) reports the owner of the client
socket for the exact address/port pair, in one round trip.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
INET_DIAG_NOCOOKIE = 0xFFFFFFFF
_HDR = struct.Struct("=LHHLL")  # nlmsghdr
_REQ = struct.Struct("=BBBBL")  # family, protocol, ext, pad, states


def _sockid(local: tuple, remote: tuple, family: int) -> bytes:
    def addr(a: str) -> bytes:
        raw = ipaddress.ip_address(a).packed
        return raw + b"\0" * (16 - len(raw))

    return (
        struct.pack("!HH", local[1], remote[1])
        + addr(local[0])
        + addr(remote[0])
        + struct.pack("=LLL", 0, INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE)
    )


def socket_uid(local: tuple, remote: tuple, family: int = socket.AF_INET) -> int | None:
    """The uid owning the TCP socket whose local end is ``local`` and remote end ``remote``."""
    req = _REQ.pack(family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + _sockid(local, remote, family)
    msg = _HDR.pack(_HDR.size + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0) + req
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(1.0)
        nl.send(msg)
        data = nl.recv(65536)
    if len(data) < _HDR.size:
        return None
    _, mtype, _, _, _ = _HDR.unpack_from(data)
    if mtype == NLMSG_ERROR:
        return None
    # inet_diag_msg: 4 bytes, sockid (48), expires, rqueue, wqueue, uid, inode.
    return struct.unpack_from("=L", data, _HDR.size + 4 + 48 + 12)[0]


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process that owns the client end of an accepted connection."""
    try:
        local = conn.getsockname()
        remote = conn.getpeername()
        return socket_uid(remote[:2], local[:2], conn.family)
    except OSError:
        return None


def self_test() -> bool:
    """Whether sock_diag lookups work on this host (it is a kernel option)."""
    srv = socket.socket()
    try:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        cli = socket.create_connection(srv.getsockname())
        acc, _ = srv.accept()
        ok = peer_uid(acc) == os.geteuid()
        acc.close()
        cli.close()
        return ok
    except OSError:
        return False
    finally:
        srv.close()
