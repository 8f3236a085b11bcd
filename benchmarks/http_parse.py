"""Cost of one request through the HTTP server's parse-and-dispatch path, in-process.

    PYTHONPATH=<a Lamb src folder> python benchmarks/http_parse.py [--requests 50000] [--rounds 7]

Feeds one complete Invoke request (head and 12-byte body in one read, as a keep-alive
client sends it) to an ``HttpConnection`` whose transport discards writes, with the
public port's settings (a header timeout set), and prints microseconds per request:
the minimum and median of the rounds. Run it for two builds, interleaved, to compare
(the network, the event loop's I/O and the application are not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from lamb.http.server import HttpConnection, HttpServer, Response

REQUEST = (b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n"
           b"X-Amz-Invocation-Type: RequestResponse\r\n\r\n{\"n\": 12345}")
ANSWER = Response(200, [("Content-Type", "application/json")], b"{}")


class _Sink:
    def write(self, data): pass
    def writelines(self, data): pass
    def get_extra_info(self, key): return None
    def close(self): pass
    def is_closing(self): return False


async def _run(requests: int, rounds: int) -> dict:
    kw = {"header_timeout": 30.0} if "header_timeout" in HttpServer.__init__.__code__.co_varnames else {}
    server = HttpServer(lambda req: ANSWER, **kw)
    conn = HttpConnection(server.app, server, 1 << 26)
    conn.connection_made(_Sink())
    per_request = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(requests):
            conn.data_received(REQUEST)
        per_request.append((time.perf_counter() - t) / requests * 1e6)
    return {"us_per_request_min": round(min(per_request), 3), "median": round(statistics.median(per_request), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(_run(args.requests, args.rounds))))


if __name__ == "__main__":
    main()
