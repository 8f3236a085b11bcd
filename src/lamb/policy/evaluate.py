"""AWS's policy evaluation logic for one request against policy documents.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
every statement whose Principal, Action, Resource and Condition all match the request
applies; an applicable ``Deny`` wins over any ``Allow``; with no applicable statement
the answer is an implicit deny. Matching follows the policy element reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html):

- ``Principal``/``NotPrincipal``: ``"*"`` (and ``{"AWS": "*"}``) is everyone, anonymous
  callers included; ``{"AWS": "<account>"}`` or ``arn:aws:iam::<account>:root`` is every
  principal of that account; an IAM ARN is that principal (a role also matches its
  ``sts::<account>:assumed-role/<role>/<session>`` sessions); ``{"Service": ...}`` a service.
- ``Action``/``NotAction``: case-insensitive, with ``*`` and ``?`` wildcards.
- ``Resource``/``NotResource``: case-sensitive wildcards; policy variables ``${key}``
  (and ``${*}``, ``${?}``, ``${$}``) are taken from the request context.
- ``Condition``: every operator and every key must hold (AND); the values listed for one
  key are alternatives (OR). Keys are case-insensitive. A key missing from the context
  fails a condition, except for negated operators (``StringNotEquals``, ``ArnNotLike``,
  ``NotIpAddress``, ...), ``...IfExists`` operators and ``Null``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
  ``ForAnyValue:``/``ForAllValues:`` qualify keys whose context value is a list.

Pure functions over plain dicts: the function URL surface uses it for resource policies
now, and the identity work reuses it for identity-based policies.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping


class Decision(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"  # an explicit deny
    IMPLICIT_DENY = "ImplicitDeny"  # no statement applied


@dataclass(frozen=True)
class Principal:
    """Who is asking: ``anonymous()``, ``service(name)`` or ``aws(arn)`` (a user, role,
    assumed-role session or an account's root ``arn:aws:iam::<account>:root``)."""

    kind: str  # "anonymous" | "service" | "aws"
    value: str = ""

    @classmethod
    def anonymous(cls) -> "Principal":
        return cls("anonymous")

    @classmethod
    def service(cls, name: str) -> "Principal":
        return cls("service", name)

    @classmethod
    def aws(cls, arn: str) -> "Principal":
        return cls("aws", arn)

    @property
    def account(self) -> str | None:
        if self.kind != "aws":
            return None
        parts = self.value.split(":")
        return parts[4] if len(parts) > 5 else None


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)  # condition keys -> str | list | bool | number


def evaluate(documents: Iterable[dict | None], request: Request) -> Decision:
    """The decision of ``documents`` (any number of policies) for ``request``."""
    ctx = {k.lower(): v for k, v in request.context.items()}
    allowed = False
    for document in documents:
        for st in _statements(document):
            if not _applies(st, request, ctx):
                continue
            if st.get("Effect") == "Deny":
                return Decision.DENY
            if st.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _statements(document: dict | None) -> list[dict]:
    if not document:
        return []
    st = document.get("Statement") or []
    return [st] if isinstance(st, dict) else [s for s in st if isinstance(s, dict)]


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _applies(st: dict, request: Request, ctx: dict) -> bool:
    if "Principal" in st and not _principal_matches(st["Principal"], request.principal):
        return False
    if "NotPrincipal" in st and _principal_matches(st["NotPrincipal"], request.principal):
        return False
    if "Action" in st and not any(_glob(p, request.action, ci=True) for p in _as_list(st["Action"])):
        return False
    if "NotAction" in st and any(_glob(p, request.action, ci=True) for p in _as_list(st["NotAction"])):
        return False
    if "Resource" in st and not any(_glob(_substitute(p, ctx), request.resource) for p in _as_list(st["Resource"])):
        return False
    if "NotResource" in st and any(_glob(_substitute(p, ctx), request.resource) for p in _as_list(st["NotResource"])):
        return False
    return all(_condition(op, block, ctx) for op, block in (st.get("Condition") or {}).items())


# ------------------------------------------------------------------ principals
def _principal_matches(element, who: Principal) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, values in element.items():
        for value in _as_list(values):
            if kind == "AWS" and _aws_principal_matches(str(value), who):
                return True
            if kind == "Service" and who.kind == "service" and value == who.value:
                return True
            if kind not in ("AWS", "Service") and value == who.value:  # Federated, CanonicalUser
                return True
    return False


_ROOT = re.compile(r"arn:aws[a-zA-Z-]*:iam::(\d{12}):root")
_ASSUMED = re.compile(r"arn:(aws[a-zA-Z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+")


def _aws_principal_matches(value: str, who: Principal) -> bool:
    if value == "*":
        return True
    if who.kind != "aws":
        return False
    if value.isdigit():
        return who.account == value
    m = _ROOT.fullmatch(value)
    if m:
        return who.account == m.group(1)
    if value == who.value:
        return True
    m = _ASSUMED.fullmatch(who.value)
    return m is not None and value == f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}"


# ---------------------------------------------------------------- wildcards
_GLOBS: dict[tuple[str, bool], re.Pattern] = {}


def _glob(pattern: str, value: str, ci: bool = False) -> bool:
    """``*`` any run of characters, ``?`` one character, nothing else special (a
    character after ``\x00`` is literal: ``${*}`` and ``${?}`` of a policy variable)."""
    key = (pattern, ci)
    rx = _GLOBS.get(key)
    if rx is None:
        body, literal = [], False
        for c in pattern:
            if literal:
                body.append(re.escape(c))
                literal = False
            elif c == "\x00":
                literal = True
            else:
                body.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        rx = _GLOBS[key] = re.compile("".join(body), re.S | (re.I if ci else 0))
    return rx.fullmatch(value) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_UNRESOLVED = "\x00\x01"  # a variable with no value: matches nothing


def _substitute(value, ctx: dict):
    """Policy variables: ``${aws:username}`` from the context; ``${*}``, ``${?}`` and ``${$}``
    are those characters taken literally; a variable the context lacks matches nothing."""
    if not isinstance(value, str) or "${" not in value:
        return value

    def one(m: re.Match) -> str:
        key = m.group(1)
        if key in ("*", "?", "$"):
            return "\x00" + key
        found = ctx.get(key.lower())
        return _UNRESOLVED if found is None or isinstance(found, list) else str(found)

    return _VARIABLE.sub(one, value)


# ------------------------------------------------------------------ conditions
def _condition(op: str, block: dict, ctx: dict) -> bool:
    quantifier = None
    if ":" in op:
        quantifier, op = op.split(":", 1)
    if_exists = op.endswith("IfExists")
    base = op[: -len("IfExists")] if if_exists else op
    for key, wanted in (block or {}).items():
        present = ctx.get(key.lower())
        wanted = [_substitute(w, ctx) for w in _as_list(wanted)]
        if base == "Null":
            # true: the key must be absent; false: it must be present.
            if any(str(w).lower() == "true" for w in wanted) != (present is None):
                return False
            continue
        negated = base in _NEGATED
        if present is None:
            if if_exists or negated or quantifier == "ForAllValues":
                continue
            return False
        test = _OPERATORS.get(base)
        if test is None:
            return False  # an unknown operator never matches
        values = _as_list(present)
        if quantifier == "ForAllValues":
            ok = all(test(v, wanted) for v in values)
        elif quantifier == "ForAnyValue" or len(values) != 1:
            ok = any(test(v, wanted) for v in values)
        else:
            ok = test(values[0], wanted)
        if not ok:
            return False
    return True


def _negate(test: Callable[[Any, list], bool]) -> Callable[[Any, list], bool]:
    return lambda v, wanted: not test(v, wanted)


def _str_eq(v, wanted) -> bool:
    return any(str(v) == str(w) for w in wanted)


def _str_eq_ci(v, wanted) -> bool:
    return any(str(v).lower() == str(w).lower() for w in wanted)


def _str_like(v, wanted) -> bool:
    return any(_glob(str(w), str(v)) for w in wanted)


def _number(x) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _numeric(cmp: Callable[[float, float], bool]) -> Callable[[Any, list], bool]:
    def test(v, wanted) -> bool:
        a = _number(v)
        return a is not None and any((b := _number(w)) is not None and cmp(a, b) for w in wanted)
    return test


def _date(x) -> float | None:
    if isinstance(x, (int, float)):
        return float(x)
    s = str(x)
    if s.isdigit():
        return float(s)
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp()


def _dates(cmp: Callable[[float, float], bool]) -> Callable[[Any, list], bool]:
    def test(v, wanted) -> bool:
        a = _date(v)
        return a is not None and any((b := _date(w)) is not None and cmp(a, b) for w in wanted)
    return test


def _bool(v, wanted) -> bool:
    return any(str(v).lower() == str(w).lower() for w in wanted)


def _ip(v, wanted) -> bool:
    try:
        addr = ipaddress.ip_address(str(v))
    except ValueError:
        return False
    for w in wanted:
        try:
            if addr in ipaddress.ip_network(str(w), strict=False):
                return True
        except ValueError:
            continue
    return False


def _arn_like(v, wanted) -> bool:
    """ARNs compare segment by segment (six colon-separated parts), each with wildcards."""
    parts = str(v).split(":", 5)
    for w in wanted:
        pat = str(w).split(":", 5)
        if len(pat) == len(parts) == 6 and all(_glob(p, s) for p, s in zip(pat, parts)):
            return True
    return False


_OPERATORS: dict[str, Callable[[Any, list], bool]] = {
    "StringEquals": _str_eq,
    "StringNotEquals": _negate(_str_eq),
    "StringEqualsIgnoreCase": _str_eq_ci,
    "StringNotEqualsIgnoreCase": _negate(_str_eq_ci),
    "StringLike": _str_like,
    "StringNotLike": _negate(_str_like),
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericNotEquals": _negate(_numeric(lambda a, b: a == b)),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
    "DateEquals": _dates(lambda a, b: a == b),
    "DateNotEquals": _negate(_dates(lambda a, b: a == b)),
    "DateLessThan": _dates(lambda a, b: a < b),
    "DateLessThanEquals": _dates(lambda a, b: a <= b),
    "DateGreaterThan": _dates(lambda a, b: a > b),
    "DateGreaterThanEquals": _dates(lambda a, b: a >= b),
    "Bool": _bool,
    "BinaryEquals": _str_eq,
    "IpAddress": _ip,
    "NotIpAddress": _negate(_ip),
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "ArnNotEquals": _negate(_arn_like),
    "ArnNotLike": _negate(_arn_like),
}
_NEGATED = frozenset({
    "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals", "DateNotEquals",
    "NotIpAddress", "ArnNotEquals", "ArnNotLike",
})
