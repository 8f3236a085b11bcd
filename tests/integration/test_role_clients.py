"""The calls Lamb makes for a function act as its execution role (issue 17), as on AWS.

moto's server is the upstream STS and SQS, with its IAM enforcement switched on after the set-up
(``/moto-api/reset-auth``): Lamb's own key is a moto user allowed everything; each function's role
is a moto role. A role with sqs:* and kinesis:* gets its destination records, dead letters, queue
messages, stream records and failure records through; a role without sqs:SendMessage /
sqs:ReceiveMessage / kinesis reads does not, although Lamb's own key could: the delivery fails
(DestinationDeliveryFailures), the mapping's LastProcessingResult shows the refusal naming the
role's session, a Scheduler schedule's dead letters go as the schedule's RoleArn, and an Amazon
MQ mapping reads its broker secret as the role.
"""

from __future__ import annotations

import json
import urllib.request

import boto3
import pytest

from .async_support import FAST_ENV, REGION, MotoServer, health, sink, sink_code  # noqa: F401  (fixtures)
from .conftest import LambServer, create, refused, unique, wait_for
from .esm_support import FAST_ESM_ENV, batch_fn, records_of, wait_state
from .streams_support import ddb_table, kinesis_stream, put
from .test_stream_sources import FAST_STREAM_ENV



def trust(account: str) -> str:
    """Lambda's service principal and, for Lamb's upstream AssumeRole, Lamb's own identity (the user ``lamb``)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "lambda.amazonaws.com", "AWS": f"arn:aws:iam::{account}:user/lamb"}}]})

BROKER = f"arn:aws:mq:{REGION}:123456789012:broker:lamb:b-0000aaaa-1111-2222-3333-444455556666"


def allow(*actions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


class Upstream:
    """moto with two roles and an operator user, then IAM enforcement on."""

    def __init__(self):
        self.moto = MotoServer()
        try:
            self._set_up()
        except BaseException:
            self.moto.stop()  # a failed set-up leaves no server behind
            raise

    def _set_up(self) -> None:
        iam = self.moto.client("iam")
        iam.create_user(UserName="lamb")
        iam.put_user_policy(UserName="lamb", PolicyName="all", PolicyDocument=allow("*"))
        key = iam.create_access_key(UserName="lamb")["AccessKey"]
        self.keys = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        self.roles = {}
        # mute: may look at queues and streams (CreateEventSourceMapping's checks) but not read or send.
        for name, policy in (("sender", allow("sqs:*", "kinesis:*")),
                             ("mute", allow("sqs:GetQueueUrl", "sqs:GetQueueAttributes", "kinesis:DescribeStreamSummary")),
                             ("none", allow("sts:GetCallerIdentity"))):
            role = iam.create_role(RoleName=unique(name), AssumeRolePolicyDocument=trust(self.moto.account))["Role"]
            iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=policy)
            self.roles[name] = role["Arn"]
        req = urllib.request.Request(self.moto.url + "/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=10):
            pass  # from now on moto checks every request's signature and its identity's policies

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.moto.url, region_name=REGION, **self.keys)

    def queue(self, name: str) -> tuple[str, str]:
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def messages(self, url: str) -> list[dict]:
        return self.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])

    def kinesis(self) -> tuple[str, str]:
        """A new stream: (name, ARN)."""
        return kinesis_stream(self)

    def env(self) -> dict:
        return {"AWS_ENDPOINT_URL": self.moto.url, "AWS_ACCESS_KEY_ID": self.keys["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": self.keys["aws_secret_access_key"], "AWS_DEFAULT_REGION": REGION,
                "LAMB_UPSTREAM_STS": "on"}


@pytest.fixture(scope="module")
def upstream():
    up = Upstream()
    server = LambServer(env={**up.env(), **FAST_ENV, **FAST_ESM_ENV, **FAST_STREAM_ENV,
                             "LAMB_ASYNC_DELIVERY_MAX_AGE_S": "2", "LAMB_SCHEDULE_TIME_SCALE": "0.05",
                             # nothing listens there: the secret is read (or refused) before connecting
                             "LAMB_MQ_ENDPOINTS": f"{BROKER.rsplit(':', 1)[1]}=amqp://127.0.0.1:9"}).start()
    up.server = server
    try:
        yield up
    finally:
        server.close()
        up.moto.stop()


def test_lambs_own_key_is_refused_by_moto_once_enforcement_is_on(upstream):
    url, _ = upstream.queue(unique("probe"))
    dummy = upstream.moto.client("sqs")  # moto's default test keys: no such user
    with pytest.raises(Exception) as e:
        dummy.send_message(QueueUrl=url, MessageBody="x")
    assert "InvalidClientTokenId" in str(e.value) or "security token" in str(e.value)


def test_destinations_and_dead_letters_are_sent_as_the_functions_role(upstream, sink):
    lam = upstream.server.client()
    ok_url, ok_arn = upstream.queue(unique("ok"))
    dlq_url, dlq_arn = upstream.queue(unique("dlq"))
    sender = unique("sender")
    create(lam, sender, sink_code(sink.url), Role=upstream.roles["sender"], Timeout=30)
    lam.put_function_event_invoke_config(FunctionName=sender, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnSuccess": {"Destination": ok_arn}})
    failing = unique("failing")
    create(lam, failing, sink_code(sink.url, "raise Exception('boom')"), Role=upstream.roles["sender"], Timeout=30,
           DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(FunctionName=failing, MaximumRetryAttempts=0)
    lam.invoke(FunctionName=sender, InvocationType="Event", Payload=json.dumps({"tag": sender}))
    lam.invoke(FunctionName=failing, InvocationType="Event", Payload=json.dumps({"tag": failing}))
    record = json.loads(wait_for(lambda: upstream.messages(ok_url), 60, 0.2, "the success record")[0]["Body"])
    assert record["requestContext"]["functionArn"].endswith(f":function:{sender}:$LATEST")
    dead = wait_for(lambda: upstream.messages(dlq_url), 60, 0.2, "the dead letter")
    assert json.loads(dead[0]["Body"]) == {"tag": failing}


def test_a_role_without_sqs_send_message_cannot_deliver_although_lamb_could(upstream, sink):
    lam = upstream.server.client()
    url, arn = upstream.queue(unique("refused"))
    mute = unique("mute")
    create(lam, mute, sink_code(sink.url), Role=upstream.roles["mute"], Timeout=30)
    lam.put_function_event_invoke_config(FunctionName=mute, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnSuccess": {"Destination": arn}})
    before = health(upstream.server)["destination_delivery_failures"]
    lam.invoke(FunctionName=mute, InvocationType="Event", Payload=json.dumps({"tag": mute}))
    sink.wait("tag", mute, 1, timeout=60)
    wait_for(lambda: health(upstream.server)["destination_delivery_failures"] > before, 60, 0.2,
             "the delivery to be given up (DestinationDeliveryFailures)")
    assert upstream.messages(url) == []  # Lamb's own key is allowed sqs:*; the role is not
    upstream.client("sqs").send_message(QueueUrl=url, MessageBody="lamb's key could")  # (it could)
    assert [m["Body"] for m in upstream.messages(url)] == ["lamb's key could"]


def test_an_sqs_mapping_reads_its_queue_as_the_functions_role(upstream, sink):
    lam = upstream.server.client()
    ok_url, ok_arn = upstream.queue(unique("src-ok"))
    bad_url, bad_arn = upstream.queue(unique("src-mute"))
    reader, mute = unique("reader"), unique("mutereader")
    create(lam, reader, batch_fn(sink, reader), Role=upstream.roles["sender"], Timeout=10)
    create(lam, mute, batch_fn(sink, mute), Role=upstream.roles["mute"], Timeout=10)
    ok = lam.create_event_source_mapping(FunctionName=reader, EventSourceArn=ok_arn, BatchSize=1)["UUID"]
    bad = lam.create_event_source_mapping(FunctionName=mute, EventSourceArn=bad_arn, BatchSize=1)["UUID"]
    wait_state(lam, ok, "Enabled")
    wait_state(lam, bad, "Enabled")
    sqs = upstream.client("sqs")
    sqs.send_message(QueueUrl=ok_url, MessageBody=json.dumps({"n": 1}))
    sqs.send_message(QueueUrl=bad_url, MessageBody=json.dumps({"n": 2}))
    wait_for(lambda: records_of(sink, reader), 60, 0.2, "the message to reach the function")
    problem = wait_for(lambda: (lambda r: r if r.startswith("PROBLEM") else None)(
        lam.get_event_source_mapping(UUID=bad).get("LastProcessingResult") or ""), 60, 0.2, "the mapping's problem")
    # SQS's refusal as the poller got it (moto answers the JSON protocol's refusal in XML: Lamb passes it on),
    # naming the function's role session: the poller read as the role, not as Lamb.
    assert problem.startswith("PROBLEM: Error occurred while ReceiveMessage. SQS Error Code: "), problem
    assert "AccessDenied" in problem and "not authorized to perform: sqs:ReceiveMessage" in problem, problem
    assert f"assumed-role/{upstream.roles['mute'].rsplit('/', 1)[1]}/{mute}" in problem, problem
    assert records_of(sink, mute) == []
    # The message is still there for a role that may read it.
    assert [json.loads(m["Body"]) for m in upstream.messages(bad_url)] == [{"n": 2}]
    wait_for(lambda: lam.get_event_source_mapping(UUID=ok).get("LastProcessingResult") == "OK", 60, 0.2, "OK")
    for uuid in (ok, bad):
        lam.delete_event_source_mapping(UUID=uuid)


def test_a_kinesis_mapping_reads_and_sends_its_failures_as_the_functions_role(upstream, sink):
    lam = upstream.server.client()
    stream, arn = upstream.kinesis()
    dest_url, dest_arn = upstream.queue(unique("kfail"))
    reader, mute = unique("kreader"), unique("kmute")
    body = "if any(base64.b64decode(r['kinesis']['data']) == b'poison' for r in event['Records']):\n" \
           "    raise Exception('poison record')"
    create(lam, reader, batch_fn(sink, reader, body).replace("import json,", "import base64, json,"),
           Role=upstream.roles["sender"], Timeout=10)
    create(lam, mute, batch_fn(sink, mute), Role=upstream.roles["mute"], Timeout=10)
    put(upstream, stream, "poison", "fine")
    ok = lam.create_event_source_mapping(FunctionName=reader, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                                         BatchSize=1, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": dest_arn}})["UUID"]
    bad = lam.create_event_source_mapping(FunctionName=mute, EventSourceArn=arn, StartingPosition="TRIM_HORIZON")["UUID"]
    try:
        wait_for(lambda: any(json.loads(m["Body"])["requestContext"]["condition"] == "RetryAttemptsExhausted"
                             for m in upstream.messages(dest_url)), 60, 0.2, "the failure record (sent as the role)")
        wait_for(lambda: any(r["kinesis"]["data"] == "ZmluZQ==" for r in records_of(sink, reader)), 60, 0.2,
                 "the record after the poison one")
        assert all(r["invokeIdentityArn"] == upstream.roles["sender"] for r in records_of(sink, reader))
        problem = wait_for(lambda: (lambda r: r if r.startswith("PROBLEM") else None)(
            lam.get_event_source_mapping(UUID=bad).get("LastProcessingResult") or ""), 60, 0.2, "the mapping's problem")
        assert problem.startswith("PROBLEM: Unable to read from the event source: "), problem
        assert "not authorized to perform: kinesis:" in problem, problem
        assert f"assumed-role/{upstream.roles['mute'].rsplit('/', 1)[1]}/{mute}" in problem, problem
        assert records_of(sink, mute) == []
    finally:
        for uuid in (ok, bad):
            lam.delete_event_source_mapping(UUID=uuid)


def test_a_schedules_dead_letters_are_sent_as_its_execution_role(upstream):
    """EventBridge Scheduler sends a target's undeliverable event to its DLQ with the schedule's
    RoleArn (it needs sqs:SendMessage): a role without it gets nothing there, although Lamb could."""
    scheduler = upstream.server.client("scheduler")
    missing = f"arn:aws:lambda:{REGION}:{upstream.server.account_id}:function:{unique('gone')}"
    queues, names = {}, {}
    for role in ("sender", "mute"):
        url, arn = upstream.queue(unique(f"sdlq-{role}"))
        queues[role], names[role] = url, unique(f"s-{role}")
        scheduler.create_schedule(
            Name=names[role], ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": missing, "RoleArn": upstream.roles[role], "DeadLetterConfig": {"Arn": arn},
                    "RetryPolicy": {"MaximumRetryAttempts": 0}})
    letters: list = []

    def two() -> bool:
        letters.extend(upstream.messages(queues["sender"]))  # received: hidden for the queue's 30 s
        return len(letters) >= 2

    wait_for(two, 90, 0.2, "two dead letters sent as the allowed role")
    assert upstream.messages(queues["mute"]) == []  # both fired as often; the mute role's never arrive
    # Why, as Lamb logs it: SQS refused the schedule's role session (named after the schedule).
    session = f"assumed-role/{upstream.roles['mute'].rsplit('/', 1)[1]}/{names['mute']}"
    wait_for(lambda: any(session in line and "sqs:SendMessage" in line
                         for line in upstream.server.log_path.read_text(errors="replace").splitlines()), 30, 0.2,
             "the refusal of the mute role's dead letter in Lamb's log")


def test_an_mq_mapping_reads_its_broker_secret_as_the_functions_role(upstream, sink):
    """Amazon MQ: Lambda reads the BASIC_AUTH secret (secretsmanager:GetSecretValue) with the
    function's role; a role without it fails there. (The broker is found through LAMB_MQ_ENDPOINTS:
    moto's signature check refuses its own MQ REST paths once enforcement is on.)"""
    lam = upstream.server.client()
    secret = upstream.client("secretsmanager").create_secret(
        Name=unique("mq-secret"), SecretString=json.dumps({"username": "lamb", "password": "pw"}))["ARN"]
    mute = unique("mqmute")
    create(lam, mute, batch_fn(sink, mute), Role=upstream.roles["mute"], Timeout=10)
    uuid = lam.create_event_source_mapping(FunctionName=mute, EventSourceArn=BROKER, Queues=["q"],
                                           SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": secret}])["UUID"]
    try:
        problem = wait_for(lambda: (lambda r: r if r.startswith("PROBLEM") else None)(
            lam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult") or ""), 60, 0.2, "the mapping's problem")
        assert "not authorized to perform: secretsmanager:GetSecretValue" in problem, problem
        assert f"assumed-role/{upstream.roles['mute'].rsplit('/', 1)[1]}/{mute}" in problem, problem
    finally:
        lam.delete_event_source_mapping(UUID=uuid)


def test_create_event_source_mapping_checks_the_source_as_the_functions_role(upstream, sink):
    """AWS refuses a mapping whose function's role cannot reach the source, with its texts (400)."""
    lam = upstream.server.client()
    _, queue_arn = upstream.queue(unique("noread"))
    _, stream_arn = upstream.kinesis()
    fn = unique("norole")
    create(lam, fn, batch_fn(sink, fn), Role=upstream.roles["none"], Timeout=10)
    refused(lam, "InvalidParameterValueException", 400,
            "The function execution role does not have permissions to call ReceiveMessage on SQS",
            lam.create_event_source_mapping, FunctionName=fn, EventSourceArn=queue_arn)
    refused(lam, "InvalidParameterValueException", 400,
            f"Cannot access stream {stream_arn}. Please ensure the role can perform the GetRecords, GetShardIterator, "
            "DescribeStream, ListShards, and ListStreams Actions on your stream in IAM.",
            lam.create_event_source_mapping, FunctionName=fn, EventSourceArn=stream_arn, StartingPosition="LATEST")
    _, table_stream = ddb_table(upstream)
    refused(lam, "InvalidParameterValueException", 400,
            f"Cannot access stream {table_stream}. Please ensure the role can perform the GetRecords, GetShardIterator, "
            "DescribeStream, and ListStreams Actions on your stream in IAM.",
            lam.create_event_source_mapping, FunctionName=fn, EventSourceArn=table_stream, StartingPosition="LATEST")
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []
