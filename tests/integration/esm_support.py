"""Fixtures for the event source mapping tests (issue 13).

A Lamb that reaches moto's server for SQS through boto3's own ``AWS_ENDPOINT_URL_SQS``
(nothing Lamb-specific) with short poller timings (``FAST_ESM_ENV``), plus helpers to make
queues on moto and to wait for mapping states.
"""

from __future__ import annotations

import json

import pytest

from .async_support import REGION, moto, serving, sink  # noqa: F401  (fixtures)
from .conftest import DUMMY_CREDS, wait_for

# Long polls of 1 s (AWS: 20 s), quick backoff, short leases.
FAST_ESM_ENV = {"LAMB_ESM_SQS_WAIT_S": "1", "LAMB_ESM_BACKOFF": "0.1,0.5", "LAMB_ESM_LEASE_S": "6"}


def moto_sqs_env(moto) -> dict:
    return {
        "AWS_ENDPOINT_URL_SQS": moto.url,
        "AWS_ENDPOINT_URL_S3": moto.url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
    }


def make_queue(moto, name: str, **attributes) -> tuple[str, str]:
    """A queue on moto (``FifoQueue`` from a ``.fifo`` name); returns (url, arn)."""
    sqs = moto.client("sqs")
    attrs = {k: str(v) for k, v in attributes.items()}
    if name.endswith(".fifo"):
        attrs.setdefault("FifoQueue", "true")
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def with_dlq(moto, name: str, max_receives: int, **attributes) -> tuple[str, str, str]:
    """A queue whose redrive policy moves a message to ``<name>-dlq`` after ``max_receives``."""
    dlq_url, dlq_arn = make_queue(moto, name.replace(".fifo", "") + "-dlq" + (".fifo" if name.endswith(".fifo") else ""))
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    url, arn = make_queue(moto, name, RedrivePolicy=policy, **attributes)
    return url, arn, dlq_url


def wait_state(lam, uuid: str, state: str, timeout: float = 30.0) -> dict:
    return wait_for(lambda: (lambda c: c if c["State"] == state else None)(lam.get_event_source_mapping(UUID=uuid)),
                    timeout, 0.1, f"mapping {uuid} to be {state}")


def records_of(sink, tag: str) -> list[dict]:
    """Every record the function saw for queue ``tag`` (one post per invocation)."""
    return [r for post in sink.of("tag", tag) for r in post["event"]["Records"]]


def batch_fn(sink, tag: str, body: str = "") -> str:
    """The source of a function that posts {"tag": tag, "event": event} and then runs ``body``."""
    lines = "\n".join("    " + ln for ln in body.splitlines())
    return f"""import json, urllib.request
def handler(event, context):
    req = urllib.request.Request({sink.url!r}, data=json.dumps({{'tag': {tag!r}, 'event': event}}).encode(),
                                 method='POST', headers={{'Content-Type': 'application/json'}})
    urllib.request.urlopen(req, timeout=10).read()
{lines}
    return None
"""


@pytest.fixture(scope="module")
def esm_server(moto, tmp_path_factory):
    yield from serving({**moto_sqs_env(moto), **FAST_ESM_ENV}, tmp_path_factory, "esm-server")


@pytest.fixture(scope="module")
def elam(esm_server):
    return esm_server.client()
