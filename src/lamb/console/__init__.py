"""The web console: static files served at ``/_lamb/console/``, a client of Lamb's public AWS APIs.

The page holds no data and no secret: it signs each request in the browser with SigV4
(``static/sigv4.js``, on the Web Crypto API) using the access key the user enters (``lamb
credentials`` prints it), and calls the same Lambda and CloudWatch Logs APIs boto3 does.
So it needs no route of its own beyond these files, and sees exactly what that key may see.
Web Crypto exists only in a secure context: the page works on a loopback address (or behind
a TLS proxy), not over plain HTTP to another host.
"""

from __future__ import annotations

from importlib import resources

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
PREFIX = "/_lamb/console"
# The page loads only its own files and talks only to its own origin.
HEADERS = [("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
           ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-cache")]


def asset(path: str) -> tuple[bytes, str] | None:
    """The file for a request path under ``PREFIX`` and its content type; None when there is none."""
    name = path[len(PREFIX):].lstrip("/") or "index.html"
    if "/" in name or name.startswith(".") or not any(name.endswith(ext) for ext in TYPES):
        return None
    f = resources.files(__package__).joinpath("static", name)
    if not f.is_file():
        return None
    return f.read_bytes(), TYPES[name[name.rindex("."):]]
