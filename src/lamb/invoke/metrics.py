"""Per-minute metrics, kept in memory as CloudWatch would aggregate them.

Lambda publishes its metrics per function (and per version/alias where AWS does:
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html): Invocations,
Errors, Duration, Throttles, ConcurrentExecutions (max), ProvisionedConcurrentExecutions (max),
ProvisionedConcurrencyUtilization (max), ProvisionedConcurrency(Spillover)Invocations (sum),
and account-wide UnreservedConcurrentExecutions (max). Each (metric, dimensions) keeps the
last ``retain_minutes`` one-minute points (resolution one minute, as Lambda publishes) with
sum, count, max, min and a log-bucket histogram of the values (percentiles within 1 %), from
which the CloudWatch API (``metric_query``) and ``/_lamb/metrics`` answer. Points are kept
per account and region (CloudWatch's metrics are regional and per account): a function ``f``
in eu-west-1 and one in us-east-1 have series of their own.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from typing import Callable, Iterator

# One-minute points kept per series: 1 day by default (LAMB_METRICS_RETENTION_MINUTES).
RETAIN_MINUTES = int(os.environ.get("LAMB_METRICS_RETENTION_MINUTES", "1440"))
# Histogram buckets grow by 2 %: a percentile read from a bucket is within 1 % of a value in it.
BUCKET_GROWTH = 1.02
_LOG_GROWTH = math.log(BUCKET_GROWTH)

SUM, COUNT, MAX, MIN, HIST = range(5)


def bucket_of(value: float) -> int:
    """The histogram bucket of a value (0 and below share bucket ``-2**31``)."""
    if value <= 0.0:
        return -(1 << 31)
    return math.floor(math.log(value) / _LOG_GROWTH)


def bucket_value(bucket: int) -> float:
    """A bucket's representative value: the middle of its range."""
    if bucket == -(1 << 31):
        return 0.0
    return BUCKET_GROWTH ** bucket * (1.0 + BUCKET_GROWTH) / 2.0


class Metrics:
    """The points of every account and region, kept apart as CloudWatch keeps them: each
    *scope* (``""`` the home account in its region, ``<account>:<region>`` any other, as
    ``invoke.scoped`` names them) has series of its own. ``put``/``series``/``query`` are the
    home scope's; ``scoped(scope)`` is one scope's view, ``put_in`` writes to a scope."""

    def __init__(self, retain_minutes: int = RETAIN_MINUTES, clock: Callable[[], float] = time.time) -> None:
        # scope -> (metric, dims) -> OrderedDict[minute -> [sum, count, max, min, {bucket: count}]]
        self._scopes: dict[str, dict[tuple[str, tuple], OrderedDict]] = {}
        self.retain_minutes = retain_minutes
        self.clock = clock
        # Called with (metric, value, dims, scope) for every point (the Prometheus exporter).
        self.observers: list[Callable[[str, float, dict[str, str], str], None]] = []

    def scoped(self, scope: str) -> "ScopedMetrics":
        return ScopedMetrics(self, scope)

    def put(self, metric: str, value: float, **dims: str) -> None:
        self.put_in("", metric, value, **dims)

    def put_in(self, scope: str, metric: str, value: float, **dims: str) -> None:
        store = self._scopes.get(scope)
        if store is None:
            store = self._scopes[scope] = {}
        key = (metric, tuple(sorted(dims.items())))
        series = store.get(key)
        if series is None:
            series = store[key] = OrderedDict()
        minute = int(self.clock() // 60) * 60
        point = series.get(minute)
        if point is None:
            point = series[minute] = [0.0, 0, value, value, {}]
            while len(series) > self.retain_minutes:
                series.popitem(last=False)
        point[SUM] += value
        point[COUNT] += 1
        if value > point[MAX]:
            point[MAX] = value
        if value < point[MIN]:
            point[MIN] = value
        hist = point[HIST]
        b = bucket_of(value)
        hist[b] = hist.get(b, 0) + 1
        for observe in self.observers:
            observe(metric, value, dims, scope)

    def series(self, scope: str = "") -> Iterator[tuple[str, dict[str, str], OrderedDict]]:
        """Every (metric, dimensions, points by minute) of ``scope``; points are ``[sum, count, max, min, histogram]``."""
        for (name, d), points in list(self._scopes.get(scope, {}).items()):
            yield name, dict(d), points

    def query(self, metric: str | None = None, scope: str = "", **dims: str) -> list[dict]:
        want = set(dims.items())
        out = []
        for (name, d), series in list(self._scopes.get(scope, {}).items()):
            if metric and name != metric:
                continue
            if not want <= set(d):
                continue
            out.append({
                "metric": name,
                "dimensions": dict(d),
                "points": [{"minute": m, "sum": p[SUM], "count": p[COUNT], "max": p[MAX], "min": p[MIN]}
                           for m, p in series.items()],
            })
        return out


class ScopedMetrics:
    """One account's points in one region: what its CloudWatch API reads and its services write."""

    def __init__(self, store: Metrics, scope: str):
        self.store = store
        self.scope = scope

    def put(self, metric: str, value: float, **dims: str) -> None:
        self.store.put_in(self.scope, metric, value, **dims)

    def series(self) -> Iterator[tuple[str, dict[str, str], OrderedDict]]:
        return self.store.series(self.scope)

    def query(self, metric: str | None = None, **dims: str) -> list[dict]:
        return self.store.query(metric, self.scope, **dims)
