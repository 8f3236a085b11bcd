"""Event invoke config operations (issue 6) on $LATEST, versions and aliases, with AWS's validation."""

from __future__ import annotations

import datetime
import json

import pytest
from botocore.exceptions import ClientError

from .async_support import alam, async_server, moto, sink, sink_code  # noqa: F401  (fixtures)
from .conftest import create, unique

NOOP = "def handler(e, c):\n    return 1\n"


def error(call, **kw) -> dict:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return {"Code": e.value.response["Error"]["Code"], "Message": e.value.response["Error"]["Message"],
            "Status": e.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_put_get_update_delete(alam, async_server, moto):
    name = unique("eic")
    create(alam, name, NOOP)
    _, q = moto.queue(unique("q"))
    before = datetime.datetime.now(datetime.timezone.utc)
    put = alam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert put["FunctionArn"] == async_server.arn(name, "$LATEST")
    assert put["MaximumRetryAttempts"] == 1
    assert "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert isinstance(put["LastModified"], datetime.datetime)
    assert abs((put["LastModified"] - before).total_seconds()) < 60

    got = alam.get_function_event_invoke_config(FunctionName=name)
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in put.items() if k != "ResponseMetadata"}

    upd = alam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=300,
                                                   DestinationConfig={"OnFailure": {"Destination": q}})
    assert upd["MaximumRetryAttempts"] == 1  # kept
    assert upd["MaximumEventAgeInSeconds"] == 300
    assert upd["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": q}}
    assert upd["LastModified"] >= put["LastModified"]

    # Put replaces the whole config: what it leaves out is removed
    put2 = alam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    assert put2["MaximumEventAgeInSeconds"] == 120
    assert "MaximumRetryAttempts" not in put2
    assert put2["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}

    listed = alam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [async_server.arn(name, "$LATEST")]

    alam.delete_function_event_invoke_config(FunctionName=name)
    err = error(alam.get_function_event_invoke_config, FunctionName=name)
    assert err == {"Code": "ResourceNotFoundException", "Status": 404,
                   "Message": f"The function {async_server.arn(name, '$LATEST')} doesn't have an EventInvokeConfig"}
    assert error(alam.delete_function_event_invoke_config, FunctionName=name)["Code"] == "ResourceNotFoundException"
    assert alam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"] == []
    err = error(alam.update_function_event_invoke_config, FunctionName=name, MaximumRetryAttempts=0)
    assert err["Code"] == "ResourceNotFoundException"


def test_validation(alam, async_server, moto):
    name = unique("val")
    other = unique("other")
    create(alam, name, NOOP)
    create(alam, other, NOOP)
    raw = async_server.raw_client()
    _, q = moto.queue(unique("q"))

    assert error(alam.put_function_event_invoke_config, FunctionName=name) == {
        "Code": "InvalidParameterValueException", "Status": 400,
        "Message": "You must specify at least one of error handling or destination setting."}
    assert error(alam.update_function_event_invoke_config, FunctionName=name)["Code"] == "InvalidParameterValueException"
    assert error(alam.put_function_event_invoke_config, FunctionName=unique("nope"), MaximumRetryAttempts=1) == {
        "Code": "ResourceNotFoundException", "Status": 404, "Message": "The function doesn't exist."}
    assert error(alam.put_function_event_invoke_config, FunctionName=name, Qualifier="7",
                 MaximumRetryAttempts=1)["Code"] == "ResourceNotFoundException"

    # the limits are the installed botocore model's, as the server's are
    members = raw.meta.service_model.operation_model("PutFunctionEventInvokeConfig").input_shape.members
    retries_max = members["MaximumRetryAttempts"].metadata["max"]
    age_min, age_max = members["MaximumEventAgeInSeconds"].metadata["min"], members["MaximumEventAgeInSeconds"].metadata["max"]
    err = error(raw.put_function_event_invoke_config, FunctionName=name, MaximumRetryAttempts=retries_max + 1)
    assert err["Code"] == "ValidationException" and err["Status"] == 400
    assert err["Message"] == (f"1 validation error detected: Value '{retries_max + 1}' at 'maximumRetryAttempts' failed to satisfy "
                              f"constraint: Member must have value less than or equal to {retries_max}")
    err = error(raw.put_function_event_invoke_config, FunctionName=name, MaximumEventAgeInSeconds=age_min - 1)
    assert err["Message"] == (f"1 validation error detected: Value '{age_min - 1}' at 'maximumEventAgeInSeconds' failed to satisfy "
                              f"constraint: Member must have value greater than or equal to {age_min}")
    err = error(raw.put_function_event_invoke_config, FunctionName=name, MaximumEventAgeInSeconds=age_max + 1)
    assert err["Code"] == "ValidationException"

    bucket = "arn:aws:s3:::some-bucket"
    assert error(alam.put_function_event_invoke_config, FunctionName=name,
                 DestinationConfig={"OnSuccess": {"Destination": bucket}}) == {
        "Code": "InvalidParameterValueException", "Status": 400,
        "Message": f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={bucket}), "
                   "onFailure=null) is invalid."}
    dynamo = "arn:aws:dynamodb:us-east-1:000000000000:table/t"
    err = error(alam.put_function_event_invoke_config, FunctionName=name,
                DestinationConfig={"OnSuccess": {"Destination": q}, "OnFailure": {"Destination": dynamo}})
    assert err["Message"] == (f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={q}), "
                              f"onFailure=OnFailure(destination={dynamo})) is invalid.")
    fifo = q + ".fifo"
    assert error(alam.put_function_event_invoke_config, FunctionName=name,
                 DestinationConfig={"OnFailure": {"Destination": fifo}})["Code"] == "InvalidParameterValueException"
    assert error(alam.put_function_event_invoke_config, FunctionName=name,
                 DestinationConfig={"OnSuccess": {"Destination": async_server.arn(name)}}) == {
        "Code": "InvalidParameterValueException", "Status": 400,
        "Message": "You can't specify the function as a destination for itself."}
    missing = async_server.arn(unique("nofn"))
    assert error(alam.put_function_event_invoke_config, FunctionName=name,
                 DestinationConfig={"OnSuccess": {"Destination": missing}}) == {
        "Code": "InvalidParameterValueException", "Status": 400, "Message": f"The destination ARN {missing} is invalid."}
    err = error(raw.put_function_event_invoke_config, FunctionName=name,
                DestinationConfig={"OnSuccess": {"Destination": "not-an-arn"}})
    assert err["Code"] == "ValidationException"

    # accepted kinds: S3 on failure, another function, a queue, an event bus, a topic
    ok = alam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={
        "OnFailure": {"Destination": bucket}, "OnSuccess": {"Destination": async_server.arn(other)}})
    assert ok["DestinationConfig"]["OnFailure"] == {"Destination": bucket}
    for arn in (q, "arn:aws:sns:us-east-1:123456789012:topic",
                "arn:aws:events:us-east-1:123456789012:event-bus/default"):
        alam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})


def _has_versions(alam) -> bool:
    try:
        alam.list_versions_by_function(FunctionName=unique("probe"))
    except ClientError as e:
        return e.response["Error"]["Code"] != "UnsupportedOperationException"
    return True


def test_config_on_version_and_alias(alam, async_server, moto, sink):
    """Each qualifier has its own error handling and destinations; the record names the qualifier
    that was invoked and the version that ran."""
    if not _has_versions(alam):
        pytest.xfail("PublishVersion/CreateAlias are not available on this server (issue 4)")
    name = unique("qual")
    create(alam, name, sink_code(sink.url, "raise Exception('v' + context.function_version)"))
    version = alam.publish_version(FunctionName=name)["Version"]
    alam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    queues = {q: moto.queue(unique(q.strip("$").lower())) for q in ("$LATEST", version, "live")}
    for qualifier, retries in (("$LATEST", 0), (version, 1), ("live", 2)):
        cfg = alam.put_function_event_invoke_config(
            FunctionName=name, Qualifier=qualifier, MaximumRetryAttempts=retries,
            DestinationConfig={"OnFailure": {"Destination": queues[qualifier][1]}})
        assert cfg["FunctionArn"] == async_server.arn(name, qualifier)
    got = alam.get_function_event_invoke_config(FunctionName=f"{name}:live")
    assert got["MaximumRetryAttempts"] == 2 and got["FunctionArn"] == async_server.arn(name, "live")
    listed = alam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [async_server.arn(name, q) for q in ("$LATEST", version, "live")]
    page = alam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    assert len(page["FunctionEventInvokeConfigs"]) == 2 and page["NextMarker"]
    rest = alam.list_function_event_invoke_configs(FunctionName=name, Marker=page["NextMarker"])
    assert [c["FunctionArn"] for c in rest["FunctionEventInvokeConfigs"]] == [async_server.arn(name, "live")]

    for qualifier, invoked, executed, attempts in (
        (None, "$LATEST", "$LATEST", 1), (version, version, version, 2), ("live", "live", version, 3),
    ):
        tag = f"{name}-{invoked}"
        kw = {"Qualifier": qualifier} if qualifier else {}
        alam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"tag": tag}).encode(), **kw)
        (msg,) = moto.receive(queues[invoked][0], 1, 30)
        rec = json.loads(msg["Body"])
        assert rec["requestContext"]["functionArn"] == async_server.arn(name, invoked)
        assert rec["requestContext"]["approximateInvokeCount"] == attempts
        assert rec["responseContext"]["executedVersion"] == executed
        assert rec["responsePayload"]["errorMessage"] == f"v{executed}"
        ran = sink.of("tag", tag)
        assert len(ran) == attempts and {r["version"] for r in ran} == {executed}
        if qualifier is None:
            assert ran[0]["arn"] == async_server.arn(name)
        else:
            assert ran[0]["arn"] == async_server.arn(name, qualifier)

    alam.delete_function_event_invoke_config(FunctionName=name, Qualifier="live")
    # a config goes with its alias
    alam.create_alias(FunctionName=name, Name="tmp", FunctionVersion=version)
    alam.put_function_event_invoke_config(FunctionName=name, Qualifier="tmp", MaximumRetryAttempts=0)
    alam.delete_alias(FunctionName=name, Name="tmp")
    assert error(alam.get_function_event_invoke_config, FunctionName=name, Qualifier="tmp")["Code"] == \
        "ResourceNotFoundException"
    assert "tmp" not in str(alam.list_function_event_invoke_configs(FunctionName=name))
    assert error(alam.get_function_event_invoke_config, FunctionName=name, Qualifier="live")["Code"] == \
        "ResourceNotFoundException"
    assert error(alam.put_function_event_invoke_config, FunctionName=name, Qualifier="nosuchalias",
                 MaximumRetryAttempts=0)["Message"] == "The function doesn't exist."
