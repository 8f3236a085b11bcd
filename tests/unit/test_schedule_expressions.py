"""lamb.schedules.expressions against the examples of AWS's documentation.

https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html (cron and
rate examples), https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html (at()).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from lamb.schedules.expressions import INVALID, At, Cron, InvalidExpression, Rate, last_tick, next_tick, parse

UTC = dt.timezone.utc
# Sunday 6 December 2026, 10:00 UTC
T0 = dt.datetime(2026, 12, 6, 10, 0, tzinfo=UTC).timestamp()


def ticks(text: str, n: int = 3, *, start: float = T0, tz=UTC, allow_at: bool = False) -> list[str]:
    expr = parse(text, allow_at=allow_at)
    out, t = [], start
    for _ in range(n):
        t = next_tick(expr, t, tz=tz, anchor=start)
        if t is None:
            break
        out.append(dt.datetime.fromtimestamp(t, UTC).strftime("%a %Y-%m-%d %H:%M"))
    return out


@pytest.mark.parametrize("text, expected", [
    # "Run at 10:00 am (UTC+0) every day"
    ("cron(0 10 * * ? *)", ["Mon 2026-12-07 10:00", "Tue 2026-12-08 10:00", "Wed 2026-12-09 10:00"]),
    # "Run at 12:15 pm (UTC+0) every day"
    ("cron(15 12 * * ? *)", ["Sun 2026-12-06 12:15", "Mon 2026-12-07 12:15", "Tue 2026-12-08 12:15"]),
    # "Run at 6:00 pm (UTC+0) every Monday through Friday"
    ("cron(0 18 ? * MON-FRI *)", ["Mon 2026-12-07 18:00", "Tue 2026-12-08 18:00", "Wed 2026-12-09 18:00"]),
    # "Run at 8:00 am (UTC+0) every first day of the month"
    ("cron(0 8 1 * ? *)", ["Fri 2027-01-01 08:00", "Mon 2027-02-01 08:00", "Mon 2027-03-01 08:00"]),
    # "Run every 15 minutes"
    ("cron(0/15 * * * ? *)", ["Sun 2026-12-06 10:15", "Sun 2026-12-06 10:30", "Sun 2026-12-06 10:45"]),
    # "Run every 10 minutes Monday through Friday"
    ("cron(0/10 * ? * MON-FRI *)", ["Mon 2026-12-07 00:00", "Mon 2026-12-07 00:10", "Mon 2026-12-07 00:20"]),
    # "Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC+0)"
    ("cron(0/5 8-17 ? * MON-FRI *)", ["Mon 2026-12-07 08:00", "Mon 2026-12-07 08:05", "Mon 2026-12-07 08:10"]),
    # "Run at 9:00 am (UTC) the first Monday of each month" (Day-of-week counts from SUN = 1)
    ("cron(0 9 ? * 2#1 *)", ["Mon 2026-12-07 09:00", "Mon 2027-01-04 09:00", "Mon 2027-02-01 09:00"]),
    # L: the last day of the month; 6L: the last Friday; W: the weekday nearest the 15th
    ("cron(0 10 L * ? *)", ["Thu 2026-12-31 10:00", "Sun 2027-01-31 10:00", "Sun 2027-02-28 10:00"]),
    ("cron(0 10 ? * 6L *)", ["Fri 2026-12-25 10:00", "Fri 2027-01-29 10:00", "Fri 2027-02-26 10:00"]),
    ("cron(0 10 15W * ? *)", ["Tue 2026-12-15 10:00", "Fri 2027-01-15 10:00", "Mon 2027-02-15 10:00"]),
    # Day-of-week numbers: 1 is Sunday, 7 Saturday; a list of them
    ("cron(0 10 ? * 1,7 *)", ["Sat 2026-12-12 10:00", "Sun 2026-12-13 10:00", "Sat 2026-12-19 10:00"]),
    # the Year field
    ("cron(0 10 1 JAN ? 2028-2029)", ["Sat 2028-01-01 10:00", "Mon 2029-01-01 10:00"]),
    # "Run every 5 minutes", anchored at the rule's creation
    ("rate(5 minutes)", ["Sun 2026-12-06 10:05", "Sun 2026-12-06 10:10", "Sun 2026-12-06 10:15"]),
    ("rate(1 hour)", ["Sun 2026-12-06 11:00", "Sun 2026-12-06 12:00", "Sun 2026-12-06 13:00"]),
    ("rate(7 days)", ["Sun 2026-12-13 10:00", "Sun 2026-12-20 10:00", "Sun 2026-12-27 10:00"]),
])
def test_documented_examples(text, expected):
    assert ticks(text) == expected


@pytest.mark.parametrize("text", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-10 minutes)", "rate(10 seconds)",
    "rate(10 years)", "rate()", "rate(10)", "rate(foo minutes)", "rate( 10 minutes )", " rate(10 minutes)",
    "cron(* * * * *)",  # five fields
    "cron(0 10 * * * *)",  # neither Day-of-month nor Day-of-week is ?
    "cron(0 10 ? * ? *)",  # both are
    "cron(*/60 * * * ? *)", "cron(71 8 1 * ? *)", "cron(0 24 * * ? *)", "cron(7 20 * * 1-7 *)",
    "cron(15 12 ? * -1 *)", "cron(0 10 ? * 0 *)", "cron(0 10 ? * 8 *)", "cron(0 dummy ? * MON-FRI *)",
    "cron(0 0 1 * ? 1969)", "cron(INVALID)", "cron()",
    "at(2026-12-31T23:59:59)",  # at() is EventBridge Scheduler's only
])
def test_invalid_expressions_get_aws_message(text):
    with pytest.raises(InvalidExpression) as e:
        parse(text)
    assert str(e.value) == INVALID == "Parameter ScheduleExpression is not valid."


@pytest.mark.parametrize("text", ["at(2021-12-31T23:59:59Z)", "at(2021-12-31)", "at(2021-02-30T00:00:00)"])
def test_invalid_at(text):
    with pytest.raises(InvalidExpression):
        parse(text, allow_at=True)


def test_parsed_kinds():
    assert parse("rate(1 minute)") == Rate(60)
    assert isinstance(parse("cron(0 10 * * ? *)"), Cron)
    assert parse("at(2026-12-06T10:05:00)", allow_at=True) == At(dt.datetime(2026, 12, 6, 10, 5))


def test_time_zone_and_daylight_saving():
    ny = ZoneInfo("America/New_York")
    # 09:00 in New York is 14:00 UTC in winter
    assert ticks("cron(0 9 * * ? *)", 1, tz=ny) == ["Sun 2026-12-06 14:00"]
    summer = dt.datetime(2026, 7, 1, tzinfo=UTC).timestamp()
    assert ticks("cron(0 9 * * ? *)", 1, start=summer, tz=ny) == ["Wed 2026-07-01 13:00"]
    assert ticks("at(2026-12-06T09:30:00)", 2, tz=ny, allow_at=True) == ["Sun 2026-12-06 14:30"]


def test_at_fires_once_and_rate_is_scaled():
    at = parse("at(2026-12-06T10:05:00)", allow_at=True)
    t = next_tick(at, T0)
    assert next_tick(at, t) is None
    assert next_tick(parse("rate(1 minute)"), T0, anchor=T0, scale=0.01) == pytest.approx(T0 + 0.6)
    assert next_tick(parse("cron(0/15 * * * ? *)"), T0, scale=0.01) == T0 + 900  # wall clock: not scaled


def test_last_tick():
    assert last_tick(parse("rate(5 minutes)"), T0 + 601, anchor=T0) == T0 + 600
    assert last_tick(parse("rate(5 minutes)"), T0 + 10, anchor=T0) is None
    assert last_tick(parse("cron(0/15 * * * ? *)"), T0 + 1000) == T0 + 900
    assert last_tick(parse("cron(0/15 * * * ? *)"), T0 + 900) == T0 + 900
    assert last_tick(parse("at(2026-12-06T10:05:00)", allow_at=True), T0 + 300) == T0 + 300


def test_a_day_that_never_comes():
    assert next_tick(parse("cron(0 0 30 2 ? *)"), T0) is None


def test_daylight_saving_as_scheduler_documents_it():
    """Spring forward: a local time that does not exist is skipped; fall back: a repeated
    local time fires once (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html)."""
    ny = ZoneInfo("America/New_York")
    spring = dt.datetime(2027, 3, 13, 12, tzinfo=UTC).timestamp()  # 2027-03-14 02:00 → 03:00
    assert ticks("cron(30 2 * * ? *)", 2, start=spring, tz=ny) == ["Mon 2027-03-15 06:30", "Tue 2027-03-16 06:30"]
    fall = dt.datetime(2027, 11, 7, 4, 0, tzinfo=UTC).timestamp()  # 2027-11-07 02:00 EDT → 01:00 EST
    assert ticks("cron(0/30 * * * ? *)", 4, start=fall, tz=ny) == [
        "Sun 2027-11-07 04:30", "Sun 2027-11-07 05:00", "Sun 2027-11-07 05:30", "Sun 2027-11-07 07:00"]


def test_a_schedules_rate_starts_at_once():
    rate = parse("rate(5 minutes)")
    assert next_tick(rate, T0 - 0.001, anchor=T0, first=0) == T0  # EventBridge Scheduler
    assert next_tick(rate, T0 - 0.001, anchor=T0) == T0 + 300  # an EventBridge rule
    assert last_tick(rate, T0 + 10, anchor=T0, first=0) == T0
