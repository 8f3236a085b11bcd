"""Event source mapping metrics (MetricsConfig EventCount, issue 13) at Prometheus's /metrics.

An SQS mapping on moto's server that asks for EventCount: what it polled, filtered out, invoked
and deleted is counted per mapping UUID; a mapping that did not ask emits nothing."""

from __future__ import annotations

import json

from .async_support import moto, sink  # noqa: F401  (fixtures)
from .conftest import create, unique, wait_for
from .esm_support import batch_fn, elam, esm_server, make_queue, records_of, wait_state  # noqa: F401
from .test_prometheus import scrape


def esm_counts(server, uuid: str) -> dict:
    return {name[len("aws_lambda_esm_"):-len("_events_total")]: v for (name, labels), v in scrape(server).items()
            if name.startswith("aws_lambda_esm_") and name.endswith("_total")
            and dict(labels).get("event_source_mapping_uuid") == uuid}


def test_an_sqs_mapping_with_event_count_metrics(elam, esm_server, moto, sink):
    tag = unique("metrics")
    url, arn = make_queue(moto, tag)
    create(elam, tag, batch_fn(sink, tag))
    uuid = elam.create_event_source_mapping(
        FunctionName=tag, EventSourceArn=arn, MetricsConfig={"Metrics": ["EventCount"]},
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"keep": [True]}})}]})["UUID"]
    assert elam.get_event_source_mapping(UUID=uuid)["MetricsConfig"] == {"Metrics": ["EventCount"]}
    wait_state(elam, uuid, "Enabled")
    sqs = moto.client("sqs")
    for body in ({"keep": True, "n": 1}, {"keep": False, "n": 2}, {"keep": True, "n": 3}):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    wait_for(lambda: esm_counts(esm_server, uuid).get("deleted") == 3, 30, 0.2, "3 deleted events")
    counts = esm_counts(esm_server, uuid)
    assert counts["polled"] == 3 and counts["filtered_out"] == 1 and counts["invoked"] == 2
    assert counts.get("failed_invoke", 0) == 0
    assert sorted(json.loads(r["body"])["n"] for r in records_of(sink, tag)) == [1, 3]


def test_a_mapping_without_metrics_config_emits_none(elam, esm_server, moto, sink):
    tag = unique("nometrics")
    url, arn = make_queue(moto, tag)
    create(elam, tag, batch_fn(sink, tag))
    uuid = elam.create_event_source_mapping(FunctionName=tag, EventSourceArn=arn)["UUID"]
    wait_state(elam, uuid, "Enabled")
    moto.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    wait_for(lambda: records_of(sink, tag), 30, 0.1, "the message")
    wait_for(lambda: moto.empty(url), 30, 0.1, "the message deleted")
    assert esm_counts(esm_server, uuid) == {}
