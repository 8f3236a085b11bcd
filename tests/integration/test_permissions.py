"""Resource-based policies of functions, versions and aliases with boto3 and the AWS CLI
(issue 14). Expected answers are AWS's, recorded in LocalStack's AWS-validated
``test_lambda_api.snapshot.json`` (``TestLambdaPermissions``)."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.exceptions import ClientError

from .awscli import aws, aws_json, needs_cli
from .conftest import create, unique

CODE = "def handler(event, context):\n    return event\n"
S3 = "arn:aws:s3:::test-bucket"
HAS_RESOURCE_POLICY_OPS = "PutResourcePolicy" in botocore.session.get_session().get_service_model("lambda").operation_names


def err(e: pytest.ExceptionInfo) -> tuple[str, str, int]:
    r = e.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def add(lam, name, sid, principal="s3.amazonaws.com", **kw):
    return lam.add_permission(FunctionName=name, StatementId=sid, Action=kw.pop("Action", "lambda:InvokeFunction"),
                              Principal=principal, **kw)


def policy(lam, name, **kw) -> tuple[dict, str]:
    out = lam.get_policy(FunctionName=name, **kw)
    return json.loads(out["Policy"]), out["RevisionId"]


@pytest.fixture
def fn(lam):
    name = unique("perm")
    create(lam, name, CODE)
    return name


def test_add_get_remove(lam, lamb_server, fn):
    arn = lamb_server.arn(fn)
    out = add(lam, fn, "s3", SourceArn=S3)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(out["Statement"]) == {
        "Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": arn, "Condition": {"ArnLike": {"AWS:SourceArn": S3}},
    }
    add(lam, fn, "sqs", "sqs.amazonaws.com")
    doc, rev = policy(lam, fn)
    assert list(doc) == ["Version", "Id", "Statement"]
    assert doc["Version"] == "2012-10-17" and doc["Id"] == "default"
    assert [s["Sid"] for s in doc["Statement"]] == ["s3", "sqs"]
    raw = lam.get_policy(FunctionName=fn)["Policy"]
    assert raw.startswith('{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3"')  # compact, AWS's order

    with pytest.raises(ClientError) as e:
        add(lam, fn, "s3")
    assert err(e) == ("ResourceConflictException", "The statement id (s3) provided already exists. Please provide a "
                      "new statement id, or remove the existing statement.", 409)
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=fn, StatementId="non-existent")
    assert err(e) == ("ResourceNotFoundException", "Statement non-existent is not found in resource policy.", 404)
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=fn, StatementId="sqs", RevisionId="wrong")
    assert err(e)[0] == "PreconditionFailedException"
    lam.remove_permission(FunctionName=fn, StatementId="sqs", RevisionId=rev)
    doc, _ = policy(lam, fn)
    assert [s["Sid"] for s in doc["Statement"]] == ["s3"]
    lam.remove_permission(FunctionName=fn, StatementId="s3")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=fn)
    assert err(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=fn, StatementId="s3")
    assert err(e) == ("ResourceNotFoundException", "No policy is associated with the given resource.", 404)


def test_statement_fields(lam, lamb_server, fn):
    arn = lamb_server.arn(fn)
    acct = "111111111111"

    def st(**kw):
        return json.loads(add(lam, fn, unique("sid"), **kw)["Statement"])

    assert st(principal="*", SourceAccount=acct)["Principal"] == "*"
    s = st(principal="lambda.amazonaws.com", SourceAccount=acct)
    assert s["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert s["Condition"] == {"StringEquals": {"AWS:SourceAccount": acct}}
    assert st(principal=acct)["Principal"] == {"AWS": f"arn:aws:iam::{acct}:root"}
    user = f"arn:aws:iam::{acct}:user/alice"
    assert st(principal=user)["Principal"] == {"AWS": user}
    s = st(principal="*", Action="lambda:InvokeFunctionUrl", SourceArn=S3, SourceAccount=acct,
           PrincipalOrgID="o-1234567890", FunctionUrlAuthType="NONE")
    assert json.dumps(s["Condition"]) == json.dumps({
        "StringEquals": {"AWS:SourceAccount": acct, "lambda:FunctionUrlAuthType": "NONE",
                         "aws:PrincipalOrgID": "o-1234567890"},
        "ArnLike": {"AWS:SourceArn": S3}})
    assert s["Resource"] == arn
    s = st(principal="*", EventSourceToken="amzn1.ask.skill.xxxxxxxxx-xxxx")
    assert s["Condition"] == {"StringEquals": {"lambda:EventSourceToken": "amzn1.ask.skill.xxxxxxxxx-xxxx"}}
    s = st(principal="*", InvokedViaFunctionUrl=True)
    assert s["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
    with pytest.raises(ClientError) as e:
        st(principal="invalid.nonaws.com", SourceAccount=acct)
    assert err(e) == ("InvalidParameterValueException",
                      "The provided principal was invalid. Please check the principal and try again.", 400)


def test_errors(lam, lamb_server, fn):
    with pytest.raises(ClientError) as e:
        add(lam, f"{fn}:$LATEST", "s3", Qualifier="$LATEST")
    assert err(e) == ("InvalidParameterValueException", "We currently do not support adding policies for $LATEST.", 400)
    with pytest.raises(ClientError) as e:
        add(lam, f"{fn}:alias-not-42", "s3", Qualifier="42")
    assert err(e) == ("InvalidParameterValueException",
                      "The derived qualifier from the function name does not match the specified qualifier.", 400)
    with pytest.raises(ClientError) as e:
        add(lam, fn, "example.com")
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        add(lam, "doesnotexist", "s3")
    assert err(e) == ("ResourceNotFoundException", f"Function not found: {lamb_server.arn('doesnotexist')}", 404)
    with pytest.raises(ClientError) as e:
        add(lam, f"{fn}:alias-doesnotexist", "s3")
    assert err(e) == ("ResourceNotFoundException", f"Cannot find alias arn: {lamb_server.arn(fn, 'alias-doesnotexist')}", 404)
    with pytest.raises(ClientError) as e:
        add(lam, fn, "s3", Qualifier="42")
    assert err(e) == ("ResourceNotFoundException", f"Function not found: {lamb_server.arn(fn, '42')}", 404)
    with pytest.raises(ClientError) as e:
        add(lam, fn, "s3", Qualifier="valid-with-$-but-doesnotexist")
    assert err(e) == ("ResourceNotFoundException",
                      f"Function not found: {lamb_server.arn(fn, 'valid-with-$-but-doesnotexist')}", 404)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName="doesnotexist")
    assert err(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=fn, Qualifier="77")
    assert err(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName="doesnotexist", StatementId="s3")
    assert err(e) == ("ResourceNotFoundException", f"No policy found for: {lamb_server.arn('doesnotexist')}", 404)
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=fn, StatementId="s3", Qualifier="alias-doesnotexist")
    assert err(e) == ("ResourceNotFoundException", f"Cannot find alias arn: {lamb_server.arn(fn, 'alias-doesnotexist')}", 404)


WARM = "import uuid\nENV = uuid.uuid4().hex\n\ndef handler(event, context):\n    return ENV\n"


def test_a_policy_change_is_a_new_revision_of_the_version_not_a_new_environment(lam):
    """AWS: the policy's RevisionId is the qualified configuration's, and changes with it."""
    name = unique("permrev")
    create(lam, name, WARM)
    env = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    before = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    add(lam, name, "s3", SourceArn=S3)
    _, rev = policy(lam, name)
    assert rev != before and rev == lam.get_function_configuration(FunctionName=name)["RevisionId"]
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion=lam.publish_version(FunctionName=name)["Version"])
    add(lam, f"{name}:live", "s3", Qualifier="live", SourceArn=S3)
    _, alias_rev = policy(lam, name, Qualifier="live")
    assert alias_rev != alias["RevisionId"] and alias_rev == lam.get_alias(FunctionName=name, Name="live")["RevisionId"]
    lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=rev)
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] not in (before, rev)
    # The warm environment of $LATEST served before the policy changes and still serves after them.
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == env


def test_versions_and_aliases(lam, lamb_server, fn):
    add(lam, fn, "s3", SourceArn=S3)
    v = lam.publish_version(FunctionName=fn)["Version"]
    assert lam.publish_version(FunctionName=fn)["Version"] == v  # a policy is not a change of $LATEST
    policy(lam, fn)
    with pytest.raises(ClientError) as e:  # a new version starts without a policy
        lam.get_policy(FunctionName=fn, Qualifier=v)
    assert err(e)[0] == "ResourceNotFoundException"
    add(lam, f"{fn}:{v}", "s3", Qualifier=v, SourceArn=S3)
    doc, _ = policy(lam, fn, Qualifier=v)
    assert doc["Statement"][0]["Resource"] == lamb_server.arn(fn, v)

    alias = lam.create_alias(FunctionName=fn, Name="permission-alias", FunctionVersion=v)
    with pytest.raises(ClientError) as e:
        add(lam, fn, "s3", Qualifier="permission-alias", RevisionId="wrong")
    assert err(e) == ("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
                      "Call the GetPolicy API to retrieve the latest Revision Id", 412)
    add(lam, f"{fn}:permission-alias", "s3", Qualifier="permission-alias", RevisionId=alias["RevisionId"])
    doc, _ = policy(lam, fn, Qualifier="permission-alias")
    assert doc["Statement"][0]["Resource"] == lamb_server.arn(fn, "permission-alias")
    _, rev = policy(lam, fn)
    with pytest.raises(ClientError) as e:
        add(lam, fn, "s3_2", RevisionId="wrong")
    assert err(e) == ("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
                      "Call the GetFunction/GetAlias API to retrieve the latest Revision Id", 412)
    add(lam, fn, "s3_2", RevisionId=rev)
    doc, _ = policy(lam, fn)
    assert [s["Sid"] for s in doc["Statement"]] == ["s3", "s3_2"]
    # An alias deleted and made again has no policy.
    lam.delete_alias(FunctionName=fn, Name="permission-alias")
    lam.create_alias(FunctionName=fn, Name="permission-alias", FunctionVersion=v)
    with pytest.raises(ClientError):
        lam.get_policy(FunctionName=fn, Qualifier="permission-alias")


def test_policy_size_limit(lam, fn):
    for i in range(200):
        try:
            add(lam, fn, f"sid{i}", SourceArn=f"arn:aws:s3:::bucket-with-a-fairly-long-name-{i:04d}-" + "x" * 40)
        except ClientError as e:
            code, message, status = err(pytest.ExceptionInfo.from_exc_info((type(e), e, e.__traceback__)))
            assert (code, status) == ("PolicyLengthExceededException", 400)
            assert message.startswith("The final policy size (") and message.endswith("is bigger than the limit (20480).")
            break
    else:
        raise AssertionError("the policy never reached 20 KB")
    assert len(lam.get_policy(FunctionName=fn)["Policy"]) <= 20480


def test_survives_restart(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = unique("perm")
    create(lam, name, CODE)
    add(lam, name, "s3", SourceArn=S3)
    before = lam.get_policy(FunctionName=name)
    server.kill9()
    server.restart()
    after = server.client().get_policy(FunctionName=name)
    assert (after["Policy"], after["RevisionId"]) == (before["Policy"], before["RevisionId"])


@needs_cli
def test_cli(lamb_server, fn):
    out = aws_json(lamb_server, "add-permission", "--function-name", fn, "--statement-id", "url",
                   "--action", "lambda:InvokeFunctionUrl", "--principal", "*", "--function-url-auth-type", "NONE")
    assert json.loads(out["Statement"])["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    out = aws_json(lamb_server, "add-permission", "--function-name", fn, "--statement-id", "invoke",
                   "--action", "lambda:InvokeFunction", "--principal", "*", "--invoked-via-function-url")
    assert json.loads(out["Statement"])["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
    doc = json.loads(aws_json(lamb_server, "get-policy", "--function-name", fn)["Policy"])
    assert [s["Sid"] for s in doc["Statement"]] == ["url", "invoke"]
    assert aws(lamb_server, "remove-permission", "--function-name", fn, "--statement-id", "url").returncode == 0
    doc = json.loads(aws_json(lamb_server, "get-policy", "--function-name", fn)["Policy"])
    assert [s["Sid"] for s in doc["Statement"]] == ["invoke"]
    proc = aws(lamb_server, "get-policy", "--function-name", fn, "--qualifier", "9", check=False)
    assert proc.returncode != 0 and "ResourceNotFoundException" in proc.stderr


def test_resource_policy_operations(lam, lamb_server, fn):
    assert HAS_RESOURCE_POLICY_OPS, "this botocore has no PutResourcePolicy (botocore >= 1.44 has)"
    arn = lamb_server.arn(fn)
    add(lam, fn, "s3")
    document = {"Version": "2012-10-17", "Statement": [
        {"Sid": "only", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": "lambda:InvokeFunction", "Resource": arn}]}
    out = lam.put_resource_policy(ResourceArn=arn, Policy=json.dumps(document))
    assert json.loads(out["Policy"]) == document
    got = lam.get_resource_policy(ResourceArn=arn)
    assert got["RevisionId"] == out["RevisionId"]
    assert json.loads(lam.get_policy(FunctionName=fn)["Policy"]) == document  # replaced what AddPermission added
    with pytest.raises(ClientError) as e:
        lam.put_resource_policy(ResourceArn=arn + ":$LATEST", Policy=json.dumps(document))
    assert err(e) == ("InvalidParameterValueException", "We currently do not support adding policies for $LATEST.", 400)
    with pytest.raises(ClientError) as e:
        lam.put_resource_policy(ResourceArn=arn, Policy=json.dumps(document), RevisionId="0" * 8 + "-0000-0000-0000-" + "0" * 12)
    assert err(e)[0] == "PreconditionFailedException"
    with pytest.raises(ClientError) as e:
        lam.put_resource_policy(ResourceArn=arn, Policy="{not json")
    assert err(e)[0] == "InvalidParameterValueException"
    big = {"Version": "2012-10-17", "Statement": [dict(document["Statement"][0], Sid=f"s{i}") for i in range(150)]}
    with pytest.raises(ClientError) as e:
        lam.put_resource_policy(ResourceArn=arn, Policy=json.dumps(big))
    assert err(e)[0] in ("PolicyLengthExceededException", "ValidationException")
    lam.delete_resource_policy(ResourceArn=arn, RevisionId=got["RevisionId"])
    with pytest.raises(ClientError) as e:
        lam.get_resource_policy(ResourceArn=arn)
    assert err(e) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    with pytest.raises(ClientError) as e:
        lam.delete_resource_policy(ResourceArn=arn)
    assert err(e) == ("ResourceNotFoundException", "No policy is associated with the given resource.", 404)
