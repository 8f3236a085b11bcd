"""lamb.sources.kinesis_consumers: consumer ARNs and their streams."""

from lamb.sources.kinesis_consumers import is_consumer, stream_of

STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


def test_consumer_arns_name_their_stream():
    assert is_consumer(f"{STREAM}/consumer/c:1525898737") and stream_of(f"{STREAM}/consumer/c:1525898737") == STREAM
    assert is_consumer(f"{STREAM}/consumer/c")  # moto's form, without the creation time
    assert not is_consumer(STREAM) and stream_of(STREAM) == STREAM
    assert not is_consumer("arn:aws:sqs:us-east-1:123456789012:consumer/x")
