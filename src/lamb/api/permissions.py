"""Resource-based policies of functions, versions and aliases: AddPermission,
RemovePermission, GetPolicy, and the newer PutResourcePolicy, GetResourcePolicy and
DeleteResourcePolicy (present in botocore's model from 1.44; an older model simply
has no route to them).

Rules from https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html and
AWS's recorded answers (LocalStack's AWS-validated ``test_lambda_api.snapshot.json``,
``TestLambdaPermissions``):

- a policy belongs to the unqualified function, a published version or an alias; a
  ``$LATEST`` qualifier is refused ("We currently do not support adding policies for
  $LATEST."); a new version starts without a policy;
- ``Principal`` is ``*``, a 12-digit account (rendered ``{"AWS": "arn:aws:iam::<id>:root"}``),
  an IAM/STS ARN (``{"AWS": arn}``) or a service (``{"Service": "s3.amazonaws.com"}``);
- ``SourceAccount``, ``FunctionUrlAuthType``, ``PrincipalOrgID`` and ``EventSourceToken``
  become ``StringEquals`` conditions, ``SourceArn`` an ``ArnLike`` one and
  ``InvokedViaFunctionUrl`` the condition ``{"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}``;
- a policy change gives the version (or alias) a new RevisionId, and GetPolicy's RevisionId
  is that record's (AWS's policy revision is the qualified configuration's); a ``RevisionId``
  precondition must match it. Environments stay: the invoker keys them by the build
  (``services.function_state.BUILD``), which a policy does not change.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, is_alias_name, is_published_version, parse_function_name
from ..policy import document as doc
from ..policy.resources import Resource, policy_of
from ..protocol.errors import AwsError, invalid_parameter, not_found, precondition_failed
from . import configuration as conf
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

NO_RESOURCE = "The resource you requested does not exist."
LATEST_REFUSED = "We currently do not support adding policies for $LATEST."
_REVISION = "The Revision Id provided does not match the latest Revision Id. Call the {} API to retrieve the latest Revision Id"
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazon(aws)?\.com(\.cn)?")
_IAM_ARN = re.compile(r"arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:.+")
_ACCOUNT = re.compile(r"\d{12}")
_RUNTIME_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:[^:]+:\d{12}:runtime/.+")


def principal(value: str):
    """AddPermission's ``Principal`` as the policy statement's Principal."""
    if value == "*":
        return "*"
    if _ACCOUNT.fullmatch(value):
        return doc.account_principal(value)
    if _IAM_ARN.fullmatch(value):
        return {"AWS": value}
    if _SERVICE.fullmatch(value):
        return {"Service": value}
    raise invalid_parameter("The provided principal was invalid. Please check the principal and try again.")


def statement(params: dict, resource_arn: str) -> dict:
    """The statement AddPermission adds, with AWS's member and condition order."""
    out = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": principal(params["Principal"]),
        "Action": params["Action"],
        "Resource": resource_arn,
    }
    equals = {}
    for param, key in (("SourceAccount", "AWS:SourceAccount"), ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
                       ("PrincipalOrgID", "aws:PrincipalOrgID"), ("EventSourceToken", "lambda:EventSourceToken")):
        if params.get(param):
            equals[key] = params[param]
    condition: dict = {}
    if equals:
        condition["StringEquals"] = equals
    if params.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": params["SourceArn"]}
    if params.get("InvokedViaFunctionUrl"):
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if condition:
        out["Condition"] = condition
    return out


def _resource(ctx: "RequestContext", name: str, qualifier: str | None, *, missing_function: str) -> tuple[Resource, str]:
    """The record a policy operation acts on and its ARN (qualified when asked so).
    ``missing_function`` is the message for an unknown function ({arn} is filled in)."""
    s = ctx.lamb.settings
    ref = parse_function_name(name, qualifier, region=s.region, account_id=s.account_id)
    q = None if ref.qualifier in (None, LATEST) else ref.qualifier
    arn = function_arn(s.region, s.account_id, ref.name, q)
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(missing_function.format(arn=function_arn(s.region, s.account_id, ref.name, ref.qualifier)))
    if q is None:
        return Resource(fn, None, False), arn
    if q in fn.aliases:
        return Resource(fn, q, True), arn
    if is_published_version(q) and q in fn.versions:
        return Resource(fn, q, False), arn
    if is_alias_name(q):
        raise not_found(f"Cannot find alias arn: {arn}")
    raise not_found(f"Function not found: {arn}")


def _check_revision(res: Resource, rid: str | None, api: str | None = None) -> None:
    """A RevisionId matches the policy's, or the record's own (as AWS's policy revision is)."""
    if rid is None:
        return
    record = res.record
    stored = policy_of(record)
    if rid == record.get("RevisionId") or (stored and rid == stored["RevisionId"]):
        return
    raise precondition_failed(_REVISION.format(api or ("GetPolicy" if res.is_alias else "GetFunction/GetAlias")))


def _store(ctx: "RequestContext", res: Resource, document: dict | None) -> str | None:
    """Save a record's new policy (None or no statements: no policy) and its new RevisionId."""
    revision = conf.new_revision()
    record = dict(res.record, RevisionId=revision)
    if document is None or not doc.statements(document):
        record.pop("_Policy", None)
        res.save(ctx.lamb.functions, record)
        return None
    record["_Policy"] = {"Document": document, "RevisionId": revision}
    res.save(ctx.lamb.functions, record)
    return revision


def _limit(ctx: "RequestContext") -> int:
    return ctx.lamb.settings.limits.function_policy_max_bytes


# ------------------------------------------------------------------- operations
@operation("AddPermission")
def add_permission(ctx: "RequestContext", params: dict) -> dict:
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    if ref.qualifier == LATEST:
        raise invalid_parameter(LATEST_REFUSED)
    res, arn = _resource(ctx, params["FunctionName"], params.get("Qualifier"), missing_function="Function not found: {arn}")
    stored = policy_of(res.record)
    current = stored["Document"] if stored else None
    doc.require_new_sid(current, params["StatementId"])
    _check_revision(res, params.get("RevisionId"))
    new = statement(params, arn)
    _store(ctx, res, doc.with_statement(current, new, _limit(ctx)))
    return {"Statement": doc.compact(new)}


@operation("RemovePermission")
def remove_permission(ctx: "RequestContext", params: dict) -> dict:
    res, _ = _resource(ctx, params["FunctionName"], params.get("Qualifier"), missing_function="No policy found for: {arn}")
    stored = policy_of(res.record)
    if not stored:
        raise not_found(doc.NO_POLICY)
    _check_revision(res, params.get("RevisionId"))
    _store(ctx, res, doc.without_statement(stored["Document"], params["StatementId"]))
    return {}


def _get(ctx: "RequestContext", name: str, qualifier: str | None) -> dict:
    try:
        res, _ = _resource(ctx, name, qualifier, missing_function=NO_RESOURCE)
    except AwsError as e:
        if e.code == "ResourceNotFoundException":
            raise not_found(NO_RESOURCE)
        raise
    stored = policy_of(res.record)
    if not stored:
        raise not_found(NO_RESOURCE)
    return {"Policy": doc.render(stored["Document"]), "RevisionId": stored["RevisionId"]}


@operation("GetPolicy")
def get_policy(ctx: "RequestContext", params: dict) -> dict:
    return _get(ctx, params["FunctionName"], params.get("Qualifier"))


# ------------------------------------------------ PutResourcePolicy and friends
def _by_arn(ctx: "RequestContext", arn: str) -> str:
    """A ResourceArn names a function (version, alias); runtimes have no policy here."""
    if _RUNTIME_ARN.fullmatch(arn):
        raise invalid_parameter("Resource policies of runtimes are not supported by this Lamb server.")
    return arn


def parse_document(text: str) -> dict:
    """PutResourcePolicy's ``Policy``: a JSON object with one or more statements, each
    with an Effect of Allow or Deny and an Action."""
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid_parameter("The policy is not valid JSON.")
    if not isinstance(document, dict) or not doc.statements(document):
        raise invalid_parameter("The policy must contain at least one statement.")
    for st in doc.statements(document):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise invalid_parameter("Each policy statement must have an Effect of Allow or Deny.")
        if "Action" not in st and "NotAction" not in st:
            raise invalid_parameter("Each policy statement must have an Action.")
    return document


@operation("PutResourcePolicy")
def put_resource_policy(ctx: "RequestContext", params: dict) -> dict:
    """Replaces the whole policy of the resource (what AddPermission added included)."""
    arn = _by_arn(ctx, params["ResourceArn"])
    if arn.endswith(":" + LATEST):
        raise invalid_parameter(LATEST_REFUSED)
    res, _ = _resource(ctx, arn, None, missing_function="Function not found: {arn}")
    document = parse_document(params["Policy"])
    doc.check_size(document, _limit(ctx))
    _check_revision(res, params.get("RevisionId"), "GetResourcePolicy")
    revision = _store(ctx, res, document)
    return {"Policy": doc.render(document), "RevisionId": revision}


@operation("GetResourcePolicy")
def get_resource_policy(ctx: "RequestContext", params: dict) -> dict:
    return _get(ctx, _by_arn(ctx, params["ResourceArn"]), None)


@operation("DeleteResourcePolicy")
def delete_resource_policy(ctx: "RequestContext", params: dict) -> dict:
    res, _ = _resource(ctx, _by_arn(ctx, params["ResourceArn"]), None, missing_function="No policy found for: {arn}")
    if not policy_of(res.record):
        raise not_found(doc.NO_POLICY)
    _check_revision(res, params.get("RevisionId"), "GetResourcePolicy")
    _store(ctx, res, None)
    return {}
