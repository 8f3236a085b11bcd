"""CORS for function URLs, from the URL's ``Cors`` configuration.

https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors: with a
``Cors`` configuration Lambda answers preflight requests (OPTIONS with ``Origin`` and
``Access-Control-Request-Method``) itself, without invoking the function, and adds the
CORS headers to every response of an allowed origin, replacing any CORS headers the
function returned. Without one, OPTIONS requests reach the function like any other.
"""

from __future__ import annotations


def _origin(cors: dict, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for ``origin``, or None when not allowed."""
    if not origin:
        return None
    allowed = cors.get("AllowOrigins") or []
    if "*" in allowed:
        return "*"
    return origin if any(o.rstrip("/").lower() == origin.rstrip("/").lower() for o in allowed) else None


def is_preflight(method: str, headers: dict[str, str]) -> bool:
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def preflight(cors: dict, headers: dict[str, str]) -> list[tuple[str, str]]:
    """The headers of the answer to a preflight request (200, empty body)."""
    allow = _origin(cors, headers.get("origin"))
    if allow is None:
        return []
    out = [("Access-Control-Allow-Origin", allow)]
    methods = cors.get("AllowMethods") or []
    if methods:
        out.append(("Access-Control-Allow-Methods", ",".join(methods)))
    if cors.get("AllowHeaders"):
        out.append(("Access-Control-Allow-Headers", ",".join(cors["AllowHeaders"])))
    if cors.get("AllowCredentials"):
        out.append(("Access-Control-Allow-Credentials", "true"))
    if cors.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ",".join(cors["ExposeHeaders"])))
    if cors.get("MaxAge") is not None:
        out.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
    if allow != "*":
        out.append(("Vary", "Origin"))
    return out


def apply(cors: dict, request_headers: dict[str, str], headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A response's headers with the URL's CORS headers in place of the function's."""
    allow = _origin(cors, request_headers.get("origin"))
    if allow is None:
        return headers
    out = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
    out.append(("Access-Control-Allow-Origin", allow))
    if cors.get("AllowCredentials"):
        out.append(("Access-Control-Allow-Credentials", "true"))
    if cors.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ",".join(cors["ExposeHeaders"])))
    if allow != "*":
        out.append(("Vary", "Origin"))
    return out
