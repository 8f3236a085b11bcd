"""CloudWatch's view of the per-minute points: dimension sets, periods, statistics (invoke/metric_query.py)."""

from __future__ import annotations

from lamb.invoke import metric_query as mq
from lamb.invoke.metrics import Metrics


def store(now: list[float]) -> Metrics:
    return Metrics(clock=lambda: now[0])


def test_points_stored_per_fullest_set_add_up_under_the_published_sets():
    now = [600.0]
    m = store(now)
    m.put("Invocations", 1, FunctionName="f", Resource="f", ExecutedVersion="$LATEST")
    m.put("Invocations", 1, FunctionName="f", Resource="f:live", ExecutedVersion="3")
    m.put("Invocations", 1, FunctionName="g", Resource="g", ExecutedVersion="$LATEST")

    def total(**dims):
        parts = mq.matching(m.series(), "Invocations", dims)
        return sum(p[0] for points in parts for p in points.values())

    assert total() == 3
    assert total(FunctionName="f") == 2
    assert total(FunctionName="f", Resource="f:live") == 1
    assert total(FunctionName="f", Resource="f:live", ExecutedVersion="3") == 1
    assert total(FunctionName="h") == 0
    assert total(Resource="f") == 0  # not a set Lambda publishes


def test_a_series_stored_under_exactly_the_asked_set_is_used_alone():
    m = store([600.0])
    m.put("ConcurrentExecutions", 3)  # account-wide gauge
    m.put("ConcurrentExecutions", 2, FunctionName="f")
    parts = mq.matching(m.series(), "ConcurrentExecutions", {})
    assert [p[2] for points in parts for p in points.values()] == [3]


def test_list_metrics_names_the_published_sets():
    m = store([600.0])
    m.put("Duration", 5, FunctionName="f", Resource="f:live", ExecutedVersion="3")
    m.put("Duration", 5, FunctionName="f", Resource="f:2", ExecutedVersion="2")
    found = mq.list_metrics(m.series())
    assert ("Duration", ()) in found
    assert ("Duration", (("FunctionName", "f"),)) in found
    assert ("Duration", (("FunctionName", "f"), ("Resource", "f:2"))) in found
    assert ("Duration", (("ExecutedVersion", "3"), ("FunctionName", "f"), ("Resource", "f:live"))) in found
    assert ("Duration", (("ExecutedVersion", "2"), ("FunctionName", "f"), ("Resource", "f:2"))) not in found  # versions: no ExecutedVersion
    assert mq.list_metrics(m.series(), dimensions=[("Resource", None)]) == [
        ("Duration", (("ExecutedVersion", "3"), ("FunctionName", "f"), ("Resource", "f:live"))),
        ("Duration", (("FunctionName", "f"), ("Resource", "f:2"))),
        ("Duration", (("FunctionName", "f"), ("Resource", "f:live")))]


def test_periods_align_on_the_start_and_merge_minutes():
    now = [600.0]
    m = store(now)
    for minute, value in ((10, 1.0), (11, 3.0), (12, 8.0), (14, 2.0)):
        now[0] = minute * 60 + 5
        m.put("Duration", value, FunctionName="f")
    parts = mq.matching(m.series(), "Duration", {"FunctionName": "f"})
    periods = mq.by_period(parts, 600, 900, 180)
    assert sorted(periods) == [600, 780]
    first = periods[600]
    assert [mq.statistic(first, s) for s in ("SampleCount", "Sum", "Minimum", "Maximum", "Average")] == [3, 12, 1, 8, 4]
    assert mq.statistic(periods[780], "Sum") == 2
    assert mq.by_period(parts, 600, 660, 60).keys() == {600}  # the end is exclusive


def test_percentiles_are_within_one_percent():
    m = store([600.0])
    for v in range(1, 1001):
        m.put("Duration", float(v), FunctionName="f")
    (points,) = mq.matching(m.series(), "Duration", {"FunctionName": "f"})
    point = points[600]
    for p, exact in ((50, 500), (90, 900), (99, 990), (100, 1000)):
        assert abs(mq.statistic(point, f"p{p}") - exact) <= exact * 0.01
    assert 1.0 <= mq.statistic(point, "p0.1") <= 1.01 and mq.statistic(point, "p100") <= 1000  # within min..max


def test_statistic_names():
    for ok in ("Sum", "SampleCount", "Average", "Minimum", "Maximum", "p50", "p99.9", "p100", "p0"):
        assert mq.is_statistic(ok), ok
    for bad in ("sum", "p101", "p", "tm99", "p99.", "Median"):
        assert not mq.is_statistic(bad), bad
    assert mq.unit_of("Duration") == "Milliseconds" and mq.unit_of("Invocations") == "Count"


def test_retention_drops_the_oldest_minutes():
    now = [0.0]
    m = Metrics(retain_minutes=2, clock=lambda: now[0])
    for minute in range(4):
        now[0] = minute * 60.0
        m.put("Invocations", 1, FunctionName="f")
    ((_, _, points),) = list(m.series())
    assert list(points) == [120, 180]
