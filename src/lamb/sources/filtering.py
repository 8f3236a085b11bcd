"""Event filtering for event source mappings: AWS's filter-pattern grammar, pure.

Defined by "Control which events Lambda sends to your function"
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html) and its
per-source pages (with-sqs-filtering.html, with-kinesis-filtering.html,
with-ddb-filtering.html). A mapping has up to five filters (``FilterCriteria.Filters``),
ORed together; each is a JSON pattern whose keys mirror the record and whose leaves are
arrays of rules, ORed together. Keys of one object are ANDed; ``$or`` takes a list of
sub-patterns of which one must match. Rules:

* a literal (string, number, ``null``, boolean): equality (numbers compare numerically);
* ``{"prefix": s}`` / ``{"suffix": s}``, each also ``{"equals-ignore-case": s}`` inside;
* ``{"equals-ignore-case": s}``;
* ``{"anything-but": v | [v, ...] | {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}}``;
* ``{"numeric": [op, n]}`` or ``[">"|">=", a, "<"|"<=", b]`` with ops ``= < <= > >=``;
* ``{"exists": true|false}`` (leaves only);
* ``{"cidr": "10.0.0.0/24"}`` (IPv4 or IPv6);
* ``{"wildcard": "*.png"}`` (``*`` any run of characters, ``\\*`` a literal star).

A record's array value matches a rule when any element does (as in EventBridge).

Message bodies (``sqs_view``, ``kinesis_view``): a body or data that is valid JSON is
filtered as the JSON document; anything else is filtered as the plain string, so a
plain-string pattern (``"body": [{"prefix": "x"}]``) can match it and an object pattern
(``"body": {"k": [...]}``) cannot. Kinesis ``data`` is base64: it is decoded first, and
data that is not UTF-8 matches no pattern on ``data``. DynamoDB records are filtered as
they are (their images are already DynamoDB JSON).

A pattern AWS would refuse raises ``FilterError``; the API answers it with
``InvalidParameterValueException: Invalid filter pattern definition.``
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

INVALID_PATTERN = "Invalid filter pattern definition."
_MISSING = object()
_UNDECODABLE = object()  # Kinesis data that is not UTF-8: no rule matches it
_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}
_LOWER_OPS = {">", ">="}
_UPPER_OPS = {"<", "<="}
# EventBridge (whose grammar Lambda shares) limits numeric matching to +/-5.0e9.
_NUMERIC_LIMIT = 5.0e9

Matcher = Callable[[Any], bool]


class FilterError(ValueError):
    """A pattern Lambda refuses (``Invalid filter pattern definition.``)."""

    def __init__(self, detail: str = ""):
        super().__init__(detail or INVALID_PATTERN)
        self.detail = detail


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ------------------------------------------------------------------ rules
def _string_rule(value: Any, op: str) -> str:
    if not isinstance(value, str):
        raise FilterError(f"{op} takes a string")
    return value


def _prefix_suffix(op: str, arg: Any) -> Matcher:
    """``prefix``/``suffix`` with a string or ``{"equals-ignore-case": s}``."""
    fold = False
    if isinstance(arg, dict):
        if list(arg) != ["equals-ignore-case"]:
            raise FilterError(f"{op} takes a string or equals-ignore-case")
        arg, fold = arg["equals-ignore-case"], True
    s = _string_rule(arg, op)
    if fold:
        s = s.casefold()
    test = str.startswith if op == "prefix" else str.endswith
    return lambda v: isinstance(v, str) and test(v.casefold() if fold else v, s)


def _wildcard(arg: Any) -> Matcher:
    s = _string_rule(arg, "wildcard")
    if "**" in s:
        raise FilterError("consecutive wildcard characters")
    parts, i, buf = [], 0, ""
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in "*\\":
            buf += s[i + 1]
            i += 2
            continue
        if c == "*":
            parts.append(re.escape(buf) + ".*")
            buf = ""
        else:
            buf += c
        i += 1
    rx = re.compile("".join(parts) + re.escape(buf), re.DOTALL)
    return lambda v: isinstance(v, str) and rx.fullmatch(v) is not None


def _numeric(arg: Any) -> Matcher:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise FilterError("numeric takes [op, n] or [op, n, op, n]")
    ops, nums = arg[0::2], arg[1::2]
    if any(not isinstance(o, str) or o not in _NUMERIC_OPS for o in ops):
        raise FilterError("unknown numeric operator")
    if any(not _is_number(n) or abs(n) > _NUMERIC_LIMIT for n in nums):
        raise FilterError("numeric takes numbers")
    if len(ops) == 2:
        if ops[0] not in _LOWER_OPS or ops[1] not in _UPPER_OPS or nums[0] >= nums[1]:
            raise FilterError("a numeric range is a lower bound then a greater upper bound")
    checks = list(zip(ops, nums))

    def test(v: Any) -> bool:
        if not _is_number(v):
            return False
        for op, n in checks:
            if op == "=" and not v == n:
                return False
            if op == "<" and not v < n:
                return False
            if op == "<=" and not v <= n:
                return False
            if op == ">" and not v > n:
                return False
            if op == ">=" and not v >= n:
                return False
        return True

    return test


def _cidr(arg: Any) -> Matcher:
    s = _string_rule(arg, "cidr")
    try:
        net = ipaddress.ip_network(s, strict=False)
    except ValueError:
        raise FilterError("cidr takes an IP prefix")

    def test(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        try:
            return ipaddress.ip_address(v) in net
        except ValueError:
            return False

    return test


def _equals_ignore_case(arg: Any) -> Matcher:
    s = _string_rule(arg, "equals-ignore-case").casefold()
    return lambda v: isinstance(v, str) and v.casefold() == s


def _literal(value: Any) -> Matcher:
    if value is None:
        return lambda v: v is None
    if isinstance(value, bool):
        return lambda v: isinstance(v, bool) and v is value
    if _is_number(value):
        return lambda v: _is_number(v) and v == value
    if isinstance(value, str):
        return lambda v: isinstance(v, str) and v == value
    raise FilterError("a rule is a literal or an object with one operator")


def _anything_but(arg: Any) -> Matcher:
    if isinstance(arg, dict):
        if len(arg) != 1:
            raise FilterError("anything-but takes one operator")
        (op, inner), = arg.items()
        if op in ("prefix", "suffix"):
            if not isinstance(inner, str):
                raise FilterError("anything-but prefix/suffix takes a string")
            m = _prefix_suffix(op, inner)
        elif op in ("equals-ignore-case", "wildcard"):
            items = inner if isinstance(inner, list) else [inner]
            if not items:
                raise FilterError("anything-but takes values")
            subs = [(_equals_ignore_case if op == "equals-ignore-case" else _wildcard)(i) for i in items]
            m = lambda v: any(s(v) for s in subs)  # noqa: E731
        else:
            raise FilterError(f"anything-but does not take {op}")
        return lambda v: isinstance(v, str) and not m(v)
    items = arg if isinstance(arg, list) else [arg]
    if not items or not (all(isinstance(i, str) for i in items) or all(_is_number(i) for i in items)):
        raise FilterError("anything-but takes strings or numbers")
    subs = [_literal(i) for i in items]
    return lambda v: not any(s(v) for s in subs)


_OPERATORS: dict[str, Callable[[Any], Matcher]] = {
    "prefix": lambda a: _prefix_suffix("prefix", a),
    "suffix": lambda a: _prefix_suffix("suffix", a),
    "equals-ignore-case": _equals_ignore_case,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "cidr": _cidr,
    "wildcard": _wildcard,
}


@dataclass(frozen=True)
class _Leaf:
    """The rules of one leaf key: ORed; ``exists`` rules see a missing value too."""

    rules: tuple[Matcher, ...]
    exists: tuple[bool, ...]

    def matches(self, value: Any) -> bool:
        if value is _MISSING:
            return False in self.exists
        if value is _UNDECODABLE:
            return False
        present = not isinstance(value, dict)
        if True in self.exists and present:
            return True
        values = value if isinstance(value, list) else [value]
        return any(rule(v) for rule in self.rules for v in values)


def _leaf(rules: list) -> _Leaf:
    if not rules:
        raise FilterError("a rule list is empty")
    matchers: list[Matcher] = []
    exists: list[bool] = []
    for rule in rules:
        if isinstance(rule, dict):
            if len(rule) != 1:
                raise FilterError("a rule object has exactly one operator")
            (op, arg), = rule.items()
            if op == "exists":
                if not isinstance(arg, bool):
                    raise FilterError("exists takes true or false")
                exists.append(arg)
                continue
            build = _OPERATORS.get(op)
            if build is None:
                raise FilterError(f"unknown operator {op}")
            matchers.append(build(arg))
        elif isinstance(rule, list):
            raise FilterError("a rule cannot be an array")
        else:
            matchers.append(_literal(rule))
    return _Leaf(tuple(matchers), tuple(exists))


class Pattern:
    """One compiled filter pattern."""

    def __init__(self, spec: dict):
        if not isinstance(spec, dict) or not spec:
            raise FilterError("a pattern is a non-empty JSON object")
        self.fields: list[tuple[str, Any]] = []
        self.alternatives: list[list[Pattern]] = []
        for key, value in spec.items():
            if key == "$or":
                if not isinstance(value, list) or len(value) < 2:
                    raise FilterError("$or takes a list of at least two patterns")
                self.alternatives.append([Pattern(v) for v in value])
            elif isinstance(value, dict):
                self.fields.append((key, Pattern(value)))
            elif isinstance(value, list):
                self.fields.append((key, _leaf(value)))
            else:
                raise FilterError(f"the value of {key} must be an object or an array")

    def matches(self, doc: Any) -> bool:
        if isinstance(doc, list):
            return any(self.matches(d) for d in doc)
        if doc is _UNDECODABLE:
            return False
        if not isinstance(doc, dict):
            doc = {}
            if not self._only_absence():
                return False
        for key, sub in self.fields:
            value = doc.get(key, _MISSING)
            if isinstance(sub, Pattern):
                if value is _MISSING:
                    if not sub._only_absence():
                        return False
                    continue
                if not sub.matches(value):
                    return False
            elif not sub.matches(value):
                return False
        return all(any(p.matches(doc) for p in alts) for alts in self.alternatives)

    def _only_absence(self) -> bool:
        """True when an absent object satisfies the pattern (only ``exists: false`` leaves)."""
        for _, sub in self.fields:
            if isinstance(sub, Pattern):
                if not sub._only_absence():
                    return False
            elif not sub.matches(_MISSING):
                return False
        return all(any(p._only_absence() for p in alts) for alts in self.alternatives)


def parse_pattern(text: Any) -> Pattern:
    """Compile one ``Filter.Pattern`` string; ``FilterError`` when Lambda refuses it."""
    if not isinstance(text, str) or not text.strip():
        raise FilterError("a pattern is a JSON string")
    try:
        spec = json.loads(text)
    except ValueError:
        raise FilterError("a pattern is JSON")
    return Pattern(spec)


class Criteria:
    """A mapping's FilterCriteria: a record passes when any pattern matches (or there is none)."""

    def __init__(self, patterns: list[Pattern]):
        self.patterns = patterns

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, view: dict) -> bool:
        return not self.patterns or any(p.matches(view) for p in self.patterns)


def compile_criteria(criteria: dict | None, max_filters: int) -> Criteria:
    """Compile ``FilterCriteria``; FilterError for a bad pattern or too many of them."""
    filters = (criteria or {}).get("Filters") or []
    if len(filters) > max_filters:
        raise FilterError(f"more than {max_filters} filters")
    return Criteria([parse_pattern(f.get("Pattern")) for f in filters])


# ------------------------------------------------------------ record views
def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def sqs_view(record: dict) -> dict:
    """The SQS record as patterns see it: ``body`` parsed when it is JSON."""
    return {**record, "body": _json_or_text(record.get("body", ""))}


def kinesis_view(record: dict) -> dict:
    """A Kinesis record as patterns see it: ``kinesis.data`` base64-decoded, JSON parsed, and
    also at the top as ``data``, where AWS's patterns name it (``{"data": {...}}``,
    https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html)."""
    kin = dict(record.get("kinesis") or {})
    try:
        kin["data"] = _json_or_text(base64.b64decode(kin.get("data", ""), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        kin["data"] = _UNDECODABLE
    return {**record, "kinesis": kin, "data": kin["data"]}


def mq_view(message: dict) -> dict:
    """An Amazon MQ message as patterns see it: ``data`` base64-decoded and JSON parsed
    (https://docs.aws.amazon.com/lambda/latest/dg/with-mq-filtering.html)."""
    try:
        data = _json_or_text(base64.b64decode(message.get("data", ""), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        data = _UNDECODABLE
    return {**message, "data": data}


def dynamodb_view(record: dict) -> dict:
    """DynamoDB Streams records are filtered as they are."""
    return record
