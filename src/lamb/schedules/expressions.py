"""AWS schedule expressions: ``rate()``, ``cron()`` and (EventBridge Scheduler only) ``at()``.

The syntax is AWS's, not Unix cron's
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):

- ``rate(value unit)``: a positive whole number and ``minute``/``hour``/``day``, singular
  exactly when the value is 1 (``rate(1 minute)``, ``rate(5 minutes)``);
- ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``: six fields; one of
  Day-of-month and Day-of-week must be ``?``; Day-of-week counts 1-7 from SUN; ``L``
  (last day of the month, or ``5L``: the last Thursday), ``W`` (``3W``: the weekday
  nearest the 3rd), ``#`` (``3#2``: the second Tuesday); Year is 1970-2199;
- ``at(yyyy-mm-ddThh:mm:ss)``: one time, in the schedule's time zone.

croniter evaluates the five Unix-like fields (it knows ``L``, ``W`` and ``#``); this module
adds what AWS's syntax adds: validation with AWS's message, ``?``, Day-of-week numbering
from 1, the Year field, ``rate`` and ``at``. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Union

from croniter import CroniterBadDateError, croniter

UTC = dt.timezone.utc
INVALID = "Parameter ScheduleExpression is not valid."

_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")

_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}  # AWS: SUN = 1
_YEARS = (1970, 2199)
_RANGE_ITEM = re.compile(r"(\*|[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:/(\d+))?")


class InvalidExpression(ValueError):
    """Not a valid schedule expression; ``str()`` is AWS's message."""

    def __init__(self, message: str = INVALID) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, after: float, *, anchor: float, scale: float = 1.0, first: int = 1) -> float:
        """The first tick ``anchor + k * period`` (k >= ``first``) later than ``after``; the period
        is the rate times ``scale`` (``LAMB_SCHEDULE_TIME_SCALE``). An EventBridge rule first
        ticks one period after its creation (``first=1``); a Scheduler schedule at its start
        (``first=0``: "your schedule starts invoking the target immediately")."""
        period = self.seconds * scale
        k = max(first, int((after - anchor) // period) + 1)
        tick = anchor + k * period
        while tick <= after:  # float rounding
            k += 1
            tick = anchor + k * period
        return tick


@dataclass(frozen=True)
class Cron:
    unix: str  # the five Unix-cron fields croniter evaluates
    years: tuple[int, ...] = field(repr=False)  # sorted, from the Year field

    def next_after(self, after: float, *, tz: dt.tzinfo) -> float | None:
        """The first matching minute later than ``after`` (epoch seconds), in time zone ``tz``.

        Daylight saving time as EventBridge Scheduler documents it: a local time that does
        not exist (the spring-forward gap) is skipped, and one that happens twice (the
        fall-back hour) fires once, at its first occurrence.
        """
        start = dt.datetime.fromtimestamp(after, tz)
        while True:
            try:
                nxt = croniter(self.unix, start).get_next(dt.datetime)
            except CroniterBadDateError:  # a day that never comes (cron(0 0 30 2 ? *))
                return None
            if nxt.year in self.years:
                t = nxt.timestamp()
                local = dt.datetime.fromtimestamp(t, tz)
                if local.fold == 0 and croniter.match(self.unix, local.replace(tzinfo=None)):
                    return t
                start = local  # moved out of a gap, or the second pass of a repeated hour
                continue
            later = next((y for y in self.years if y > nxt.year), None)
            if later is None:
                return None
            start = dt.datetime(later, 1, 1, tzinfo=tz) - dt.timedelta(seconds=1)


@dataclass(frozen=True)
class At:
    when: dt.datetime  # naive: wall-clock time in the schedule's time zone

    def next_after(self, after: float, *, tz: dt.tzinfo) -> float | None:
        t = self.when.replace(tzinfo=tz).timestamp()
        return t if t > after else None


Expression = Union[Rate, Cron, At]


def parse(text: str, *, allow_at: bool = False) -> Expression:
    """Parse an expression; ``allow_at`` for EventBridge Scheduler. Raises ``InvalidExpression``."""
    m = _RATE.fullmatch(text)
    if m:
        value, unit = int(m.group(1)), m.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise InvalidExpression()
        return Rate(value * _UNIT_SECONDS[unit.rstrip("s")])
    m = _CRON.fullmatch(text)
    if m:
        return _parse_cron(m.group(1))
    m = _AT.fullmatch(text) if allow_at else None
    if m:
        try:
            return At(dt.datetime(*(int(g) for g in m.groups())))
        except ValueError:
            raise InvalidExpression() from None
    raise InvalidExpression()


def _number(token: str, lo: int, hi: int, names: dict[str, int] | None) -> int:
    if names is not None and token in names:
        return names[token]
    if not token.isdigit():
        raise InvalidExpression()
    value = int(token)
    if not lo <= value <= hi:
        raise InvalidExpression()
    return value


def _check_list(field: str, lo: int, hi: int, names: dict[str, int] | None = None) -> list[tuple[int, int, int]]:
    """Validate ``a``, ``a-b``, ``*``, with an optional ``/step``, comma-separated; return (start, end, step)s."""
    out = []
    for item in field.split(","):
        m = _RANGE_ITEM.fullmatch(item)
        if m is None:
            raise InvalidExpression()
        span, step = m.group(1), m.group(2)
        if span == "*":
            a, b = lo, hi
        elif "-" in span:
            first, last = span.split("-")
            a, b = _number(first, lo, hi, names), _number(last, lo, hi, names)
        else:
            a = _number(span, lo, hi, names)
            b = hi if step is not None else a
        s = 1 if step is None else int(step)
        if s < 1 or s > hi - lo:  # cron(*/60 * * * ? *) is refused
            raise InvalidExpression()
        out.append((a, b, s))
    return out


def _dow_to_unix(field: str) -> str:
    """AWS Day-of-week (1-7 from SUN, names, ``L``, ``5L``, ``3#2``) as croniter's (0-6 from SUN)."""
    if field == "L":
        return "6"  # the last day of the week: Saturday
    m = re.fullmatch(r"([1-7]|[A-Z]{3})L", field)
    if m:
        return f"L{_number(m.group(1), 1, 7, _DAYS) - 1}"
    m = re.fullmatch(r"([1-7]|[A-Z]{3})#([1-5])", field)
    if m:
        return f"{_number(m.group(1), 1, 7, _DAYS) - 1}#{m.group(2)}"
    parts = []
    for a, b, s in _check_list(field, 1, 7, _DAYS):
        span = str(a - 1) if a == b else f"{a - 1}-{b - 1}"
        parts.append(span if s == 1 else f"{span}/{s}")
    return ",".join(parts)


def _dom_to_unix(field: str) -> str:
    if field == "L":
        return "L"
    m = re.fullmatch(r"(\d{1,2})W", field)
    if m:
        _number(m.group(1), 1, 31, None)
        return field
    _check_list(field, 1, 31)
    return field


def _parse_cron(body: str) -> Cron:
    fields = body.split(" ")
    if len(fields) != 6 or any(not f for f in fields):
        raise InvalidExpression()
    minute, hour, dom, month, dow, year = (f.upper() for f in fields)
    # One of Day-of-month and Day-of-week must be "?", not both.
    if (dom == "?") == (dow == "?"):
        raise InvalidExpression()
    _check_list(minute, 0, 59)
    _check_list(hour, 0, 23)
    _check_list(month, 1, 12, _MONTHS)
    years = sorted({y for a, b, s in _check_list(year, *_YEARS) for y in range(a, b + 1, s)})
    unix_dom = "*" if dom == "?" else _dom_to_unix(dom)
    unix_dow = "*" if dow == "?" else _dow_to_unix(dow)
    unix = f"{minute} {hour} {unix_dom} {month} {unix_dow}"
    if not croniter.is_valid(unix):
        raise InvalidExpression()
    return Cron(unix, tuple(years))


def next_tick(expr: Expression, after: float, *, tz: dt.tzinfo = UTC, anchor: float = 0.0,
              scale: float = 1.0, first: int = 1) -> float | None:
    """The next tick of ``expr`` later than ``after`` (epoch seconds); None when there is none.

    ``rate()`` ticks count from ``anchor`` (the ``first``-th period on) and their period is
    scaled by ``scale``; ``cron()`` and ``at()`` are wall-clock times in ``tz`` and are not scaled.
    """
    if isinstance(expr, Rate):
        return expr.next_after(after, anchor=anchor, scale=scale, first=first)
    return expr.next_after(after, tz=tz)


def last_tick(expr: Expression, at_or_before: float, *, tz: dt.tzinfo = UTC, anchor: float = 0.0,
              scale: float = 1.0, first: int = 1) -> float | None:
    """The latest tick of ``expr`` not later than ``at_or_before`` (None if none)."""
    if isinstance(expr, Rate):
        period = expr.seconds * scale
        k = int((at_or_before - anchor) // period)
        return anchor + k * period if k >= first else None
    if isinstance(expr, At):
        t = expr.when.replace(tzinfo=tz).timestamp()
        return t if t <= at_or_before else None
    start = dt.datetime.fromtimestamp(at_or_before, tz) + dt.timedelta(microseconds=1)
    try:
        prev = croniter(expr.unix, start).get_prev(dt.datetime)
    except CroniterBadDateError:
        return None
    return prev.timestamp() if prev.year in expr.years else None
