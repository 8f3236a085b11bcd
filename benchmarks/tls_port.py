"""The TLS port (``lamb serve --https-port``) against the plain port: one server, one HTTP API.

    python benchmarks/tls_port.py [--requests 5000] [--runtime python3.12]

Starts its own ``lamb serve`` with a TLS port, creates a hello-world function and a quick-created
HTTP API in front of it, then measures sequential latency on one keep-alive connection per port,
in alternating blocks of 500 (``function_url.alternating``): the plain port, and the TLS port
(Python's ``ssl``, trusting the default certificate Lamb made, SNI the API's host). The handshake
is paid once per connection and is not in the numbers; what they show is the per-request cost of
TLS records on the same ``HttpServer`` path.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function_url import _request, alternating, summary  # noqa: E402
from http_api import make_api  # noqa: E402
from invoke_latency import create_function, free_port, latency_args, start_server, stop_server  # noqa: E402


def main() -> None:
    ap = latency_args()
    args = ap.parse_args()
    https_port = free_port()
    proc, endpoint, data = start_server(extra=("--https-port", str(https_port)))
    try:
        name = f"bench-tls-{os.getpid()}"
        create_function(endpoint, name, args.runtime)
        host = make_api(endpoint, name)
        one = _request("api", "", host, endpoint)
        plain = http.client.HTTPConnection(*endpoint[len("http://"):].split(":"), timeout=30)
        ctx = ssl.create_default_context(cafile=os.path.join(data, "tls", "default.pem"))
        tls = http.client.HTTPSConnection("127.0.0.1", https_port, context=ctx, timeout=30)
        tls.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", https_port), timeout=30),
                                   server_hostname=host.partition(":")[0])
        tls.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lat = alternating({"plain": lambda: one(plain), "tls": lambda: one(tls)}, args.requests)
        for kind, values in lat.items():
            print(json.dumps({"port": kind, "sequential_ms": summary(values)}))
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
