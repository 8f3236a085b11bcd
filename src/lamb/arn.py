"""Function names, ARNs and qualifiers.

AWS accepts a function in four spellings wherever an operation takes
``FunctionName`` (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
the name (``my-function``), the name with a qualifier (``my-function:v1``), a
partial ARN (``123456789012:function:my-function``) and a full ARN
(``arn:aws:lambda:us-west-2:123456789012:function:my-function``), the last two
optionally qualified. A qualifier is ``$LATEST``, a version number or an alias.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .protocol.errors import AwsError, invalid_parameter, not_found

LATEST = "$LATEST"
_NAME = r"[a-zA-Z0-9-_]+"
_QUAL = r"\$LATEST|[a-zA-Z0-9-_]+"
_FULL = re.compile(
    rf"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{{2}}(?:-gov)?-[a-z]+-\d{{1}}):"
    rf"(?P<account>\d{{12}}):function:(?P<name>{_NAME})(?::(?P<qualifier>{_QUAL}))?"
)
# ``arn:...:function`` with no name names a function called ``function`` (AWS answers 404 for it).
_FULL_NAMELESS = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):(?P<account>\d{12}):(?P<name>function)"
)
_PARTIAL = re.compile(rf"(?P<account>\d{{12}}):function:(?P<name>{_NAME})(?::(?P<qualifier>{_QUAL}))?")
_PLAIN = re.compile(rf"(?P<name>{_NAME})(?::(?P<qualifier>{_QUAL}))?")
_VERSION = re.compile(r"\d+")
_ALIAS = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
_LAYER = re.compile(
    r"arn:(?P<partition>[a-zA-Z0-9-]+):lambda:(?P<region>[a-zA-Z0-9-]+):(?P<account>\d{12}):"
    r"layer:(?P<name>[a-zA-Z0-9-_]+)(?::(?P<version>[0-9]+))?"
)


# The IAM action of an operation where it differs from the operation's name.
IAM_ACTIONS = {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"}


class OtherAccount(AwsError):
    """A function ARN of another account: AWS's AccessDeniedException, which names the IAM
    action of the operation (the gateway completes it with ``for_operation``).

    Lamb has no identities yet, so the caller is the account's root (AWS names the caller's
    user or role): "User: arn:aws:iam::ACCOUNT:root is not authorized to perform: lambda:ACTION
    on resource: ARN because no resource-based policy allows the lambda:ACTION action".
    """

    def __init__(self, caller_account: str, resource: str, action: str = "GetFunction"):
        self.caller_account, self.resource = caller_account, resource
        super().__init__(
            "AccessDeniedException",
            f"User: arn:aws:iam::{caller_account}:root is not authorized to perform: lambda:{action} on resource: "
            f"{resource} because no resource-based policy allows the lambda:{action} action",
            403,
        )

    def for_operation(self, operation: str) -> "OtherAccount":
        return OtherAccount(self.caller_account, self.resource, IAM_ACTIONS.get(operation, operation))


@dataclass(frozen=True)
class FunctionRef:
    """A function named by a request: its name and the qualifier, if any."""

    name: str
    qualifier: str | None


@functools.lru_cache(maxsize=4096)  # pure (a refusal raises and is not kept): twice on every invocation
def parse_function_name(
    value: str, qualifier: str | None = None, *, region: str, account_id: str
) -> FunctionRef:
    """Resolve ``FunctionName`` (+ optional ``Qualifier`` parameter) to a FunctionRef.

    A qualifier in the name and a different ``Qualifier`` parameter is AWS's
    InvalidParameterValueException; an ARN of another account is AWS's
    AccessDeniedException (``OtherAccount``); one of another region cannot name a
    function here, so it is not found.
    """
    m = (_FULL.fullmatch(value) or _FULL_NAMELESS.fullmatch(value) or _PARTIAL.fullmatch(value)
         or _PLAIN.fullmatch(value))
    if m is None:
        raise invalid_parameter(f"Invalid function name: {value}")
    groups = m.groupdict()
    name = groups["name"]
    derived = groups.get("qualifier")
    if groups.get("account") and groups["account"] != account_id:
        raise OtherAccount(account_id, function_arn(groups.get("region") or region, groups["account"], name, derived))
    if groups.get("region") and groups["region"] != region:
        raise not_found(
            f"Functions from '{groups['region']}' are not reachable in this region ('{region}')"
        )
    if derived and qualifier and derived != qualifier:
        raise invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return FunctionRef(name, derived or qualifier or None)


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def is_version(qualifier: str) -> bool:
    return qualifier == LATEST or _VERSION.fullmatch(qualifier) is not None


def is_published_version(qualifier: str) -> bool:
    """A numbered version (``1``, ``2``, ...), not ``$LATEST`` and not an alias."""
    return _VERSION.fullmatch(qualifier) is not None


def is_alias_name(qualifier: str) -> bool:
    return _ALIAS.fullmatch(qualifier) is not None and not is_version(qualifier)


# ------------------------------------------------------------------- layers
@dataclass(frozen=True)
class LayerRef:
    """A layer named by ARN: ``arn:aws:lambda:<region>:<account>:layer:<name>[:<version>]``."""

    region: str
    account: str
    name: str
    version: int | None


def parse_layer_arn(value: str) -> LayerRef | None:
    """The parts of a layer (version) ARN, or None when ``value`` is not one."""
    m = _LAYER.fullmatch(value)
    if m is None:
        return None
    v = m.group("version")
    return LayerRef(m.group("region"), m.group("account"), m.group("name"), int(v) if v is not None else None)


def layer_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:layer:{name}"


def layer_version_arn(region: str, account_id: str, name: str, version: int) -> str:
    return f"{layer_arn(region, account_id, name)}:{version}"


def require_unqualified(ref: FunctionRef, operation: str) -> None:
    """Operations that act on the function as a whole reject a qualifier."""
    if ref.qualifier is not None:
        raise AwsError(
            "InvalidParameterValueException",
            f"{operation} does not support a qualified function name.",
            400,
        )
