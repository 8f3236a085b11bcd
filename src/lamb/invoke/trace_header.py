"""The sampling decision in an X-Ray trace header
(https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
``Sampled=1`` traced, ``Sampled=0`` not, ``Sampled=?`` (or none) not decided yet."""

from __future__ import annotations


def decided(header: str | None) -> str | None:
    """The caller's decision: "1", "0", or None (``?`` or absent)."""
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Sampled":
            return value if value in ("0", "1") else None
    return None


def unsampled(header: str) -> str:
    """The header of an invocation nobody traces: no decision becomes ``Sampled=0``."""
    return header.replace("Sampled=?", "Sampled=0", 1) if "Sampled=?" in header else header
