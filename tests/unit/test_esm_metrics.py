"""lamb.sources.esm_metrics: which mappings count, and the stream seams that count."""

from __future__ import annotations

import asyncio
import json
import types

import pytest

from lamb.sources import esm_metrics as em


def test_only_mappings_that_ask_for_event_count_get_a_counter():
    points = []
    count_for = em.counter_factory(lambda metric, value, **dims: points.append((metric, value, dims)))
    assert count_for({"UUID": "u", "MetricsConfig": {"Metrics": []}}) is None
    assert count_for({"UUID": "u"}) is None
    count_for({"UUID": "u", "MetricsConfig": {"Metrics": ["EventCount"]}})("PolledEventCount", 4)
    assert points == [("PolledEventCount", 4, {"EventSourceMappingUUID": "u"})]


def test_stream_seams_count_polled_filtered_invoked_failed_and_delivered():
    counts: dict = {}

    def count(metric, n):
        counts[metric] = counts.get(metric, 0) + n

    matches = em.counting_matches(count, lambda r: r["keep"])
    assert [matches({"keep": k}) for k in (True, False, True)] == [True, False, True]

    async def fails(payload):
        return types.SimpleNamespace(function_error="Unhandled", payload=b"")

    async def partial(payload):
        return types.SimpleNamespace(function_error=None,
                                     payload=json.dumps({"batchItemFailures": [{"itemIdentifier": "1"}]}).encode())

    async def raises(payload):
        raise RuntimeError("throttled")

    two = json.dumps({"Records": [{}, {}]}).encode()
    asyncio.run(em.counting_invoke(count, fails)(two))
    asyncio.run(em.counting_invoke(count, partial)(two))
    with pytest.raises(RuntimeError):
        asyncio.run(em.counting_invoke(count, raises)(two))

    async def send(destination, record):
        pass

    record = types.SimpleNamespace(document={"KinesisBatchInfo": {"batchSize": 2}})
    asyncio.run(em.counting_send_failure(count, send)("arn:aws:sqs:r:1:q", record))
    assert counts == {"PolledEventCount": 3, "FilteredOutEventCount": 1, "InvokedEventCount": 6,
                      "FailedInvokeEventCount": 5, "OnFailureDestinationDeliveredEventCount": 2}
