"""CloudWatch's metric API for the ``AWS/Lambda`` and ``AWS/ApiGateway`` namespaces: GetMetricStatistics,
GetMetricData, ListMetrics.

Served from the invoker's per-minute points (``invoke/metrics.py``, one-minute resolution,
retained ``LAMB_METRICS_RETENTION_MINUTES``, a day by default) on Lamb's port, in each protocol
of botocore's ``cloudwatch`` model (Smithy RPC v2 CBOR, json, query: ``app.py``). The semantics
(dimension sets, periods, statistics) are ``invoke/metric_query.py``'s; the API references:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html.
Other namespaces hold no data here (empty answers, as CloudWatch gives for a metric it has
no data for). Metric math and Metrics Insights expressions are refused. ``AWS/ApiGateway`` is
served from the scope's API Gateway points (``apis/metrics.py``: its metrics, units and dimension sets).
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..apis import metrics as apigw
from ..invoke import metric_query as mq
from ..protocol.errors import AwsError
from . import operation
from .context import RequestContext

SERVICE = "cloudwatch"
# Periods below a minute that CloudWatch accepts (high-resolution metrics); Lamb's points are per minute.
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def _combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message, 400)


def _epoch(ts: Any) -> int:
    return int(ts.timestamp())


def _window(params: dict) -> tuple[int, int]:
    """StartTime and EndTime in epoch seconds (the start is rounded down to its minute where used)."""
    start, end = _epoch(params["StartTime"]), _epoch(params["EndTime"])
    if start >= end:
        raise _invalid("The parameter StartTime must be less than the parameter EndTime.")
    return start, end


def _check_period(period: int, where: str = "Period") -> int:
    if period not in HIGH_RESOLUTION_PERIODS and period % 60:
        raise _invalid(f"The parameter {where} must be a multiple of 60.")
    return max(period, 60)  # one-minute resolution: a shorter period is a minute


def _dims(dimensions: list[dict] | None) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in dimensions or ()}


def _series(ctx: RequestContext, namespace: str):
    if namespace == mq.NAMESPACE:
        return ctx.lamb.invoker.metrics.series()
    if namespace == apigw.NAMESPACE:
        return ctx.lamb.http_apis.metrics.series()
    return iter(())


def _projections(namespace: str):
    """A namespace's dimension sets for ``metric_query`` (None: Lambda's)."""
    return apigw.projections if namespace == apigw.NAMESPACE else None


def _unit(namespace: str, metric: str) -> str:
    return apigw.UNITS.get(metric, "None") if namespace == apigw.NAMESPACE else mq.unit_of(metric)


@operation("GetMetricStatistics", service=SERVICE)
def get_metric_statistics(ctx: RequestContext, params: dict) -> dict:
    limits = ctx.lamb.settings.limits
    stats = params.get("Statistics") or []
    extended = params.get("ExtendedStatistics") or []
    if stats and extended:
        raise _combination("Must specify either Statistics or ExtendedStatistics, but not both.")
    if not stats and not extended:
        raise _combination("Must specify either Statistics or ExtendedStatistics")
    for stat in stats:
        if stat not in mq.BASIC_STATISTICS:
            raise _invalid(f"The parameter Statistics must be one of {', '.join(mq.BASIC_STATISTICS)}.")
    if len(extended) > limits.cloudwatch_extended_statistics_max:
        raise _invalid(f"The collection ExtendedStatistics must not have a size greater than "
                       f"{limits.cloudwatch_extended_statistics_max}.")
    for stat in extended:
        if not stat.startswith("p") or not mq.is_statistic(stat):
            raise _invalid(f"The value {stat} for parameter ExtendedStatistics is not supported.")
    start, end = _window(params)
    requested = params["Period"]
    period = _check_period(requested)
    wanted = math.ceil((end - start) / requested)
    start = start // 60 * 60
    if wanted > limits.cloudwatch_statistics_datapoints_max:
        raise _combination(f"You have requested up to {wanted} datapoints, which exceeds the limit of "
                           f"{limits.cloudwatch_statistics_datapoints_max}. You may reduce the datapoints requested "
                           f"by increasing Period, or decreasing the time range.")
    metric, namespace = params["MetricName"], params["Namespace"]
    unit = _unit(namespace, metric)
    datapoints: list[dict] = []
    if params.get("Unit") in (None, unit):
        parts = mq.matching(_series(ctx, namespace), metric, _dims(params.get("Dimensions")), _projections(namespace))
        for ts, point in sorted(mq.by_period(parts, start, end, period).items()):
            dp: dict[str, Any] = {"Timestamp": ts, "Unit": unit}
            for stat in stats:
                dp[stat] = mq.statistic(point, stat)
            if extended:
                dp["ExtendedStatistics"] = {stat: mq.statistic(point, stat) for stat in extended}
            datapoints.append(dp)
    return {"Label": metric, "Datapoints": datapoints}


@operation("GetMetricData", service=SERVICE)
def get_metric_data(ctx: RequestContext, params: dict) -> dict:
    limits = ctx.lamb.settings.limits
    queries = params["MetricDataQueries"]
    if len(queries) > limits.cloudwatch_metric_data_queries_max:
        raise _invalid(f"The collection MetricDataQueries must not have a size greater than "
                       f"{limits.cloudwatch_metric_data_queries_max}.")
    start, end = _window(params)
    start = start // 60 * 60
    seen: set[str] = set()
    for i, q in enumerate(queries, 1):
        where = f"MetricDataQueries.member.{i}"
        if q["Id"] in seen:
            raise _invalid(f"The value {q['Id']} for parameter {where}.Id is duplicated.")
        seen.add(q["Id"])
        if ("MetricStat" in q) == ("Expression" in q):
            raise _combination(f"Exactly one element of the {where} must be set: MetricStat or Expression.")
        if "Expression" in q:
            raise _invalid(f"Lamb does not evaluate metric math or Metrics Insights expressions ({where}.Expression).")
        stat = q["MetricStat"]["Stat"]
        if not mq.is_statistic(stat):
            raise _invalid(f"The value {stat} for parameter {where}.MetricStat.Stat is not supported.")
        _check_period(q["MetricStat"]["Period"], f"{where}.MetricStat.Period")
    descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    results: list[dict] = []
    for q in queries:
        if q.get("ReturnData") is False:
            continue
        ms = q["MetricStat"]
        metric = ms["Metric"]
        name, namespace = metric.get("MetricName", ""), metric.get("Namespace", "")
        period = _check_period(ms["Period"])
        points: list[tuple[int, mq.Point]] = []
        if ms.get("Unit") in (None, _unit(namespace, name)):
            parts = mq.matching(_series(ctx, namespace), name, _dims(metric.get("Dimensions")), _projections(namespace))
            points = sorted(mq.by_period(parts, start, end, period).items(), reverse=descending)
        results.append({
            "Id": q["Id"], "Label": q.get("Label") or name, "StatusCode": "Complete", "Messages": [],
            "Timestamps": [ts for ts, _ in points], "Values": [mq.statistic(p, ms["Stat"]) for _, p in points],
        })
    return _page(results, params.get("NextToken"), params.get("MaxDatapoints") or limits.cloudwatch_metric_data_datapoints_max)


def _page(results: list[dict], token: str | None, max_points: int) -> dict:
    """GetMetricData's pages: at most ``max_points`` datapoints over all results; the token is the
    number already returned."""
    skip = 0
    if token is not None:
        if not token.isdigit():
            raise AwsError("InvalidNextToken", "The service couldn't process the NextToken.", 400)
        skip = int(token)
    out, returned, total = [], 0, 0
    for r in results:
        n = len(r["Timestamps"])
        lo = min(max(skip - total, 0), n)
        hi = min(n, lo + max(0, max_points - returned))
        total += n
        returned += hi - lo
        page = dict(r, Timestamps=r["Timestamps"][lo:hi], Values=r["Values"][lo:hi])
        if hi < n:
            page["StatusCode"] = "PartialData"
        out.append(page)
    answer: dict[str, Any] = {"MetricDataResults": out, "Messages": []}
    if skip + returned < total:
        answer["NextToken"] = str(skip + returned)
    return answer


@operation("ListMetrics", service=SERVICE)
def list_metrics(ctx: RequestContext, params: dict) -> dict:
    asked = params.get("Namespace")
    filters = [(d["Name"], d.get("Value")) for d in params.get("Dimensions") or ()]
    found: list[tuple[str, str, tuple]] = []
    for namespace in (mq.NAMESPACE, apigw.NAMESPACE):
        if asked not in (None, namespace):
            continue
        series = _series(ctx, namespace)
        if params.get("RecentlyActive") == "PT3H":
            recent = time.time() - 3 * 3600
            series = (s for s in series if s[2] and next(reversed(s[2])) >= recent)
        found += [(namespace, name, dims) for name, dims in
                  mq.list_metrics(series, params.get("MetricName"), filters, _projections(namespace))]
    page = ctx.lamb.settings.limits.cloudwatch_list_metrics_page
    token = params.get("NextToken")
    skip = int(token) if token and token.isdigit() else 0
    if token is not None and not token.isdigit():
        raise AwsError("InvalidNextToken", "The service couldn't process the NextToken.", 400)
    metrics = [{"Namespace": namespace, "MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims]}
               for namespace, name, dims in found[skip:skip + page]]
    answer: dict[str, Any] = {"Metrics": metrics}
    if skip + page < len(found):
        answer["NextToken"] = str(skip + page)
    return answer
