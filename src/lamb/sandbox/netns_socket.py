"""A socket that lives in another network namespace (an environment's).

A socket belongs to the network namespace it was created in, whatever the namespace of
the thread that later uses it; so a socket made while one thread has briefly joined an
environment's namespace (``setns`` changes only the calling thread) connects to that
environment's own loopback. Lamb's debugger forwarding (``lamb.invoke.debug``) and its X-Ray
daemon port (``lamb.invoke.xray_daemon``) use it.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
_lock = threading.Lock()


def _setns(fd: int) -> None:
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns(CLONE_NEWNET): {os.strerror(err)}")


def socket_in(netns_fd: int, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A new, unbound ``kind`` (TCP by default) socket in the namespace of ``netns_fd`` (made by a thread of its own)."""
    result: list = []

    def make() -> None:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(netns_fd)
            try:
                result.append(socket.socket(socket.AF_INET, kind))
            finally:
                _setns(home)
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            result.append(e)
        finally:
            os.close(home)

    # A thread of its own, so no thread that runs anything else ever changes namespace.
    with _lock:
        t = threading.Thread(target=make, name="lamb-netns-socket")
        t.start()
        t.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]
