"""``lamb deploy`` updating other services' resources in place (DynamoDB tables, SNS topics, IAM
roles on moto), and refusing what it cannot change in place before applying anything."""

from __future__ import annotations

import json

from .async_support import moto  # noqa: F401  (fixture)
from .conftest import unique
from .deploy_support import deploy_env, lamb_cmd, write

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: {table}
      KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
      AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}{extra_attr}]
      {billing}
      {stream}
      {gsi}
      TimeToLiveSpecification: {{AttributeName: expires, Enabled: {ttl}}}
      Tags: [{{Key: team, Value: {team}}}]
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{TopicName: {topic}, DisplayName: {display}, Tags: [{{Key: team, Value: {team}}}]}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: {role}
      Description: {display}
      AssumeRolePolicyDocument:
        Statement: [{{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}]
      ManagedPolicyArns: {managed}
      Policies:
        - PolicyName: read
          PolicyDocument: {{Version: "2012-10-17", Statement: [{{Effect: Allow, Action: "{action}", Resource: "*"}}]}}
Outputs:
  TableName: {{Value: !Ref Table}}
"""


def _template(**kw) -> str:
    base = dict(extra_attr="", billing="BillingMode: PAY_PER_REQUEST", stream="", gsi="", ttl="false", team="a",
                display="first", managed="[]", action="s3:GetObject")
    base.update(kw)
    return TEMPLATE.format(**base)


def test_tables_topics_and_roles_update_in_place(lamb_server, moto, tmp_path):
    names = dict(table=unique("tbl"), topic=unique("topic"), role=unique("role"))
    # Roles go to Lamb's own IAM unless AWS_ENDPOINT_URL_IAM names another: here moto's, as the table and topic.
    env = deploy_env(lamb_server, tmp_path / "cache", AWS_ENDPOINT_URL=moto.url,
                     AWS_ENDPOINT_URL_LAMBDA=lamb_server.url, AWS_ENDPOINT_URL_IAM=moto.url)
    stack = unique("svc")
    path = tmp_path / "t.yaml"
    write(tmp_path, {"t.yaml": _template(**names)})
    lamb_cmd("deploy", str(path), "--stack-name", stack, env=env)
    ddb, sns, iam = moto.client("dynamodb"), moto.client("sns"), moto.client("iam")
    topic_arn = sns.create_topic(Name=names["topic"])["TopicArn"]  # idempotent: the deployed topic's ARN
    policy_arn = iam.create_policy(PolicyName=unique("ro"), PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}))["Policy"]["Arn"]
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["DisplayName"] == "first"

    write(tmp_path, {"t.yaml": _template(
        **names, billing="ProvisionedThroughput: {ReadCapacityUnits: 3, WriteCapacityUnits: 2}",
        stream="StreamSpecification: {StreamViewType: NEW_IMAGE}", ttl="true", team="b", display="second",
        managed=f"[{policy_arn}]", action="s3:ListBucket")})
    out = lamb_cmd("deploy", str(path), "--stack-name", stack, env=env).stdout
    assert "UPDATE_COMPLETE             AWS::DynamoDB::Table" in out and "AWS::IAM::Role" in out
    table = ddb.describe_table(TableName=names["table"])["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert ddb.describe_time_to_live(TableName=names["table"])["TimeToLiveDescription"]["TimeToLiveStatus"] in (
        "ENABLED", "ENABLING")
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == [{"Key": "team", "Value": "b"}]
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["DisplayName"] == "second"
    assert sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"] == [{"Key": "team", "Value": "b"}]
    role = iam.get_role(RoleName=names["role"])["Role"]
    assert role["Description"] == "second"
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=names["role"])["AttachedPolicies"]] == [policy_arn]
    doc = iam.get_role_policy(RoleName=names["role"], PolicyName="read")["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    assert doc["Statement"][0]["Action"] == "s3:ListBucket"

    # a new global secondary index: refused in the change set, and the deploy changes nothing
    gsi = _template(**names, extra_attr=", {AttributeName: sk, AttributeType: S}", gsi=(
        "GlobalSecondaryIndexes: [{IndexName: by-sk, KeySchema: [{AttributeName: sk, KeyType: HASH}], "
        "Projection: {ProjectionType: ALL}}]"), display="third")
    write(tmp_path, {"t.yaml": gsi})
    dry = lamb_cmd("deploy", str(path), "--stack-name", stack, "--dry-run", env=env).stdout
    refused = [line for line in dry.splitlines() if line.startswith("x Refused")]
    assert len(refused) == 1 and "Table" in refused[0] and "GlobalSecondaryIndexes" in refused[0], dry
    result = lamb_cmd("deploy", str(path), "--stack-name", stack, env=env, check=False)
    assert result.returncode == 1 and "nothing was changed" in result.stderr
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["DisplayName"] == "second"
    lamb_cmd("deploy", "--delete", stack, env=env)
    assert names["table"] not in ddb.list_tables()["TableNames"]
