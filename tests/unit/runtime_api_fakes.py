"""What the fake Runtime APIs of the runtime-client tests share: reading whole HTTP requests off a socket."""

from __future__ import annotations

import socket
from typing import Iterator


def requests_of(conn: socket.socket, reads: list[bytes], size: int = 65536) -> Iterator[tuple[bytes, bytes]]:
    """``(head, body)`` of each request the peer sends on ``conn`` (Content-Length bodies), until it
    closes; every ``recv`` is appended to ``reads`` as it came (to see what left in one write)."""
    buf = b""
    while True:
        data = conn.recv(size)
        if not data:
            return
        reads.append(data)
        buf += data
        while b"\r\n\r\n" in buf:
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            if len(rest) < length:
                break
            buf = rest[length:]
            yield head, rest[:length]

