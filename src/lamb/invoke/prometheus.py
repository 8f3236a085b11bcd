"""Lambda's metrics for Prometheus, at ``GET /metrics`` on Lamb's port (prometheus-client).

Fed by the same data points as the per-minute store (``metrics.Metrics``, whose observer this
is): AWS's metric names (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)
become Prometheus names, the OpenTelemetry FaaS semantic conventions' where one exists
(https://opentelemetry.io/docs/specs/semconv/faas/faas-metrics/: ``faas.invocations``,
``faas.errors``, ``faas.invoke_duration``; attributes ``faas.name``, ``faas.version``),
``aws_lambda_*`` for the rest. Concurrency gauges are read when scraped, so they are the
current values rather than the last invocation's. Every per-function series and the
concurrency gauges carry ``account`` and ``region`` labels (the function's account and region,
as CloudWatch keeps them apart); ``faas_name`` is the function's plain name.

| AWS metric | Prometheus |
| --- | --- |
| Invocations | ``faas_invocations_total{faas_name, faas_version}`` |
| Errors | ``faas_errors_total{faas_name, faas_version}`` |
| Duration | ``faas_invoke_duration_seconds`` histogram (p50/p90/p99 via ``histogram_quantile``) |
| Throttles | ``aws_lambda_throttles_total{faas_name}`` |
| PostRuntimeExtensionsDuration | ``aws_lambda_post_runtime_extensions_duration_seconds`` histogram |
| ProvisionedConcurrencyInvocations, ...SpilloverInvocations | ``aws_lambda_provisioned_concurrency_invocations_total``, ``aws_lambda_provisioned_concurrency_spillover_invocations_total`` |
| ConcurrentExecutions | ``aws_lambda_concurrent_executions{faas_name}``, ``aws_lambda_account_concurrent_executions`` |
| UnreservedConcurrentExecutions | ``aws_lambda_unreserved_concurrent_executions`` |
| AsyncEventsReceived, AsyncEventsDropped, DeadLetterErrors, DestinationDeliveryFailures, RecursiveInvocationsDropped | ``aws_lambda_async_events_received_total{faas_name}`` and likewise (``COUNTERS``) |
| AsyncEventAge | ``aws_lambda_async_event_age_seconds`` histogram |
| event source mappings' EventCount group (PolledEventCount, ...) | ``aws_lambda_esm_polled_events_total{event_source_mapping_uuid}``, ``_filtered_out_``, ``_invoked_``, ``_failed_invoke_``, ``_dropped_``, ``_on_failure_destination_delivered_``, ``_deleted_`` |
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from .scoped import name_of

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# Seconds; Lambda durations run from a millisecond to 900 s.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

# Event source mapping metrics of the EventCount group (lamb.sources.esm_metrics; named here to
# keep this layer below the sources).
ESM_EVENT_COUNTS = ("PolledEventCount", "FilteredOutEventCount", "InvokedEventCount", "FailedInvokeEventCount",
                    "DroppedEventCount", "OnFailureDestinationDeliveredEventCount", "DeletedEventCount")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


# ConcurrencySnapshot: per scope ("" home, "<account>:<region>"), (in flight per function key,
# in flight in all, in flight without a reservation)
ConcurrencySnapshot = Callable[[], "Iterable[tuple[str, dict[str, int], int, int]]"]


class _Concurrency:
    """A custom collector: concurrency as it is when scraped, per account and region."""

    def __init__(self, snapshot: ConcurrencySnapshot, where: Callable[[str], "tuple[str, str]"]):
        self.snapshot = snapshot
        self.where = where

    def collect(self) -> Iterator[GaugeMetricFamily]:
        fn = GaugeMetricFamily("aws_lambda_concurrent_executions", "ConcurrentExecutions: invocations in flight",
                               labels=["faas_name", "account", "region"])
        account = GaugeMetricFamily("aws_lambda_account_concurrent_executions",
                                    "ConcurrentExecutions of the account: invocations in flight",
                                    labels=["account", "region"])
        unreserved = GaugeMetricFamily("aws_lambda_unreserved_concurrent_executions",
                                       "UnreservedConcurrentExecutions: in flight for functions without reserved concurrency",
                                       labels=["account", "region"])
        for scope, per_function, total, free in sorted(self.snapshot()):
            acct, region = self.where(scope)
            for key, n in sorted(per_function.items()):
                fn.add_metric([name_of(key), acct, region], n)
            account.add_metric([acct, region], total)
            unreserved.add_metric([acct, region], free)
        yield fn
        yield account
        yield unreserved


# AWS's per-function counters without an OpenTelemetry name: their Prometheus names.
COUNTERS = {
    "AsyncEventsReceived": ("aws_lambda_async_events_received", "Events accepted for asynchronous invocation"),
    "AsyncEventsDropped": ("aws_lambda_async_events_dropped", "Asynchronous events dropped without a successful invocation"),
    "DeadLetterErrors": ("aws_lambda_dead_letter_errors", "Events the dead-letter queue could not take"),
    "DestinationDeliveryFailures": ("aws_lambda_destination_delivery_failures", "Records a destination could not take"),
    "RecursiveInvocationsDropped": ("aws_lambda_recursive_invocations_dropped", "Invocations stopped by loop detection"),
}


class LambdaPrometheus:
    def __init__(self, concurrency: ConcurrencySnapshot, home: tuple[str, str]):
        """``home``: the account and region of the scope ``""``."""
        self.home = home
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["faas_name", "faas_version", "account", "region"]
        r = self.registry
        self.invocations = Counter("faas_invocations", "Invocations (AWS Invocations)", labels, registry=r)
        self.errors = Counter("faas_errors", "Invocations that ended in a function error (AWS Errors)", labels, registry=r)
        self.duration = Histogram("faas_invoke_duration_seconds", "Invoke phase duration (AWS Duration)", labels,
                                  buckets=DURATION_BUCKETS, registry=r)
        self.extensions = Histogram("aws_lambda_post_runtime_extensions_duration_seconds",
                                    "Extensions' time after the runtime's response (AWS PostRuntimeExtensionsDuration)",
                                    labels, buckets=DURATION_BUCKETS, registry=r)
        where = ["account", "region"]
        self.throttles = Counter("aws_lambda_throttles", "Throttled invocation requests (AWS Throttles)",
                                 ["faas_name", *where], registry=r)
        self.provisioned = Counter("aws_lambda_provisioned_concurrency_invocations",
                                   "Invocations on provisioned concurrency", ["faas_name", "resource", *where], registry=r)
        self.spillover = Counter("aws_lambda_provisioned_concurrency_spillover_invocations",
                                 "Invocations on standard concurrency while provisioned concurrency was in use",
                                 ["faas_name", "resource", *where], registry=r)
        self.counters = {aws: Counter(name, text, ["faas_name", *where], registry=r) for aws, (name, text) in COUNTERS.items()}
        self.event_age = Histogram("aws_lambda_async_event_age_seconds",
                                   "Time from acceptance to invocation of asynchronous events (AWS AsyncEventAge)",
                                   ["faas_name", *where], buckets=DURATION_BUCKETS, registry=r)
        r.register(_Concurrency(concurrency, self.where))
        # PolledEventCount -> aws_lambda_esm_polled_events_total{event_source_mapping_uuid}, ...
        self.esm_events = {
            m: Counter("aws_lambda_esm_" + _snake(m[: -len("EventCount")]) + "_events",
                       f"Event source mapping {m} (MetricsConfig EventCount)", ["event_source_mapping_uuid"], registry=r)
            for m in ESM_EVENT_COUNTS
        }
        self._children: dict[tuple[str, str, str, str], Callable[[float], None]] = {}

    def where(self, scope: str) -> tuple[str, str]:
        """The account and region of a scope ("" home, "<account>:<region>")."""
        if not scope:
            return self.home
        account, _, region = scope.partition(":")
        return account, region

    def observe(self, metric: str, value: float, dims: dict[str, str], scope: str = "") -> None:
        """One data point under its AWS name (``metrics.Metrics`` observer)."""
        fn = dims.get("FunctionName")
        if fn is None:
            if "EventSourceMappingUUID" in dims:
                self._esm_event(metric, value, dims["EventSourceMappingUUID"])
            return  # account-wide points: the gauges read them when scraped
        version = dims.get("ExecutedVersion", "")
        key = (metric, fn, version, scope)
        record = self._children.get(key)  # the labelled child's method, looked up once (hot path)
        if record is None:
            record = self._child(metric, fn, version, dims, *self.where(scope))
            if record is None:
                return
            self._children[key] = record
        record(value)

    def _child(self, metric: str, fn: str, version: str, dims: dict[str, str], account: str,
               region: str) -> Callable[[float], None] | None:
        if metric == "Invocations":
            return self.invocations.labels(fn, version, account, region).inc
        if metric == "Errors":
            return self.errors.labels(fn, version, account, region).inc
        if metric == "Duration":
            seconds = self.duration.labels(fn, version, account, region).observe
            return lambda ms: seconds(ms / 1000.0)
        if metric == "PostRuntimeExtensionsDuration":
            ext_seconds = self.extensions.labels(fn, version, account, region).observe
            return lambda ms: ext_seconds(ms / 1000.0)
        if metric == "Throttles":
            return self.throttles.labels(fn, account, region).inc
        if metric == "ProvisionedConcurrencyInvocations":
            return self.provisioned.labels(fn, dims.get("Resource", ""), account, region).inc
        if metric == "ProvisionedConcurrencySpilloverInvocations":
            return self.spillover.labels(fn, dims.get("Resource", ""), account, region).inc
        if metric in self.counters:
            return self.counters[metric].labels(fn, account, region).inc
        if metric == "AsyncEventAge":
            age_seconds = self.event_age.labels(fn, account, region).observe
            return lambda ms: age_seconds(ms / 1000.0)
        return None

    def _esm_event(self, metric: str, value: float, uuid: str) -> None:
        """Event source mapping EventCount metrics (MetricsConfig): one counter per AWS metric."""
        counter = self.esm_events.get(metric)
        if counter is not None and value:
            counter.labels(uuid).inc(value)

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
