"""Kinesis and DynamoDB Streams event source mappings through the API (issue 13).

A real ``lamb serve`` reaches moto's server through boto3's standard
``AWS_ENDPOINT_URL_KINESIS`` / ``AWS_ENDPOINT_URL_DYNAMODB_STREAMS`` (and SQS for the
on-failure destination); mappings are made with boto3's CreateEventSourceMapping and
the function posts every batch it gets to a sink in the test process. Waits are on
conditions; the server's stream timings are shortened with ``LAMB_STREAM_*``.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

from lamb.sources.checkpoints import CheckpointStore
from lamb.store.db import Database

from .async_support import REGION, moto, serving, sink  # noqa: F401  (fixtures)
from .conftest import DUMMY_CREDS, ROLE, LambServer, create, unique, wait_for
from .esm_support import batch_fn, records_of, wait_state
from .streams_support import ddb_table, kinesis_stream, put

FAST_STREAM_ENV = {"LAMB_STREAM_POLL_INTERVAL_S": "0.05", "LAMB_STREAM_DISCOVERY_INTERVAL_S": "0.5",
                   "LAMB_STREAM_RETRY_BACKOFF": "0.05,0.2", "LAMB_STREAM_SOURCE_BACKOFF": "0.1,0.5",
                   "LAMB_ESM_LEASE_S": "6"}
QUIET_S = 0.5  # how long "nothing more arrives" is watched for


def stream_env(moto) -> dict:
    return {
        "AWS_ENDPOINT_URL_KINESIS": moto.url,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": moto.url,
        "AWS_ENDPOINT_URL_SQS": moto.url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        **FAST_STREAM_ENV,
    }


@pytest.fixture(scope="module")
def stream_server(moto, tmp_path_factory):
    yield from serving(stream_env(moto), tmp_path_factory, "stream-server")


@pytest.fixture(scope="module")
def slam(stream_server):
    return stream_server.client()






def data(records: list[dict]) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in records]


def quiet(condition_unchanged) -> None:
    """Watch for ``QUIET_S`` that nothing more arrives (the one bounded wait for an absence)."""
    deadline = time.monotonic() + QUIET_S
    while time.monotonic() < deadline:
        assert condition_unchanged()
        time.sleep(0.05)


def mapping(lam, fn: str, arn: str, **kw) -> str:
    kw.setdefault("StartingPosition", "TRIM_HORIZON")
    uuid = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, **kw)["UUID"]
    wait_state(lam, uuid, "Enabled")
    return uuid


def test_kinesis_mapping_answers_with_aws_fields_and_checks_the_stream(slam, moto, sink):
    tag = unique("kfields")
    create(slam, tag, batch_fn(sink, tag))
    _, arn = kinesis_stream(moto)
    out = slam.create_event_source_mapping(FunctionName=tag, EventSourceArn=arn, StartingPosition="LATEST")
    try:
        assert out["State"] == "Creating" and out["StartingPosition"] == "LATEST"
        assert out["BatchSize"] == 100 and out["ParallelizationFactor"] == 1
        assert out["BisectBatchOnFunctionError"] is False and out["MaximumRetryAttempts"] == -1
        assert out["MaximumRecordAgeInSeconds"] == -1 and out["TumblingWindowInSeconds"] == 0
        assert out["FunctionResponseTypes"] == [] and out["DestinationConfig"] == {"OnFailure": {}}
        assert out["MaximumBatchingWindowInSeconds"] == 0 and out["LastProcessingResult"] == "No records processed"
        assert out["StateTransitionReason"] == "User action" and out["EventSourceArn"] == arn
        wait_state(slam, out["UUID"], "Enabled")
    finally:
        slam.delete_event_source_mapping(UUID=out["UUID"])
    missing = arn.rsplit("/", 1)[0] + "/" + unique("nostream")
    with pytest.raises(ClientError) as e:
        slam.create_event_source_mapping(FunctionName=tag, EventSourceArn=missing, StartingPosition="LATEST")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert e.value.response["Error"]["Message"] == f"Stream not found: {missing}"
    with pytest.raises(ClientError) as e:
        slam.create_event_source_mapping(FunctionName=tag, EventSourceArn=arn)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "startingPosition" in e.value.response["Error"]["Message"]


def test_kinesis_records_reach_the_function_in_order(slam, moto, sink):
    tag = unique("korder")
    create(slam, tag, batch_fn(sink, tag))
    stream, arn = kinesis_stream(moto)
    seqs = put(moto, stream, *[f"r{i}" for i in range(7)])
    uuid = mapping(slam, tag, arn, BatchSize=3)
    try:
        wait_for(lambda: len(records_of(sink, tag)) >= 7, 30, 0.05, "7 records")
        recs = records_of(sink, tag)
        assert data(recs) == [f"r{i}" for i in range(7)]
        assert all(len(post["event"]["Records"]) <= 3 for post in sink.of("tag", tag))
        first = recs[0]
        assert set(first) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn",
                              "awsRegion", "eventSourceARN"}
        assert first["eventSource"] == "aws:kinesis" and first["eventName"] == "aws:kinesis:record"
        assert first["eventID"] == f"shardId-000000000000:{seqs[0]}" and first["eventSourceARN"] == arn
        assert first["invokeIdentityArn"] == ROLE
        assert first["kinesis"]["sequenceNumber"] == seqs[0] and first["kinesis"]["partitionKey"] == "k"
        assert first["awsRegion"] == REGION
        wait_for(lambda: slam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult") == "OK",
                 10, 0.05, "LastProcessingResult OK")
    finally:
        slam.delete_event_source_mapping(UUID=uuid)


def test_kinesis_disable_enable_and_delete(slam, moto, sink, stream_server):
    tag = unique("kdis")
    create(slam, tag, batch_fn(sink, tag))
    stream, arn = kinesis_stream(moto)
    put(moto, stream, "a")
    uuid = mapping(slam, tag, arn)
    wait_for(lambda: data(records_of(sink, tag)) == ["a"], 30, 0.05, "the first record")
    slam.update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_state(slam, uuid, "Disabled")
    put(moto, stream, "b")
    quiet(lambda: data(records_of(sink, tag)) == ["a"])
    slam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_state(slam, uuid, "Enabled")
    wait_for(lambda: data(records_of(sink, tag)) == ["a", "b"], 30, 0.05, "the record put while disabled")
    db = Database(stream_server.data_dir / "lamb.db")
    try:
        store = CheckpointStore(db)
        wait_for(lambda: store.load(uuid), 10, 0.05, "a checkpoint")
        slam.delete_event_source_mapping(UUID=uuid)

        def gone() -> bool:
            try:
                slam.get_event_source_mapping(UUID=uuid)
                return False
            except slam.exceptions.ResourceNotFoundException:
                return True

        wait_for(gone, 30, 0.05, "the mapping to be deleted")
        assert store.load(uuid) == {}
    finally:
        db.close()
    put(moto, stream, "c")
    quiet(lambda: data(records_of(sink, tag)) == ["a", "b"])


def test_kinesis_checkpoint_survives_kill_9_of_lamb(moto, sink):
    server = LambServer(env=stream_env(moto)).start()
    try:
        lam = server.client()
        tag = unique("kkill")
        create(lam, tag, batch_fn(sink, tag))
        stream, arn = kinesis_stream(moto)
        seqs = put(moto, stream, *[f"a{i}" for i in range(5)])
        uuid = mapping(lam, tag, arn, BatchSize=2)
        reader = Database(server.data_dir / "lamb.db")
        try:
            store = CheckpointStore(reader)
            wait_for(lambda: (store.load(uuid).get("shardId-000000000000") or None) is not None
                     and store.load(uuid)["shardId-000000000000"].sequence == seqs[-1], 30, 0.05, "checkpoint")
        finally:
            reader.close()
        server.kill9()
        put(moto, stream, *[f"b{i}" for i in range(3)])
        server.restart()
        wait_for(lambda: len(records_of(sink, tag)) >= 8, 60, 0.05, "records after the restart")
        quiet(lambda: len(records_of(sink, tag)) == 8)
        assert data(records_of(sink, tag)) == [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(3)]
        assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    finally:
        server.close()


def test_kinesis_filter_criteria(slam, moto, sink):
    tag = unique("kflt")
    create(slam, tag, batch_fn(sink, tag))
    stream, arn = kinesis_stream(moto)
    put(moto, stream, json.dumps({"n": 1}), "plain text", json.dumps({"n": 5}), json.dumps({"n": 9}))
    pattern = {"data": {"n": [{"numeric": [">", 2]}]}}
    uuid = mapping(slam, tag, arn, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    try:
        wait_for(lambda: len(records_of(sink, tag)) >= 2, 30, 0.05, "the matching records")
        quiet(lambda: len(records_of(sink, tag)) == 2)
        assert [json.loads(d)["n"] for d in data(records_of(sink, tag))] == [5, 9]
    finally:
        slam.delete_event_source_mapping(UUID=uuid)


def test_kinesis_on_failure_destination_sqs(slam, moto, sink):
    tag = unique("kfail")
    body = "if any(base64.b64decode(r['kinesis']['data']).startswith(b'poison') for r in event['Records']):\n" \
           "    raise Exception('poison record')"
    create(slam, tag, batch_fn(sink, tag, body).replace("import json,", "import base64, json,"))
    stream, arn = kinesis_stream(moto)
    url, queue_arn = moto.queue(unique("kfaildest"))
    put(moto, stream, "poison")
    uuid = mapping(slam, tag, arn, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    try:
        msgs = moto.receive(url, 1, timeout=40)
        doc = json.loads(msgs[0]["Body"])
        assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert doc["requestContext"]["approximateInvokeCount"] == 2
        assert doc["requestContext"]["functionArn"].endswith(f":function:{tag}")
        info = doc["KinesisBatchInfo"]
        assert info["shardId"] == "shardId-000000000000" and info["batchSize"] == 1 and info["streamArn"] == arn
        assert slam.get_event_source_mapping(UUID=uuid)["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
        put(moto, stream, "fine")
        wait_for(lambda: data(records_of(sink, tag))[-1:] == ["fine"], 30, 0.05, "the record after the discarded one")
    finally:
        slam.delete_event_source_mapping(UUID=uuid)




def test_dynamodb_insert_modify_remove_through_the_api(slam, moto, sink):
    tag = unique("ddb")
    create(slam, tag, batch_fn(sink, tag))
    table, arn = ddb_table(moto)
    out = slam.create_event_source_mapping(FunctionName=tag, EventSourceArn=arn, StartingPosition="TRIM_HORIZON")
    assert out["BatchSize"] == 100 and out["StartingPosition"] == "TRIM_HORIZON"
    uuid = out["UUID"]
    wait_state(slam, uuid, "Enabled")
    try:
        d = moto.client("dynamodb")
        d.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "one"}})
        d.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "two"}})
        d.delete_item(TableName=table, Key={"id": {"S": "a"}})
        wait_for(lambda: len(records_of(sink, tag)) >= 3, 30, 0.05, "3 stream records")
        recs = records_of(sink, tag)
        assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
        assert all(r["eventSource"] == "aws:dynamodb" and r["eventSourceARN"] == arn for r in recs)
        assert recs[0]["dynamodb"]["NewImage"] == {"id": {"S": "a"}, "v": {"S": "one"}}
        assert recs[1]["dynamodb"]["OldImage"]["v"] == {"S": "one"} and recs[1]["dynamodb"]["NewImage"]["v"] == {"S": "two"}
        assert recs[2]["dynamodb"]["OldImage"]["v"] == {"S": "two"} and "NewImage" not in recs[2]["dynamodb"]
        assert recs[0]["dynamodb"]["Keys"] == {"id": {"S": "a"}}
    finally:
        slam.delete_event_source_mapping(UUID=uuid)
    missing = arn.replace(f"table/{table}/", f"table/{unique('notable')}/")
    with pytest.raises(ClientError) as e:
        slam.create_event_source_mapping(FunctionName=tag, EventSourceArn=missing, StartingPosition="LATEST")
    assert e.value.response["Error"]["Message"] == f"Stream not found: {missing}"


def test_dynamodb_filter_on_event_name(slam, moto, sink):
    tag = unique("ddbflt")
    create(slam, tag, batch_fn(sink, tag))
    table, arn = ddb_table(moto)
    uuid = mapping(slam, tag, arn, FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["REMOVE"]})}]})
    try:
        d = moto.client("dynamodb")
        d.put_item(TableName=table, Item={"id": {"S": "x"}, "v": {"S": "one"}})
        d.delete_item(TableName=table, Key={"id": {"S": "x"}})
        wait_for(lambda: records_of(sink, tag), 30, 0.05, "the REMOVE record")
        quiet(lambda: len(records_of(sink, tag)) == 1)
        assert [r["eventName"] for r in records_of(sink, tag)] == ["REMOVE"]
    finally:
        slam.delete_event_source_mapping(UUID=uuid)
