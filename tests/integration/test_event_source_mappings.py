"""The event source mapping API (issue 13): fields, states, validation, tags, durability.

A real ``lamb serve`` reaching a real moto server for SQS, driven with boto3 and the AWS CLI.
Expected answers are AWS's, as recorded in LocalStack's AWS-validated snapshots.
"""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, sink  # noqa: F401  (fixtures)
from .awscli import aws_json
from .conftest import create, unique, wait_for
from .esm_support import (FAST_ESM_ENV, batch_fn, elam, esm_server, make_queue, moto_sqs_env,  # noqa: F401
                          records_of, wait_state)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CODE = "def handler(event, context):\n    return None\n"


def err(exc: pytest.ExceptionInfo) -> tuple[int, str, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


@pytest.fixture
def fn(elam):
    name = unique("esm")
    create(elam, name, CODE)
    return name


def test_create_get_list_delete_sqs_mapping(elam, esm_server, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    created = elam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    uuid = created["UUID"]
    assert UUID.fullmatch(uuid)
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["BatchSize"] == 10 and created["MaximumBatchingWindowInSeconds"] == 0
    assert created["FunctionResponseTypes"] == []
    assert created["FunctionArn"] == esm_server.arn(fn)
    assert created["EventSourceArn"] == arn
    assert created["EventSourceMappingArn"] == f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{uuid}"
    assert created["LastModified"].tzinfo is not None
    for absent in ("StartingPosition", "ParallelizationFactor", "FilterCriteria", "DestinationConfig"):
        assert absent not in created
    got = wait_state(elam, uuid, "Enabled")
    assert got["UUID"] == uuid and got["EventSourceArn"] == arn
    listed = elam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert [m["UUID"] for m in elam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]] == [uuid]
    deleted = elam.delete_event_source_mapping(UUID=uuid)
    assert deleted["State"] == "Deleting" and deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    wait_for(lambda: not elam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"], 20, 0.1, "delete")
    with pytest.raises(ClientError) as e:
        elam.get_event_source_mapping(UUID=uuid)
    assert err(e) == (404, "ResourceNotFoundException", "The resource you requested does not exist.")


def test_qualified_function_arns_as_given(elam, esm_server, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    elam.publish_version(FunctionName=fn)
    elam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    for name, want in [(f"{fn}:1", esm_server.arn(fn, "1")), (esm_server.arn(fn, "live"), esm_server.arn(fn, "live")),
                       (f"000000000000:function:{fn}:$LATEST", esm_server.arn(fn, "$LATEST"))]:
        got = elam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn)
        assert got["FunctionArn"] == want
    assert len(elam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]) == 3
    assert len(elam.list_event_source_mappings(FunctionName=f"{fn}:live")["EventSourceMappings"]) == 1
    with pytest.raises(ClientError) as e:
        elam.create_event_source_mapping(FunctionName=f"{fn}:nope", EventSourceArn=arn)
    assert err(e)[:2] == (404, "ResourceNotFoundException")


def test_disable_enable_update_states(elam, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    created = elam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, Enabled=False)
    assert created["State"] == "Disabled"
    uuid = created["UUID"]
    assert elam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    wait_state(elam, uuid, "Enabled")
    up = elam.update_event_source_mapping(UUID=uuid, BatchSize=5)
    assert up["State"] == "Updating" and up["BatchSize"] == 5
    wait_state(elam, uuid, "Enabled")
    assert elam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    wait_state(elam, uuid, "Disabled")
    assert elam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 5


def test_sqs_parameter_rules(elam, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    _, fifo = make_queue(moto, unique("q") + ".fifo")
    cases = [
        (dict(EventSourceArn=arn, BatchSize=11),
         "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"),
        (dict(EventSourceArn=fifo, BatchSize=11, MaximumBatchingWindowInSeconds=1),
         "Maximum batch size must be between 1 and 10 inclusive"),
        (dict(EventSourceArn=fifo, MaximumBatchingWindowInSeconds=5), "Batching window is not supported for FIFO queues"),
        (dict(EventSourceArn=arn, StartingPosition="LATEST"),
         "Unsupported 'startingPosition' parameter for given event source mapping type."),
        (dict(EventSourceArn=arn, ParallelizationFactor=2),
         "Unsupported 'parallelizationFactor' parameter for given event source mapping type."),
        (dict(EventSourceArn=arn, DestinationConfig={"OnFailure": {"Destination": arn}}),
         "Unsupported DestinationConfig parameter for given event source mapping type."),
        (dict(EventSourceArn=arn, FilterCriteria={"Filters": [{"Pattern": '{"eventSource": "aws:sqs"}'}]}),
         "Invalid filter pattern definition."),
        (dict(EventSourceArn=arn, FilterCriteria={"Filters": [{"Pattern": '{"a": [%d]}' % i} for i in range(6)]}),
         "Invalid filter pattern definition."),
    ]
    for kw, message in cases:
        with pytest.raises(ClientError) as e:
            elam.create_event_source_mapping(FunctionName=fn, **kw)
        assert err(e) == (400, "InvalidParameterValueException", message), kw
    ok = elam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=100,
                                          MaximumBatchingWindowInSeconds=2)
    assert ok["BatchSize"] == 100 and ok["MaximumBatchingWindowInSeconds"] == 2
    with pytest.raises(ClientError) as e:
        elam.update_event_source_mapping(UUID=ok["UUID"], MaximumBatchingWindowInSeconds=0)
    assert err(e)[2] == "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"


def test_create_time_errors(elam, moto, fn):
    with pytest.raises(ClientError) as e:
        elam.create_event_source_mapping(FunctionName=fn)
    assert err(e) == (400, "InvalidParameterValueException", "Unrecognized event source.")
    missing = f"arn:aws:sqs:us-east-1:{moto.account}:{unique('gone')}"
    with pytest.raises(ClientError) as e:
        elam.create_event_source_mapping(FunctionName=fn, EventSourceArn=missing)
    assert err(e) == (400, "InvalidParameterValueException",
                      "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
                      "SQS Error Message: The specified queue does not exist.")
    _, arn = make_queue(moto, unique("q"), VisibilityTimeout=30)
    with pytest.raises(ClientError) as e:
        elam.create_event_source_mapping(FunctionName=unique("nofn"), EventSourceArn=arn)
    assert err(e) == (400, "InvalidParameterValueException", "Function does not exist")
    slow = unique("slow")
    create(elam, slow, CODE, Timeout=60)
    with pytest.raises(ClientError) as e:
        elam.create_event_source_mapping(FunctionName=slow, EventSourceArn=arn)
    assert err(e) == (400, "InvalidParameterValueException",
                      "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds")
    first = elam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)
    with pytest.raises(ClientError) as e:
        elam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)
    assert err(e) == (409, "ResourceConflictException",
                      f'An event source mapping with SQS arn (" {arn} ") and function (" {fn} ") already exists. '
                      f'Please update or delete the existing mapping with UUID {first["UUID"]}')
    unknown = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as e:
        elam.get_event_source_mapping(UUID=unknown)
    assert err(e) == (404, "ResourceNotFoundException", "The resource you requested does not exist.")
    with pytest.raises(ClientError) as e:
        elam.update_event_source_mapping(UUID=unknown, BatchSize=1)
    assert err(e) == (404, "ResourceNotFoundException", "The resource you requested does not exist.")
    with pytest.raises(ClientError) as e:
        elam.delete_event_source_mapping(UUID=unknown)
    assert err(e) == (404, "ResourceNotFoundException", "The resource you requested does not exist.")


def test_filter_criteria_and_scaling_config_are_returned(elam, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    pattern = json.dumps({"body": {"test2": [{"numeric": [">", 100]}]}})
    got = elam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, FilterCriteria={"Filters": [{"Pattern": pattern}]},
        ScalingConfig={"MaximumConcurrency": 2}, FunctionResponseTypes=["ReportBatchItemFailures"])
    assert got["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    assert got["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert got["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    cleared = elam.update_event_source_mapping(UUID=got["UUID"], FilterCriteria={"Filters": []})
    assert "FilterCriteria" not in cleared


def test_tags_on_mapping_arns(elam, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    got = elam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, Tags={"team": "a"})
    esm_arn = got["EventSourceMappingArn"]
    assert elam.list_tags(Resource=esm_arn)["Tags"] == {"team": "a"}
    elam.tag_resource(Resource=esm_arn, Tags={"env": "test"})
    elam.untag_resource(Resource=esm_arn, TagKeys=["team"])
    assert elam.list_tags(Resource=esm_arn)["Tags"] == {"env": "test"}
    unknown = esm_arn[: -36] + "00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as e:
        elam.list_tags(Resource=unknown)
    assert err(e) == (404, "ResourceNotFoundException", f"Event source mapping not found: {unknown}")


def test_pagination(elam, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    uuids = []
    for i in range(3):
        other = unique("pg")
        create(elam, other, CODE)
        uuids.append(elam.create_event_source_mapping(FunctionName=other, EventSourceArn=arn)["UUID"])
    page = elam.list_event_source_mappings(EventSourceArn=arn, MaxItems=2)
    assert len(page["EventSourceMappings"]) == 2 and page["NextMarker"]
    rest = elam.list_event_source_mappings(EventSourceArn=arn, Marker=page["NextMarker"])
    assert [m["UUID"] for m in page["EventSourceMappings"] + rest["EventSourceMappings"]] == uuids
    assert "NextMarker" not in rest


def test_aws_cli(esm_server, moto, fn):
    _, arn = make_queue(moto, unique("q"))
    got = aws_json(esm_server, "create-event-source-mapping", "--function-name", fn, "--event-source-arn", arn,
                   "--batch-size", "5")
    assert got["State"] == "Creating" and got["BatchSize"] == 5
    listed = aws_json(esm_server, "list-event-source-mappings", "--function-name", fn)
    assert [m["UUID"] for m in listed["EventSourceMappings"]] == [got["UUID"]]
    assert aws_json(esm_server, "get-event-source-mapping", "--uuid", got["UUID"])["EventSourceArn"] == arn
    assert aws_json(esm_server, "delete-event-source-mapping", "--uuid", got["UUID"])["State"] == "Deleting"


def test_mappings_survive_kill_and_restart_and_hold_a_lease(fresh_server, moto, sink):
    server = fresh_server(env={**moto_sqs_env(moto), **FAST_ESM_ENV})
    lam = server.client()
    name = unique("dur")
    create(lam, name, batch_fn(sink, name))
    # A long poll of the killed Lamb may still take the message; it comes back after 3 s.
    url, arn = make_queue(moto, unique("q"), VisibilityTimeout=3)
    uuid = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, BatchSize=3)["UUID"]
    wait_state(lam, uuid, "Enabled")
    health = server.get_json("/_lamb/health")["event_sources"]
    assert health["pollers"] == 1 and health["leases"] == 1
    server.kill9()
    moto.client("sqs").send_message(QueueUrl=url, MessageBody="sent while Lamb was down")
    server.restart()
    lam = server.client()
    got = wait_state(lam, uuid, "Enabled")
    assert got["BatchSize"] == 3 and got["EventSourceArn"] == arn
    wait_for(lambda: [r["body"] for r in records_of(sink, name)] == ["sent while Lamb was down"], 30, 0.1,
             "the message after the restart")
    assert server.get_json("/_lamb/health")["event_sources"]["pollers"] == 1


def test_stream_parameter_rules(elam, fn):
    kinesis = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    ddb = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
    cases = [
        (dict(EventSourceArn=kinesis), "InvalidParameterValueException",
         "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null."),
        (dict(EventSourceArn=ddb, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1700000000),
         "InvalidParameterValueException", f"Unsupported starting position for arn type: {ddb}"),
        (dict(EventSourceArn=kinesis, StartingPosition="LATEST", DestinationConfig={"OnSuccess": {"Destination": kinesis}}),
         "InvalidParameterValueException", "Unsupported DestinationConfig parameter for given event source mapping type."),
        (dict(EventSourceArn=kinesis, StartingPosition="LATEST", ScalingConfig={"MaximumConcurrency": 2}),
         "InvalidParameterValueException", "Unsupported 'scalingConfig' parameter for given event source mapping type."),
    ]
    for kw, code, message in cases:
        with pytest.raises(ClientError) as e:
            elam.create_event_source_mapping(FunctionName=fn, **kw)
        assert err(e) == (400, code, message), kw
