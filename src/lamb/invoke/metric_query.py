"""CloudWatch's view of Lambda's per-minute points: metrics, dimensions, periods and statistics.

Pure functions over ``metrics.Metrics.series()``, used by the CloudWatch API (``api/cloudwatch``).

- A CloudWatch metric is a name and an exact set of dimensions. Lambda publishes each point
  under several sets (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-view.html):
  none (across all functions), ``FunctionName``, ``FunctionName, Resource`` (a version or alias,
  ``name:qualifier``; ``name`` when invoked unqualified) and, for an alias,
  ``FunctionName, Resource, ExecutedVersion``. Lamb stores one series per fullest set and adds
  the others up when asked, unless a series was stored under exactly the asked set (the
  account-wide and per-function ConcurrentExecutions gauges are stored as they are published).
- Statistics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html):
  SampleCount, Sum, Average, Minimum, Maximum and percentiles ``pNN`` / ``pNN.NN`` (from the
  points' histograms, within 1 %).
- Periods are aligned on the (minute-rounded) start time; a point's timestamp is its period's start.
"""

from __future__ import annotations

import math
import re
from typing import Callable, Iterable, Iterator, Mapping

from .metrics import BUCKET_GROWTH, COUNT, HIST, MAX, MIN, SUM, bucket_value

NAMESPACE = "AWS/Lambda"
BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)$")

# The unit of each metric Lambda publishes (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
UNITS = {
    "Invocations": "Count", "Errors": "Count", "Throttles": "Count", "DeadLetterErrors": "Count",
    "DestinationDeliveryFailures": "Count", "RecursiveInvocationsDropped": "Count",
    "Duration": "Milliseconds", "PostRuntimeExtensionsDuration": "Milliseconds", "IteratorAge": "Milliseconds",
    "AsyncEventAge": "Milliseconds", "AsyncEventsReceived": "Count", "AsyncEventsDropped": "Count",
    "ConcurrentExecutions": "Count", "UnreservedConcurrentExecutions": "Count",
    "ProvisionedConcurrentExecutions": "Count", "ProvisionedConcurrencyUtilization": "None",
    "ProvisionedConcurrencyInvocations": "Count", "ProvisionedConcurrencySpilloverInvocations": "Count",
    "OffsetLag": "Count", "PolledEventCount": "Count", "InvokedEventCount": "Count", "FilteredOutEventCount": "Count",
    "FailedInvokeEventCount": "Count", "DeletedEventCount": "Count", "DroppedEventCount": "Count",
    "OnFailureDestinationDeliveredEventCount": "Count",
}

Dims = Mapping[str, str]
Point = list  # [sum, count, max, min, {bucket: count}]
# The dimension sets a point stored under some dimensions is published under (a namespace's rule).
Projections = Callable[[Dims], Iterable[tuple[tuple[str, str], ...]]]


def unit_of(metric: str) -> str:
    return UNITS.get(metric, "None")


def is_statistic(stat: str) -> bool:
    return stat in BASIC_STATISTICS or PERCENTILE.match(stat) is not None


def _projections(dims: Dims) -> Iterator[tuple[tuple[str, str], ...]]:
    """The dimension sets a point stored under ``dims`` is published under."""
    yield ()
    fn = dims.get("FunctionName")
    if fn is None:
        return
    yield (("FunctionName", fn),)
    resource = dims.get("Resource")
    if resource is None:
        return
    yield (("FunctionName", fn), ("Resource", resource))
    version = dims.get("ExecutedVersion")
    qualifier = resource.partition(":")[2]
    if version is not None and qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
        yield (("ExecutedVersion", version), ("FunctionName", fn), ("Resource", resource))


def list_metrics(series: Iterable[tuple[str, Dims, object]], metric: str | None = None,
                 dimensions: Iterable[tuple[str, str | None]] = (),
                 projections: Projections | None = None) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """ListMetrics: (metric, dimension set) pairs, sorted; ``dimensions`` filter by name (value None: any).
    ``projections``: another namespace's dimension sets (Lambda's by default)."""
    projections = projections or _projections
    wanted = list(dimensions)
    found: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for name, dims, _ in series:
        if metric and name != metric:
            continue
        for proj in projections(dims):
            d = dict(proj)
            if all(k in d and (v is None or d[k] == v) for k, v in wanted):
                found.add((name, proj))
    return sorted(found)


def matching(series: Iterable[tuple[str, Dims, Mapping[int, Point]]], metric: str, dims: Dims,
             projections: Projections | None = None) -> list[Mapping[int, Point]]:
    """The stored series that make up the CloudWatch metric (``metric``, exactly ``dims``). With
    another namespace's ``projections`` (which stores no gauges), exact and wider series add up."""
    gauges = projections is None
    projections = projections or _projections
    exact, wider = [], []
    keys = set(dims)
    for name, stored, points in series:
        if name != metric or not keys <= set(stored) or any(stored[k] != v for k, v in dims.items()):
            continue
        if len(stored) == len(keys):
            exact.append(points)
        elif tuple(sorted(dims.items())) in set(projections(stored)):
            wider.append(points)
    return (exact or wider) if gauges else exact + wider


def merge(into: Point | None, point: Point) -> Point:
    if into is None:
        return [point[SUM], point[COUNT], point[MAX], point[MIN], dict(point[HIST])]
    into[SUM] += point[SUM]
    into[COUNT] += point[COUNT]
    into[MAX] = max(into[MAX], point[MAX])
    into[MIN] = min(into[MIN], point[MIN])
    hist = into[HIST]
    for b, n in point[HIST].items():
        hist[b] = hist.get(b, 0) + n
    return into


def by_period(parts: Iterable[Mapping[int, Point]], start: int, end: int, period: int) -> dict[int, Point]:
    """Points in [start, end) merged per period (keyed by the period's start, aligned on ``start``)."""
    out: dict[int, Point] = {}
    for points in parts:
        for minute, point in list(points.items()):
            if start <= minute < end:
                key = start + (minute - start) // period * period
                out[key] = merge(out.get(key), point)
    return out


def statistic(point: Point, stat: str) -> float:
    if stat == "SampleCount":
        return float(point[COUNT])
    if stat == "Sum":
        return float(point[SUM])
    if stat == "Average":
        return point[SUM] / point[COUNT]
    if stat == "Minimum":
        return float(point[MIN])
    if stat == "Maximum":
        return float(point[MAX])
    return percentile(point, float(stat[1:]))


def percentile(point: Point, p: float) -> float:
    """The ``p``th percentile (nearest rank) from the histogram, clamped to the point's min and max."""
    total = point[COUNT]
    rank = max(1, math.ceil(p / 100.0 * total))
    seen = 0
    for bucket in sorted(point[HIST]):
        seen += point[HIST][bucket]
        if seen >= rank:
            return min(max(bucket_value(bucket), point[MIN]), point[MAX])
    return float(point[MAX])


__all__ = ["NAMESPACE", "BASIC_STATISTICS", "UNITS", "BUCKET_GROWTH", "unit_of", "is_statistic", "list_metrics",
           "matching", "by_period", "statistic", "percentile"]
