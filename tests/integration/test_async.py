"""Asynchronous invocation (issue 6): queue, retries, event age, destinations, DLQs, loop detection.

A real ``lamb serve`` with fast async timings (``async_support.FAST_ENV``) and a real
moto server as the SQS/SNS/EventBridge/S3 endpoint, driven with boto3.
"""

from __future__ import annotations

import datetime
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from .async_support import FAST_ENV, alam, async_server, health, moto, serving, sink, sink_code  # noqa: F401  (fixtures)
from .conftest import create, unique, wait_for

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
RECORD_KEYS = {"version", "timestamp", "requestContext", "requestPayload", "responseContext", "responsePayload"}


def event(lam, name: str, doc: dict, **kw) -> dict:
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(doc).encode(), **kw)
    assert resp["StatusCode"] == 202
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert resp["Payload"].read() == b""
    return resp


def records(moto, url: str, n: int = 1, timeout: float = 20) -> list[dict]:
    return [json.loads(m["Body"]) for m in moto.receive(url, n, timeout)]


# ----------------------------------------------------------------- accept
def test_event_invoke_runs_once_with_its_request_id(alam, async_server, sink):
    name = unique("ev")
    create(alam, name, sink_code(sink.url))
    event(alam, name, {"tag": name, "n": 1})
    (got,) = sink.wait("tag", name, 1)
    assert got["event"] == {"tag": name, "n": 1}
    assert got["arn"] == async_server.arn(name)
    assert re.fullmatch(r"[0-9a-f-]{36}", got["rid"])
    # the X-Ray header carries the recursion-detection Lineage, first hop
    assert re.search(r"Lineage=1:[0-9a-f]{8}:0$", got["trace"]), got["trace"]
    time.sleep(0.5)
    assert len(sink.of("tag", name)) == 1


def test_event_invoke_with_qualifier_latest(alam, async_server, sink):
    name = unique("evq")
    create(alam, name, sink_code(sink.url))
    event(alam, name, {"tag": name}, Qualifier="$LATEST")
    (got,) = sink.wait("tag", name, 1)
    assert got["arn"] == async_server.arn(name, "$LATEST")


def test_invoke_async_deprecated_operation(alam, sink):
    name = unique("ia")
    create(alam, name, sink_code(sink.url))
    resp = alam.invoke_async(FunctionName=name, InvokeArgs=json.dumps({"tag": name}).encode())
    assert resp["Status"] == 202
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    sink.wait("tag", name, 1)


def test_async_payload_limit_and_json(alam, sink):
    name = unique("big")
    create(alam, name, sink_code(sink.url))
    limit = 1024 * 1024
    filler = "x" * (limit - len(json.dumps({"tag": name, "pad": ""})))
    exact = json.dumps({"tag": name, "pad": filler}).encode()
    assert len(exact) == limit
    event_resp = alam.invoke(FunctionName=name, InvocationType="Event", Payload=exact)
    assert event_resp["StatusCode"] == 202
    (got,) = sink.wait("tag", name, 1)
    assert len(got["event"]["pad"]) == len(filler)

    with pytest.raises(ClientError) as e:
        alam.invoke(FunctionName=name, InvocationType="Event", Payload=exact[:-1] + b' "}')
    err = e.value.response
    assert err["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert err["Error"]["Message"] == f"Request must be smaller than {limit} bytes for the InvokeFunction operation"

    with pytest.raises(ClientError) as e:
        alam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{not json")
    assert e.value.response["Error"]["Code"] == "InvalidRequestContentException"

    with pytest.raises(ClientError) as e:
        alam.invoke(FunctionName=unique("missing"), InvocationType="Event", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ----------------------------------------------------------------- retries
def test_function_error_retried_twice_with_delays(alam, moto, sink):
    name = unique("retry")
    url, arn = moto.queue(unique("fail"))
    create(alam, name, sink_code(sink.url, "raise Exception('boom ' + str(event.get('n')))"))
    alam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}})
    event(alam, name, {"tag": name, "n": 7})
    got = sink.wait("tag", name, 3)
    assert len({g["rid"] for g in got}) == 1, "retries keep the event's request id"
    t = sorted(g["t"] for g in got)
    # LAMB_ASYNC_RETRY_DELAYS=0.5,1.0 (AWS: 60 s, then 120 s)
    assert 0.45 <= t[1] - t[0] < 2.5, t
    assert 0.95 <= t[2] - t[1] < 3.0, t
    (rec,) = records(moto, url)
    assert rec["requestContext"]["condition"] == "RetriesExhausted"
    assert rec["requestContext"]["approximateInvokeCount"] == 3
    assert rec["requestContext"]["requestId"] == got[0]["rid"]
    time.sleep(1.5)
    assert len(sink.of("tag", name)) == 3


@pytest.mark.parametrize("retries", [0, 1])
def test_maximum_retry_attempts(alam, moto, sink, retries):
    name = unique(f"r{retries}")
    url, arn = moto.queue(unique("fail"))
    create(alam, name, sink_code(sink.url, "raise Exception('boom')"))
    alam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=retries,
                                          DestinationConfig={"OnFailure": {"Destination": arn}})
    event(alam, name, {"tag": name})
    (rec,) = records(moto, url)
    assert rec["requestContext"]["approximateInvokeCount"] == retries + 1
    assert len(sink.of("tag", name)) == retries + 1


def test_event_age_exceeded(alam, moto, sink):
    """MaximumEventAgeInSeconds=60 under LAMB_ASYNC_EVENT_AGE_SCALE=0.02 is 1.2 s: the
    event expires before its third attempt (due 1.5 s after the first)."""
    name = unique("age")
    url, arn = moto.queue(unique("aged"))
    create(alam, name, sink_code(sink.url, "raise Exception('always')"))
    alam.invoke(FunctionName=name, Payload=b'{"tag": "warm"}')  # warm: attempts start promptly
    alam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60, MaximumRetryAttempts=2,
                                          DestinationConfig={"OnFailure": {"Destination": arn}})
    t0 = time.time()
    event(alam, name, {"tag": name})
    (rec,) = records(moto, url)
    ran = sink.of("tag", name)
    assert rec["requestContext"]["condition"] == "EventAgeExceeded"
    assert rec["requestContext"]["approximateInvokeCount"] == len(ran)
    assert 1 <= len(ran) <= 2
    assert rec["responseContext"]["functionError"] == "Unhandled"
    assert rec["responsePayload"]["errorMessage"] == "always"
    assert time.time() - t0 >= 1.1


# ------------------------------------------------------------- destinations
@pytest.mark.smoke  # CI runs it under every supported Python
def test_success_and_failure_records_on_sqs(alam, async_server, moto, sink):
    name = unique("dest")
    ok_url, ok_arn = moto.queue(unique("ok"))
    ko_url, ko_arn = moto.queue(unique("ko"))
    create(alam, name, sink_code(sink.url, "if event.get('fail'):\n    raise ValueError('bad input ' + str(event['n']))"))
    cfg = alam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": ok_arn}, "OnFailure": {"Destination": ko_arn}},
    )
    assert cfg["DestinationConfig"] == {"OnSuccess": {"Destination": ok_arn}, "OnFailure": {"Destination": ko_arn}}
    event(alam, name, {"tag": name, "n": 1})
    (ok,) = records(moto, ok_url)
    (ran,) = sink.wait("tag", name, 1)
    assert set(ok) == RECORD_KEYS
    assert ok["version"] == "1.0"
    assert ISO_MS.fullmatch(ok["timestamp"])
    stamp = datetime.datetime.strptime(ok["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert abs(stamp.timestamp() - time.time()) < 60
    assert ok["requestContext"] == {
        "requestId": ran["rid"], "functionArn": async_server.arn(name, "$LATEST"),
        "condition": "Success", "approximateInvokeCount": 1,
    }
    assert ok["requestPayload"] == {"tag": name, "n": 1}
    assert ok["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert ok["responsePayload"] == {"ok": True, "n": 1}

    event(alam, name, {"tag": name, "n": 2, "fail": True})
    (ko,) = records(moto, ko_url)
    failed = [g for g in sink.wait("tag", name, 2) if g["event"].get("fail")]
    assert set(ko) == RECORD_KEYS
    assert ko["requestContext"] == {
        "requestId": failed[0]["rid"], "functionArn": async_server.arn(name, "$LATEST"),
        "condition": "RetriesExhausted", "approximateInvokeCount": 1,
    }
    assert ko["requestPayload"] == {"tag": name, "n": 2, "fail": True}
    assert ko["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert ko["responsePayload"]["errorType"] == "ValueError"
    assert ko["responsePayload"]["errorMessage"] == "bad input 2"
    assert moto.empty(ok_url) and moto.empty(ko_url)


def test_sns_eventbridge_and_s3_destinations(alam, async_server, moto, sink):
    name = unique("multi")
    sqs, sns, events, s3 = (moto.client(s) for s in ("sqs", "sns", "events", "s3"))
    # SNS topic for successes, read through a subscribed queue
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    t_url, t_arn = moto.queue(unique("from-sns"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=t_arn, Attributes={"RawMessageDelivery": "true"})
    create(alam, name, sink_code(sink.url, "if event.get('fail'):\n    raise Exception('nope')"))
    alam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": topic}})
    event(alam, name, {"tag": name, "n": 1})
    (rec,) = records(moto, t_url)
    assert rec["requestContext"]["condition"] == "Success"
    assert rec["requestPayload"] == {"tag": name, "n": 1}

    # EventBridge bus for successes, a rule forwarding to a queue
    bus = events.create_event_bus(Name=unique("bus"))["EventBusArn"]
    e_url, e_arn = moto.queue(unique("from-eb"))
    bus_name = bus.split("/", 1)[1]
    events.put_rule(Name="r", EventBusName=bus_name, EventPattern=json.dumps({"source": ["aws.lambda"]}))
    events.put_targets(Rule="r", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": e_arn}])
    alam.update_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": bus}})
    event(alam, name, {"tag": name, "n": 2})
    (ev,) = records(moto, e_url)
    assert ev["source"] == "aws.lambda"
    assert ev["detail-type"] == "Lambda Function Invocation Result - Success"
    assert ev["resources"] == [async_server.arn(name, "$LATEST"), bus]
    assert ev["detail"]["requestPayload"] == {"tag": name, "n": 2}
    assert ev["detail"]["requestContext"]["condition"] == "Success"

    # S3 bucket for failures (S3 is on-failure only)
    bucket = unique("bkt").lower()
    s3.create_bucket(Bucket=bucket)
    alam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                          DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}})
    event(alam, name, {"tag": name, "n": 3, "fail": True})
    keys = wait_for(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])], 20,
                    0.1, "a record in the bucket")
    assert len(keys) == 1
    assert re.fullmatch(
        rf"aws/lambda/async/{name}/\d{{4}}/\d\d/\d\d/\d{{4}}-\d\d-\d\dT\d\d\.\d\d\.\d\d-[0-9a-f-]{{36}}", keys[0]
    ), keys[0]
    body = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestPayload"] == {"tag": name, "n": 3, "fail": True}


def test_destination_is_another_function(alam, async_server, sink):
    source, target = unique("src"), unique("dst")
    create(alam, target, sink_code(sink.url))
    create(alam, source, sink_code(sink.url))
    alam.put_function_event_invoke_config(
        FunctionName=source, DestinationConfig={"OnSuccess": {"Destination": async_server.arn(target)}}
    )
    event(alam, source, {"tag": source, "n": 5})
    (ran,) = sink.wait("tag", source, 1)
    got = wait_for(lambda: [g for g in sink.items if g["arn"] == async_server.arn(target)], 20, 0.05,
                   "the destination function to run")
    rec = got[0]["event"]
    assert set(rec) == RECORD_KEYS
    assert rec["requestContext"]["requestId"] == ran["rid"]
    assert rec["requestContext"]["functionArn"] == async_server.arn(source, "$LATEST")
    assert rec["requestContext"]["condition"] == "Success"
    assert rec["requestPayload"] == {"tag": source, "n": 5}
    assert rec["responsePayload"] == {"ok": True, "n": 5}
    assert got[0]["rid"] != ran["rid"]
    # the destination hop continues the chain: same root, one more function in the lineage
    root = re.search(r"Root=([^;]+)", ran["trace"]).group(1)
    assert f"Root={root}" in got[0]["trace"]
    assert len(re.search(r"Lineage=([^;]+)", got[0]["trace"]).group(1).split("|")) == 2


def test_dead_letter_queue_sqs_and_sns(alam, moto, sink):
    name = unique("dlq")
    url, arn = moto.queue(unique("dl"))
    create(alam, name, sink_code(sink.url, "raise RuntimeError('x' * 2000)"), DeadLetterConfig={"TargetArn": arn})
    alam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    event(alam, name, {"tag": name, "n": 1})
    (msg,) = moto.receive(url)
    (ran,) = sink.wait("tag", name, 1)
    assert json.loads(msg["Body"]) == {"tag": name, "n": 1}
    attrs = msg["MessageAttributes"]
    assert attrs["RequestID"] == {"StringValue": ran["rid"], "DataType": "String"}
    assert attrs["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attrs["ErrorMessage"]["DataType"] == "String"
    assert attrs["ErrorMessage"]["StringValue"] == "x" * 1024  # the first 1 KB

    sns = moto.client("sns")
    topic = sns.create_topic(Name=unique("dlt"))["TopicArn"]
    t_url, t_arn = moto.queue(unique("dl-sns"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=t_arn)
    alam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": topic})
    alam.get_waiter("function_updated_v2").wait(FunctionName=name)
    event(alam, name, {"tag": name, "n": 2})
    (note,) = moto.receive(t_url)
    envelope = json.loads(note["Body"])
    assert json.loads(envelope["Message"]) == {"tag": name, "n": 2}
    assert envelope["MessageAttributes"]["ErrorCode"] == {"Type": "Number", "Value": "200"}
    assert envelope["MessageAttributes"]["RequestID"]["Value"] == sink.of("tag", name)[-1]["rid"]


def test_unreachable_destination_is_retried_then_delivered(alam, moto, sink, async_server):
    """A destination queue that does not exist yet: delivery is retried with backoff, not dropped."""
    name = unique("late")
    qname = unique("later")
    arn = f"arn:aws:sqs:us-east-1:{moto.account}:{qname}"
    create(alam, name, sink_code(sink.url))
    alam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    before = health(async_server)["delivery_retries"]
    event(alam, name, {"tag": name})
    sink.wait("tag", name, 1)
    wait_for(lambda: health(async_server)["delivery_retries"] > before, 20, 0.1, "a failed delivery attempt")
    url, _ = moto.queue(qname)
    (rec,) = records(moto, url, timeout=30)
    assert rec["requestContext"]["condition"] == "Success"
    assert f"destination {arn}: delivery of event" in async_server.log_tail(100000)


# ----------------------------------------------------------- deleted function
def test_deleted_function_drops_queued_events(alam, async_server, sink):
    name = unique("gone")
    create(alam, name, sink_code(sink.url, "raise Exception('first attempt fails')"))
    before = health(async_server)["dropped_deleted_function"]
    event(alam, name, {"tag": name})
    sink.wait("tag", name, 1)
    alam.delete_function(FunctionName=name)
    # a namesake created before the retry is due is another function: it never sees the old event
    create(alam, name, sink_code(sink.url))
    wait_for(lambda: health(async_server)["dropped_deleted_function"] > before, 20, 0.1, "the event to be dropped")
    time.sleep(1.5)
    assert len(sink.of("tag", name)) == 1


# ------------------------------------------------------------ loop detection
LOOP = """
import boto3
lam = boto3.client('lambda')
"""
LOOP_BODY = (
    "if event['n'] < event['max']:\n"
    "    lam.invoke(FunctionName=context.function_name, InvocationType='Event',\n"
    "               Payload=json.dumps({'tag': event['tag'], 'n': event['n'] + 1, 'max': event['max']}))"
)


def test_recursive_loop_stopped_after_16(alam, async_server, moto, sink):
    name = unique("loop")
    url, arn = moto.queue(unique("loop-fail"))
    create(alam, name, LOOP + sink_code(sink.url, LOOP_BODY), Timeout=30)
    assert alam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    alam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}})
    before = health(async_server)["recursive_invocations_dropped"]
    event(alam, name, {"tag": name, "n": 1, "max": 100})
    (rec,) = records(moto, url, timeout=60)
    ran = sink.of("tag", name)
    assert sorted(g["n"] for g in ran) == list(range(1, 17))
    counts = sorted(int(re.search(r":(\d+)$", g["trace"]).group(1)) for g in ran)
    assert counts == list(range(16))
    assert rec["requestContext"]["condition"] == "RetriesExhausted"
    assert rec["requestContext"]["approximateInvokeCount"] == 0
    assert rec["requestPayload"]["n"] == 17
    assert rec["responsePayload"]["errorType"] == "RecursiveInvocationException"
    assert health(async_server)["recursive_invocations_dropped"] == before + 1
    assert "RecursiveInvocationsDropped" in async_server.log_tail(50000)
    # ... and a CloudWatch metric of the function, as AWS publishes it.
    assert metric_sum(async_server, "RecursiveInvocationsDropped", name) == 1.0


def metric_sum(server, metric: str, function: str) -> float:
    """GetMetricStatistics' Sum of ``metric`` for ``function`` over the last and next half hour."""
    now = datetime.datetime.now(datetime.timezone.utc)
    out = server.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric, Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - datetime.timedelta(minutes=30), EndTime=now + datetime.timedelta(minutes=30), Period=3600,
        Statistics=["Sum"])
    return sum(p["Sum"] for p in out["Datapoints"])


def test_a_destination_that_stays_unreachable_is_a_delivery_failure_metric(moto, sink, tmp_path_factory):
    """Past the delivery age limit (1 s here) the record is dropped: DestinationDeliveryFailures."""
    env = {**moto.env(), **FAST_ENV, "LAMB_ASYNC_DELIVERY_MAX_AGE_S": "1"}
    served = serving(env, tmp_path_factory, "delivery-failures")
    server = next(served)
    try:
        lam = server.client()
        name = unique("undeliverable")
        create(lam, name, sink_code(sink.url))
        arn = f"arn:aws:sqs:us-east-1:{moto.account}:{unique('never')}"
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
        event(lam, name, {"tag": name})
        sink.wait("tag", name, 1)
        wait_for(lambda: metric_sum(server, "DestinationDeliveryFailures", name) == 1.0, 60, 0.2,
                 "the DestinationDeliveryFailures metric")
        assert health(server)["destination_delivery_failures"] == 1
    finally:
        served.close()


SYNC_BODY = (
    "if event['n'] < event['max']:\n"
    "    try:\n"
    "        lam.invoke(FunctionName=context.function_name,\n"
    "                   Payload=json.dumps({'tag': event['tag'], 'n': event['n'] + 1, 'max': event['max']}))\n"
    "    except lam.exceptions.RecursiveInvocationException as e:\n"
    "        post({'tag': event['tag'] + '-stopped', 'n': event['n'], 'code': e.response['Error']['Code'],\n"
    "              'status': e.response['ResponseMetadata']['HTTPStatusCode']})"
)


def test_synchronous_recursive_loop_stopped(alam, sink):
    """Loops of functions invoking each other synchronously are counted too; the caller of the
    17th invocation gets RecursiveInvocationException."""
    name = unique("sloop")
    create(alam, name, LOOP + sink_code(sink.url, SYNC_BODY), Timeout=60, MemorySize=128)
    resp = alam.invoke(FunctionName=name, Payload=json.dumps({"tag": name, "n": 1, "max": 100}).encode())
    assert "FunctionError" not in resp, resp["Payload"].read()
    assert sorted(g["n"] for g in sink.of("tag", name)) == list(range(1, 17))
    (stopped,) = sink.of("tag", name + "-stopped")
    assert stopped["n"] == 16 and stopped["code"] == "RecursiveInvocationException" and stopped["status"] == 400


def test_recursive_loop_allowed(alam, sink):
    name = unique("allow")
    create(alam, name, LOOP + sink_code(sink.url, LOOP_BODY), Timeout=30)
    assert alam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    assert alam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    event(alam, name, {"tag": name, "n": 1, "max": 20})
    ran = sink.wait("tag", name, 20, timeout=60)
    assert sorted(g["n"] for g in ran) == list(range(1, 21))


def test_recursion_config_validation(alam):
    with pytest.raises(ClientError) as e:
        alam.get_function_recursion_config(FunctionName=unique("nope"))
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    name = unique("rc")
    create(alam, name, "def handler(e, c):\n    return 1\n")
    with pytest.raises(ClientError) as e:
        alam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Sometimes")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must satisfy enum value set: [Terminate, Allow]" in e.value.response["Error"]["Message"]  # AWS's order


def test_202_request_id_is_the_event_request_id(alam, sink):
    """The x-amzn-RequestId of the 202 is the request id the function later sees (as on AWS)."""
    name = unique("rid202")
    create(alam, name, sink_code(sink.url))
    resp = alam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"tag": name, "n": 1}))
    assert resp["StatusCode"] == 202
    (ran,) = sink.wait("tag", name, 1)
    assert ran["rid"] == resp["ResponseMetadata"]["RequestId"]
