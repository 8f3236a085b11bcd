"""IAM (botocore's ``iam`` model, query protocol): users, groups, access keys, roles with trust
policies, inline and managed policies with versions, attachments, permissions boundaries, tags.

Behaviour and messages from the IAM API reference
(https://docs.aws.amazon.com/IAM/latest/APIReference/): ``NoSuchEntity`` (404),
``EntityAlreadyExists`` (409), ``DeleteConflict`` (409), ``LimitExceeded`` (409),
``MalformedPolicyDocument`` (400). Policy documents go out URL-encoded, as IAM returns them
(botocore decodes them). Every entity belongs to the caller's account, except AWS managed
policies (``arn:aws:iam::aws:policy/...``), which every account sees and none may change; their
``AttachmentCount`` counts the caller's account's attachments.

Every List operation pages as IAM does: ``MaxItems`` (default 100), ``IsTruncated`` and an opaque
``Marker`` to pass back. Listings return a subset of an entity's members, as IAM's do: no
``Tags`` or ``PermissionsBoundary`` in ListUsers/ListRoles/ListPolicies.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote

from ..identity import ids
from ..identity.store import IdentityStore, aws_managed_policies
from ..protocol.errors import AwsError
from . import operation

USER_FIELDS = ("Path", "UserName", "UserId", "Arn", "CreateDate")
GROUP_FIELDS = ("Path", "GroupName", "GroupId", "Arn", "CreateDate")
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


def page(params: dict, items: list, key, member: str) -> dict:
    """``items`` (in IAM's order; ``key`` names one item) from ``Marker`` on, at most ``MaxItems``
    (default 100); ``IsTruncated`` and the ``Marker`` of the next page when more remain. The marker
    is the next item's key: a page resumes there, or, if that item went away meanwhile, at the first
    item whose key sorts after it (the lists ordered by key)."""
    start = 0
    if params.get("Marker"):
        try:
            after = base64.urlsafe_b64decode(params["Marker"].encode()).decode()
        except ValueError:
            raise AwsError("InvalidInput", "Invalid Marker.", 400, type_="Sender") from None
        keys = [key(item) for item in items]
        start = keys.index(after) if after in keys else next((i for i, k in enumerate(keys) if k >= after), len(keys))
    size = params.get("MaxItems") or 100
    chunk = items[start:start + size]
    out: dict[str, Any] = {member: chunk, "IsTruncated": start + size < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = base64.urlsafe_b64encode(key(items[start + size]).encode()).decode()
    return out


def _tagged(ctx, tags: list[dict], given: list[dict], kind: str) -> list[dict]:
    """``tags`` with ``given`` set (a key given again takes the new value); IAM's 50-tag limit."""
    merged = {t["Key"]: t["Value"] for t in tags}
    merged.update({t["Key"]: t["Value"] for t in given})
    cap = ctx.lamb.settings.limits.iam_tags_per_entity
    if len(merged) > cap:
        raise AwsError("LimitExceeded", f"Cannot exceed quota for TagsPer{kind}: {cap}.", 409, type_="Sender")
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def _boundary(ctx, params: dict) -> str | None:
    """The ``PermissionsBoundary`` a request names: an existing managed policy's ARN."""
    arn = params.get("PermissionsBoundary")
    if arn is not None:
        attachable(ctx, arn)
    return arn


def _with_boundary(out: dict, entity: dict) -> dict:
    if entity.get("PermissionsBoundary"):
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                      "PermissionsBoundaryArn": entity["PermissionsBoundary"]}
    if entity.get("Tags"):
        out["Tags"] = list(entity["Tags"])
    return out


def _require_no_policies(holder: dict) -> None:
    """IAM deletes a user, group or role only once its policies are gone."""
    if holder["InlinePolicies"]:
        raise conflict("Cannot delete entity, must delete policies first.")
    if holder["AttachedPolicies"]:
        raise conflict("Cannot delete entity, must detach all policies first.")


# ------------------------------------------------------------------ users
def user(ctx, name: str) -> dict:
    found = _store(ctx).users.get((_account(ctx), name))
    if found is None:
        raise no_such(f"The user with name {name} cannot be found.")
    return found


def _user_out(u: dict) -> dict:
    return _with_boundary(_pick(u, USER_FIELDS), u)


def _new(ctx, params: dict, kind: str, table: dict, id_prefix: str) -> dict:
    """A new user, group or role named by the request (EntityAlreadyExists for a name in use)."""
    account, name, path = _account(ctx), params[f"{kind}Name"], params.get("Path") or "/"
    if (account, name) in table:
        raise exists(f"{kind} with name {name} already exists.")
    return {"Account": account, f"{kind}Name": name, f"{kind}Id": ids.unique_id(id_prefix), "Path": path,
            "Arn": f"arn:aws:iam::{account}:{kind.lower()}{path}{name}", "CreateDate": time.time(),
            "InlinePolicies": {}, "AttachedPolicies": []}


@iam("CreateUser")
def create_user(ctx, params: dict) -> dict:
    entity = {**_new(ctx, params, "User", _store(ctx).users, "AIDA"), "PermissionsBoundary": _boundary(ctx, params),
              "Tags": _tagged(ctx, [], params.get("Tags") or [], "User")}
    _store(ctx).put_user(entity)
    return {"User": _user_out(entity)}


@iam("GetUser")
def get_user(ctx, params: dict) -> dict:
    if not params.get("UserName"):
        caller = ctx.caller
        if caller is None or caller.key is None or caller.key.user is None:
            arn = caller.arn if caller is not None else ids.root_arn(_account(ctx))
            return {"User": {"UserId": _account(ctx), "Arn": arn, "Path": "/", "UserName": "", "CreateDate": time.time()}}
        params = {"UserName": caller.key.user}
    return {"User": _user_out(user(ctx, params["UserName"]))}


def _listed(ctx, params: dict, table: dict, shown, kind: str) -> dict:
    """ListUsers/ListGroups/ListRoles: the account's entities under ``PathPrefix``, by name, a page."""
    account, prefix = _account(ctx), params.get("PathPrefix") or "/"
    entities = [shown(e) for (a, _), e in sorted(table.items()) if a == account and e["Path"].startswith(prefix)]
    return page(params, entities, lambda e: e[f"{kind}Name"], f"{kind}s")


@iam("ListUsers")
def list_users(ctx, params: dict) -> dict:
    return _listed(ctx, params, _store(ctx).users, lambda u: _pick(u, USER_FIELDS), "User")


@iam("UpdateUser")
def update_user(ctx, params: dict) -> dict:
    """https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html: a new path and/or name
    (the user keeps its keys, policies and groups)."""
    store, u = _store(ctx), dict(user(ctx, params["UserName"]))
    new_name, new_path = params.get("NewUserName") or u["UserName"], params.get("NewPath") or u["Path"]
    if new_name != u["UserName"] and (u["Account"], new_name) in store.users:
        raise exists(f"User with name {new_name} already exists.")
    old = u["UserName"]
    u.update(UserName=new_name, Path=new_path, Arn=ids.user_arn(u["Account"], new_name, new_path))
    if new_name != old:
        store.delete_user(u["Account"], old)
        for g in store.groups_of(u["Account"], old):
            store.put_group(dict(g, Users=[new_name if m == old else m for m in g["Users"]]))
        for k in [k for k in store.keys.values() if k.account == u["Account"] and k.user == old]:
            k.user, k.principal = new_name, u["Arn"]
            store.save_key(k)
    store.put_user(u)
    return {}


@iam("DeleteUser")
def delete_user(ctx, params: dict) -> dict:
    u = user(ctx, params["UserName"])
    if any(k.user == u["UserName"] and k.account == u["Account"] and k.token is None for k in _store(ctx).keys.values()):
        raise conflict("Cannot delete entity, must delete access keys first.")
    _require_no_policies(u)
    if _store(ctx).groups_of(u["Account"], u["UserName"]):
        raise conflict("Cannot delete entity, must remove user from all groups first.")
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
    keys = [_key_meta(k, name) for k in sorted(_user_keys(ctx, name), key=lambda k: (k.created, k.access_key_id))]
    return page(params, keys, lambda k: f"{k['CreateDate']:020.6f}{k['AccessKeyId']}", "AccessKeyMetadata")


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


# ------------------------------------------------------------------ groups
def group(ctx, name: str) -> dict:
    found = _store(ctx).groups.get((_account(ctx), name))
    if found is None:
        raise no_such(f"The group with name {name} cannot be found.")
    return found


@iam("CreateGroup")
def create_group(ctx, params: dict) -> dict:
    entity = {**_new(ctx, params, "Group", _store(ctx).groups, "AGPA"), "Users": []}
    _store(ctx).put_group(entity)
    return {"Group": _pick(entity, GROUP_FIELDS)}


@iam("GetGroup")
def get_group(ctx, params: dict) -> dict:
    g = group(ctx, params["GroupName"])
    members = [_pick(u, USER_FIELDS) for u in (_store(ctx).users.get((g["Account"], n)) for n in sorted(g["Users"]))
               if u is not None]
    return {"Group": _pick(g, GROUP_FIELDS), **page(params, members, lambda u: u["UserName"], "Users")}


@iam("ListGroups")
def list_groups(ctx, params: dict) -> dict:
    return _listed(ctx, params, _store(ctx).groups, lambda g: _pick(g, GROUP_FIELDS), "Group")


@iam("ListGroupsForUser")
def list_groups_for_user(ctx, params: dict) -> dict:
    u = user(ctx, params["UserName"])
    groups = [_pick(g, GROUP_FIELDS) for g in _store(ctx).groups_of(u["Account"], u["UserName"])]
    return page(params, groups, lambda g: g["GroupName"], "Groups")


@iam("UpdateGroup")
def update_group(ctx, params: dict) -> dict:
    store, g = _store(ctx), dict(group(ctx, params["GroupName"]))
    new_name, new_path = params.get("NewGroupName") or g["GroupName"], params.get("NewPath") or g["Path"]
    if new_name != g["GroupName"] and (g["Account"], new_name) in store.groups:
        raise exists(f"Group with name {new_name} already exists.")
    store.delete_group(g["Account"], g["GroupName"])
    g.update(GroupName=new_name, Path=new_path, Arn=f"arn:aws:iam::{g['Account']}:group{new_path}{new_name}")
    store.put_group(g)
    return {}


@iam("DeleteGroup")
def delete_group(ctx, params: dict) -> dict:
    g = group(ctx, params["GroupName"])
    if g["Users"]:
        raise conflict("Cannot delete entity, must remove users from group first.")
    _require_no_policies(g)
    _store(ctx).delete_group(g["Account"], g["GroupName"])
    return {}


@iam("AddUserToGroup")
def add_user_to_group(ctx, params: dict) -> dict:
    g, u = group(ctx, params["GroupName"]), user(ctx, params["UserName"])
    if u["UserName"] not in g["Users"]:
        cap = ctx.lamb.settings.limits.iam_groups_per_user
        if len(_store(ctx).groups_of(u["Account"], u["UserName"])) >= cap:
            raise limit(f"Cannot exceed quota for GroupsPerUser: {cap}")
        _store(ctx).put_group(dict(g, Users=g["Users"] + [u["UserName"]]))
    return {}


@iam("RemoveUserFromGroup")
def remove_user_from_group(ctx, params: dict) -> dict:
    g, u = group(ctx, params["GroupName"]), user(ctx, params["UserName"])
    if u["UserName"] not in g["Users"]:
        raise no_such(f"The user with name {u['UserName']} cannot be found.")
    _store(ctx).put_group(dict(g, Users=[n for n in g["Users"] if n != u["UserName"]]))
    return {}


# ------------------------------------------------------------------ roles
def role(ctx, name: str) -> dict:
    found = _store(ctx).roles.get((_account(ctx), name))
    if found is None:
        raise no_such(f"The role with name {name} cannot be found.")
    return found


def _role_out(r: dict, listed: bool = False) -> dict:
    out = {**_pick(r, ROLE_FIELDS), "AssumeRolePolicyDocument": encoded(r["AssumeRolePolicyDocument"])}
    return out if listed else _with_boundary(out, r)


@iam("CreateRole")
def create_role(ctx, params: dict) -> dict:
    entity = {**_new(ctx, params, "Role", _store(ctx).roles, "AROA"),
              "AssumeRolePolicyDocument": document(params["AssumeRolePolicyDocument"]),
              "Description": params.get("Description"), "MaxSessionDuration": params.get("MaxSessionDuration") or 3600,
              "PermissionsBoundary": _boundary(ctx, params), "Tags": _tagged(ctx, [], params.get("Tags") or [], "Role")}
    _store(ctx).put_role(entity)
    return {"Role": _role_out(entity)}


@iam("GetRole")
def get_role(ctx, params: dict) -> dict:
    return {"Role": _role_out(role(ctx, params["RoleName"]))}


@iam("ListRoles")
def list_roles(ctx, params: dict) -> dict:
    return _listed(ctx, params, _store(ctx).roles, lambda r: _role_out(r, listed=True), "Role")


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


@iam("DeleteRole")
def delete_role(ctx, params: dict) -> dict:
    r = role(ctx, params["RoleName"])
    _require_no_policies(r)
    if _profiles_of(ctx, r["RoleName"]):
        raise conflict("Cannot delete entity, must remove roles from instance profile first.")
    _store(ctx).delete_role(r["Account"], r["RoleName"])
    return {}


# ------------------------------------------------------------------ instance profiles
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html:
# a container for one role (its "Roles" list holds at most one name).
def instance_profile(ctx, name: str) -> dict:
    found = _store(ctx).instance_profiles.get((_account(ctx), name))
    if found is None:
        raise no_such(f"Instance Profile {name} cannot be found.")
    return found


def _profile_out(ctx, p: dict, listed: bool = False) -> dict:
    roles = [_role_out(r, listed=True) for r in (_store(ctx).roles.get((p["Account"], n)) for n in p["Roles"]) if r]
    out = {**_pick(p, ("Path", "InstanceProfileName", "InstanceProfileId", "Arn", "CreateDate")), "Roles": roles}
    if p.get("Tags") and not listed:
        out["Tags"] = list(p["Tags"])
    return out


def _profiles_of(ctx, role_name: str) -> list[dict]:
    account = _account(ctx)
    return [p for (a, _), p in sorted(_store(ctx).instance_profiles.items()) if a == account and role_name in p["Roles"]]


@iam("CreateInstanceProfile")
def create_instance_profile(ctx, params: dict) -> dict:
    account, name, path = _account(ctx), params["InstanceProfileName"], params.get("Path") or "/"
    if (account, name) in _store(ctx).instance_profiles:
        raise exists(f"Instance Profile {name} already exists.")
    entity = {"Account": account, "InstanceProfileName": name, "InstanceProfileId": ids.unique_id("AIPA"),
              "Path": path, "Arn": f"arn:aws:iam::{account}:instance-profile{path}{name}", "CreateDate": time.time(),
              "Roles": [], "Tags": _tagged(ctx, [], params.get("Tags") or [], "InstanceProfile")}
    _store(ctx).put_entity("instance-profile", entity)
    return {"InstanceProfile": _profile_out(ctx, entity)}


@iam("GetInstanceProfile")
def get_instance_profile(ctx, params: dict) -> dict:
    return {"InstanceProfile": _profile_out(ctx, instance_profile(ctx, params["InstanceProfileName"]))}


@iam("ListInstanceProfiles")
def list_instance_profiles(ctx, params: dict) -> dict:
    return _listed(ctx, params, _store(ctx).instance_profiles, lambda p: _profile_out(ctx, p, listed=True),
                   "InstanceProfile")


@iam("ListInstanceProfilesForRole")
def list_instance_profiles_for_role(ctx, params: dict) -> dict:
    r = role(ctx, params["RoleName"])
    profiles = [_profile_out(ctx, p, listed=True) for p in _profiles_of(ctx, r["RoleName"])]
    return page(params, profiles, lambda p: p["InstanceProfileName"], "InstanceProfiles")


@iam("AddRoleToInstanceProfile")
def add_role_to_instance_profile(ctx, params: dict) -> dict:
    p, r = instance_profile(ctx, params["InstanceProfileName"]), role(ctx, params["RoleName"])
    if p["Roles"]:
        raise limit("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    _store(ctx).put_entity("instance-profile", dict(p, Roles=[r["RoleName"]]))
    return {}


@iam("RemoveRoleFromInstanceProfile")
def remove_role_from_instance_profile(ctx, params: dict) -> dict:
    p, r = instance_profile(ctx, params["InstanceProfileName"]), role(ctx, params["RoleName"])
    if r["RoleName"] not in p["Roles"]:
        raise no_such(f"The role with name {r['RoleName']} cannot be found.")
    _store(ctx).put_entity("instance-profile", dict(p, Roles=[]))
    return {}


@iam("DeleteInstanceProfile")
def delete_instance_profile(ctx, params: dict) -> dict:
    p = instance_profile(ctx, params["InstanceProfileName"])
    if p["Roles"]:
        raise conflict("Cannot delete entity, must remove roles from instance profile first.")
    _store(ctx).delete_entity("instance-profile", p["Account"], p["InstanceProfileName"])
    return {}


# ------------------------------------------------------------------ per kind: users, groups, roles
_FIND = {"User": user, "Group": group, "Role": role}
_PUT = {"User": "put_user", "Group": "put_group", "Role": "put_role"}


def _save(ctx, kind: str, holder: dict) -> None:
    getattr(_store(ctx), _PUT[kind])(holder)


def _inline(kind: str):
    find, noun = _FIND[kind], kind.lower()

    def put_policy(ctx, params: dict) -> dict:
        holder = dict(find(ctx, params[f"{kind}Name"]))
        holder["InlinePolicies"] = {**holder["InlinePolicies"], params["PolicyName"]: document(params["PolicyDocument"])}
        _save(ctx, kind, holder)
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
        _save(ctx, kind, holder)
        return {}

    def list_policies(ctx, params: dict) -> dict:
        names = sorted(find(ctx, params[f"{kind}Name"])["InlinePolicies"])
        return page(params, names, lambda n: n, "PolicyNames")

    iam(f"Put{kind}Policy")(put_policy)
    iam(f"Get{kind}Policy")(get_policy)
    iam(f"Delete{kind}Policy")(delete_policy)
    iam(f"List{kind}Policies")(list_policies)


def _attachment(kind: str):
    find = _FIND[kind]

    def attach(ctx, params: dict) -> dict:
        holder = dict(find(ctx, params[f"{kind}Name"]))
        p = attachable(ctx, params["PolicyArn"])
        if p["Arn"] not in holder["AttachedPolicies"]:
            if len(holder["AttachedPolicies"]) >= ctx.lamb.settings.limits.iam_managed_policies_per_entity:
                raise limit(f"Cannot exceed quota for PoliciesPer{kind}: "
                            f"{ctx.lamb.settings.limits.iam_managed_policies_per_entity}")
            holder["AttachedPolicies"] = holder["AttachedPolicies"] + [p["Arn"]]
            _save(ctx, kind, holder)
        return {}

    def detach(ctx, params: dict) -> dict:
        holder = dict(find(ctx, params[f"{kind}Name"]))
        arn = params["PolicyArn"]
        if arn not in holder["AttachedPolicies"]:
            raise no_such(f"Policy {arn} was not found.")
        holder["AttachedPolicies"] = [a for a in holder["AttachedPolicies"] if a != arn]
        _save(ctx, kind, holder)
        return {}

    def list_attached(ctx, params: dict) -> dict:
        holder, prefix = find(ctx, params[f"{kind}Name"]), params.get("PathPrefix") or "/"
        policies = [p for p in (_store(ctx).policy(a) for a in sorted(holder["AttachedPolicies"])) if p is not None]
        out = [{"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]} for p in policies if p["Path"].startswith(prefix)]
        return page(params, out, lambda p: p["PolicyArn"], "AttachedPolicies")

    iam(f"Attach{kind}Policy")(attach)
    iam(f"Detach{kind}Policy")(detach)
    iam(f"ListAttached{kind}Policies")(list_attached)


def _tagging(kind: str, find, change=None):
    """Tag{kind}/Untag{kind}/List{kind}Tags (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html);
    ``change(ctx, params, action)`` finds what tagging may change (``find`` when not given)."""
    change = change or (lambda ctx, params, action: find(ctx, params))

    def tag(ctx, params: dict) -> dict:
        holder = change(ctx, params, f"Tag{kind}")
        _save_tagged(ctx, kind, dict(holder, Tags=_tagged(ctx, holder.get("Tags") or [], params["Tags"], kind)))
        return {}

    def untag(ctx, params: dict) -> dict:
        holder = change(ctx, params, f"Untag{kind}")
        gone = set(params["TagKeys"])
        _save_tagged(ctx, kind, dict(holder, Tags=[t for t in holder.get("Tags") or [] if t["Key"] not in gone]))
        return {}

    def list_tags(ctx, params: dict) -> dict:
        return page(params, list(find(ctx, params).get("Tags") or []), lambda t: t["Key"], "Tags")

    iam(f"Tag{kind}")(tag)
    iam(f"Untag{kind}")(untag)
    iam(f"List{kind}Tags")(list_tags)


def _save_tagged(ctx, kind: str, entity: dict) -> None:
    if kind == "Policy":
        _store(ctx).put_policy(entity)
    elif kind == "InstanceProfile":
        _store(ctx).put_entity("instance-profile", entity)
    else:
        _save(ctx, kind, entity)


def _boundaries(kind: str):
    """Put/Delete{kind}PermissionsBoundary
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html)."""
    find = _FIND[kind]

    def put(ctx, params: dict) -> dict:
        holder = find(ctx, params[f"{kind}Name"])
        _save(ctx, kind, dict(holder, PermissionsBoundary=_boundary(ctx, params)))
        return {}

    def delete(ctx, params: dict) -> dict:
        holder = find(ctx, params[f"{kind}Name"])
        _save(ctx, kind, dict(holder, PermissionsBoundary=None))
        return {}

    iam(f"Put{kind}PermissionsBoundary")(put)
    iam(f"Delete{kind}PermissionsBoundary")(delete)


for _kind in ("User", "Group", "Role"):
    _inline(_kind)
    _attachment(_kind)
_tagging("User", lambda ctx, params: user(ctx, params["UserName"]))
_tagging("Role", lambda ctx, params: role(ctx, params["RoleName"]))
_tagging("InstanceProfile", lambda ctx, params: instance_profile(ctx, params["InstanceProfileName"]))
_boundaries("User")
_boundaries("Role")


# ------------------------------------------------------------------ managed policies
def managed(ctx, arn: str) -> dict:
    """A customer managed policy of the caller's account, or an AWS managed policy."""
    found = _store(ctx).policy(arn)
    if found is None or found["Account"] not in (_account(ctx), "aws"):
        raise no_such(f"Policy {arn} was not found.")
    return found


def attachable(ctx, arn: str) -> dict:
    """The managed policy an attachment or a permissions boundary names."""
    found = _store(ctx).policy(arn)
    if found is None or found["Account"] not in (_account(ctx), "aws"):
        raise no_such(f"Policy {arn} does not exist or is not attachable.")
    return found


def own(ctx, arn: str, action: str) -> dict:
    """A managed policy the caller may change: AWS's own cannot be changed by any account."""
    p = managed(ctx, arn)
    if p["Account"] == "aws":
        raise AwsError("AccessDenied", f"User: {ctx.caller.arn if ctx.caller else ids.root_arn(_account(ctx))} is not "
                       f"authorized to perform: iam:{action} on resource: policy {arn}", 403, type_="Sender")
    return p


def _holders(ctx) -> list[tuple[str, dict]]:
    """The account's users, groups and roles, with their kind."""
    account, store = _account(ctx), _store(ctx)
    return [(kind, e) for kind, table in (("User", store.users), ("Group", store.groups), ("Role", store.roles))
            for (a, _), e in sorted(table.items()) if a == account]


def _usage(ctx, arn: str) -> tuple[int, int]:
    """How many of the account's users, groups and roles have ``arn`` attached, and use it as their boundary."""
    holders = _holders(ctx)
    return (sum(arn in e["AttachedPolicies"] for _, e in holders),
            sum(e.get("PermissionsBoundary") == arn for _, e in holders))


def _policy_out(ctx, p: dict, listed: bool = False) -> dict:
    attached, bounding = _usage(ctx, p["Arn"])
    out = _pick(dict(p, AttachmentCount=attached, PermissionsBoundaryUsageCount=bounding), POLICY_FIELDS)
    if listed:
        out.pop("Description", None)  # ListPolicies leaves out the description, as IAM's does
    elif p.get("Tags"):
        out["Tags"] = list(p["Tags"])
    return out


@iam("CreatePolicy")
def create_policy(ctx, params: dict) -> dict:
    account, name, path = _account(ctx), params["PolicyName"], params.get("Path") or "/"
    arn = ids.policy_arn(account, name, path)
    if any(p["Account"] == account and p["PolicyName"] == name for p in _store(ctx).policies.values()):
        raise exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
    now = time.time()
    entity = {"Account": account, "PolicyName": name, "PolicyId": ids.unique_id("ANPA"), "Arn": arn, "Path": path,
              "DefaultVersionId": "v1", "IsAttachable": True,
              "Description": params.get("Description"), "CreateDate": now, "UpdateDate": now, "NextVersion": 2,
              "Versions": {"v1": {"Document": document(params["PolicyDocument"]), "CreateDate": now}},
              "Tags": _tagged(ctx, [], params.get("Tags") or [], "Policy")}
    _store(ctx).put_policy(entity)
    return {"Policy": _policy_out(ctx, entity)}


@iam("GetPolicy")
def get_policy(ctx, params: dict) -> dict:
    return {"Policy": _policy_out(ctx, managed(ctx, params["PolicyArn"]))}


@iam("ListPolicies")
def list_policies(ctx, params: dict) -> dict:
    """``Scope`` AWS (AWS managed), Local (the account's) or All; ``OnlyAttached``; ``PathPrefix``;
    ``PolicyUsageFilter`` (PermissionsPolicy: attached, PermissionsBoundary: used as a boundary)."""
    account, store = _account(ctx), _store(ctx)
    scope, prefix = params.get("Scope") or "All", params.get("PathPrefix") or "/"
    candidates = []
    if scope in ("All", "AWS"):
        candidates += list(aws_managed_policies().values())
    if scope in ("All", "Local"):
        candidates += [p for p in store.policies.values() if p["Account"] == account]
    out = []
    usage_filter = params.get("PolicyUsageFilter")
    for p in sorted(candidates, key=lambda p: p["Arn"]):
        if not p["Path"].startswith(prefix):
            continue
        entry = _policy_out(ctx, p, listed=True)
        used = {"PermissionsPolicy": entry["AttachmentCount"] > 0,
                "PermissionsBoundary": entry["PermissionsBoundaryUsageCount"] > 0}
        if params.get("OnlyAttached") and not (used[usage_filter] if usage_filter else any(used.values())):
            continue
        out.append(entry)
    return page(params, out, lambda p: p["Arn"], "Policies")


@iam("ListEntitiesForPolicy")
def list_entities_for_policy(ctx, params: dict) -> dict:
    """The account's users, groups and roles that have the policy attached (``PolicyUsageFilter``
    PermissionsPolicy) or as their boundary (PermissionsBoundary), both when not given; filtered by
    ``EntityFilter`` (User, Group, Role) and ``PathPrefix``."""
    arn = managed(ctx, params["PolicyArn"])["Arn"]
    wanted, prefix, usage = params.get("EntityFilter"), params.get("PathPrefix") or "/", params.get("PolicyUsageFilter")
    rows = []
    for kind, e in _holders(ctx):
        attached = usage != "PermissionsBoundary" and arn in e["AttachedPolicies"]
        bounded = usage != "PermissionsPolicy" and e.get("PermissionsBoundary") == arn
        if (attached or bounded) and wanted in (None, kind) and e["Path"].startswith(prefix):
            rows.append({"Kind": kind, f"{kind}Name": e[f"{kind}Name"], f"{kind}Id": e[f"{kind}Id"]})
    paged = page(params, rows, lambda r: f"{r['Kind']}/{r[r['Kind'] + 'Name']}", "Rows")
    shown = paged.pop("Rows")
    out = {f"Policy{kind}s": [{k: v for k, v in r.items() if k != "Kind"} for r in shown if r["Kind"] == kind]
           for kind in ("Group", "User", "Role")}
    return {**out, **paged}


_tagging("Policy", lambda ctx, params: managed(ctx, params["PolicyArn"]),
         lambda ctx, params, action: own(ctx, params["PolicyArn"], action))


@iam("DeletePolicy")
def delete_policy(ctx, params: dict) -> dict:
    p = own(ctx, params["PolicyArn"], "DeletePolicy")
    if any(_usage(ctx, p["Arn"])):
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
    p = dict(own(ctx, params["PolicyArn"], "CreatePolicyVersion"))
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


def _version(ctx, params: dict, p: dict | None = None) -> tuple[dict, str]:
    p = p or managed(ctx, params["PolicyArn"])
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
    out = [_version_out(vid, v, p["DefaultVersionId"], False) for vid, v in versions]
    return page(params, out, lambda v: f"{10**9 - int(v['VersionId'][1:]):010d}", "Versions")


@iam("SetDefaultPolicyVersion")
def set_default_policy_version(ctx, params: dict) -> dict:
    p, vid = _version(ctx, params, own(ctx, params["PolicyArn"], "SetDefaultPolicyVersion"))
    _store(ctx).put_policy(dict(p, DefaultVersionId=vid, UpdateDate=time.time()))
    return {}


@iam("DeletePolicyVersion")
def delete_policy_version(ctx, params: dict) -> dict:
    p, vid = _version(ctx, params, own(ctx, params["PolicyArn"], "DeletePolicyVersion"))
    if vid == p["DefaultVersionId"]:
        raise conflict("Cannot delete the default version of a policy.")
    _store(ctx).put_policy(dict(p, Versions={k: v for k, v in p["Versions"].items() if k != vid}))
    return {}
