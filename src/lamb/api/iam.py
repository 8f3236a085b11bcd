"""IAM (botocore's ``iam`` model, query protocol): users, access keys, roles with trust
policies, inline and managed policies with versions, attachments.

Behaviour and messages from the IAM API reference
(https://docs.aws.amazon.com/IAM/latest/APIReference/): ``NoSuchEntity`` (404),
``EntityAlreadyExists`` (409), ``DeleteConflict`` (409), ``LimitExceeded`` (409),
``MalformedPolicyDocument`` (400). Policy documents go out URL-encoded, as IAM returns them
(botocore decodes them). Every entity belongs to the caller's account.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from ..identity import ids
from ..identity.store import IdentityStore
from ..protocol.errors import AwsError
from . import operation

USER_FIELDS = ("Path", "UserName", "UserId", "Arn", "CreateDate")
ROLE_FIELDS = ("Path", "RoleName", "RoleId", "Arn", "CreateDate", "Description", "MaxSessionDuration")
POLICY_FIELDS = ("PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "AttachmentCount",
                 "PermissionsBoundaryUsageCount", "IsAttachable", "Description", "CreateDate", "UpdateDate")


def iam(name: str):
    return operation(name, service="iam")


def _store(ctx) -> IdentityStore:
    return ctx.lamb.identities


def _account(ctx) -> str:
    return ctx.caller.account if ctx.caller is not None else ctx.lamb.settings.account_id


def _pick(entity: dict, fields: tuple[str, ...]) -> dict:
    return {k: entity[k] for k in fields if entity.get(k) is not None}


def no_such(message: str) -> AwsError:
    return AwsError("NoSuchEntity", message, 404, type_="Sender")


def exists(message: str) -> AwsError:
    return AwsError("EntityAlreadyExists", message, 409, type_="Sender")


def conflict(message: str) -> AwsError:
    return AwsError("DeleteConflict", message, 409, type_="Sender")


def limit(message: str) -> AwsError:
    return AwsError("LimitExceeded", message, 409, type_="Sender")


def document(text: str) -> dict:
    """A policy document as sent; IAM's MalformedPolicyDocument when it is not one."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise AwsError("MalformedPolicyDocument", "Syntax errors in policy.", 400, type_="Sender") from None
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise AwsError("MalformedPolicyDocument", "Syntax errors in policy.", 400, type_="Sender")
    return doc


def encoded(doc: dict) -> str:
    return quote(json.dumps(doc), safe="")


# ------------------------------------------------------------------ users
def user(ctx, name: str) -> dict:
    found = _store(ctx).users.get((_account(ctx), name))
    if found is None:
        raise no_such(f"The user with name {name} cannot be found.")
    return found


@iam("CreateUser")
def create_user(ctx, params: dict) -> dict:
    account, name, path = _account(ctx), params["UserName"], params.get("Path") or "/"
    if (account, name) in _store(ctx).users:
        raise exists(f"User with name {name} already exists.")
    entity = {"Account": account, "UserName": name, "UserId": ids.unique_id("AIDA"), "Path": path,
              "Arn": ids.user_arn(account, name, path), "CreateDate": time.time(),
              "InlinePolicies": {}, "AttachedPolicies": []}
    _store(ctx).put_user(entity)
    return {"User": _pick(entity, USER_FIELDS)}


@iam("GetUser")
def get_user(ctx, params: dict) -> dict:
    if not params.get("UserName"):
        caller = ctx.caller
        if caller is None or caller.key is None or caller.key.user is None:
            arn = caller.arn if caller is not None else ids.root_arn(_account(ctx))
            return {"User": {"UserId": _account(ctx), "Arn": arn, "Path": "/", "UserName": "", "CreateDate": time.time()}}
        params = {"UserName": caller.key.user}
    return {"User": _pick(user(ctx, params["UserName"]), USER_FIELDS)}


@iam("ListUsers")
def list_users(ctx, params: dict) -> dict:
    account, prefix = _account(ctx), params.get("PathPrefix") or "/"
    users = [_pick(u, USER_FIELDS) for (a, _), u in sorted(_store(ctx).users.items())
             if a == account and u["Path"].startswith(prefix)]
    return {"Users": users, "IsTruncated": False}


@iam("DeleteUser")
def delete_user(ctx, params: dict) -> dict:
    u = user(ctx, params["UserName"])
    if any(k.user == u["UserName"] and k.account == u["Account"] and k.token is None for k in _store(ctx).keys.values()):
        raise conflict("Cannot delete entity, must delete access keys first.")
    if u["InlinePolicies"]:
        raise conflict("Cannot delete entity, must delete policies first.")
    if u["AttachedPolicies"]:
        raise conflict("Cannot delete entity, must detach all policies first.")
    _store(ctx).delete_user(u["Account"], u["UserName"])
    return {}


# ------------------------------------------------------------------ access keys
def _key_user(ctx, params: dict) -> str | None:
    if params.get("UserName"):
        return user(ctx, params["UserName"])["UserName"]
    caller = ctx.caller
    return caller.key.user if caller is not None and caller.key is not None else None


def _user_keys(ctx, name: str | None) -> list:
    account = _account(ctx)
    if name is None:
        return [k for k in _store(ctx).root_keys(account)]
    return [k for k in _store(ctx).keys.values() if k.account == account and k.user == name and k.token is None]


def _key_meta(k, name: str | None) -> dict:
    return {"UserName": name, "AccessKeyId": k.access_key_id, "Status": k.status, "CreateDate": k.created}


@iam("CreateAccessKey")
def create_access_key(ctx, params: dict) -> dict:
    name = _key_user(ctx, params)
    if len(_user_keys(ctx, name)) >= ctx.lamb.settings.limits.iam_access_keys_per_user:
        raise limit(f"Cannot exceed quota for AccessKeysPerUser: {ctx.lamb.settings.limits.iam_access_keys_per_user}")
    account = _account(ctx)
    principal = _store(ctx).users[(account, name)]["Arn"] if name else ids.root_arn(account)
    k = _store(ctx).add_key(account, principal, user=name)
    return {"AccessKey": {**_key_meta(k, name), "SecretAccessKey": k.secret}}


@iam("ListAccessKeys")
def list_access_keys(ctx, params: dict) -> dict:
    name = _key_user(ctx, params)
    keys = sorted(_user_keys(ctx, name), key=lambda k: k.created)
    return {"AccessKeyMetadata": [_key_meta(k, name) for k in keys], "IsTruncated": False}


def _owned_key(ctx, params: dict):
    name = _key_user(ctx, params)
    for k in _user_keys(ctx, name):
        if k.access_key_id == params["AccessKeyId"]:
            return k
    raise no_such(f"The Access Key with id {params['AccessKeyId']} cannot be found.")


@iam("UpdateAccessKey")
def update_access_key(ctx, params: dict) -> dict:
    k = _owned_key(ctx, params)
    k.status = params["Status"]
    _store(ctx).save_key(k)
    return {}


@iam("DeleteAccessKey")
def delete_access_key(ctx, params: dict) -> dict:
    _store(ctx).delete_key(_owned_key(ctx, params).access_key_id)
    return {}


# ------------------------------------------------------------------ roles
def role(ctx, name: str) -> dict:
    found = _store(ctx).roles.get((_account(ctx), name))
    if found is None:
        raise no_such(f"The role with name {name} cannot be found.")
    return found


def _role_out(r: dict) -> dict:
    out = {**_pick(r, ROLE_FIELDS), "AssumeRolePolicyDocument": encoded(r["AssumeRolePolicyDocument"])}
    if r.get("Tags"):
        out["Tags"] = r["Tags"]
    return out


def _tagged(ctx, tags: list[dict], given: list[dict]) -> list[dict]:
    """``tags`` with ``given`` set (a key given again takes the new value); IAM's 50-tag limit."""
    merged = {t["Key"]: t["Value"] for t in tags}
    merged.update({t["Key"]: t["Value"] for t in given})
    if len(merged) > ctx.lamb.settings.limits.iam_tags_per_entity:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for TagsPerRole: {ctx.lamb.settings.limits.iam_tags_per_entity}.", 409)
    return [{"Key": k, "Value": v} for k, v in merged.items()]


@iam("CreateRole")
def create_role(ctx, params: dict) -> dict:
    account, name, path = _account(ctx), params["RoleName"], params.get("Path") or "/"
    if (account, name) in _store(ctx).roles:
        raise exists(f"Role with name {name} already exists.")
    entity = {"Account": account, "RoleName": name, "RoleId": ids.unique_id("AROA"), "Path": path,
              "Arn": ids.role_arn(account, name, path), "CreateDate": time.time(),
              "AssumeRolePolicyDocument": document(params["AssumeRolePolicyDocument"]),
              "Description": params.get("Description"), "MaxSessionDuration": params.get("MaxSessionDuration") or 3600,
              "InlinePolicies": {}, "AttachedPolicies": [], "Tags": _tagged(ctx, [], params.get("Tags") or [])}
    _store(ctx).put_role(entity)
    return {"Role": _role_out(entity)}


@iam("GetRole")
def get_role(ctx, params: dict) -> dict:
    return {"Role": _role_out(role(ctx, params["RoleName"]))}


@iam("ListRoles")
def list_roles(ctx, params: dict) -> dict:
    account, prefix = _account(ctx), params.get("PathPrefix") or "/"
    roles = [_role_out(r) for (a, _), r in sorted(_store(ctx).roles.items()) if a == account and r["Path"].startswith(prefix)]
    return {"Roles": roles, "IsTruncated": False}


@iam("UpdateAssumeRolePolicy")
def update_assume_role_policy(ctx, params: dict) -> dict:
    r = dict(role(ctx, params["RoleName"]), AssumeRolePolicyDocument=document(params["PolicyDocument"]))
    _store(ctx).put_role(r)
    return {}


@iam("UpdateRole")
def update_role(ctx, params: dict) -> dict:
    """https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html: description and session length."""
    r = dict(role(ctx, params["RoleName"]))
    for key in ("Description", "MaxSessionDuration"):
        if key in params:
            r[key] = params[key]
    _store(ctx).put_role(r)
    return {}


@iam("TagRole")
def tag_role(ctx, params: dict) -> dict:
    r = role(ctx, params["RoleName"])
    _store(ctx).put_role(dict(r, Tags=_tagged(ctx, r.get("Tags") or [], params["Tags"])))
    return {}


@iam("UntagRole")
def untag_role(ctx, params: dict) -> dict:
    r = role(ctx, params["RoleName"])
    gone = set(params["TagKeys"])
    _store(ctx).put_role(dict(r, Tags=[t for t in r.get("Tags") or [] if t["Key"] not in gone]))
    return {}


@iam("ListRoleTags")
def list_role_tags(ctx, params: dict) -> dict:
    return {"Tags": list(role(ctx, params["RoleName"]).get("Tags") or []), "IsTruncated": False}


@iam("DeleteRole")
def delete_role(ctx, params: dict) -> dict:
    r = role(ctx, params["RoleName"])
    if r["InlinePolicies"]:
        raise conflict("Cannot delete entity, must delete policies first.")
    if r["AttachedPolicies"]:
        raise conflict("Cannot delete entity, must detach all policies first.")
    _store(ctx).delete_role(r["Account"], r["RoleName"])
    return {}


# ------------------------------------------------------------------ inline policies
def _inline(kind: str):
    find = user if kind == "User" else role
    put = "put_user" if kind == "User" else "put_role"
    noun = kind.lower()

    def put_policy(ctx, params: dict) -> dict:
        holder = dict(find(ctx, params[f"{kind}Name"]))
        holder["InlinePolicies"] = {**holder["InlinePolicies"], params["PolicyName"]: document(params["PolicyDocument"])}
        getattr(_store(ctx), put)(holder)
        return {}

    def get_policy(ctx, params: dict) -> dict:
        holder = find(ctx, params[f"{kind}Name"])
        doc = holder["InlinePolicies"].get(params["PolicyName"])
        if doc is None:
            raise no_such(f"The {noun} policy with name {params['PolicyName']} cannot be found.")
        return {f"{kind}Name": holder[f"{kind}Name"], "PolicyName": params["PolicyName"], "PolicyDocument": encoded(doc)}

    def delete_policy(ctx, params: dict) -> dict:
        holder = dict(find(ctx, params[f"{kind}Name"]))
        if params["PolicyName"] not in holder["InlinePolicies"]:
            raise no_such(f"The {noun} policy with name {params['PolicyName']} cannot be found.")
        holder["InlinePolicies"] = {k: v for k, v in holder["InlinePolicies"].items() if k != params["PolicyName"]}
        getattr(_store(ctx), put)(holder)
        return {}

    def list_policies(ctx, params: dict) -> dict:
        return {"PolicyNames": sorted(find(ctx, params[f"{kind}Name"])["InlinePolicies"]), "IsTruncated": False}

    iam(f"Put{kind}Policy")(put_policy)
    iam(f"Get{kind}Policy")(get_policy)
    iam(f"Delete{kind}Policy")(delete_policy)
    iam(f"List{kind}Policies")(list_policies)


_inline("User")
_inline("Role")


# ------------------------------------------------------------------ managed policies
def managed(ctx, arn: str) -> dict:
    found = _store(ctx).policies.get(arn)
    if found is None or found["Account"] != _account(ctx):
        raise no_such(f"Policy {arn} was not found.")
    return found


def _policy_out(p: dict) -> dict:
    return _pick(p, POLICY_FIELDS)


@iam("CreatePolicy")
def create_policy(ctx, params: dict) -> dict:
    account, name, path = _account(ctx), params["PolicyName"], params.get("Path") or "/"
    arn = ids.policy_arn(account, name, path)
    if any(p["Account"] == account and p["PolicyName"] == name for p in _store(ctx).policies.values()):
        raise exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
    now = time.time()
    entity = {"Account": account, "PolicyName": name, "PolicyId": ids.unique_id("ANPA"), "Arn": arn, "Path": path,
              "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
              "Description": params.get("Description"), "CreateDate": now, "UpdateDate": now, "NextVersion": 2,
              "Versions": {"v1": {"Document": document(params["PolicyDocument"]), "CreateDate": now}}}
    _store(ctx).put_policy(entity)
    return {"Policy": _policy_out(entity)}


@iam("GetPolicy")
def get_policy(ctx, params: dict) -> dict:
    return {"Policy": _policy_out(managed(ctx, params["PolicyArn"]))}


@iam("ListPolicies")
def list_policies(ctx, params: dict) -> dict:
    account = _account(ctx)
    scope = params.get("Scope") or "All"
    attached_only = params.get("OnlyAttached")
    out = [_policy_out(p) for _, p in sorted(_store(ctx).policies.items())
           if p["Account"] == account and scope in ("All", "Local") and (not attached_only or p["AttachmentCount"])]
    return {"Policies": out, "IsTruncated": False}


@iam("DeletePolicy")
def delete_policy(ctx, params: dict) -> dict:
    p = managed(ctx, params["PolicyArn"])
    if p["AttachmentCount"]:
        raise conflict("Cannot delete a policy attached to entities.")
    if len(p["Versions"]) > 1:
        raise conflict("This policy has more than one version. Before you delete a policy, you must delete the "
                       "policy's versions. The default version is deleted with the policy.")
    _store(ctx).delete_policy(p["Arn"])
    return {}


def _version_out(vid: str, v: dict, default: str, with_document: bool = True) -> dict:
    out: dict[str, Any] = {"VersionId": vid, "IsDefaultVersion": vid == default, "CreateDate": v["CreateDate"]}
    if with_document:
        out["Document"] = encoded(v["Document"])
    return out


@iam("CreatePolicyVersion")
def create_policy_version(ctx, params: dict) -> dict:
    p = dict(managed(ctx, params["PolicyArn"]))
    cap = ctx.lamb.settings.limits.iam_policy_versions
    if len(p["Versions"]) >= cap:
        raise limit(f"A managed policy can have up to {cap} versions. Before you create a new version, you must "
                    f"delete an existing version.")
    vid = f"v{p['NextVersion']}"
    p["Versions"] = {**p["Versions"], vid: {"Document": document(params["PolicyDocument"]), "CreateDate": time.time()}}
    p["NextVersion"] += 1
    if params.get("SetAsDefault"):
        p["DefaultVersionId"] = vid
    p["UpdateDate"] = time.time()
    _store(ctx).put_policy(p)
    return {"PolicyVersion": _version_out(vid, p["Versions"][vid], p["DefaultVersionId"], False)}


def _version(ctx, params: dict) -> tuple[dict, str]:
    p = managed(ctx, params["PolicyArn"])
    vid = params["VersionId"]
    if vid not in p["Versions"]:
        raise no_such(f"Policy {p['Arn']} version {vid} does not exist or is not attachable.")
    return p, vid


@iam("GetPolicyVersion")
def get_policy_version(ctx, params: dict) -> dict:
    p, vid = _version(ctx, params)
    return {"PolicyVersion": _version_out(vid, p["Versions"][vid], p["DefaultVersionId"])}


@iam("ListPolicyVersions")
def list_policy_versions(ctx, params: dict) -> dict:
    p = managed(ctx, params["PolicyArn"])
    versions = sorted(p["Versions"].items(), key=lambda kv: -int(kv[0][1:]))
    return {"Versions": [_version_out(vid, v, p["DefaultVersionId"], False) for vid, v in versions], "IsTruncated": False}


@iam("SetDefaultPolicyVersion")
def set_default_policy_version(ctx, params: dict) -> dict:
    p, vid = _version(ctx, params)
    _store(ctx).put_policy(dict(p, DefaultVersionId=vid, UpdateDate=time.time()))
    return {}


@iam("DeletePolicyVersion")
def delete_policy_version(ctx, params: dict) -> dict:
    p, vid = _version(ctx, params)
    if vid == p["DefaultVersionId"]:
        raise conflict("Cannot delete the default version of a policy.")
    _store(ctx).put_policy(dict(p, Versions={k: v for k, v in p["Versions"].items() if k != vid}))
    return {}


def _attachment(kind: str):
    find = user if kind == "User" else role
    put = "put_user" if kind == "User" else "put_role"

    def attach(ctx, params: dict) -> dict:
        holder = dict(find(ctx, params[f"{kind}Name"]))
        p = managed(ctx, params["PolicyArn"])
        if p["Arn"] not in holder["AttachedPolicies"]:
            if len(holder["AttachedPolicies"]) >= ctx.lamb.settings.limits.iam_managed_policies_per_entity:
                raise limit(f"Cannot exceed quota for PoliciesPer{kind}: "
                            f"{ctx.lamb.settings.limits.iam_managed_policies_per_entity}")
            holder["AttachedPolicies"] = holder["AttachedPolicies"] + [p["Arn"]]
            getattr(_store(ctx), put)(holder)
            _store(ctx).put_policy(dict(p, AttachmentCount=p["AttachmentCount"] + 1))
        return {}

    def detach(ctx, params: dict) -> dict:
        holder = dict(find(ctx, params[f"{kind}Name"]))
        arn = params["PolicyArn"]
        if arn not in holder["AttachedPolicies"]:
            raise no_such(f"Policy {arn} was not found.")
        holder["AttachedPolicies"] = [a for a in holder["AttachedPolicies"] if a != arn]
        getattr(_store(ctx), put)(holder)
        p = _store(ctx).policies.get(arn)
        if p is not None:
            _store(ctx).put_policy(dict(p, AttachmentCount=max(0, p["AttachmentCount"] - 1)))
        return {}

    def list_attached(ctx, params: dict) -> dict:
        holder = find(ctx, params[f"{kind}Name"])
        out = [{"PolicyName": _store(ctx).policies[a]["PolicyName"], "PolicyArn": a}
               for a in holder["AttachedPolicies"] if a in _store(ctx).policies]
        return {"AttachedPolicies": out, "IsTruncated": False}

    iam(f"Attach{kind}Policy")(attach)
    iam(f"Detach{kind}Policy")(detach)
    iam(f"ListAttached{kind}Policies")(list_attached)


_attachment("User")
_attachment("Role")
