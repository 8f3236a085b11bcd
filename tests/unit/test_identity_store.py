import time

from lamb.identity import ids
from lamb.identity.store import IdentityStore
from lamb.sealing import Sealer
from lamb.store.db import Database


def store(tmp_path):
    return IdentityStore(Database(tmp_path / "db"), Sealer.from_file(tmp_path / "k"))


def test_root_user_and_role_policies(tmp_path):
    s = store(tmp_path)
    _, root = s.ensure_account("111111111111")
    assert s.ensure_account("111111111111")[1] is None  # one root key, made once
    assert s.policies_of(root) is None
    doc = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    s.put_policy({"Arn": "arn:aws:iam::111111111111:policy/p", "DefaultVersionId": "v1", "Versions": {"v1": {"Document": doc}}})
    s.put_user({"Account": "111111111111", "UserName": "u", "InlinePolicies": {"i": doc},
                "AttachedPolicies": ["arn:aws:iam::111111111111:policy/p"]})
    k = s.add_key("111111111111", ids.user_arn("111111111111", "u"), user="u")
    assert s.policies_of(k) == [doc, doc]
    s.put_role({"Account": "111111111111", "RoleName": "r", "InlinePolicies": {}, "AttachedPolicies": []})
    session = s.role_session("arn:aws:iam::111111111111:role/r", "fn", 60, persist=False)
    assert session.principal == "arn:aws:sts::111111111111:assumed-role/r/fn" and s.policies_of(session) == []
    again = IdentityStore(s.db, s.sealer)  # persisted keys come back; the in-memory session does not
    assert again.key(k.access_key_id).secret == k.secret and again.key(session.access_key_id) is None


def test_expired_sessions_are_forgotten(tmp_path):
    s = store(tmp_path)
    k = s.add_key("111111111111", "arn", token="t", expires=time.time() - 2 * 86400)
    s.drop_expired_sessions(time.time())
    assert s.key(k.access_key_id) is None


BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def test_aws_managed_policies_groups_and_boundaries(tmp_path):
    s = store(tmp_path)
    basic = s.policy(BASIC)
    assert (basic["Account"], basic["Path"], basic["DefaultVersionId"]) == ("aws", "/service-role/", "v1")
    assert basic["PolicyId"] == s.policy(BASIC)["PolicyId"] and basic["PolicyId"].startswith("ANPA")
    assert s.policy("arn:aws:iam::aws:policy/NotAPolicy") is None
    doc = {"Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}
    s.put_user({"Account": "111111111111", "UserName": "u", "InlinePolicies": {}, "AttachedPolicies": [BASIC],
                "PermissionsBoundary": BASIC})
    s.put_group({"Account": "111111111111", "GroupName": "g", "InlinePolicies": {"i": doc}, "AttachedPolicies": [],
                 "Users": ["u"]})
    k = s.add_key("111111111111", ids.user_arn("111111111111", "u"), user="u")
    assert s.policies_of(k) == [basic["Versions"]["v1"]["Document"], doc]  # its own, then its groups'
    assert s.boundary_of(k) == [basic["Versions"]["v1"]["Document"]]
    again = IdentityStore(s.db, s.sealer)
    assert [g["GroupName"] for g in again.groups_of("111111111111", "u")] == ["g"]
    s.put_role({"Account": "111111111111", "RoleName": "r", "InlinePolicies": {}, "AttachedPolicies": []})
    assert s.boundary_of(s.role_session("arn:aws:iam::111111111111:role/r", "fn", 60, persist=False)) is None


def test_an_iam_requests_condition_keys(tmp_path):
    s = store(tmp_path)
    s.put_role({"Account": "111111111111", "RoleName": "r", "InlinePolicies": {}, "AttachedPolicies": [],
                "PermissionsBoundary": BASIC, "Tags": [{"Key": "team", "Value": "blue"}]})
    ctx = s.request_context("111111111111", {"RoleName": "r", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert ctx == {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess", "aws:ResourceTag/team": "blue",
                   "iam:ResourceTag/team": "blue", "iam:PermissionsBoundary": BASIC}
    ctx = s.request_context("111111111111", {"UserName": "new", "PermissionsBoundary": BASIC,
                                             "Tags": [{"Key": "env", "Value": "dev"}]})
    assert ctx == {"iam:PermissionsBoundary": BASIC, "aws:RequestTag/env": "dev", "aws:TagKeys": ["env"]}
    assert s.request_context("111111111111", {"RoleName": "r", "TagKeys": ["team"]})["aws:TagKeys"] == ["team"]


def test_an_iam_requests_resource_is_the_entitys_arn_with_its_path(tmp_path):
    s = store(tmp_path)
    s.put_user({"Account": "111111111111", "UserName": "u", "Arn": "arn:aws:iam::111111111111:user/team/u",
                "InlinePolicies": {}, "AttachedPolicies": []})
    assert s.request("111111111111", {"UserName": "u"})[0] == "arn:aws:iam::111111111111:user/team/u"
    assert s.request("111111111111", {"UserName": "new"})[0] == "arn:aws:iam::111111111111:user/new"
    assert s.request("111111111111", {"PolicyArn": BASIC})[0] == BASIC
    assert s.request("111111111111", {})[0] == "*"
