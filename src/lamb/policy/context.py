"""Global condition keys of a request, as AWS puts them in a policy's context.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html: every request
carries ``aws:CurrentTime`` (ISO 8601, UTC) and ``aws:EpochTime`` (seconds); a request that came over the
network also ``aws:SourceIp``, ``aws:SecureTransport`` (``"true"`` over TLS) and, when the client sent them,
``aws:UserAgent`` and ``aws:Referer``. Callers add their service's own keys.
"""

from __future__ import annotations

import time
from typing import Mapping


def time_keys(now: float | None = None) -> dict[str, object]:
    """``aws:CurrentTime`` and ``aws:EpochTime`` at ``now`` (default: this moment)."""
    now = time.time() if now is None else now
    return {"aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "aws:EpochTime": int(now)}


def request_keys(source_ip: str, headers: Mapping[str, str], *, secure: bool,
                 now: float | None = None) -> dict[str, object]:
    """The global keys of an HTTP request from ``source_ip`` (``headers``: lower-case names)."""
    keys = {"aws:SourceIp": source_ip, "aws:SecureTransport": "true" if secure else "false", **time_keys(now)}
    if headers.get("user-agent"):
        keys["aws:UserAgent"] = headers["user-agent"]
    if headers.get("referer"):
        keys["aws:Referer"] = headers["referer"]
    return keys
