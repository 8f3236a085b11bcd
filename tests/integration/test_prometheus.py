"""Prometheus metrics at /metrics on Lamb's port, scraped over HTTP and parsed with
prometheus-client's own parser (issue 15)."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from .conftest import create, invoke, unique

FAILING = "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('asked to fail')\n    return 'ok'\n"


def scrape(server) -> dict:
    with urllib.request.urlopen(server.url + "/metrics") as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=")
        text = r.read().decode()
    samples: dict = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_invocations_errors_duration_and_throttles(lam, lamb_server):
    name = unique("prom")
    create(lam, name, FAILING)
    for event in ({}, {}, {}, {"fail": True}):
        invoke(lam, name, event)
    where = (("account", lamb_server.account_id), ("region", lamb_server.region))
    labels = (where[0], ("faas_name", name), ("faas_version", "$LATEST"), where[1])
    samples = scrape(lamb_server)
    assert samples[("faas_invocations_total", labels)] == 4
    assert samples[("faas_errors_total", labels)] == 1
    assert samples[("faas_invoke_duration_seconds_count", labels)] == 4
    assert samples[("faas_invoke_duration_seconds_sum", labels)] > 0
    assert samples[("faas_invoke_duration_seconds_bucket", tuple(sorted((*labels, ("le", "+Inf")))))] == 4
    assert samples.get(("aws_lambda_concurrent_executions", (where[0], ("faas_name", name), where[1])), 0) == 0  # none in flight
    assert ("aws_lambda_account_concurrent_executions", where) in samples
    assert ("aws_lambda_unreserved_concurrent_executions", where) in samples

    throttled = unique("prom-throttle")
    create(lam, throttled, FAILING)
    lam.put_function_concurrency(FunctionName=throttled, ReservedConcurrentExecutions=0)
    try:
        lam.invoke(FunctionName=throttled, Payload=b"{}")
    except lam.exceptions.TooManyRequestsException:
        pass
    else:
        raise AssertionError("an invocation with reserved concurrency 0 was not throttled")
    samples = scrape(lamb_server)
    assert samples[("aws_lambda_throttles_total", (where[0], ("faas_name", throttled), where[1]))] == 1
    assert ("faas_invocations_total", (where[0], ("faas_name", throttled), ("faas_version", "$LATEST"), where[1])) \
        not in samples
