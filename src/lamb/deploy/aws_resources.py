"""Resources of other services (SQS, SNS, DynamoDB, S3, IAM roles), created with boto3's
standard configuration on whatever endpoint the user configured (AWS, moto, LocalStack).

Each handler names its ``service``. When no endpoint is configured for it (engine.ApplyEnv:
``service_client`` is None) the resource is skipped and listed, and ``synthesize`` gives the
values references to it resolve to (names and ARNs in AWS's formats), so a function whose
environment names a queue still deploys. IAM roles are the exception: Lamb serves IAM itself
and checks a function's role (it must exist and trust Lambda, as CreateFunction on AWS does),
so they are created in Lamb's IAM unless ``AWS_ENDPOINT_URL_IAM`` names another; AWS managed policies
(``arn:aws:iam::aws:policy/...``) that Lamb's IAM does not hold are left unattached.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html
"""

from __future__ import annotations

import json
import os
from typing import Any

from .registry import Applied, Env, Registry, physical_name

AWS_MANAGED = "arn:aws:iam::aws:policy/"  # AWS's own managed policies, which Lamb's IAM may not hold


class _Service:
    service = ""
    replace_on: frozenset[str] = frozenset()
    name_key = ""
    name_limit = 64
    lower = False

    def name(self, env: Env, logical: str, props: dict) -> str:
        return props.get(self.name_key) or physical_name(env.stack, logical, self.name_limit, self.lower)

    def client(self, env: Env) -> Any:
        client = env.service_client(self.service)
        assert client is not None, "the engine skips resources of services without an endpoint"
        return client

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        raise NotImplementedError(f"updating this resource in place is not supported by lamb deploy; "
                                  f"change its {self.name_key or 'name'} to replace it")


class Queue(_Service):
    service, name_key, name_limit = "sqs", "QueueName", 80
    replace_on = frozenset({"QueueName", "FifoQueue"})

    def _attributes(self, props: dict) -> dict:
        out = {}
        for k, v in props.items():
            if k in ("QueueName", "Tags"):
                continue
            out[k] = json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v)
        return out

    def _applied(self, env: Env, name: str, url: str) -> Applied:
        arn = f"arn:aws:sqs:{env.region}:{env.account}:{name}"
        return Applied(url, {"Ref": url, "QueueUrl": url, "QueueName": name, "Arn": arn})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name = name[:75] + ".fifo"
        sqs = self.client(env)
        url = sqs.create_queue(QueueName=name, Attributes=self._attributes(props))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return Applied(url, {"Ref": url, "QueueUrl": url, "QueueName": name, "Arn": arn})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        self.client(env).set_queue_attributes(QueueUrl=physical, Attributes=self._attributes(new))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        self.client(env).delete_queue(QueueUrl=physical)

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("QueueName") or f"{env.stack}-{logical}"
        return self._applied(env, name, f"https://sqs.{env.region}.amazonaws.com/{env.account}/{name}")


class Topic(_Service):
    service, name_key, name_limit = "sns", "TopicName", 256
    replace_on = frozenset({"TopicName", "FifoTopic"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        arn = self.client(env).create_topic(Name=name)["TopicArn"]
        return Applied(arn, {"Ref": arn, "TopicArn": arn, "TopicName": name})

    def delete(self, env: Env, physical: str, props: dict) -> None:
        self.client(env).delete_topic(TopicArn=physical)

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("TopicName") or f"{env.stack}-{logical}"
        arn = f"arn:aws:sns:{env.region}:{env.account}:{name}"
        return Applied(arn, {"Ref": arn, "TopicArn": arn, "TopicName": name})


class Table(_Service):
    service, name_key, name_limit = "dynamodb", "TableName", 255
    replace_on = frozenset({"TableName", "KeySchema"})
    KEYS = {"KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput", "StreamSpecification",
            "GlobalSecondaryIndexes", "LocalSecondaryIndexes"}

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        params = {k: v for k, v in props.items() if k in self.KEYS}
        if "ProvisionedThroughput" not in params:
            params.setdefault("BillingMode", "PAY_PER_REQUEST")
        ddb = self.client(env)
        desc = ddb.create_table(TableName=name, **params)["TableDescription"]
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        return Applied(name, {"Ref": name, "Arn": desc["TableArn"], "StreamArn": desc.get("LatestStreamArn", "")})

    def delete(self, env: Env, physical: str, props: dict) -> None:
        self.client(env).delete_table(TableName=physical)

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("TableName") or f"{env.stack}-{logical}"
        return Applied(name, {"Ref": name, "Arn": f"arn:aws:dynamodb:{env.region}:{env.account}:table/{name}",
                              "StreamArn": ""})


class Bucket(_Service):
    service, name_key, name_limit, lower = "s3", "BucketName", 63, True
    replace_on = frozenset({"BucketName"})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        s3 = self.client(env)
        if env.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": env.region})
        return self.synthesize(env, logical, dict(props, BucketName=name))

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        return Applied(physical, attrs, note="bucket settings other than its name are not applied")

    def delete(self, env: Env, physical: str, props: dict) -> None:
        self.client(env).delete_bucket(Bucket=physical)

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("BucketName") or f"{env.stack}-{logical}".lower()
        return Applied(name, {"Ref": name, "Arn": f"arn:aws:s3:::{name}",
                              "DomainName": f"{name}.s3.amazonaws.com"})


class Role(_Service):
    service, name_key, name_limit = "iam", "RoleName", 64
    served_by_lamb = True  # never skipped: Lamb's own IAM unless AWS_ENDPOINT_URL_IAM names another
    replace_on = frozenset({"RoleName", "Path"})

    def client(self, env: Env) -> Any:
        """Lamb's own IAM (the identity authority that checks and assumes functions' roles), unless
        the user names another IAM for roles with ``AWS_ENDPOINT_URL_IAM``."""
        if os.environ.get("AWS_ENDPOINT_URL_IAM"):
            return env.service_client(self.service) or env.lamb_client(self.service)
        return env.lamb_client(self.service)

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        iam = self.client(env)
        role = iam.create_role(RoleName=name, Path=props.get("Path", "/"),
                               AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))["Role"]
        for arn in props.get("ManagedPolicyArns", []):
            try:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            except iam.exceptions.NoSuchEntityException:
                if not arn.startswith(AWS_MANAGED):
                    raise
        for policy in props.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=json.dumps(policy["PolicyDocument"]))
        return Applied(name, {"Ref": name, "Arn": role["Arn"], "RoleId": role["RoleId"]})

    def delete(self, env: Env, physical: str, props: dict) -> None:
        iam = self.client(env)
        for arn in props.get("ManagedPolicyArns", []):
            try:
                iam.detach_role_policy(RoleName=physical, PolicyArn=arn)
            except iam.exceptions.NoSuchEntityException:
                if not arn.startswith(AWS_MANAGED):
                    raise
        for policy in props.get("Policies", []):
            iam.delete_role_policy(RoleName=physical, PolicyName=policy["PolicyName"])
        iam.delete_role(RoleName=physical)

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("RoleName") or f"{env.stack}-{logical}"[:64]
        return Applied(name, {"Ref": name, "Arn": f"arn:aws:iam::{env.account}:role/{name}", "RoleId": name})


def register(registry: Registry) -> None:
    registry.add("AWS::SQS::Queue", Queue())
    registry.add("AWS::SNS::Topic", Topic())
    registry.add("AWS::DynamoDB::Table", Table())
    registry.add("AWS::S3::Bucket", Bucket())
    registry.add("AWS::IAM::Role", Role())
