"""lamb.services.role_clients: clients per (service, region, role, session), rebuilt when the
role's credentials change; Lamb's own without a role or without role credentials."""

from __future__ import annotations

import threading

from lamb.services.role_clients import RoleClients
from lamb.services.upstream_sts import UpstreamRoles

ROLE = "arn:aws:iam::123456789012:role/exec"
OTHER = "arn:aws:iam::123456789012:role/other"


class FakeSts:
    """An STS whose AssumeRole hands out a new key each time (as any STS does)."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def assume_role(self, RoleArn, RoleSessionName, DurationSeconds):
        with self.lock:
            self.calls.append((RoleArn, RoleSessionName))
            n = len(self.calls)
        return {"Credentials": {"AccessKeyId": f"ASIA{n:016d}", "SecretAccessKey": f"secret{n}",
                                "SessionToken": f"token{n}"}}


def key_of(client) -> str:
    return client._request_signer._credentials.access_key


def test_a_role_client_uses_the_roles_credentials_and_is_kept_per_key():
    sts = FakeSts()
    clients = RoleClients(UpstreamRoles(lambda: sts, 900))
    a = clients.client("sqs", "us-east-1", ROLE, "fn")
    assert key_of(a) == "ASIA0000000000000001"
    assert clients.client("sqs", "us-east-1", ROLE, "fn") is a  # cached: no second AssumeRole
    assert sts.calls == [(ROLE, "fn")]
    # Another service shares the role's session; another role or function has its own.
    assert key_of(clients.client("sns", "us-east-1", ROLE, "fn")) == "ASIA0000000000000001"
    assert key_of(clients.client("sqs", "us-east-1", OTHER, "fn")) == "ASIA0000000000000002"
    assert key_of(clients.client("sqs", "us-east-1", ROLE, "g")) == "ASIA0000000000000003"
    assert clients.client("sqs", "eu-west-1", ROLE, "fn").meta.region_name == "eu-west-1"


def test_a_client_is_rebuilt_before_its_session_expires():
    sts = FakeSts()
    now = [1000.0]
    clients = RoleClients(UpstreamRoles(lambda: sts, 900, clock=lambda: now[0]))
    first = clients.client("sqs", "us-east-1", ROLE, "fn")
    now[0] += 400  # less than half the lifetime: the same session
    assert clients.client("sqs", "us-east-1", ROLE, "fn") is first
    now[0] += 100  # past half of it: new credentials, a new client, the old one forgotten
    second = clients.client("sqs", "us-east-1", ROLE, "fn")
    assert second is not first and key_of(second) == "ASIA0000000000000002"
    assert len(clients._roles) == 1


def test_without_a_role_or_without_role_credentials_lamb_uses_its_own_configuration():
    sts = FakeSts()
    clients = RoleClients(UpstreamRoles(lambda: sts, 900))
    own = clients.client("sqs", "us-east-1", None, "fn")
    assert own is clients.own("sqs", "us-east-1") and own is clients.client("sqs", "us-east-1", "", "fn")
    passthrough = RoleClients(None)  # no upstream STS, or LAMB_FUNCTION_CREDENTIALS=passthrough
    assert passthrough.client("sqs", "us-east-1", ROLE, "fn") is passthrough.own("sqs", "us-east-1")
    assert sts.calls == []


def test_a_role_that_cannot_be_assumed_fails_the_call():
    class Refusing:
        def assume_role(self, **kw):
            raise PermissionError("AccessDenied: not authorized to perform sts:AssumeRole")

    clients = RoleClients(UpstreamRoles(lambda: Refusing(), 900))
    try:
        clients.client("sqs", "us-east-1", ROLE, "fn")
    except PermissionError as e:
        assert "sts:AssumeRole" in str(e)
    else:
        raise AssertionError("a role that cannot be assumed must not fall back to Lamb's credentials")


def test_bound_resolves_the_current_role_when_called():
    sts = FakeSts()
    clients = RoleClients(UpstreamRoles(lambda: sts, 900))
    role = [ROLE]
    bound = clients.bound("kinesis", "us-east-1", lambda: role[0], "fn")
    assert sts.calls == []  # nothing is resolved until a call
    assert key_of(bound.current()) == "ASIA0000000000000001"
    role[0] = OTHER  # the function's role changed: the next call acts as the new one
    assert key_of(bound.current()) == "ASIA0000000000000002"
    method = bound.describe_stream_summary
    assert callable(method) and len(sts.calls) == 2  # the attribute alone makes no call
    assert bound.exceptions.ResourceNotFoundException is clients.own("kinesis", "us-east-1").exceptions.ResourceNotFoundException
    assert bound.exceptions.ResourceNotFoundException is bound.current().exceptions.ResourceNotFoundException


def test_refused_tells_a_services_refusal_of_the_caller():
    from botocore.exceptions import ClientError

    from lamb.services.role_clients import refused

    def error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")

    assert refused(error("AccessDenied", 403)) and refused(error("AccessDeniedException", 400))
    assert refused(error("403", 403))  # a body the client could not parse: the status says it
    assert not refused(error("ResourceNotFoundException", 400)) and not refused(ValueError("x"))
    clients = RoleClients(UpstreamRoles(lambda: FakeSts(), 900))
    assert clients.acts_as(ROLE) and not clients.acts_as(None) and not RoleClients(None).acts_as(ROLE)


def test_the_stream_refusal_names_the_actions_aws_names():
    from lamb.sources.stream_kind import role_refused

    kinesis = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    ddb = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
    assert role_refused(kinesis) == (f"Cannot access stream {kinesis}. Please ensure the role can perform the GetRecords, "
                                     "GetShardIterator, DescribeStream, ListShards, and ListStreams Actions on your "
                                     "stream in IAM.")
    assert "GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions" in role_refused(ddb)
