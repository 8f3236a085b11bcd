"""Accounts, IAM users, groups, roles, instance profiles, managed policies, access keys and STS sessions: in memory,
written through to SQLite (one row per entity, secrets sealed with ``lamb.sealing``).

AWS managed policies (``arn:aws:iam::aws:policy/...``) exist in every account: their documents
come from ``aws_managed_policies.json`` (AWS's current default versions, from the AWS Managed
Policy Reference), read once and never written.

The request path reads only memory: ``key(access_key_id)``, ``policies_of(principal)`` (a user's
include its groups') and ``boundary_of(principal)`` (its permissions boundary), both at once by ``grants_of``.
A key another process added (``lamb accounts create``) is read from the database on a miss.
Entity shapes follow IAM's output shapes (``User``, ``Role``, ``Policy``, ``AccessKey``) so the
API handlers return them as they are.
"""

from __future__ import annotations

import calendar
import functools
import json
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterator

from ..sealing import Sealer
from ..store.db import Database
from . import ids

SCHEMA = """
CREATE TABLE IF NOT EXISTS iam_entities (
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    data  TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
"""

ROOT = "root"
AWS_MANAGED = "arn:aws:iam::aws:policy/"


def _epoch(iso: str) -> float:
    return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))


@functools.lru_cache(maxsize=1)
def aws_managed_policies() -> dict[str, dict]:
    """The AWS managed policies Lamb knows, by ARN, shaped as a customer managed policy entity
    (``Account`` is ``aws``; the PolicyId is derived from the ARN, AWS's own ids are not published)."""
    raw = json.loads(resources.files(__package__).joinpath("aws_managed_policies.json").read_text())
    out = {}
    for arn, p in raw.items():
        policy_id = ids.stable_id("ANPA", arn)
        created, updated = _epoch(p["CreateDate"]), _epoch(p["UpdateDate"])
        out[arn] = {"Account": "aws", "PolicyName": p["PolicyName"], "PolicyId": policy_id, "Arn": arn,
                    "Path": p["Path"], "DefaultVersionId": p["DefaultVersionId"], "IsAttachable": True,
                    "Description": p["Description"], "CreateDate": created, "UpdateDate": updated,
                    "Versions": {p["DefaultVersionId"]: {"Document": p["Document"], "CreateDate": updated}}}
    return out


@dataclass
class Key:
    """An access key: a user's, an account root's, or an STS session's (``token`` set)."""

    access_key_id: str
    secret: str
    account: str
    principal: str  # the caller's ARN (root, user, or assumed-role session)
    status: str = "Active"
    created: float = field(default_factory=time.time)
    user: str | None = None  # the IAM user name of a user key
    token: str | None = None
    expires: float | None = None
    role_arn: str | None = None  # the role of an assumed-role session
    session_policies: list | None = None  # AssumeRole's Policy / PolicyArns documents (they cap the role's)
    session_tags: dict | None = None  # AssumeRole's Tags and the transitive ones it inherited (aws:PrincipalTag)
    transitive_tag_keys: list | None = None  # which of them a session this one assumes inherits
    source_identity: str | None = None  # AssumeRole's SourceIdentity, kept by every session chained from it


def _key_row(k: Key, sealer: Sealer) -> dict:
    row = dict(k.__dict__)
    row["secret"] = sealer.seal(k.secret, k.access_key_id)
    if k.token is not None:
        row["token"] = sealer.seal(k.token, k.access_key_id)
    return row


def _key_from(row: dict, sealer: Sealer) -> Key:
    row = dict(row)
    row["secret"] = sealer.open(row["secret"], row["access_key_id"])
    if row.get("token") is not None:
        row["token"] = sealer.open(row["token"], row["access_key_id"])
    return Key(**row)


class IdentityStore:
    def __init__(self, db: Database, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer
        db.ensure(SCHEMA)
        self._lock = threading.RLock()
        self.accounts: dict[str, dict] = {}
        self.users: dict[tuple[str, str], dict] = {}
        self.roles: dict[tuple[str, str], dict] = {}
        self.groups: dict[tuple[str, str], dict] = {}  # a group's members are its "Users" (names)
        self.instance_profiles: dict[tuple[str, str], dict] = {}  # its role's name in "Roles"
        self.policies: dict[str, dict] = {}  # managed policy ARN -> entity (with "Versions")
        self.keys: dict[str, Key] = {}
        for kind, _id, data in db.query("SELECT kind, id, data FROM iam_entities"):
            self._load(kind, json.loads(data))

    def _load(self, kind: str, data: dict) -> None:
        if kind == "account":
            self.accounts[data["Id"]] = data
        elif kind in ("user", "role", "group", "instance-profile"):
            table, name = self._table(kind)
            table[(data["Account"], data[name])] = data
        elif kind == "policy":
            self.policies[data["Arn"]] = data
        elif kind == "key":
            self.keys[data["access_key_id"]] = _key_from(data, self.sealer)

    def _put(self, kind: str, id: str, data: dict) -> None:
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO iam_entities (kind, id, data) VALUES (?, ?, ?)",
                      (kind, id, json.dumps(data)))

    def _delete(self, kind: str, id: str) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM iam_entities WHERE kind = ? AND id = ?", (kind, id))

    # ---------------------------------------------------------------- accounts and keys
    def ensure_account(self, account: str) -> tuple[dict, Key | None]:
        """The account, created with its root access key if new (the key is returned then)."""
        with self._lock:
            if account in self.accounts:
                return self.accounts[account], None
            entity = {"Id": account, "Created": time.time()}
            self.accounts[account] = entity
            self._put("account", account, entity)
            return entity, self.add_key(account, ids.root_arn(account))

    def create_account(self) -> tuple[dict, Key]:
        with self._lock:
            account = ids.account_id()
            while account in self.accounts:
                account = ids.account_id()
            entity, key = self.ensure_account(account)
            assert key is not None
            return entity, key

    def root_keys(self, account: str) -> list[Key]:
        root = ids.root_arn(account)
        return [k for k in self.keys.values() if k.principal == root and k.token is None]

    def add_key(self, account: str, principal: str, *, user: str | None = None, token: str | None = None,
                expires: float | None = None, role_arn: str | None = None, persist: bool = True) -> Key:
        """A new key; ``persist=False`` keeps it in memory only (an execution environment's
        credentials, which cannot outlive this process)."""
        key = Key(ids.unique_id("ASIA" if token else "AKIA"), ids.secret_key(), account, principal,
                  user=user, token=token, expires=expires, role_arn=role_arn)
        with self._lock:
            self.keys[key.access_key_id] = key
            if persist:
                self._put("key", key.access_key_id, _key_row(key, self.sealer))
        return key

    def save_key(self, key: Key) -> None:
        with self._lock:
            self._put("key", key.access_key_id, _key_row(key, self.sealer))

    def delete_key(self, access_key_id: str) -> None:
        with self._lock:
            self.keys.pop(access_key_id, None)
            self._delete("key", access_key_id)

    def key(self, access_key_id: str) -> Key | None:
        """The key with this id (read from the database if another process added it)."""
        k = self.keys.get(access_key_id)
        if k is None:
            rows = self.db.query("SELECT data FROM iam_entities WHERE kind = 'key' AND id = ?", (access_key_id,))
            if rows:
                k = _key_from(json.loads(rows[0][0]), self.sealer)
                self.keys[access_key_id] = k
                self.accounts.setdefault(k.account, {"Id": k.account})
        return k

    def role_session(self, role_arn: str, session_name: str, seconds: float, now: float | None = None, *,
                     persist: bool = True, session_policies: list | None = None, session_tags: dict | None = None,
                     transitive_tag_keys: list | None = None, source_identity: str | None = None,
                     min_token_size: int = 0) -> Key:
        """Temporary credentials of ``role_arn`` (an ``ASIA`` key with a session token): what
        AssumeRole hands out and what every execution environment of a function gets."""
        parts = role_arn.split(":")
        account, role_name = parts[4], parts[5].rsplit("/", 1)[-1]
        now = time.time() if now is None else now
        key = self.add_key(account, ids.assumed_role_arn(account, role_name, session_name),
                           token=ids.session_token(min_token_size),
                           expires=now + seconds, role_arn=role_arn, persist=False)
        if session_policies is not None:
            key.session_policies = session_policies
        key.session_tags, key.transitive_tag_keys = session_tags or None, transitive_tag_keys or None
        key.source_identity = source_identity
        if persist:
            self.save_key(key)
        return key

    def drop_expired_sessions(self, now: float) -> None:
        """Forget sessions that expired more than a day ago."""
        for k in [k for k in list(self.keys.values()) if k.expires is not None and k.expires < now - 86400]:
            self.delete_key(k.access_key_id)

    # ---------------------------------------------------------------- users, groups, roles, instance profiles
    def _table(self, kind: str) -> tuple[dict, str]:
        """The in-memory table of a named entity kind, and the member that names one."""
        return {"user": (self.users, "UserName"), "role": (self.roles, "RoleName"),
                "group": (self.groups, "GroupName"),
                "instance-profile": (self.instance_profiles, "InstanceProfileName")}[kind]

    def put_entity(self, kind: str, entity: dict) -> None:
        table, name = self._table(kind)
        with self._lock:
            table[(entity["Account"], entity[name])] = entity
            self._put(kind, f"{entity['Account']}/{entity[name]}", entity)

    def delete_entity(self, kind: str, account: str, name: str) -> None:
        with self._lock:
            self._table(kind)[0].pop((account, name), None)
            self._delete(kind, f"{account}/{name}")

    def put_user(self, user: dict) -> None:
        self.put_entity("user", user)

    def delete_user(self, account: str, name: str) -> None:
        self.delete_entity("user", account, name)

    def put_role(self, role: dict) -> None:
        self.put_entity("role", role)

    def delete_role(self, account: str, name: str) -> None:
        self.delete_entity("role", account, name)

    def put_group(self, group: dict) -> None:
        self.put_entity("group", group)

    def delete_group(self, account: str, name: str) -> None:
        self.delete_entity("group", account, name)

    def groups_of(self, account: str, user: str) -> list[dict]:
        """The groups ``user`` is a member of, by name."""
        return [g for (a, _), g in sorted(self.groups.items()) if a == account and user in g["Users"]]

    def role_by_arn(self, arn: str) -> dict | None:
        parts = arn.split(":")
        if len(parts) != 6 or not parts[5].startswith("role/"):
            return None
        return self.roles.get((parts[4], parts[5].rsplit("/", 1)[-1]))

    def put_policy(self, policy: dict) -> None:
        with self._lock:
            self.policies[policy["Arn"]] = policy
            self._put("policy", policy["Arn"], policy)

    def delete_policy(self, arn: str) -> None:
        with self._lock:
            self.policies.pop(arn, None)
            self._delete("policy", arn)

    def policy(self, arn: str) -> dict | None:
        """A customer managed policy, or one of AWS's."""
        found = self.policies.get(arn)
        if found is None and arn.startswith(AWS_MANAGED):
            return aws_managed_policies().get(arn)
        return found

    def default_document(self, arn: str) -> dict | None:
        policy = self.policy(arn)
        return policy["Versions"][policy["DefaultVersionId"]]["Document"] if policy is not None else None

    # ---------------------------------------------------------------- what a caller may do
    def _documents(self, holder: dict) -> Iterator[dict]:
        yield from holder.get("InlinePolicies", {}).values()
        for arn in holder.get("AttachedPolicies", []):
            document = self.default_document(arn)
            if document is not None:
                yield document

    def _user_documents(self, user: dict) -> list[dict]:
        """A user's identity-based policies: its own and its groups' (on the request path: no sorting)."""
        docs = list(self._documents(user))
        if self.groups:
            account, name = user["Account"], user["UserName"]
            for (a, _), group in list(self.groups.items()):
                if a == account and name in group["Users"]:
                    docs.extend(self._documents(group))
        return docs

    def role_policies(self, role: dict) -> list[dict]:
        """A role's identity-based policies (inline and attached)."""
        return list(self._documents(role))

    def policies_of(self, key: Key) -> list[dict] | None:
        """The identity-based policies of a key's principal; None for an account root (allowed everything)."""
        return self.grants_of(key)[0]

    def grants_of(self, key: Key) -> tuple[list[dict] | None, list[dict] | None]:
        """(``policies_of``, ``boundary_of``) with the key's user or role looked up once (every
        authorized request asks both)."""
        if key.role_arn is not None:
            role = self.role_by_arn(key.role_arn)
            return (list(self._documents(role)), self._boundary(role)) if role is not None else ([], None)
        if key.user is not None:
            user = self.users.get((key.account, key.user))
            return (self._user_documents(user), self._boundary(user)) if user is not None else ([], None)
        if key.principal == ids.root_arn(key.account):
            return None, None
        return [], None

    def principal_tags(self, key: Key) -> dict[str, str]:
        """The tags of a key's user or role (a role session's own session tags over its role's), which a
        request's context holds as ``aws:PrincipalTag/…``
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag)."""
        if key.role_arn is not None:
            entity = self.role_by_arn(key.role_arn)
        elif key.user is not None:
            entity = self.users.get((key.account, key.user))
        else:
            entity = None
        tags = {t["Key"]: t["Value"] for t in (entity or {}).get("Tags") or []}
        if key.session_tags:  # a session's own tags win over its role's (keys compare case-insensitively)
            session = {k.lower() for k in key.session_tags}
            tags = {k: v for k, v in tags.items() if k.lower() not in session} | key.session_tags
        return tags

    def _named(self, account: str, params: dict) -> tuple[str, str, dict | None] | None:
        """The user, role, group or instance profile an IAM request names: kind, name, entity (None: none held)."""
        for member, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group"),
                             ("InstanceProfileName", "instance-profile")):
            if isinstance(params.get(member), str):
                return kind, params[member], self._table(kind)[0].get((account, params[member]))
        return None

    def request(self, account: str, params: dict) -> tuple[str, dict[str, Any]]:
        """What an IAM request means to authorization: the ARN of the user, group, role or instance
        profile it names (with its path, as IAM's resource ARNs have it), else of the managed policy,
        else ``*``; and its condition keys (``request_context``)."""
        named = self._named(account, params)
        if named is None:
            resource = params["PolicyArn"] if isinstance(params.get("PolicyArn"), str) else "*"
        else:
            kind, name, entity = named
            resource = entity["Arn"] if entity else f"arn:aws:iam::{account}:{kind}/{name}"
        return resource, self.request_context(account, params)

    def request_context(self, account: str, params: dict) -> dict[str, Any]:
        """The condition keys of an IAM request
        (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html):
        the tags of the user, role, group or instance profile it names (else of the managed policy) as
        ``aws:ResourceTag/…`` (``iam:ResourceTag/…`` too for users and roles); ``iam:PermissionsBoundary``
        (the boundary the request sets, else the user's or role's); ``iam:PolicyARN`` for attaching and
        detaching; the request's ``Tags`` as ``aws:RequestTag/…`` and ``aws:TagKeys`` (``TagKeys`` too)."""
        ctx: dict[str, Any] = {}
        named = self._named(account, params)
        policy_arn = params.get("PolicyArn") if isinstance(params.get("PolicyArn"), str) else None
        if named is not None:
            target, iam_keys = named[2], named[0] in ("user", "role")
            if policy_arn:
                ctx["iam:PolicyARN"] = policy_arn
        else:
            target, iam_keys = self.policy(policy_arn) if policy_arn else None, False
        for tag in (target or {}).get("Tags") or []:
            ctx[f"aws:ResourceTag/{tag['Key']}"] = tag["Value"]
            if iam_keys:
                ctx[f"iam:ResourceTag/{tag['Key']}"] = tag["Value"]
        boundary = params.get("PermissionsBoundary") or (target or {}).get("PermissionsBoundary")
        if isinstance(boundary, str):
            ctx["iam:PermissionsBoundary"] = boundary
        if isinstance(params.get("Tags"), list):
            for tag in params["Tags"]:
                ctx[f"aws:RequestTag/{tag['Key']}"] = tag["Value"]
            ctx["aws:TagKeys"] = [tag["Key"] for tag in params["Tags"]]
        elif isinstance(params.get("TagKeys"), list):
            ctx["aws:TagKeys"] = list(params["TagKeys"])
        return ctx

    def boundary_of(self, key: Key) -> list[dict] | None:
        """The permissions boundary of a key's user or role (the role of a session), as a list of
        one document; None when it has none (an account root never has one)."""
        return self.grants_of(key)[1]

    def _boundary(self, holder: dict) -> list[dict] | None:
        arn = holder.get("PermissionsBoundary")
        if arn is None:
            return None
        document = self.default_document(arn)
        return [document] if document is not None else [{"Statement": []}]


def now_iso(t: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def as_jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))
