"""apis/usage_plans.py: quota periods, the checks in AWS's order, usage written through and read back, key
values sealed at rest (a real SQLite database and a real Sealer; the token buckets of apis/throttle.py)."""

import calendar
import datetime

from lamb.apis.throttle import Buckets
from lamb.apis.usage_plans import (GENERATED_LENGTH, Admitted, Refusal, UsagePlans, generate_value,
                                   period_start)
from lamb.sealing import Sealer
from lamb.store.db import Database


def _ts(day: str, hour: int = 12) -> float:
    return calendar.timegm(datetime.date.fromisoformat(day).timetuple()) + hour * 3600


def test_generated_values():
    value = generate_value()
    assert len(value) == GENERATED_LENGTH and value.isalnum() and value != generate_value()


def test_period_start():
    wed = _ts("2026-12-09")  # a Wednesday
    assert period_start({"period": "DAY"}, wed).isoformat() == "2026-12-09"
    assert period_start({}, wed).isoformat() == "2026-12-09"
    assert period_start({"period": "WEEK", "offset": 0}, wed).isoformat() == "2026-12-06"  # Sunday
    assert period_start({"period": "WEEK", "offset": 1}, wed).isoformat() == "2026-12-07"  # Monday
    assert period_start({"period": "WEEK", "offset": 3}, wed).isoformat() == "2026-12-09"
    assert period_start({"period": "WEEK", "offset": 4}, wed).isoformat() == "2026-12-03"
    assert period_start({"period": "MONTH", "offset": 0}, wed).isoformat() == "2026-12-01"
    assert period_start({"period": "MONTH", "offset": 9}, wed).isoformat() == "2026-11-10"
    assert period_start({"period": "MONTH", "offset": 5}, _ts("2026-01-03")).isoformat() == "2025-12-06"
    assert period_start({"period": "MONTH", "offset": 27}, _ts("2026-03-01")).isoformat() == "2026-02-28"


class _Clock:
    def __init__(self, ts: float) -> None:
        self.now = ts

    def __call__(self) -> float:
        return self.now


def _plans(tmp_path, clock) -> UsagePlans:
    return UsagePlans(Database(tmp_path / "lamb.db"), Sealer(b"k" * 32), clock=clock)


def _setup(usage: UsagePlans, value: str, **plan) -> None:
    usage.put_key({"id": "key1", "name": "k", "enabled": True}, value)
    usage.plans.put("plan1", dict({"id": "plan1", "name": "p", "apiStages": [{"apiId": "api", "stage": "live"}],
                                   "_keys": ["key1"]}, **plan))


def test_checks_in_order_and_counts(tmp_path):
    clock = _Clock(_ts("2026-12-09"))
    usage = _plans(tmp_path, clock)
    value = "v" * 25
    _setup(usage, value, quota={"limit": 2, "period": "DAY", "offset": 0})
    buckets = Buckets(clock=lambda: 0.0)

    def admit(v=value, stage="live", path="/hello"):
        return usage.admit(v, "api", stage, path, "GET", buckets)

    assert admit(None) == Refusal(403, "Forbidden", "INVALID_API_KEY")
    assert admit("x" * 25).kind == "INVALID_API_KEY"
    assert admit(stage="other").kind == "INVALID_API_KEY"  # the plan does not list that stage
    assert admit() == Admitted(value, "key1", "plan1", "2026-12-09")
    assert isinstance(admit(), Admitted)
    assert admit() == Refusal(429, "Limit Exceeded", "QUOTA_EXCEEDED")
    assert usage.used("plan1", "key1", "2026-12-09") == 2
    clock.now = _ts("2026-12-10")  # a new day, a new period
    assert isinstance(admit(), Admitted)
    usage.keys.put("key1", dict(usage.keys.get("key1"), enabled=False))
    assert admit().kind == "INVALID_API_KEY"


def test_throttles_per_key_and_per_method(tmp_path):
    usage = _plans(tmp_path, _Clock(_ts("2026-12-09")))
    value = "t" * 25
    _setup(usage, value, throttle={"rateLimit": 0.001, "burstLimit": 1})
    buckets = Buckets(clock=lambda: 0.0)
    assert isinstance(usage.admit(value, "api", "live", "/a", "GET", buckets), Admitted)
    assert usage.admit(value, "api", "live", "/b", "GET", buckets) == Refusal(429, "Too Many Requests", "THROTTLED")
    plan = usage.plans.get("plan1")
    plan["apiStages"][0]["throttle"] = {"/b/GET": {"rateLimit": 0.001, "burstLimit": 1}}
    usage.plans.put("plan1", plan)
    assert isinstance(usage.admit(value, "api", "live", "/b", "GET", buckets), Admitted)  # its own bucket
    assert usage.admit(value, "api", "live", "/b", "GET", buckets).kind == "THROTTLED"
    assert buckets.take(("api", "live", "/b"), 1.0, 1)  # the stages' key space is untouched


def test_usage_and_sealed_values_survive_reopening(tmp_path):
    clock = _Clock(_ts("2026-12-09"))
    usage = _plans(tmp_path, clock)
    value = "s" * 30
    _setup(usage, value, quota={"limit": 3, "period": "WEEK", "offset": 0})
    buckets = Buckets()
    scheduled = []
    for _ in range(2):
        assert isinstance(usage.admit(value, "api", "live", "/", "GET", buckets), Admitted)
        usage.write_later(scheduled.append)
    assert scheduled == [usage.write]  # one write for both requests
    assert _plans(tmp_path, clock).used("plan1", "key1", "2026-12-09") == 0  # not written yet
    scheduled[0]()
    usage.set_remaining(usage.plans.get("plan1"), "key1", 2)
    assert value.encode() not in (tmp_path / "lamb.db").read_bytes()
    assert (tmp_path / "lamb.db-wal").exists() is False or value.encode() not in (tmp_path / "lamb.db-wal").read_bytes()
    again = _plans(tmp_path, clock)
    assert again.value("key1") == value and again.key_by_value(value)["id"] == "key1"
    assert again.used("plan1", "key1", "2026-12-09") == 2
    assert again.period_used(again.plans.get("plan1"), "key1") == 1  # UpdateUsage left 2 of 3
    again.forget_usage("plan1", "key1")
    assert again.used("plan1", "key1", "2026-12-09") == 0 and _plans(tmp_path, clock).used("plan1", "key1", "2026-12-09") == 0


def test_deleting_a_key_removes_it_from_plans(tmp_path):
    usage = _plans(tmp_path, _Clock(_ts("2026-12-09")))
    _setup(usage, "d" * 25)
    usage.delete_key("key1")
    assert usage.key_by_value("d" * 25) is None and usage.plans.get("plan1")["_keys"] == []
