"""Resources of other services (SQS, SNS, DynamoDB, S3, IAM roles), created with boto3's
standard configuration on whatever endpoint the user configured (AWS, moto, LocalStack).

Each handler names its ``service``. When no endpoint is configured for it (engine.ApplyEnv:
``service_client`` is None) the resource is skipped and listed, and ``synthesize`` gives the
values references to it resolve to (names and ARNs in AWS's formats), so a function whose
environment names a queue still deploys. IAM roles are the exception: Lamb serves IAM itself
and checks a function's role (it must exist and trust Lambda, as CreateFunction on AWS does),
so they are created in Lamb's IAM unless ``AWS_ENDPOINT_URL_IAM`` names another. AWS managed policies
(``arn:aws:iam::aws:policy/...``, e.g. AWSLambdaBasicExecutionRole) are attached like any other: Lamb's
IAM holds the common ones (``identity/aws_managed_policies.json``); one it does not know is left
unattached rather than failing the deploy. Queues, topics,
tables and roles are updated in place where the service's API can (a handler's ``update_refusal``
names what it cannot: the change set shows it and the deploy stops before applying anything).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from typing import Any, Callable

from .registry import Applied, Env, Registry, physical_name

AWS_MANAGED = "arn:aws:iam::aws:policy/"  # AWS's own managed policies (Lamb's IAM holds the common ones)


def _tag_list(tags: Any) -> list[dict]:
    """CloudFormation's tags (a list of Key/Value, or a map) as the services' Tag lists."""
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return list(tags or [])


def _retag(old: dict, new: dict, tag: Callable[[dict], None], untag: Callable[[list[str]], None]) -> None:
    before = {t["Key"]: t["Value"] for t in _tag_list(old.get("Tags"))}
    after = {t["Key"]: t["Value"] for t in _tag_list(new.get("Tags"))}
    changed_tags = {k: v for k, v in after.items() if before.get(k) != v}
    # a changed value is removed first too: some servers (moto's DynamoDB) add a second tag of the same key
    gone = sorted(k for k in before if k not in after or k in changed_tags)
    if gone:
        untag(gone)
    if changed_tags:
        tag(changed_tags)


class _Service(ABC):
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

    @abstractmethod
    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        """Apply ``new`` over ``old`` in place (the plan has ruled out replacement and refusals)."""


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
    """AWS::SNS::Topic: attributes set at creation and changed in place (SetTopicAttributes),
    tags, and ``Subscription`` entries subscribed and unsubscribed by (Protocol, Endpoint)."""

    service, name_key, name_limit = "sns", "TopicName", 256
    replace_on = frozenset({"TopicName", "FifoTopic"})
    ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication", "DeliveryStatusLogging",
                  "TracingConfig", "SignatureVersion", "ArchivePolicy", "FifoThroughputScope")

    @staticmethod
    def _value(v: Any) -> str:
        return json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        if props.get("FifoTopic") and not name.endswith(".fifo"):
            name = name[:251] + ".fifo"
        attributes = {k: self._value(props[k]) for k in self.ATTRIBUTES + ("FifoTopic",) if props.get(k) is not None}
        sns = self.client(env)
        extra = {"Tags": _tag_list(props["Tags"])} if props.get("Tags") else {}
        arn = sns.create_topic(Name=name, Attributes=attributes, **extra)["TopicArn"]
        self._subscriptions(sns, arn, [], props.get("Subscription") or [])
        return Applied(arn, {"Ref": arn, "TopicArn": arn, "TopicName": name})

    def _subscriptions(self, sns: Any, arn: str, old: list, new: list) -> None:
        key = lambda s: (s["Protocol"], s["Endpoint"])  # noqa: E731
        gone = {key(s) for s in old} - {key(s) for s in new}
        if gone:
            for sub in sns.list_subscriptions_by_topic(TopicArn=arn).get("Subscriptions", []):
                if (sub["Protocol"], sub["Endpoint"]) in gone and sub["SubscriptionArn"].startswith("arn:"):
                    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        for sub in new:
            if key(sub) not in {key(s) for s in old}:
                sns.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        sns = self.client(env)
        for k in self.ATTRIBUTES:
            if old.get(k) != new.get(k):
                sns.set_topic_attributes(TopicArn=physical, AttributeName=k,
                                         AttributeValue="" if new.get(k) is None else self._value(new[k]))
        self._subscriptions(sns, physical, old.get("Subscription") or [], new.get("Subscription") or [])
        _retag(old, new, lambda tags: sns.tag_resource(ResourceArn=physical, Tags=_tag_list(tags)),
               lambda keys: sns.untag_resource(ResourceArn=physical, TagKeys=keys))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        self.client(env).delete_topic(TopicArn=physical)

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("TopicName") or f"{env.stack}-{logical}"
        arn = f"arn:aws:sns:{env.region}:{env.account}:{name}"
        return Applied(arn, {"Ref": arn, "TopicArn": arn, "TopicName": name})


class Table(_Service):
    """AWS::DynamoDB::Table. In place (UpdateTable, UpdateTimeToLive, tags): billing mode and
    throughput, the stream, deletion protection, TTL, tags. Changing global secondary indexes is
    refused before anything is applied (``update_refusal``); keys and local indexes replace the table."""

    service, name_key, name_limit = "dynamodb", "TableName", 255
    replace_on = frozenset({"TableName", "KeySchema", "LocalSecondaryIndexes"})
    KEYS = {"KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput", "StreamSpecification",
            "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "DeletionProtectionEnabled", "TableClass"}

    def update_refusal(self, old: dict, new: dict) -> str | None:
        for k in ("GlobalSecondaryIndexes", "AttributeDefinitions"):
            if old.get(k) != new.get(k):
                return f"refused: lamb deploy does not change {k} in place; change TableName to replace the table"
        return None

    def _wait(self, ddb: Any, name: str) -> dict:
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        return ddb.describe_table(TableName=name)["Table"]

    def _applied(self, name: str, desc: dict) -> Applied:
        return Applied(name, {"Ref": name, "Arn": desc["TableArn"], "StreamArn": desc.get("LatestStreamArn", "")})

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        params = {k: v for k, v in props.items() if k in self.KEYS}
        if "ProvisionedThroughput" not in params:
            params.setdefault("BillingMode", "PAY_PER_REQUEST")
        if props.get("Tags"):
            params["Tags"] = _tag_list(props["Tags"])
        ddb = self.client(env)
        ddb.create_table(TableName=name, **params)
        desc = self._wait(ddb, name)
        if (props.get("TimeToLiveSpecification") or {}).get("Enabled"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        return self._applied(name, desc)

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        # the engine's plan stops the deploy before any change when update_refusal objects
        ddb = self.client(env)
        params: dict = {}
        mode = new.get("BillingMode") or ("PROVISIONED" if new.get("ProvisionedThroughput") else "PAY_PER_REQUEST")
        if mode != (old.get("BillingMode") or ("PROVISIONED" if old.get("ProvisionedThroughput") else "PAY_PER_REQUEST")):
            params["BillingMode"] = mode
        if new.get("ProvisionedThroughput") and new.get("ProvisionedThroughput") != old.get("ProvisionedThroughput"):
            params["ProvisionedThroughput"] = new["ProvisionedThroughput"]
        if old.get("StreamSpecification") != new.get("StreamSpecification"):
            if old.get("StreamSpecification") and new.get("StreamSpecification"):  # a new view type: off, then on
                ddb.update_table(TableName=physical, StreamSpecification={"StreamEnabled": False})
                self._wait(ddb, physical)
            spec = new.get("StreamSpecification")
            params["StreamSpecification"] = dict(spec, StreamEnabled=True) if spec else {"StreamEnabled": False}
        for k in ("DeletionProtectionEnabled", "TableClass"):
            if old.get(k) != new.get(k) and new.get(k) is not None:
                params[k] = new[k]
        if params:
            ddb.update_table(TableName=physical, **params)
        desc = self._wait(ddb, physical)
        ttl_old, ttl_new = old.get("TimeToLiveSpecification") or {}, new.get("TimeToLiveSpecification") or {}
        if ttl_old != ttl_new and (ttl_old.get("Enabled") or ttl_new.get("Enabled")):
            spec = ttl_new if ttl_new.get("Enabled") else dict(ttl_old, Enabled=False)
            ddb.update_time_to_live(TableName=physical, TimeToLiveSpecification=spec)
        _retag(old, new, lambda tags: ddb.tag_resource(ResourceArn=desc["TableArn"], Tags=_tag_list(tags)),
               lambda keys: ddb.untag_resource(ResourceArn=desc["TableArn"], TagKeys=keys))
        return self._applied(physical, desc)

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
    replace_on = frozenset({"RoleName", "Path", "PermissionsBoundary"})

    def client(self, env: Env) -> Any:
        """Lamb's own IAM (the identity authority that checks and assumes functions' roles), unless
        the user names another IAM for roles with ``AWS_ENDPOINT_URL_IAM``."""
        if os.environ.get("AWS_ENDPOINT_URL_IAM"):
            return env.service_client(self.service) or env.lamb_client(self.service)
        return env.lamb_client(self.service)

    def create(self, env: Env, logical: str, props: dict) -> Applied:
        name = self.name(env, logical, props)
        iam = self.client(env)
        extra = {k: props[k] for k in ("Description", "MaxSessionDuration", "PermissionsBoundary") if k in props}
        if props.get("Tags"):
            extra["Tags"] = _tag_list(props["Tags"])
        role = iam.create_role(RoleName=name, Path=props.get("Path", "/"),
                               AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]), **extra)["Role"]
        try:
            for arn in props.get("ManagedPolicyArns", []):
                self._attach(iam, name, arn)
            for policy in props.get("Policies", []):
                iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                    PolicyDocument=json.dumps(policy["PolicyDocument"]))
        except Exception:
            self._remove(iam, name)  # not half-made: the stack record never names it
            raise
        return Applied(name, {"Ref": name, "Arn": role["Arn"], "RoleId": role["RoleId"]})

    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied:
        """The trust policy, description, session length, managed and inline policies and tags, in place."""
        iam = self.client(env)
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument"):
            iam.update_assume_role_policy(RoleName=physical, PolicyDocument=json.dumps(new["AssumeRolePolicyDocument"]))
        changes = {k: new[k] for k in ("Description", "MaxSessionDuration") if old.get(k) != new.get(k) and k in new}
        if changes:
            iam.update_role(RoleName=physical, **changes)
        before, after = set(old.get("ManagedPolicyArns") or []), set(new.get("ManagedPolicyArns") or [])
        for arn in sorted(before - after):
            iam.detach_role_policy(RoleName=physical, PolicyArn=arn)
        for arn in sorted(after - before):
            self._attach(iam, physical, arn)
        inline_old = {p["PolicyName"]: p["PolicyDocument"] for p in old.get("Policies") or []}
        inline_new = {p["PolicyName"]: p["PolicyDocument"] for p in new.get("Policies") or []}
        for name in sorted(set(inline_old) - set(inline_new)):
            iam.delete_role_policy(RoleName=physical, PolicyName=name)
        for name, doc in inline_new.items():
            if inline_old.get(name) != doc:
                iam.put_role_policy(RoleName=physical, PolicyName=name, PolicyDocument=json.dumps(doc))
        _retag(old, new, lambda tags: iam.tag_role(RoleName=physical, Tags=_tag_list(tags)),
               lambda keys: iam.untag_role(RoleName=physical, TagKeys=keys))
        return Applied(physical, attrs)

    def delete(self, env: Env, physical: str, props: dict) -> None:
        self._remove(self.client(env), physical)

    @staticmethod
    def _attach(iam: Any, name: str, arn: str) -> None:
        """Attach a managed policy; one of AWS's own that this IAM does not know is left out."""
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException:
            if not arn.startswith(AWS_MANAGED):
                raise

    @staticmethod
    def _remove(iam: Any, name: str) -> None:
        """The role with whatever policies it has now (IAM refuses to delete a role that has any)."""
        for p in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", []):
            iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
        for policy in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)

    def synthesize(self, env: Env, logical: str, props: dict) -> Applied:
        name = props.get("RoleName") or f"{env.stack}-{logical}"[:64]
        return Applied(name, {"Ref": name, "Arn": f"arn:aws:iam::{env.account}:role/{name}", "RoleId": name})


def register(registry: Registry) -> None:
    registry.add("AWS::SQS::Queue", Queue())
    registry.add("AWS::SNS::Topic", Topic())
    registry.add("AWS::DynamoDB::Table", Table())
    registry.add("AWS::S3::Bucket", Bucket())
    registry.add("AWS::IAM::Role", Role())
