"""Timestamp conversions for the REST-JSON wire formats (iso8601, rfc822, unixTimestamp)."""

from __future__ import annotations

import datetime as _dt
from email.utils import format_datetime, parsedate_to_datetime

UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: object) -> _dt.datetime:
    """Accept epoch seconds (number or numeric string), ISO 8601 or RFC 822; return aware UTC."""
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, bool):
        raise ValueError("not a timestamp")
    elif isinstance(value, (int, float)):
        return _EPOCH + _dt.timedelta(seconds=value)
    elif isinstance(value, str):
        s = value.strip()
        try:
            return _EPOCH + _dt.timedelta(seconds=float(s))
        except (ValueError, OverflowError):
            pass
        try:
            dt = _dt.datetime.fromisoformat(s[:-1] + "+00:00" if s[-1:] in "zZ" and s else s)
        except ValueError:
            try:
                dt = parsedate_to_datetime(s)
            except (TypeError, ValueError, IndexError) as exc:
                raise ValueError(f"not a timestamp: {value!r}") from exc
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_epoch(value: object) -> int | float:
    """Epoch seconds, an int when whole, else rounded to milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    dt = parse_timestamp(value)
    delta = dt - _EPOCH
    secs = delta.days * 86400 + delta.seconds
    if delta.microseconds == 0:
        return secs
    return round(secs + delta.microseconds / 1e6, 3)


def to_iso8601(value: object) -> str:
    dt = parse_timestamp(value)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        return f"{base}.{dt.microsecond // 1000:03d}Z"
    return base + "Z"


def to_rfc822(value: object) -> str:
    return format_datetime(parse_timestamp(value).replace(microsecond=0), usegmt=True)


FORMATTERS = {
    "unixtimestamp": to_epoch,
    "iso8601": to_iso8601,
    "rfc822": to_rfc822,
}


def formatter(fmt: str | None, default: str):
    """Return the output function for a ``timestampFormat`` (case-insensitive)."""
    return FORMATTERS[(fmt or default).lower()]
