"""IAM as deploy tools use it: AWS managed policies, groups, permissions boundaries, tags on users
and policies, and Marker/MaxItems paging, through the AWS CLI and boto3 against a real server."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .conftest import LambServer, create, unique
from .test_iam import TRUST_LAMBDA, as_client, aws, aws_iam_url, cli_json, error, new_user, url_status

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
LAMBDA_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"


@pytest.fixture(scope="module")
def server():
    s = LambServer().start()
    try:
        yield s
    finally:
        s.close()


def allow(*actions: str, resource: str = "*", effect: str = "Allow") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": list(actions), "Resource": resource}]}


def test_an_aws_managed_policy_attaches_to_an_execution_role_and_the_function_runs(server):
    got = cli_json(server, "iam", "get-policy", "--policy-arn", BASIC)["Policy"]
    assert (got["PolicyName"], got["Path"], got["DefaultVersionId"], got["IsAttachable"]) == \
        ("AWSLambdaBasicExecutionRole", "/service-role/", "v1", True)
    before = got["AttachmentCount"]
    version = cli_json(server, "iam", "get-policy-version", "--policy-arn", BASIC, "--version-id", "v1")["PolicyVersion"]
    assert version["Document"] == allow("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
    role = cli_json(server, "iam", "create-role", "--role-name", unique("exec"),
                    "--assume-role-policy-document", json.dumps(TRUST_LAMBDA))["Role"]
    cli_json(server, "iam", "attach-role-policy", "--role-name", role["RoleName"], "--policy-arn", BASIC)
    assert cli_json(server, "iam", "get-policy", "--policy-arn", BASIC)["Policy"]["AttachmentCount"] == before + 1
    attached = cli_json(server, "iam", "list-attached-role-policies", "--role-name", role["RoleName"])["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]
    lam = server.client()
    fn = unique()
    create(lam, fn, "def handler(e, c):\n    return 'ran'\n", Role=role["Arn"])
    assert json.loads(lam.invoke(FunctionName=fn)["Payload"].read()) == "ran"

    aws_scope = cli_json(server, "iam", "list-policies", "--scope", "AWS", "--only-attached")["Policies"]
    assert BASIC in [p["Arn"] for p in aws_scope]
    local = cli_json(server, "iam", "list-policies", "--scope", "Local")["Policies"]
    assert all(not p["Arn"].startswith("arn:aws:iam::aws:") for p in local)
    entities = cli_json(server, "iam", "list-entities-for-policy", "--policy-arn", BASIC)
    assert {"RoleName": role["RoleName"], "RoleId": role["RoleId"]} in entities["PolicyRoles"]

    iam = server.client("iam")
    for call in (lambda: iam.delete_policy(PolicyArn=BASIC),
                 lambda: iam.create_policy_version(PolicyArn=BASIC, PolicyDocument=json.dumps(allow("*")))):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e)[0] == "AccessDenied"
    missing = "arn:aws:iam::aws:policy/NoSuchPolicyAtAll"
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=missing)
    assert error(e) == ("NoSuchEntity", f"Policy {missing} does not exist or is not attachable.")
    lam.delete_function(FunctionName=fn)
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName=role["RoleName"])
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must detach all policies first.")
    iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=BASIC)
    iam.delete_role(RoleName=role["RoleName"])


def test_a_user_invokes_through_its_group_and_not_without_it(server):
    lam = server.client()
    fn = unique()
    create(lam, fn, "def handler(e, c):\n    return 'hi'\n")
    name, key = new_user(server)
    user_lam = as_client(server, key)
    with pytest.raises(ClientError) as e:
        user_lam.invoke(FunctionName=fn)
    assert error(e)[0] == "AccessDeniedException"
    group = unique("grp")
    created = cli_json(server, "iam", "create-group", "--group-name", group)["Group"]
    assert created["Arn"] == f"arn:aws:iam::{server.account_id}:group/{group}" and created["GroupId"].startswith("AGPA")
    cli_json(server, "iam", "put-group-policy", "--group-name", group, "--policy-name", "invoke",
             "--policy-document", json.dumps(allow("lambda:InvokeFunction", resource=server.arn(fn))))
    cli_json(server, "iam", "add-user-to-group", "--group-name", group, "--user-name", name)
    assert json.loads(user_lam.invoke(FunctionName=fn)["Payload"].read()) == "hi"
    got = cli_json(server, "iam", "get-group", "--group-name", group)
    assert [u["UserName"] for u in got["Users"]] == [name] and got["Group"]["GroupName"] == group
    assert [g["GroupName"] for g in cli_json(server, "iam", "list-groups-for-user", "--user-name", name)["Groups"]] == [group]
    assert cli_json(server, "iam", "list-group-policies", "--group-name", group)["PolicyNames"] == ["invoke"]

    iam = server.client("iam")
    with pytest.raises(ClientError) as e:
        iam.delete_group(GroupName=group)
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.")
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert error(e)[0] == "DeleteConflict"
    # a managed policy attached to the group applies too: an explicit deny wins over the inline allow
    deny = iam.create_policy(PolicyName=unique("deny"), PolicyDocument=json.dumps(
        allow("lambda:InvokeFunction", effect="Deny")))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=deny)
    with pytest.raises(ClientError) as e:
        user_lam.invoke(FunctionName=fn)
    assert error(e)[1].endswith("with an explicit deny in an identity-based policy")
    iam.detach_group_policy(GroupName=group, PolicyArn=deny)
    iam.remove_user_from_group(GroupName=group, UserName=name)
    with pytest.raises(ClientError) as e:
        user_lam.invoke(FunctionName=fn)
    assert error(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        iam.get_group(GroupName=unique("nogroup"))
    assert error(e)[0] == "NoSuchEntity"
    iam.delete_group_policy(GroupName=group, PolicyName="invoke")
    iam.delete_group(GroupName=group)


def test_a_permissions_boundary_caps_what_the_identity_policy_allows(server):
    lam = server.client()
    fn = unique()
    create(lam, fn, "def handler(e, c):\n    return 'ok'\n")
    name, key = new_user(server, allow("lambda:*"))
    iam = server.client("iam")
    boundary = iam.create_policy(PolicyName=unique("bound"), PolicyDocument=json.dumps(
        allow("lambda:GetAccountSettings", "lambda:GetFunction")))["Policy"]["Arn"]
    cli_json(server, "iam", "put-user-permissions-boundary", "--user-name", name, "--permissions-boundary", boundary)
    got = cli_json(server, "iam", "get-user", "--user-name", name)["User"]
    assert got["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    user_lam = as_client(server, key)
    user_lam.get_account_settings()  # both allow
    with pytest.raises(ClientError) as e:
        user_lam.list_functions()  # the identity policy allows, the boundary does not
    assert error(e) == ("AccessDeniedException",
                        f"User: arn:aws:iam::{server.account_id}:user/{name} is not authorized to perform: "
                        "lambda:ListFunctions on resource: * because no permissions boundary allows the "
                        "lambda:ListFunctions action")
    # a function policy naming the user itself is not capped by the boundary (same account)
    with pytest.raises(ClientError):
        user_lam.invoke(FunctionName=fn)
    lam.add_permission(FunctionName=fn, StatementId="user", Action="lambda:InvokeFunction",
                       Principal=f"arn:aws:iam::{server.account_id}:user/{name}")
    assert json.loads(user_lam.invoke(FunctionName=fn)["Payload"].read()) == "ok"
    # an explicit deny in the boundary decides
    iam.create_policy_version(PolicyArn=boundary, SetAsDefault=True, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
                                               {"Effect": "Deny", "Action": "lambda:GetAccountSettings", "Resource": "*"}]}))
    with pytest.raises(ClientError) as e:
        user_lam.get_account_settings()
    assert error(e)[1].endswith("with an explicit deny in a permissions boundary")
    user_lam.list_functions()
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=boundary)
    assert error(e)[0] == "DeleteConflict"
    iam.delete_user_permissions_boundary(UserName=name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]
    user_lam.get_account_settings()


def test_a_boundary_on_the_execution_role_caps_the_functions_own_calls(server):
    """AWSLambdaRole (an AWS managed policy) as the boundary of a role whose own policy allows lambda:*:
    the function may invoke, and nothing else."""
    lam = server.client()
    target = unique()
    create(lam, target, "def handler(e, c):\n    return 'target'\n")
    iam = server.client("iam")
    role = iam.create_role(RoleName=unique("bounded"), AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA),
                           PermissionsBoundary=LAMBDA_ROLE)["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == LAMBDA_ROLE
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all", PolicyDocument=json.dumps(allow("lambda:*")))
    code = (
        "import json, boto3\n"
        "def handler(event, context):\n"
        "    lam = boto3.client('lambda')\n"
        "    out = {'invoked': json.loads(lam.invoke(FunctionName=event['target'])['Payload'].read())}\n"
        "    try:\n"
        "        lam.list_functions()\n"
        "        out['listed'] = 'allowed'\n"
        "    except lam.exceptions.ClientError as e:\n"
        "        out['listed'] = e.response['Error']['Message']\n"
        "    return out\n")
    fn = unique()
    create(lam, fn, code, Role=role["Arn"], Timeout=30)
    out = json.loads(lam.invoke(FunctionName=fn, Payload=json.dumps({"target": target}))["Payload"].read())
    assert out["invoked"] == "target"
    assert out["listed"].endswith("because no permissions boundary allows the lambda:ListFunctions action"), out
    iam.delete_role_permissions_boundary(RoleName=role["RoleName"])
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role["RoleName"])["Role"]


def test_max_items_one_walks_every_page(server):
    iam = server.client("iam")
    path = f"/{unique('pg')}/"
    names = sorted(unique("pg") for _ in range(3))
    for n in names:
        iam.create_user(UserName=n, Path=path)
    seen, marker, pages = [], None, 0
    while True:
        kw = {"Marker": marker} if marker else {}
        resp = iam.list_users(PathPrefix=path, MaxItems=1, **kw)
        pages += 1
        assert len(resp["Users"]) == 1
        seen += [u["UserName"] for u in resp["Users"]]
        if not resp["IsTruncated"]:
            assert "Marker" not in resp
            break
        marker = resp["Marker"]
    assert (seen, pages) == (names, 3)
    # the AWS CLI pages by itself: one item a page gives the same list as one call
    everything = cli_json(server, "iam", "list-policies", "--scope", "AWS")["Policies"]
    paged = cli_json(server, "iam", "list-policies", "--scope", "AWS", "--page-size", "1")["Policies"]
    assert [p["Arn"] for p in paged] == [p["Arn"] for p in everything] and len(everything) > 20
    # boto3's paginators too
    keys = [iam.create_access_key(UserName=names[0])["AccessKey"]["AccessKeyId"] for _ in range(2)]
    listed = [k["AccessKeyId"] for page in iam.get_paginator("list_access_keys").paginate(
        UserName=names[0], PaginationConfig={"PageSize": 1}) for k in page["AccessKeyMetadata"]]
    assert sorted(listed) == sorted(keys)


def test_tags_on_users_and_policies_round_trip(server):
    iam = server.client("iam")
    name = unique("tagged")
    made = iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "a"}])["User"]
    assert made["Tags"] == [{"Key": "team", "Value": "a"}]
    cli_json(server, "iam", "tag-user", "--user-name", name, "--tags", "Key=team,Value=b", "Key=env,Value=dev")
    assert cli_json(server, "iam", "list-user-tags", "--user-name", name)["Tags"] == [
        {"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}]
    iam.untag_user(UserName=name, TagKeys=["team"])
    assert iam.get_user(UserName=name)["User"]["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert "Tags" not in [u for u in iam.list_users()["Users"] if u["UserName"] == name][0]
    with pytest.raises(ClientError) as e:
        iam.tag_user(UserName=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error(e) == ("LimitExceeded", "Cannot exceed quota for TagsPerUser: 50.")

    policy = iam.create_policy(PolicyName=unique("tp"), PolicyDocument=json.dumps(allow("lambda:GetAccountSettings")),
                               Tags=[{"Key": "owner", "Value": "me"}])["Policy"]
    assert policy["Tags"] == [{"Key": "owner", "Value": "me"}]
    iam.tag_policy(PolicyArn=policy["Arn"], Tags=[{"Key": "cost", "Value": "1"}])
    iam.untag_policy(PolicyArn=policy["Arn"], TagKeys=["owner"])
    assert iam.list_policy_tags(PolicyArn=policy["Arn"])["Tags"] == [{"Key": "cost", "Value": "1"}]
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["Tags"] == [{"Key": "cost", "Value": "1"}]
    with pytest.raises(ClientError) as e:
        iam.tag_policy(PolicyArn=BASIC, Tags=[{"Key": "x", "Value": "y"}])
    assert error(e)[0] == "AccessDenied"
    r = aws(server, "iam", "list-policy-tags", "--policy-arn", BASIC)
    assert r.returncode == 0 and json.loads(r.stdout)["Tags"] == []


def test_instance_profiles_hold_one_role(server):
    iam = server.client("iam")
    name, role_name = unique("prof"), unique("ec2role")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]
    made = cli_json(server, "iam", "create-instance-profile", "--instance-profile-name", name,
                    "--tags", "Key=team,Value=a")["InstanceProfile"]
    assert made["Arn"] == f"arn:aws:iam::{server.account_id}:instance-profile/{name}" and made["Roles"] == []
    assert made["InstanceProfileId"].startswith("AIPA")
    cli_json(server, "iam", "add-role-to-instance-profile", "--instance-profile-name", name, "--role-name", role_name)
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["Arn"] for r in got["Roles"]] == [role["Arn"]] and got["Tags"] == [{"Key": "team", "Value": "a"}]
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role_name)
    assert error(e) == ("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName=role_name)["InstanceProfiles"]] \
        == [name]
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName=role_name)
    assert error(e) == ("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
    with pytest.raises(ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName=name)
    assert error(e)[0] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role_name)
    iam.delete_instance_profile(InstanceProfileName=name)
    with pytest.raises(ClientError) as e:
        iam.get_instance_profile(InstanceProfileName=name)
    assert error(e) == ("NoSuchEntity", f"Instance Profile {name} cannot be found.")
    iam.delete_role(RoleName=role_name)


def test_iam_condition_keys_delegate_role_creation_under_a_boundary(server):
    """The delegated-administrator pattern of the IAM guide: a user may create roles only with a given
    permissions boundary (iam:PermissionsBoundary), and read only roles tagged for its team
    (iam:ResourceTag/…)."""
    iam = server.client("iam")
    boundary = iam.create_policy(PolicyName=unique("dev-bound"), PolicyDocument=json.dumps(allow("lambda:*")))["Policy"]["Arn"]
    name, key = new_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:ResourceTag/team": "blue"}}}]})
    user_iam = as_client(server, key, "iam")
    trust = json.dumps(TRUST_LAMBDA)
    with pytest.raises(ClientError) as e:
        user_iam.create_role(RoleName=unique("free"), AssumeRolePolicyDocument=trust)
    assert error(e)[0] == "AccessDenied"
    made = user_iam.create_role(RoleName=unique("bounded"), AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)
    assert made["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    blue = iam.create_role(RoleName=unique("blue"), AssumeRolePolicyDocument=trust, Tags=[{"Key": "team", "Value": "blue"}])
    red = iam.create_role(RoleName=unique("red"), AssumeRolePolicyDocument=trust, Tags=[{"Key": "team", "Value": "red"}])
    assert user_iam.get_role(RoleName=blue["Role"]["RoleName"])["Role"]["Arn"] == blue["Role"]["Arn"]
    with pytest.raises(ClientError) as e:
        user_iam.get_role(RoleName=red["Role"]["RoleName"])
    assert error(e) == ("AccessDenied", f"User: arn:aws:iam::{server.account_id}:user/{name} is not authorized to "
                        f"perform: iam:GetRole on resource: role {red['Role']['RoleName']} because no identity-based "
                        "policy allows the iam:GetRole action")  # IAM names an existing role "role <name>"


def test_a_user_with_aws_lambda_full_access_deploys_functions_and_nothing_else(server):
    """AWSLambda_FullAccess: lambda:* and iam:PassRole to lambda.amazonaws.com, no IAM writes."""
    name, key = new_user(server)
    cli_json(server, "iam", "attach-user-policy", "--user-name", name,
             "--policy-arn", "arn:aws:iam::aws:policy/AWSLambda_FullAccess")
    user_lam = as_client(server, key)
    fn = unique()
    create(user_lam, fn, "def handler(e, c):\n    return 'mine'\n")  # passes the tests' role: allowed
    assert json.loads(user_lam.invoke(FunctionName=fn)["Payload"].read()) == "mine"
    with pytest.raises(ClientError) as e:
        as_client(server, key, "iam").create_user(UserName=unique("nope"))
    assert error(e)[0] == "AccessDenied"


def test_a_renamed_user_keeps_its_keys_groups_and_policies(server):
    lam = server.client()
    fn = unique()
    create(lam, fn, "def handler(e, c):\n    return 'same'\n")
    name, key = new_user(server)
    iam = server.client("iam")
    group = unique("grp")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="invoke", PolicyDocument=json.dumps(
        allow("lambda:InvokeFunction", resource=server.arn(fn))))
    iam.add_user_to_group(GroupName=group, UserName=name)
    renamed = unique("renamed")
    cli_json(server, "iam", "update-user", "--user-name", name, "--new-user-name", renamed, "--new-path", "/team/")
    got = iam.get_user(UserName=renamed)["User"]
    assert got["Arn"] == f"arn:aws:iam::{server.account_id}:user/team/{renamed}"
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name)
    assert error(e)[0] == "NoSuchEntity"
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [renamed]
    assert as_client(server, key, "sts").get_caller_identity()["Arn"] == got["Arn"]
    assert json.loads(as_client(server, key).invoke(FunctionName=fn)["Payload"].read()) == "same"


def test_iam_resources_carry_their_path(server):
    """A policy on arn:aws:iam::<account>:user/<path>/* covers the users under that path only."""
    iam = server.client("iam")
    path = f"/{unique('team')}/"
    inside, outside = unique("in"), unique("out")
    iam.create_user(UserName=inside, Path=path)
    iam.create_user(UserName=outside)
    _, key = new_user(server, allow("iam:GetUser", resource=f"arn:aws:iam::{server.account_id}:user{path}*"))
    user_iam = as_client(server, key, "iam")
    assert user_iam.get_user(UserName=inside)["User"]["Path"] == path
    with pytest.raises(ClientError) as e:
        user_iam.get_user(UserName=outside)
    assert error(e)[1].endswith(f"on resource: user {outside} because no identity-based policy allows the "
                                "iam:GetUser action")


def test_an_aws_iam_function_url_applies_the_signers_boundary(server):
    url_id = aws_iam_url(server)
    name, key = new_user(server, allow("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"))
    assert url_status(server, url_id, key) == 200
    iam = server.client("iam")
    boundary = iam.create_policy(PolicyName=unique("nourl"), PolicyDocument=json.dumps(
        allow("lambda:InvokeFunction")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    assert url_status(server, url_id, key) == 403  # the boundary does not allow lambda:InvokeFunctionUrl
    iam.delete_user_permissions_boundary(UserName=name)
    assert url_status(server, url_id, key) == 200


def test_an_aws_iam_function_url_applies_the_signers_session_policy(server):
    url_id = aws_iam_url(server)
    name, key = new_user(server, allow("sts:AssumeRole"))
    iam = server.client("iam")
    role = iam.create_role(RoleName=unique("url"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
            "AWS": f"arn:aws:iam::{server.account_id}:user/{name}"}}]}))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="urls", PolicyDocument=json.dumps(
        allow("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")))
    sts = as_client(server, key, "sts")

    def status(**session_policy) -> int:
        c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="url-session", **session_policy)["Credentials"]
        return url_status(server, url_id, {"aws_access_key_id": c["AccessKeyId"],
                                           "aws_secret_access_key": c["SecretAccessKey"]}, c["SessionToken"])

    assert status() == 200
    # The role allows both actions; a session policy without lambda:InvokeFunctionUrl caps it.
    assert status(Policy=json.dumps(allow("lambda:InvokeFunction"))) == 403
    assert status(Policy=json.dumps(allow("lambda:InvokeFunction*"))) == 200


def test_principal_tags_decide_attribute_based_grants(server):
    """``aws:PrincipalTag/…``: the caller's own tags, in its requests' context (ABAC)."""
    name, key = new_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:GetAccountSettings", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]})
    iam = server.client("iam")
    lam = as_client(server, key)
    with pytest.raises(ClientError) as e:
        lam.get_account_settings()
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "blue"}])
    assert "AccountLimit" in lam.get_account_settings()
    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "red"}])
    with pytest.raises(ClientError):
        lam.get_account_settings()


def test_tags_and_policy_entities_page_in_their_own_order(server):
    iam = server.client("iam")
    role = iam.create_role(RoleName=unique("many"), AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA),
                           Tags=[{"Key": k, "Value": "v"} for k in ("zeta", "alpha", "mid")])["Role"]["RoleName"]
    keys = [t["Key"] for page in iam.get_paginator("list_role_tags").paginate(
        RoleName=role, PaginationConfig={"PageSize": 1}) for t in page["Tags"]]
    assert keys == ["zeta", "alpha", "mid"]
    policy = iam.create_policy(PolicyName=unique("shared"), PolicyDocument=json.dumps(allow("lambda:GetAccountSettings")))
    arn = policy["Policy"]["Arn"]
    user, _ = new_user(server)
    group = iam.create_group(GroupName=unique("g"))["Group"]["GroupName"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    seen = {"PolicyRoles": [], "PolicyUsers": [], "PolicyGroups": []}
    for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn, PaginationConfig={"PageSize": 1}):
        for member in seen:
            seen[member] += [e for e in page[member]]
    assert ([r["RoleName"] for r in seen["PolicyRoles"]], [u["UserName"] for u in seen["PolicyUsers"]],
            [g["GroupName"] for g in seen["PolicyGroups"]]) == ([role], [user], [group])
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3


def test_assume_role_external_id_session_tags_and_source_identity(server):
    """AssumeRole's ExternalId, Tags/TransitiveTagKeys (sts:TagSession, aws:PrincipalTag, role chains),
    SourceIdentity (sts:SetSourceIdentity, aws:SourceIdentity), MinimumSessionTokenSize, and MFA refused."""
    iam = server.client("iam")
    name, key = new_user(server, allow("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"))
    user_arn = f"arn:aws:iam::{server.account_id}:user/{name}"
    blue_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:GetAccountSettings"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}},
        {"Effect": "Allow", "Action": ["lambda:ListFunctions"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}},
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"], "Resource": "*"}]}

    def role(actions, principal=user_arn, condition=None, tags=()):
        st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}
        if condition:
            st["Condition"] = condition
        arn = iam.create_role(RoleName=unique("sts"), AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [st]}), Tags=list(tags))["Role"]["Arn"]
        iam.put_role_policy(RoleName=arn.rsplit("/", 1)[1], PolicyName="p", PolicyDocument=json.dumps(blue_only))
        return arn

    sts = as_client(server, key, "sts")

    def session_client(got, service="lambda"):
        c = got["Credentials"]
        return as_client(server, {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"]},
                         service, c["SessionToken"])

    # ExternalId: the trust policy's sts:ExternalId condition.
    guarded = role("sts:AssumeRole", condition={"StringEquals": {"sts:ExternalId": "x-123"}})
    for bad in ({}, {"ExternalId": "x-999"}):
        with pytest.raises(ClientError) as e:
            sts.assume_role(RoleArn=guarded, RoleSessionName="ext", **bad)
        assert e.value.response["Error"]["Code"] == "AccessDenied"
    sts.assume_role(RoleArn=guarded, RoleSessionName="ext", ExternalId="x-123")

    # Session tags need sts:TagSession in the trust policy, and override the role's own tag.
    plain = role("sts:AssumeRole", tags=[{"Key": "team", "Value": "red"}])
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=plain, RoleSessionName="tags", Tags=[{"Key": "team", "Value": "blue"}])
    assert e.value.response["Error"]["Message"] == (f"User: {user_arn} is not authorized to perform: sts:TagSession "
                                                    f"on resource: {plain}")
    tagging = role(["sts:AssumeRole", "sts:TagSession"], tags=[{"Key": "team", "Value": "red"}])
    red = session_client(sts.assume_role(RoleArn=tagging, RoleSessionName="red"))
    with pytest.raises(ClientError):
        red.get_account_settings()  # the role's own tag: red
    # "Team" overrides the role's "team" (tag keys, like condition keys, compare case-insensitively).
    blue_got = sts.assume_role(RoleArn=tagging, RoleSessionName="blue", Tags=[{"Key": "Team", "Value": "blue"}],
                               TransitiveTagKeys=["Team"])
    assert "AccountLimit" in session_client(blue_got).get_account_settings()

    # A role chain passes on transitive tags, which cannot be passed again.
    chained_role = role(["sts:AssumeRole", "sts:TagSession"], principal=tagging)
    chain_sts = session_client(blue_got, "sts")
    chained = session_client(chain_sts.assume_role(RoleArn=chained_role, RoleSessionName="next"))
    assert "AccountLimit" in chained.get_account_settings()
    with pytest.raises(ClientError) as e:
        chain_sts.assume_role(RoleArn=chained_role, RoleSessionName="again", Tags=[{"Key": "TEAM", "Value": "x"}])
    assert e.value.response["Error"]["Code"] == "ValidationError"

    # SourceIdentity: sts:SetSourceIdentity, returned, aws:SourceIdentity afterwards.
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=plain, RoleSessionName="src", SourceIdentity="alice")
    sourcing = role(["sts:AssumeRole", "sts:SetSourceIdentity"])
    got = sts.assume_role(RoleArn=sourcing, RoleSessionName="src", SourceIdentity="alice")
    assert got["SourceIdentity"] == "alice"
    session_client(got).list_functions()
    with pytest.raises(ClientError):
        session_client(sts.assume_role(RoleArn=sourcing, RoleSessionName="src2", SourceIdentity="bob")).list_functions()

    # MinimumSessionTokenSize pads the token; MFA codes cannot be checked here.
    long = sts.assume_role(RoleArn=plain, RoleSessionName="long", MinimumSessionTokenSize=2000)
    assert len(long["Credentials"]["SessionToken"]) >= 2000
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=plain, RoleSessionName="mfa", SerialNumber="arn:aws:iam::123456789012:mfa/u",
                        TokenCode="123456")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.get_session_token(SerialNumber="arn:aws:iam::123456789012:mfa/u", TokenCode="123456")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
