"""AWS metric points as Prometheus samples (lamb.invoke.prometheus)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from lamb.invoke.metrics import Metrics
from lamb.invoke.prometheus import LambdaPrometheus


def samples(prom: LambdaPrometheus) -> dict:
    body, content_type = prom.exposition()
    assert content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(body.decode()) for s in f.samples}


def test_points_under_aws_names_become_faas_metrics():
    metrics = Metrics()
    prom = LambdaPrometheus(lambda: ({"fn": 2}, 3, 1))
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
    labels = (("faas_name", "fn"), ("faas_version", "1"))
    assert got[("faas_invocations_total", labels)] == 2
    assert got[("faas_errors_total", labels)] == 1
    assert got[("faas_invoke_duration_seconds_sum", labels)] == 0.0125
    assert got[("faas_invoke_duration_seconds_bucket", (*labels, ("le", "0.025")))] == 1
    assert got[("faas_invoke_duration_seconds_bucket", (*labels, ("le", "0.01")))] == 0
    assert got[("aws_lambda_post_runtime_extensions_duration_seconds_count", labels)] == 1
    assert got[("aws_lambda_throttles_total", (("faas_name", "fn"),))] == 1
    assert got[("aws_lambda_provisioned_concurrency_spillover_invocations_total", (("faas_name", "fn"), ("resource", "fn:1")))] == 1
    assert got[("aws_lambda_concurrent_executions", (("faas_name", "fn"),))] == 2
    assert got[("aws_lambda_account_concurrent_executions", ())] == 3
    assert got[("aws_lambda_unreserved_concurrent_executions", ())] == 1
    # The per-minute store keeps the same points.
    assert metrics.query("Invocations", FunctionName="fn")[0]["points"][0]["sum"] == 2
