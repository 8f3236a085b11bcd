"""lamb.invoke.xray_daemon: the daemon's UDP port on the host's network (a real socket)."""

from __future__ import annotations

import asyncio
import json
import socket

from lamb.invoke.xray_daemon import XRayDaemon


class HostNetwork:
    def socket_inside(self, kind: int = 1):
        return None


def test_segments_sent_to_the_announced_address_reach_the_tracer():
    async def run():
        got: list[dict] = []
        daemon = XRayDaemon(got.append)
        env = daemon.env_vars(HostNetwork(), "env-1")
        assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"
        host, port = env["AWS_XRAY_DAEMON_ADDRESS"].split(":")
        assert daemon.env_vars(HostNetwork(), "env-2") == env  # one socket for the host's network
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"garbage", (host, int(port)))
            s.sendto(b'{"format": "json", "version": 1}\n' + json.dumps({"id": "1", "name": "x"}).encode(), (host, int(port)))
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
        daemon.close()
        return got, daemon.received

    got, received = asyncio.run(run())
    assert got == [{"id": "1", "name": "x"}] and received == 1
