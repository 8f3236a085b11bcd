"""API keys and usage plans of REST APIs: their state, and what API Gateway checks before a method
with ``apiKeyRequired`` runs.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html:
a method with ``apiKeyRequired`` takes the API key from the ``x-api-key`` header (the API's
``apiKeySource`` ``HEADER``) or from its Lambda authorizer's ``usageIdentifierKey`` (``AUTHORIZER``).
Then, in this order:

1. no key, an unknown or disabled key, or a key in no usage plan that lists this API stage:
   403 ``{"message":"Forbidden"}`` (gateway response ``INVALID_API_KEY``);
2. past the plan's throttle (``rateLimit`` requests per second, a bucket of ``burstLimit``) or the
   method's own (``apiStages[].throttle["<resource path>/<METHOD>"]``), per key: 429
   ``{"message":"Too Many Requests"}`` (``THROTTLED``);
3. past the plan's quota (``limit`` requests a ``DAY``/``WEEK``/``MONTH``, UTC; ``offset``: the day the
   period starts, 0 = Sunday for a week, the month's first day for a month), per key: 429
   ``{"message":"Limit Exceeded"}`` (``QUOTA_EXCEEDED``).

A request let through counts in the key's usage of the day (GetUsage) and of the quota's period. The
counts are in memory and written through to SQLite (``apigateway_usage``, one row per plan, key and UTC
day), so a restart does not reset a quota; the write runs once the answer is out (``after_answer``), one
transaction for every request counted until then (a transaction's fsync costs ~1.5 ms; per request it would
cap a keyed method's throughput).
Key values are secrets: sealed at rest (``sealing``, bound to the key's id), open in memory only.
Throttling shares the stages' token buckets (``throttle.Buckets``) under keys of its own
(``("usage-plan", ...)``).
"""

from __future__ import annotations

import calendar
import datetime
import secrets
import string
import time
from typing import TYPE_CHECKING, Callable, NamedTuple

from .store import HttpApiStore

if TYPE_CHECKING:
    from ..sealing import Sealer
    from ..store.db import Database
    from .throttle import Buckets

GENERATED_LENGTH = 40  # AWS's generated key values: 40 letters and digits
VALUE_MIN, VALUE_MAX = 20, 128
_ALPHABET = string.ascii_letters + string.digits

USAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS apigateway_usage (
    plan_id TEXT NOT NULL,
    key_id  TEXT NOT NULL,
    day     TEXT NOT NULL,
    used    INTEGER NOT NULL,
    PRIMARY KEY (plan_id, key_id, day)
);
CREATE TABLE IF NOT EXISTS apigateway_quota (
    plan_id TEXT NOT NULL,
    key_id  TEXT NOT NULL,
    period  TEXT NOT NULL,
    used    INTEGER NOT NULL,
    PRIMARY KEY (plan_id, key_id)
);
"""

# The gateway responses of a refusal: (status, message, response type)
INVALID_KEY = (403, "Forbidden", "INVALID_API_KEY")
THROTTLED = (429, "Too Many Requests", "THROTTLED")
QUOTA_EXCEEDED = (429, "Limit Exceeded", "QUOTA_EXCEEDED")


def generate_value() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


def _day(ts: float) -> datetime.date:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).date()


def period_start(quota: dict, ts: float) -> datetime.date:
    """The first UTC day of the quota period that ``ts`` falls in."""
    today = _day(ts)
    period, offset = quota.get("period") or "DAY", int(quota.get("offset") or 0)
    if period == "WEEK":  # offset 0: Sunday
        return today - datetime.timedelta(days=(today.isoweekday() - offset) % 7)
    if period == "MONTH":
        def start(year: int, month: int) -> datetime.date:
            return datetime.date(year, month, min(1 + offset, calendar.monthrange(year, month)[1]))

        this = start(today.year, today.month)
        if today >= this:
            return this
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return start(year, month)
    return today


class Refusal(NamedTuple):
    status: int
    message: str
    kind: str


class Admitted(NamedTuple):
    """A request let through: its key (value and id) and the usage to write once answered."""

    value: str
    key_id: str
    plan_id: str
    day: str  # the UTC day it counted in


class UsagePlans:
    """API keys (``apigateway_api_keys``), usage plans (``apigateway_usage_plans``, with their keys in
    ``_keys``) and the usage counts of one account and region."""

    def __init__(self, db: "Database", sealer: "Sealer | None", clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.sealer = sealer
        self.clock = clock
        self.keys = HttpApiStore(db, "apigateway_api_keys")
        self.plans = HttpApiStore(db, "apigateway_usage_plans")
        db.ensure(USAGE_SCHEMA)
        self._by_value: dict[str, str] = {}  # key value -> key id
        self._values: dict[str, str] = {}  # key id -> value
        for key_id in self.keys.ids():
            self._index(key_id, self._open(self.keys.get(key_id)))
        self._daily: dict[tuple[str, str, str], int] = {
            (p, k, d): u for p, k, d, u in db.query("SELECT plan_id, key_id, day, used FROM apigateway_usage")}
        self._quota: dict[tuple[str, str], list] = {
            (p, k): [period, u] for p, k, period, u in db.query("SELECT plan_id, key_id, period, used FROM apigateway_quota")}
        self._stages: dict[tuple[str, str], list[dict]] | None = None  # (api, stage) -> plans listing it
        self._dirty: set[tuple[str, str, str]] = set()  # (plan, key, day) counted since the last write
        self._write_due = False
        self.plans.listeners.append(lambda _id: self._forget())

    # ------------------------------------------------------------------ keys
    def _open(self, doc: dict) -> str:
        sealed = doc["_value"]
        return self.sealer.open(sealed, doc["id"]) if self.sealer is not None else sealed

    def _index(self, key_id: str, value: str) -> None:
        old = self._values.pop(key_id, None)
        if old is not None:
            self._by_value.pop(old, None)
        self._values[key_id] = value
        self._by_value[value] = key_id

    def value(self, key_id: str) -> str:
        return self._values[key_id]

    def key_by_value(self, value: str) -> dict | None:
        key_id = self._by_value.get(value)
        return self.keys.get(key_id) if key_id is not None else None

    def put_key(self, doc: dict, value: str) -> None:
        """Store an API key (``doc`` without its value) with its value sealed."""
        stored = dict(doc, _value=self.sealer.seal(value, doc["id"]) if self.sealer is not None else value)
        self.keys.put(doc["id"], stored)
        self._index(doc["id"], value)

    def delete_key(self, key_id: str) -> None:
        self.keys.delete(key_id)
        value = self._values.pop(key_id, None)
        if value is not None:
            self._by_value.pop(value, None)
        for plan_id in self.plans.ids():
            plan = self.plans.get(plan_id)
            if key_id in plan.get("_keys", []):
                self.plans.put(plan_id, dict(plan, _keys=[k for k in plan["_keys"] if k != key_id]))

    # ------------------------------------------------------------------ usage
    def _forget(self) -> None:
        self._stages = None

    def _plans_of(self, api_id: str, stage: str) -> list[dict]:
        if self._stages is None:
            index: dict[tuple[str, str], list[dict]] = {}
            for plan_id in self.plans.ids():
                plan = self.plans.get(plan_id)
                for s in plan.get("apiStages") or []:
                    index.setdefault((s["apiId"], s["stage"]), []).append(plan)
            self._stages = index
        return self._stages.get((api_id, stage), [])

    def used(self, plan_id: str, key_id: str, day: str) -> int:
        return self._daily.get((plan_id, key_id, day), 0)

    def period_used(self, plan: dict, key_id: str, ts: float | None = None) -> int:
        """Requests of ``key_id`` counted in ``plan``'s current quota period."""
        found = self._quota.get((plan["id"], key_id))
        start = period_start(plan.get("quota") or {}, self.clock() if ts is None else ts).isoformat()
        return found[1] if found is not None and found[0] == start else 0

    def set_remaining(self, plan: dict, key_id: str, remaining: int) -> None:
        """UpdateUsage's ``/remaining``: the key's quota left in the current period."""
        start = period_start(plan.get("quota") or {}, self.clock()).isoformat()
        used = max(0, int((plan.get("quota") or {}).get("limit") or 0) - remaining)
        self._quota[(plan["id"], key_id)] = [start, used]
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO apigateway_quota (plan_id, key_id, period, used) VALUES (?, ?, ?, ?)",
                      (plan["id"], key_id, start, used))

    def forget_usage(self, plan_id: str, key_id: str | None = None) -> None:
        """A plan deleted, or a key removed from it: its counts go too."""
        for table, counts in (("apigateway_usage", self._daily), ("apigateway_quota", self._quota)):
            for k in [k for k in counts if k[0] == plan_id and (key_id is None or k[1] == key_id)]:
                del counts[k]
        with self.db.tx() as c:
            for table in ("apigateway_usage", "apigateway_quota"):
                if key_id is None:
                    c.execute(f"DELETE FROM {table} WHERE plan_id = ?", (plan_id,))
                else:
                    c.execute(f"DELETE FROM {table} WHERE plan_id = ? AND key_id = ?", (plan_id, key_id))

    def admit(self, value: str | None, api_id: str, stage: str, resource_path: str, verb: str,
              buckets: "Buckets") -> Refusal | Admitted:
        """API Gateway's checks of a method with ``apiKeyRequired`` (the module's docstring), in AWS's order."""
        key = self.key_by_value(value) if value else None
        if key is None or not key.get("enabled"):
            return Refusal(*INVALID_KEY)
        plan = next((p for p in self._plans_of(api_id, stage) if key["id"] in p.get("_keys", [])), None)
        if plan is None:
            return Refusal(*INVALID_KEY)
        stage_entry = next(s for s in plan["apiStages"] if (s["apiId"], s["stage"]) == (api_id, stage))
        method_key = f"{resource_path}/{verb}"
        method_throttle = (stage_entry.get("throttle") or {}).get(method_key)
        throttle = method_throttle if method_throttle is not None else plan.get("throttle")
        if throttle:
            rate = float(throttle.get("rateLimit") or 0.0)
            burst = int(throttle["burstLimit"]) if throttle.get("burstLimit") is not None else max(1, int(rate))
            bucket = ("usage-plan", plan["id"], key["id"]) + ((api_id, stage, method_key) if method_throttle else ())
            if not buckets.take(bucket, rate, burst):
                return Refusal(*THROTTLED)
        quota = plan.get("quota")
        now = self.clock()
        start = period_start(quota or {}, now).isoformat()
        counted = self._quota.get((plan["id"], key["id"]))
        if counted is None or counted[0] != start:
            counted = self._quota[(plan["id"], key["id"])] = [start, 0]
        if quota and quota.get("limit") is not None and counted[1] >= int(quota["limit"]):
            return Refusal(*QUOTA_EXCEEDED)
        counted[1] += 1
        day = _day(now).isoformat()
        self._daily[(plan["id"], key["id"], day)] = self._daily.get((plan["id"], key["id"], day), 0) + 1
        self._dirty.add((plan["id"], key["id"], day))
        return Admitted(value, key["id"], plan["id"], day)

    def write_later(self, schedule: Callable[[Callable[[], None]], None]) -> None:
        """Have the counts changed since the last write written by ``schedule`` (``after_answer``): one
        transaction for all the requests counted until it runs, however many."""
        if not self._write_due:
            self._write_due = True
            schedule(self.write)

    def write(self) -> None:
        """Write the changed counts through (one transaction)."""
        self._write_due = False
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        with self.db.tx() as c:
            for plan_id, key_id, day in dirty:
                if (plan_id, key_id, day) in self._daily:
                    c.execute("INSERT OR REPLACE INTO apigateway_usage (plan_id, key_id, day, used) VALUES (?, ?, ?, ?)",
                              (plan_id, key_id, day, self._daily[(plan_id, key_id, day)]))
                counted = self._quota.get((plan_id, key_id))
                if counted is not None:
                    c.execute("INSERT OR REPLACE INTO apigateway_quota (plan_id, key_id, period, used) "
                              "VALUES (?, ?, ?, ?)", (plan_id, key_id, counted[0], counted[1]))
