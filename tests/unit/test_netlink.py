"""lamb.sandbox.netlink: the rtnetlink requests, run in a scratch network namespace (needs root)."""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import threading

from lamb.sandbox import netlink

CLONE_NEWNET = 0x40000000


def _in_new_netns(check):
    """Run ``check()`` in a thread that has a network namespace of its own; return its result."""
    box: list = []

    def run():
        libc = ctypes.CDLL(None, use_errno=True)
        host = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            assert libc.unshare(CLONE_NEWNET) == 0
            box.append(check())
        except BaseException as e:  # noqa: BLE001 - re-raised in the test
            box.append(e)
        finally:
            libc.setns(host, CLONE_NEWNET)
            os.close(host)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def test_veth_address_routes_as_ip_would_make_them():
    def check():
        ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            with netlink.Rtnl() as rtnl:
                rtnl.add_veth("eth0", "peer0", ns)
                rtnl.add_address("eth0", "100.64.0.2", 30)
                rtnl.add_address("peer0", "100.64.0.1", 30)
                netlink.link_up("lo")
                netlink.link_up("eth0")
                netlink.link_up("peer0")
                rtnl.add_default_route("eth0", "100.64.0.1")
                rtnl.add_prohibit_route("169.254.0.0/16")
                try:
                    rtnl.add_prohibit_route("169.254.0.0/16")
                    duplicate = None
                except OSError as e:
                    duplicate = e.errno
        finally:
            os.close(ns)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("198.18.0.1", 9))  # by the default route
            source = s.getsockname()[0]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect(("169.254.169.254", 80))
                link_local = None
            except OSError as e:
                link_local = e.errno
        return source, link_local, duplicate, socket.if_nametoindex("peer0") > 0

    source, link_local, duplicate, peer = _in_new_netns(check)
    assert source == "100.64.0.2"
    assert link_local == errno.EACCES
    assert duplicate == errno.EEXIST
    assert peer
