"""A Kinesis stream consumer (enhanced fan-out) as EventSourceArn (issue 13), on moto's server.

moto registers consumers but has no SubscribeToShard, so Lamb reads the consumer's stream with
standard iterators (``lamb.sources.kinesis_consumers``); what is tested is that a consumer ARN is
checked, mapped and fed in order."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, sink  # noqa: F401  (fixtures)
from .conftest import create, unique, wait_for
from .esm_support import batch_fn, records_of, wait_state
from .streams_support import kinesis_stream, put
from .test_stream_sources import data, slam, stream_server  # noqa: F401  (fixtures)


def test_a_registered_consumer_feeds_the_function_in_order(slam, moto, sink):
    tag = unique("efo")
    stream, stream_arn = kinesis_stream(moto)
    consumer = moto.client("kinesis").register_stream_consumer(StreamARN=stream_arn, ConsumerName=tag)["Consumer"]
    create(slam, tag, batch_fn(sink, tag))
    cfg = slam.create_event_source_mapping(FunctionName=tag, EventSourceArn=consumer["ConsumerARN"],
                                           StartingPosition="TRIM_HORIZON", BatchSize=10)
    assert cfg["EventSourceArn"] == consumer["ConsumerARN"]
    wait_state(slam, cfg["UUID"], "Enabled")
    put(moto, stream, "a", "b", "c")
    wait_for(lambda: len(records_of(sink, tag)) >= 3, 30, 0.1, "3 records")
    recs = records_of(sink, tag)
    assert data(recs) == ["a", "b", "c"] and {r["eventSourceARN"] for r in recs} == {stream_arn}


def test_an_unregistered_consumer_is_refused(slam, moto, sink):
    tag = unique("efobad")
    _, stream_arn = kinesis_stream(moto)
    create(slam, tag, batch_fn(sink, tag))
    with pytest.raises(ClientError) as e:
        slam.create_event_source_mapping(FunctionName=tag, EventSourceArn=f"{stream_arn}/consumer/nobody:1",
                                         StartingPosition="LATEST")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert e.value.response["Error"]["Message"] == f"Stream consumer not found: {stream_arn}/consumer/nobody:1"
