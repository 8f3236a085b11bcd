"""Recursive loop detection through the X-Ray trace header's ``Lineage`` field.

AWS tracks a chain of requests (the invocations one triggering event causes)
with the ``Lineage`` primitive of the ``X-Amzn-Trace-Id`` header
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html). Lambda
hands each invocation a header in ``_X_AMZN_TRACE_ID``; the AWS SDKs inside the
function copy it into the ``X-Amzn-Trace-Id`` header of every call they make
(botocore's ``add_recursion_detection_header``), so an event the function sends
back to Lambda carries its lineage. Lambda counts, per function, how many times
the chain has invoked it and stops the invocation after about 16.

Lamb does the same for the chains it can see: async invokes made from inside
functions (the SDK forwards the header), Lambda destinations (Lamb passes the
source invocation's header on) and, later, event sources that keep the header
(SQS's ``AWSTraceHeader``). The header a function sees looks like::

    Root=1-66d0c2b1-5f0e8a1b2c3d4e5f6a7b8c9d;Parent=8c9d0e1f2a3b4c5d;Sampled=?;Lineage=1:a87bd80c:0

``Sampled=?`` (X-Ray's "no decision yet") when no caller decided: the invocation decides it, by
the function's tracing mode (``invoke/tracing.py``), and the function sees ``Sampled=0`` or ``1``.

Each ``Lineage`` entry is ``<version>:<8-hex hash of the function>:<count>``
(entries joined by ``|``), where count is how many times the chain had invoked
that function before this invocation: 0 on the first. The two-part form
``<hash>:<count>`` of the X-Ray documentation is read too.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time

LINEAGE_VERSION = "1"
MAX_ENTRIES = 16  # functions remembered per chain; the header stays small
HEADER_MAX = 2048


@functools.lru_cache(maxsize=4096)
def function_hash(function_arn: str) -> str:
    """The 8-hex identity of a function in a Lineage entry (from its unqualified ARN)."""
    return hashlib.sha256(function_arn.encode()).hexdigest()[:8]


def new_root() -> str:
    return f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"


def parse(header: str | None) -> dict[str, str]:
    """The ``key=value`` fields of a trace header, in order (unknown ones kept)."""
    fields: dict[str, str] = {}
    if not header:
        return fields
    for part in header[:HEADER_MAX].split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            fields.setdefault(key.strip(), value.strip())
    return fields


def entries(lineage: str | None) -> list[tuple[str, int]]:
    """``[(hash, count), ...]`` of a Lineage value; malformed entries are skipped."""
    out: list[tuple[str, int]] = []
    if not lineage:
        return out
    for raw in lineage.replace(",", "|").split("|"):
        parts = raw.strip().split(":")
        if len(parts) == 3:
            _, h, count = parts
        elif len(parts) == 2:
            h, count = parts
        else:
            continue
        try:
            n = int(count)
        except ValueError:
            continue
        if h and n >= 0:
            out.append((h.lower(), n))
    return out


def format_entries(items: list[tuple[str, int]]) -> str:
    return "|".join(f"{LINEAGE_VERSION}:{h}:{n}" for h, n in items)


def with_root(header: str | None) -> str:
    """A cause header as Lamb stores it with an event: always with a Root.

    Retries of one event then share a trace, and an event that arrived without a
    header (a client outside Lamb) starts a chain of its own.
    """
    if not header:  # (an HTTP request without one: on the path of each)
        return f"Root={new_root()}"
    fields = parse(header)
    if not fields.get("Root"):
        fields = {"Root": new_root(), **{k: v for k, v in fields.items() if k != "Root"}}
    return ";".join(f"{k}={v}" for k, v in fields.items())


def hop(cause: str | None, function_arn: str) -> tuple[str, int]:
    """The header for an invocation of ``function_arn`` caused by a request carrying ``cause``.

    Returns ``(header, count)``: count is how many times this chain invoked the
    function before (0 for the first time). The caller stops the invocation when
    count reaches the limit (16): the function then ran 16 times in this chain.
    """
    # The first hop of a new chain: no header (the invoke hot path), or only a Root (``with_root`` of a
    # request without one: an HTTP API's or URL's request), read without parsing the header's fields.
    if not cause or (cause.startswith("Root=") and len(cause) > 5 and ";" not in cause and " " not in cause):
        return (f"{cause or 'Root=' + new_root()};Parent={os.urandom(8).hex()};Sampled=?;"
                f"Lineage={LINEAGE_VERSION}:{function_hash(function_arn)}:0"), 0
    fields = parse(cause)
    root = fields.get("Root") or new_root()
    sampled = fields.get("Sampled") or "?"  # no caller decided
    me = function_hash(function_arn)
    items = entries(fields.get("Lineage"))
    count = 0
    for i, (h, n) in enumerate(items):
        if h == me:
            count = n + 1
            items[i] = (h, count)
            break
    else:
        items.append((me, 0))
        if len(items) > MAX_ENTRIES:
            items = items[-MAX_ENTRIES:]
    parent = fields.get("Parent") or os.urandom(8).hex()  # the caller's segment, when it names one (tracing)
    header = f"Root={root};Parent={parent};Sampled={sampled};Lineage={format_entries(items)}"
    return header, count
