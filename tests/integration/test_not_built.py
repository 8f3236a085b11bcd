"""Operations of the installed botocore model that Lamb has not built yet.

Lamb routes, parses and validates every operation of the model it runs with; one
without a handler answers ``UnsupportedOperationException`` (HTTP 501) in AWS's
REST-JSON error shape, so a newer botocore's operations fail like any AWS error the
client knows how to read, never as a 404, a 500 or a hang. Valid input for each
operation is built from the model (required members only); where no value this test
knows fits a member's pattern, the request must still get AWS's ValidationException.
"""

from __future__ import annotations

import uuid

import botocore
import pytest
from botocore.exceptions import ClientError

from lamb.protocol._regex import compile_java

from .conftest import DEFAULT_ACCOUNT, REGION

FN_ARN = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT}:function:f"
# values that fit the Lambda model's string members, tried in order
CANDIDATES = [
    "f", "1", "Y2I=", str(uuid.UUID(int=1)), FN_ARN, f"{FN_ARN}:1", f"{FN_ARN}:$LATEST/durable-execution/x/y",
    f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT}:capacity-provider:cp",
    f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT}:code-signing-config:csc-{'a' * 17}",
    f"arn:aws:signer:{REGION}:{DEFAULT_ACCOUNT}:/signing-profiles/p/abcdefghij",
    f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/r", f"arn:aws:ec2:{REGION}:{DEFAULT_ACCOUNT}:subnet/subnet-1",
    "subnet-1", "sg-1", "lambda:InvokeFunction", "*", "{}",
]


class NoValue(Exception):
    pass


def value_for(shape):
    """A value of ``shape`` that passes the model's constraints (required members only)."""
    meta, kind = shape.metadata, shape.type_name
    if kind == "structure":
        return {name: value_for(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [value_for(shape.member) for _ in range(meta.get("min", 0))]
    if kind == "map":
        return {}
    if kind in ("integer", "long"):
        return int(meta.get("min", 1))
    if kind in ("float", "double"):
        return float(meta.get("min", 0))
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x" * max(1, int(meta.get("min", 1)))
    if kind == "timestamp":
        return 0
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        pattern = compile_java(meta["pattern"]) if "pattern" in meta else None
        for text in CANDIDATES:
            if meta.get("min", 0) <= len(text) <= meta.get("max", 1 << 30) and (pattern is None or pattern.fullmatch(text)):
                return text
        raise NoValue(f"{shape.name} ({meta})")
    raise NoValue(f"{shape.name}: {kind}")


@pytest.mark.smoke
def test_every_operation_not_built_answers_aws_error_shape(lamb_server):
    coverage = lamb_server.get_json("/_lamb/health")["operations"]
    client = lamb_server.raw_client()
    model = client.meta.service_model
    assert coverage["botocore"] == botocore.__version__ and coverage["model"] == len(model.operation_names)
    unsupported, invalid = [], []
    for name in coverage["not_built"]:
        op = model.operation_model(name)
        try:
            params, expected = (value_for(op.input_shape) if op.input_shape else {}), "UnsupportedOperationException"
        except NoValue:
            params, expected = {}, "ValidationException"  # no valid input known: the model's validation answers
        with pytest.raises(ClientError) as info:
            getattr(client, botocore.xform_name(name))(**params)
        error, meta = info.value.response["Error"], info.value.response["ResponseMetadata"]
        got = (error["Code"], meta["HTTPStatusCode"], meta["HTTPHeaders"].get("x-amzn-errortype"))
        if expected == "UnsupportedOperationException":
            assert got == (expected, 501, expected), (name, params, error)
            assert error["Message"] == f"{name} is not supported by this Lamb server yet."
            unsupported.append(name)
        else:
            assert got == (expected, 400, expected), (name, error)
            invalid.append(name)
    assert len(unsupported) >= len(invalid), (unsupported, invalid)
