"""STS (botocore's ``sts`` model, query protocol): GetCallerIdentity, AssumeRole, GetSessionToken.

https://docs.aws.amazon.com/STS/latest/APIReference/: AssumeRole needs the role's trust
policy to allow the caller (and, for a caller of another account, its own identity policy);
sessions last ``DurationSeconds`` (900 s up to the role's MaxSessionDuration, default 1 h);
GetSessionToken is for users and roots, 900 s to 36 h (default 12 h), and refused to
session credentials. The caller's account comes from the key that signed the request.
"""

from __future__ import annotations

import json
import time

from ..identity import ids
from ..protocol.errors import AwsError
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
    session_policies = _session_policies(store, params)
    role = store.role_by_arn(role_arn)
    policies, boundary = store.grants_of(caller.key) if caller.key is not None else (None, None)
    who = Who(caller.account, caller.arn, policies,
              session=caller.key.session_policies if caller.key is not None else None, boundary=boundary)
    if role is None:
        raise AwsError("AccessDenied", f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
                       f"{role_arn}", 403, type_="Sender")
    seconds = params.get("DurationSeconds") or limits.sts_assume_role_default_s
    if not limits.sts_session_min_s <= seconds <= role["MaxSessionDuration"]:
        raise _validation(f"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")

    def refused(who: Who, action: str, resource: str, why: str) -> AwsError:
        return AwsError("AccessDenied", f"User: {who.arn} is not authorized to perform: {action} on resource: {resource}",
                        403, type_="Sender")

    # The trust policy must allow the caller in every case; the caller's own identity policy
    # must allow too unless the trust policy names the caller itself (same account)
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
    trust = role["AssumeRolePolicyDocument"]
    request = Request(Principal.aws(caller.arn), "sts:AssumeRole", role["Arn"],
                      {"sts:RoleSessionName": session, "aws:PrincipalArn": caller.arn})
    if evaluate([trust], request) is not Decision.ALLOW:
        raise refused(who, "sts:AssumeRole", role["Arn"], "")
    names_caller = caller.arn in json.dumps(trust) and caller.account == role["Account"]
    if not names_caller:
        check(who, "sts:AssumeRole", role["Arn"], resource_account=caller.account, error=refused,
              context={"sts:RoleSessionName": session})
    key = store.role_session(role["Arn"], session, seconds, session_policies=session_policies)
    return {"Credentials": _credentials(key),
            "AssumedRoleUser": {"AssumedRoleId": f"{role['RoleId']}:{session}", "Arn": key.principal}}


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
    seconds = params.get("DurationSeconds") or limits.sts_session_token_default_s
    if not limits.sts_session_min_s <= seconds <= limits.sts_session_token_max_s:
        raise _validation(f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy "
                          f"constraint: Member must have value less than or equal to {limits.sts_session_token_max_s}")
    user = caller.key.user if caller.key is not None else None
    key = store.add_key(caller.account, caller.arn, user=user, token=ids.session_token(), expires=time.time() + seconds)
    return {"Credentials": _credentials(key)}
