"""STS (botocore's ``sts`` model, query protocol): GetCallerIdentity, AssumeRole, GetSessionToken.

https://docs.aws.amazon.com/STS/latest/APIReference/: AssumeRole needs the role's trust
policy to allow the caller (and, for a caller of another account, its own identity policy), with
``sts:ExternalId``, ``sts:SourceIdentity``, ``sts:RoleSessionName``, the caller's ``aws:PrincipalTag/…`` and a
request's session tags (``aws:RequestTag/…``, ``aws:TagKeys``) in the context; session tags need
``sts:TagSession``, a source identity ``sts:SetSourceIdentity``; a role chain passes on transitive tags and
the source identity; MFA codes and ``ProvidedContexts`` are refused (Lamb holds no MFA devices and no
trusted context providers);
sessions last ``DurationSeconds`` (900 s up to the role's MaxSessionDuration, default 1 h);
GetSessionToken is for users and roots, 900 s to 36 h (default 12 h), and refused to
session credentials. The caller's account comes from the key that signed the request.
"""

from __future__ import annotations

import json
import time

from ..identity import ids
from ..protocol.errors import AwsError
from ..policy.context import time_keys
from ..policy.evaluate import Decision, Principal, Request, evaluate
from ..services.authorize import Who, check
from . import operation


def sts(name: str):
    return operation(name, service="sts")


def _caller(ctx):
    return ctx.caller


def _user_id(ctx) -> str:
    caller = ctx.caller
    key = caller.key
    if key is None or caller.is_root:
        return caller.account
    store = ctx.lamb.identities
    if key.role_arn is not None:
        role = store.role_by_arn(key.role_arn)
        return f"{role['RoleId'] if role else 'AROA' + caller.account}:{caller.arn.rsplit('/', 1)[-1]}"
    user = store.users.get((key.account, key.user)) if key.user else None
    return user["UserId"] if user else caller.account


@sts("GetCallerIdentity")
def get_caller_identity(ctx, params: dict) -> dict:
    return {"UserId": _user_id(ctx), "Account": ctx.caller.account, "Arn": ctx.caller.arn}


def _credentials(key) -> dict:
    return {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret, "SessionToken": key.token,
            "Expiration": key.expires}


def _validation(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400, type_="Sender")


@sts("AssumeRole")
def assume_role(ctx, params: dict) -> dict:
    caller, store, limits = ctx.caller, ctx.lamb.identities, ctx.lamb.settings.limits
    role_arn, session = params["RoleArn"], params["RoleSessionName"]
    _no_mfa(params)
    if params.get("ProvidedContexts"):
        raise _validation("ProvidedContexts (trusted identity propagation) is not served by this Lamb server.")
    session_policies = _session_policies(store, params)
    role = store.role_by_arn(role_arn)
    key = caller.key
    policies, boundary = store.grants_of(key) if key is not None else (None, None)
    who = Who(caller.account, caller.arn, policies, session=key.session_policies if key is not None else None,
              boundary=boundary, tags=store.principal_tags(key) if key is not None else None,
              source_identity=key.source_identity if key is not None else None)
    if role is None:
        raise AwsError("AccessDenied", f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
                       f"{role_arn}", 403, type_="Sender")
    seconds = params.get("DurationSeconds") or limits.sts_assume_role_default_s
    if not limits.sts_session_min_s <= seconds <= role["MaxSessionDuration"]:
        raise _validation(f"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    tags, transitive, source_identity = _session_tags(params, key), _transitive(params, key), _source_identity(params, key)

    def refused(who: Who, action: str, resource: str, why: str) -> AwsError:
        return AwsError("AccessDenied", f"User: {who.arn} is not authorized to perform: {action} on resource: {resource}",
                        403, type_="Sender")

    # The trust policy must allow the caller every action the request takes (sts:AssumeRole; sts:TagSession
    # with session tags; sts:SetSourceIdentity with a source identity); the caller's own identity policy must
    # allow them too unless the trust policy names the caller itself (same account)
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html,
    # …/id_session-tags.html, …/id_credentials_temp_control-access_monitor.html).
    context = {"sts:RoleSessionName": session, "aws:PrincipalArn": caller.arn, **time_keys()}
    for k, v in (who.tags or {}).items():
        context[f"aws:PrincipalTag/{k}"] = v
    if params.get("ExternalId") is not None:
        context["sts:ExternalId"] = params["ExternalId"]
    if params.get("SourceIdentity") is not None:
        context["sts:SourceIdentity"] = params["SourceIdentity"]
    if params.get("Tags"):
        for tag in params["Tags"]:
            context[f"aws:RequestTag/{tag['Key']}"] = tag["Value"]
        context["aws:TagKeys"] = [tag["Key"] for tag in params["Tags"]]
    if params.get("TransitiveTagKeys"):
        context["sts:TransitiveTagKeys"] = list(params["TransitiveTagKeys"])
    actions = ["sts:AssumeRole"]
    if params.get("Tags") or params.get("TransitiveTagKeys"):
        actions.append("sts:TagSession")
    if params.get("SourceIdentity") is not None:
        actions.append("sts:SetSourceIdentity")
    trust = role["AssumeRolePolicyDocument"]
    names_caller = caller.arn in json.dumps(trust) and caller.account == role["Account"]
    for action in actions:
        if evaluate([trust], Request(Principal.aws(caller.arn), action, role["Arn"], context)) is not Decision.ALLOW:
            raise refused(who, action, role["Arn"], "")
        if not names_caller:
            check(who, action, role["Arn"], resource_account=caller.account, error=refused, context=context)
    min_size = params.get("MinimumSessionTokenSize") or 0
    made = store.role_session(role["Arn"], session, seconds, session_policies=session_policies, session_tags=tags,
                              transitive_tag_keys=transitive, source_identity=source_identity, min_token_size=min_size)
    out = {"Credentials": _credentials(made),
           "AssumedRoleUser": {"AssumedRoleId": f"{role['RoleId']}:{session}", "Arn": made.principal}}
    if source_identity is not None:
        out["SourceIdentity"] = source_identity
    return out


def _no_mfa(params: dict) -> None:
    if params.get("SerialNumber") or params.get("TokenCode"):
        raise AwsError("AccessDenied", "MultiFactorAuthentication failed: this Lamb server holds no MFA devices, so "
                       "no one-time code can be checked.", 403, type_="Sender")


def _inherited(key) -> dict[str, str]:
    """The transitive session tags of the calling session (a role chain passes them on)."""
    if key is None or not key.session_tags or not key.transitive_tag_keys:
        return {}
    keep = {k.lower() for k in key.transitive_tag_keys}
    return {k: v for k, v in key.session_tags.items() if k.lower() in keep}


def _session_tags(params: dict, key) -> dict[str, str] | None:
    """The new session's tags: the request's ``Tags`` and the calling session's transitive ones. Keys compare
    case-insensitively; passing again a key the calling session passes on fails (AWS: "the operation fails")."""
    inherited = _inherited(key)
    tags: dict[str, str] = dict(inherited)
    seen = {k.lower() for k in inherited}
    for tag in params.get("Tags") or []:
        if tag["Key"].lower() in seen:
            raise _validation(f"Session tag key {tag['Key']} is passed on as a transitive tag by the calling session "
                              f"and cannot be passed again.")
        seen.add(tag["Key"].lower())
        tags[tag["Key"]] = tag["Value"]
    return tags or None


def _transitive(params: dict, key) -> list[str] | None:
    """Which of the new session's tags pass on: the request's ``TransitiveTagKeys`` (each must name one of its
    ``Tags``) and what the calling session passed on, which stays transitive."""
    passed = {t["Key"].lower() for t in params.get("Tags") or []}
    for k in params.get("TransitiveTagKeys") or []:
        if k.lower() not in passed:
            raise _validation(f"Transitive tag key {k} is not one of the session tags passed in Tags.")
    keys = list(params.get("TransitiveTagKeys") or []) + list(_inherited(key))
    return keys or None


def _source_identity(params: dict, key) -> str | None:
    """The session's source identity: the request's ``SourceIdentity``, or the calling session's, which a role
    chain keeps and cannot change."""
    given, before = params.get("SourceIdentity"), key.source_identity if key is not None else None
    if given is not None and given.lower().startswith("aws:"):
        raise _validation("SourceIdentity cannot begin with aws: (reserved for AWS's use).")
    if before is not None and given is not None and given != before:
        raise AwsError("AccessDenied", f"The source identity of the calling session ({before}) cannot be changed in "
                       f"a role chain.", 403, type_="Sender")
    return given if given is not None else before


def _session_policies(store, params: dict) -> list | None:
    """AssumeRole's inline ``Policy`` and managed ``PolicyArns``: None when neither is given."""
    if not params.get("Policy") and not params.get("PolicyArns"):
        return None
    docs = []
    if params.get("Policy"):
        try:
            docs.append(json.loads(params["Policy"]))
        except ValueError:
            raise AwsError("MalformedPolicyDocument", "The policy is not in the valid JSON format.", 400,
                           type_="Sender") from None
    for ref in params.get("PolicyArns") or []:
        policy = store.policy(ref.get("arn", ""))
        if policy is None:
            raise AwsError("NoSuchEntity", f"Policy {ref.get('arn')} does not exist or is not attachable.", 404,
                           type_="Sender")
        docs.append(policy["Versions"][policy["DefaultVersionId"]]["Document"])
    return docs


@sts("GetSessionToken")
def get_session_token(ctx, params: dict) -> dict:
    caller, store, limits = ctx.caller, ctx.lamb.identities, ctx.lamb.settings.limits
    if caller.key is not None and caller.key.token is not None:
        raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403, type_="Sender")
    _no_mfa(params)
    seconds = params.get("DurationSeconds") or limits.sts_session_token_default_s
    if not limits.sts_session_min_s <= seconds <= limits.sts_session_token_max_s:
        raise _validation(f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy "
                          f"constraint: Member must have value less than or equal to {limits.sts_session_token_max_s}")
    user = caller.key.user if caller.key is not None else None
    key = store.add_key(caller.account, caller.arn, user=user, token=ids.session_token(), expires=time.time() + seconds)
    return {"Credentials": _credentials(key)}
