"""Per-minute metrics, kept in memory as CloudWatch would aggregate them.

Lambda publishes concurrency metrics per function (and per version/alias where
AWS does: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html):
ConcurrentExecutions (max), Throttles (sum), ProvisionedConcurrentExecutions
(max), ProvisionedConcurrencyUtilization (max), ProvisionedConcurrencySpillover-
Invocations (sum), and account-wide UnreservedConcurrentExecutions (max).
Each (metric, dimensions) keeps the last ``RETAIN_MINUTES`` one-minute points
with sum, count and max, ready for a CloudWatch-compatible API to serve; today
``/_lamb/metrics`` shows them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable

RETAIN_MINUTES = 180


class Metrics:
    def __init__(self) -> None:
        # (metric, dims) -> OrderedDict[minute -> [sum, count, max]]
        self._series: dict[tuple[str, tuple], OrderedDict] = {}
        # Called with (metric, value, dims) for every point (the Prometheus exporter).
        self.observers: list[Callable[[str, float, dict[str, str]], None]] = []

    def put(self, metric: str, value: float, **dims: str) -> None:
        key = (metric, tuple(sorted(dims.items())))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = OrderedDict()
        minute = int(time.time() // 60) * 60
        point = series.get(minute)
        if point is None:
            point = series[minute] = [0.0, 0, value]
            while len(series) > RETAIN_MINUTES:
                series.popitem(last=False)
        point[0] += value
        point[1] += 1
        if value > point[2]:
            point[2] = value
        for observe in self.observers:
            observe(metric, value, dims)

    def query(self, metric: str | None = None, **dims: str) -> list[dict]:
        want = set(dims.items())
        out = []
        for (name, d), series in self._series.items():
            if metric and name != metric:
                continue
            if not want <= set(d):
                continue
            out.append({
                "metric": name,
                "dimensions": dict(d),
                "points": [{"minute": m, "sum": p[0], "count": p[1], "max": p[2]} for m, p in series.items()],
            })
        return out
