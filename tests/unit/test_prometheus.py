"""AWS metric points as Prometheus samples (lamb.invoke.prometheus)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from lamb.invoke.metrics import Metrics
from lamb.invoke.prometheus import LambdaPrometheus

HOME = ("111111111111", "us-east-1")
OTHER = "222222222222:eu-west-1"  # another account in another region (lamb.invoke.scoped)


def samples(prom: LambdaPrometheus) -> dict:
    body, content_type = prom.exposition()
    assert content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(body.decode()) for s in f.samples}


def where(scope: str = "") -> tuple:
    account, region = HOME if not scope else scope.split(":")
    return ("account", account), ("region", region)


def test_points_under_aws_names_become_faas_metrics():
    metrics = Metrics()
    prom = LambdaPrometheus(lambda: [("", {"fn": 2}, 3, 1)], HOME)
    metrics.observers.append(prom.observe)
    dims = {"FunctionName": "fn", "ExecutedVersion": "1"}
    metrics.put("Invocations", 1, **dims)
    metrics.put("Invocations", 1, **dims)
    metrics.put("Errors", 1, **dims)
    metrics.put("Duration", 12.5, **dims)
    metrics.put("PostRuntimeExtensionsDuration", 3.0, **dims)
    metrics.put("Throttles", 1, FunctionName="fn")
    metrics.put("ProvisionedConcurrencySpilloverInvocations", 1, FunctionName="fn", Resource="fn:1")
    metrics.put("ConcurrentExecutions", 5)  # account-wide point: the gauge is read when scraped
    got = samples(prom)
    home = where()
    labels = (home[0], ("faas_name", "fn"), ("faas_version", "1"), home[1])
    assert got[("faas_invocations_total", labels)] == 2
    assert got[("faas_errors_total", labels)] == 1
    assert got[("faas_invoke_duration_seconds_sum", labels)] == 0.0125
    assert got[("faas_invoke_duration_seconds_bucket", tuple(sorted((*labels, ("le", "0.025")))))] == 1
    assert got[("faas_invoke_duration_seconds_bucket", tuple(sorted((*labels, ("le", "0.01")))))] == 0
    assert got[("aws_lambda_post_runtime_extensions_duration_seconds_count", labels)] == 1
    assert got[("aws_lambda_throttles_total", (home[0], ("faas_name", "fn"), home[1]))] == 1
    assert got[("aws_lambda_provisioned_concurrency_spillover_invocations_total",
                (home[0], ("faas_name", "fn"), home[1], ("resource", "fn:1")))] == 1
    assert got[("aws_lambda_concurrent_executions", (home[0], ("faas_name", "fn"), home[1]))] == 2
    assert got[("aws_lambda_account_concurrent_executions", home)] == 3
    assert got[("aws_lambda_unreserved_concurrent_executions", home)] == 1
    # The per-minute store keeps the same points.
    assert metrics.query("Invocations", FunctionName="fn")[0]["points"][0]["sum"] == 2


def test_same_named_functions_of_two_scopes_stay_apart():
    metrics = Metrics()
    prom = LambdaPrometheus(lambda: [("", {"fn": 1}, 1, 1), (OTHER, {f"{OTHER}:fn": 4}, 4, 0)], HOME)
    metrics.observers.append(prom.observe)
    dims = {"FunctionName": "fn", "ExecutedVersion": "$LATEST"}
    metrics.put("Invocations", 1, **dims)
    other = metrics.scoped(OTHER)
    for _ in range(3):
        other.put("Invocations", 1, **dims)
    other.put("AsyncEventsReceived", 1, FunctionName="fn")
    got = samples(prom)
    for scope, count in (("", 1), (OTHER, 3)):
        w = where(scope)
        assert got[("faas_invocations_total", (w[0], ("faas_name", "fn"), ("faas_version", "$LATEST"), w[1]))] == count
    w = where(OTHER)
    assert got[("aws_lambda_async_events_received_total", (w[0], ("faas_name", "fn"), w[1]))] == 1
    assert got[("aws_lambda_concurrent_executions", (w[0], ("faas_name", "fn"), w[1]))] == 4
    assert got[("aws_lambda_account_concurrent_executions", w)] == 4
    assert got[("aws_lambda_unreserved_concurrent_executions", where())] == 1
    # The per-minute store: each scope reads its own series only.
    assert [q["points"][0]["sum"] for q in metrics.query("Invocations")] == [1]
    assert [q["points"][0]["sum"] for q in other.query("Invocations")] == [3]
    assert {name for name, _, _ in other.series()} == {"Invocations", "AsyncEventsReceived"}
    assert {name for name, _, _ in metrics.series()} == {"Invocations"}
