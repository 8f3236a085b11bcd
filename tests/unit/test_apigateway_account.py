"""api/apigateway_account.py: UpdateAccount's role check and PATCH paths, on a real in-memory store."""

import json
from types import SimpleNamespace

import pytest

from lamb.api.apigateway_account import get_account, update_account
from lamb.limits import Limits
from lamb.apis.store import HttpApiStore
from lamb.protocol.errors import AwsError
from lamb.store.db import Database

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/apigw-logs"


class _Roles:
    accounts = {ACCOUNT}

    def __init__(self, service: str):
        self.trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}]}

    def role_by_arn(self, arn: str):
        return {"Arn": arn, "AssumeRolePolicyDocument": self.trust} if arn == ROLE else None


def _ctx(tmp_path, service: str):
    store = HttpApiStore(Database(tmp_path / "db.sqlite"), "apigateway_settings")
    return SimpleNamespace(lamb=SimpleNamespace(http_apis=SimpleNamespace(settings=store), identities=_Roles(service),
                                                settings=SimpleNamespace(limits=Limits())))


THROTTLE = {"throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0}}  # AWS's account defaults


def _replace(value):
    return {"patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn", "value": value}]}


def test_role_trusting_api_gateway(tmp_path):
    ctx = _ctx(tmp_path, "apigateway.amazonaws.com")
    assert get_account(ctx, {}) == THROTTLE
    assert update_account(ctx, _replace(ROLE)) == {"cloudwatchRoleArn": ROLE, **THROTTLE}
    assert get_account(ctx, {}) == {"cloudwatchRoleArn": ROLE, **THROTTLE}
    for bad in (ROLE + "x", "nope", f"arn:aws:iam::{ACCOUNT}:user/u"):
        with pytest.raises(AwsError, match="does not have required permissions"):
            update_account(ctx, _replace(bad))
    with pytest.raises(AwsError, match="Invalid patch path"):
        update_account(ctx, {"patchOperations": [{"op": "add", "path": "/features", "value": "UsagePlans"}]})
    assert update_account(ctx, _replace("")) == THROTTLE


def test_role_not_trusting_api_gateway(tmp_path):
    with pytest.raises(AwsError, match="does not have required permissions"):
        update_account(_ctx(tmp_path, "lambda.amazonaws.com"), _replace(ROLE))
    assert json.dumps(get_account(_ctx(tmp_path, "lambda.amazonaws.com"), {})) == json.dumps(THROTTLE)
