"""The ``logs`` model through lamb.protocol: what it needed beyond the json protocol's basics.

StartLiveTail's output has an event-stream member and no ``payload`` trait, and CloudWatch Logs
names its constraint violations InvalidParameterException. botocore's own parser reads what
the protocol writes.
"""

from __future__ import annotations

import asyncio
import io
import json

import botocore.session
import pytest
from botocore.parsers import create_parser

from lamb.protocol import AwsError, Protocol, eventstream


@pytest.fixture(scope="module")
def logs() -> Protocol:
    return Protocol("logs")


def test_routed_by_target(logs):
    op, _ = logs.route("POST", "/", headers={"x-amz-target": "Logs_20140328.FilterLogEvents"})
    assert op.name == "FilterLogEvents"


def test_constraint_violations_are_invalid_parameter(logs):
    with pytest.raises(AwsError) as e:
        logs.parse("FilterLogEvents", {}, "", {}, json.dumps({"logGroupName": "g", "limit": 10001}).encode())
    assert e.value.code == "InvalidParameterException"
    assert e.value.message.startswith("1 validation error detected: Value '10001' at 'limit'")


def test_live_tail_output_is_an_event_stream_botocore_reads(logs):
    async def events():
        yield eventstream.json_event("initial-response", {})
        yield eventstream.json_event("sessionStart", {"sessionId": "s1", "logGroupIdentifiers": ["g"]})
        yield eventstream.json_event("sessionUpdate", {"sessionMetadata": {"sampled": False},
                                                       "sessionResults": [{"message": "hi", "timestamp": 5}]})
        yield eventstream.exception("SessionTimeoutException", {"message": "over"})

    status, headers, body = logs.serialize("StartLiveTail", {"responseStream": events()})
    assert status == 200 and ("Content-Type", "application/vnd.amazon.eventstream") in headers

    async def collect():
        return b"".join([chunk async for chunk in body])

    raw = asyncio.run(collect())
    model = botocore.session.get_session().get_service_model("logs").operation_model("StartLiveTail")

    class Raw(io.BytesIO):
        def stream(self, *_a, **_k):
            yield self.read()

    parsed = create_parser("json").parse({"status_code": 200, "headers": dict(headers), "body": Raw(raw), "context": {}},
                                         model.output_shape)
    stream = iter(parsed["responseStream"])
    assert next(stream)["sessionStart"]["sessionId"] == "s1"
    assert next(stream)["sessionUpdate"]["sessionResults"][0]["message"] == "hi"
    with pytest.raises(Exception, match="SessionTimeoutException"):
        next(stream)
