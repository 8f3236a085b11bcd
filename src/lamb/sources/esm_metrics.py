"""Event source mapping metrics: ``MetricsConfig: {"Metrics": ["EventCount"]}``.

"Event source mapping metrics" (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics):
a mapping that opts in to the ``EventCount`` group emits, per mapping (dimension
``EventSourceMappingUUID``):

| metric | SQS | Kinesis, DynamoDB Streams |
| --- | --- | --- |
| PolledEventCount: events read from the source | yes | yes |
| FilteredOutEventCount: events the FilterCriteria dropped | yes | yes |
| InvokedEventCount: events the function was invoked with (retries count again) | yes | yes |
| FailedInvokeEventCount: events of invocations that failed (function error, throttle, a partial-batch response naming them) | yes | yes |
| DroppedEventCount: records discarded for age or retries | no | yes |
| OnFailureDestinationDeliveredEventCount: records sent to the on-failure destination | no | yes |
| DeletedEventCount: messages deleted after processing | yes | no |

AWS publishes them to CloudWatch; Lamb puts them in its per-minute store (``/_lamb/metrics``) and,
through it, in Prometheus at ``/metrics`` (``invoke.prometheus``). A mapping without
``EventCount`` emits nothing (its pollers get no counter at all). ``ErrorCount`` and
``KafkaMetrics`` are Kafka's groups; Lamb has no Kafka source, so they are refused.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

EVENT_COUNT = "EventCount"
POLLED, FILTERED_OUT, INVOKED, FAILED_INVOKE = "PolledEventCount", "FilteredOutEventCount", "InvokedEventCount", \
    "FailedInvokeEventCount"
DROPPED, ON_FAILURE_DELIVERED, DELETED = "DroppedEventCount", "OnFailureDestinationDeliveredEventCount", \
    "DeletedEventCount"
METRICS = (POLLED, FILTERED_OUT, INVOKED, FAILED_INVOKE, DROPPED, ON_FAILURE_DELIVERED, DELETED)

# count(metric, value)
Count = Callable[[str, int], None]
# put(metric, value, **dimensions): ``invoke.metrics.Metrics.put``
Put = Callable[..., None]


def wants_event_count(cfg: dict) -> bool:
    return EVENT_COUNT in ((cfg.get("MetricsConfig") or {}).get("Metrics") or [])


def counter_factory(put: Put) -> Callable[[dict], "Count | None"]:
    """``count_for(mapping)``: the mapping's counter, or None when it did not ask for EventCount."""

    def count_for(cfg: dict) -> Count | None:
        if not wants_event_count(cfg):
            return None
        uuid = cfg["UUID"]

        def count(metric: str, value: int) -> None:
            put(metric, value, EventSourceMappingUUID=uuid)

        return count

    return count_for


# ------------------------------------------------------------ stream mappings, counted at the kind's seams
def counting_matches(count: Count, matches: Callable[[dict], bool] | None) -> Callable[[dict], bool]:
    """A stream's record filter that also counts every record read and every one filtered out."""

    def counted(record: dict) -> bool:
        count(POLLED, 1)
        keep = True if matches is None else matches(record)
        if not keep:
            count(FILTERED_OUT, 1)
        return keep

    return counted


def counting_invoke(count: Count, invoke: Callable[[bytes], Awaitable[Any]]) -> Callable[[bytes], Awaitable[Any]]:
    """A stream's invoke that counts the records of each invocation, and of each failed one
    (a function error, an exception, or the records a partial-batch response names)."""

    async def counted(payload: bytes) -> Any:
        n = len(json.loads(payload).get("Records") or [])
        count(INVOKED, n)
        try:
            result = await invoke(payload)
        except BaseException:
            count(FAILED_INVOKE, n)
            raise
        if getattr(result, "function_error", None):
            count(FAILED_INVOKE, n)
        else:
            failures = _item_failures(getattr(result, "payload", b""))
            if failures:
                count(FAILED_INVOKE, failures)
        return result

    return counted


def _item_failures(payload: bytes) -> int:
    try:
        doc = json.loads(payload or b"null")
    except ValueError:
        return 0
    items = doc.get("batchItemFailures") if isinstance(doc, dict) else None
    return len(items) if isinstance(items, list) else 0


def counting_send_failure(count: Count, send: Callable[[str, Any], Awaitable[None]]):
    """A stream's on-failure sender that counts the records each delivered failure record names."""

    async def counted(destination: str, record: Any) -> None:
        await send(destination, record)
        info = next((v for k, v in record.document.items() if k.endswith("BatchInfo")), {}) or {}
        count(ON_FAILURE_DELIVERED, int(info.get("batchSize") or 0))

    return counted
