"""Events put on the default bus (PutEvents) and the rules whose pattern they match. Pure.

- An entry becomes an event as EventBridge delivers it
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html): ``version "0"``,
  ``id``, ``detail-type``, ``source``, ``account``, ``time`` (the entry's ``Time`` or now, UTC
  seconds), ``region``, ``resources`` and ``detail`` (the entry's ``Detail``, a JSON object).
- An entry without ``Source``, ``DetailType`` or ``Detail`` fails with ``InvalidArgument``
  (``Parameter Source is not valid. Reason: Source is a required argument.``); a ``Detail``
  that is not a JSON object with ``MalformedDetail`` (``Detail is malformed.``); an entry for
  another bus with ``ResourceNotFoundException``. Other entries of the same request go on.
- An entry's size is counted as https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
  says (14 bytes for a ``Time``, the UTF-8 bytes of Source, DetailType, Detail and each resource).
- Event patterns (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html)
  share their grammar with Lambda's event filtering; the compiler is given (``Compile``), so
  this module does not pick an implementation. ``PatternCache`` keeps each rule's compiled pattern.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Callable, Protocol

from .payloads import iso_seconds


class Matcher(Protocol):
    def matches(self, doc: Any) -> bool: ...


Compile = Callable[[str], Matcher]  # a pattern's JSON text → its matcher; raises ValueError when invalid


def entry_size(entry: dict) -> int:
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key):
            size += len(str(entry[key]).encode("utf-8"))
    return size + sum(len(str(r).encode("utf-8")) for r in entry.get("Resources") or [])


def entry_error(entry: dict) -> tuple[str, str] | None:
    """(ErrorCode, ErrorMessage) of an entry EventBridge refuses, else None."""
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return "InvalidArgument", f"Parameter {key} is not valid. Reason: {key} is a required argument."
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    return None


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=dt.timezone.utc).timestamp()
    return float(value)


def envelope(entry: dict, *, region: str, account: str, now: float, event_id: str | None = None) -> dict:
    """The event EventBridge makes of a valid entry (``entry_error`` is None)."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": iso_seconds(_epoch(entry["Time"]) if entry.get("Time") is not None else now),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(entry["Detail"]),
    }


class PatternCache:
    """Compiled patterns by their text (a rule's pattern is compiled once, not per event)."""

    def __init__(self, compile_pattern: Compile, size: int = 1024) -> None:
        self.compile = compile_pattern
        self.size = size
        self._compiled: dict[str, Matcher] = {}

    def matches(self, pattern: str, event: dict) -> bool:
        matcher = self._compiled.get(pattern)
        if matcher is None:
            if len(self._compiled) >= self.size:
                self._compiled.clear()
            matcher = self._compiled[pattern] = self.compile(pattern)
        return matcher.matches(event)
