"""Validation of parsed input against the model's constraints, with AWS's messages.

Every constraint of botocore's model (required members, min/max length and value,
patterns in Java regex syntax, enums) is checked and each violation is worded as
AWS's Java validation layer words it ("Value '...' at '...' failed to satisfy
constraint: ..."), collected into one ValidationException
(https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
"""

from __future__ import annotations

from typing import Any, Callable

from botocore.model import Shape

from ._regex import compile_java
from .aws_differences import ENUM_ORDER, MEMBER_NOT_NULL, MEMBER_RULES, REQUEST_ORDER, MemberRule, enum_text


def lower_camel(name: str) -> str:
    """AWS's validation paths use the member name with its first letter lower-cased."""
    return name[:1].lower() + name[1:]


def _java_str(value: Any) -> str:
    """How a value prints in AWS's (Java) validation messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_java_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_java_str(k)}={_java_str(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _violation(value: Any, path: str, message: str, elide: bool) -> str:
    if value is None:
        head = "Value null"
    elif elide:
        head = "Value"
    else:
        head = f"Value '{_java_str(value)}'"
    return f"{head} at '{path}' failed to satisfy constraint: {message}"


_NOT_NULL = "Member must not be null"


def _fmt_bound(bound: Any) -> str:
    return repr(bound) if isinstance(bound, float) else str(bound)


class Validators:
    """Builds validators: callables ``(value, path, errors)`` appending violation texts."""

    def __init__(self) -> None:
        self._needs: dict[str, bool] = {}
        self._structs: dict[str, "_StructValidator"] = {}
        self._visiting: set[str] = set()
        self._cut = False

    # -- which shapes carry any constraint --------------------------------
    def needs(self, shape: Shape) -> bool:
        key = f"{shape.type_name}:{shape.name}"
        if key in self._needs:
            return self._needs[key]
        if key in self._visiting:
            self._cut = True  # a recursive reference: contributes nothing new
            return False
        self._visiting.add(key)
        outer_cut, self._cut = self._cut, False
        try:
            meta = shape.metadata
            t = shape.type_name
            result = any(k in meta for k in ("min", "max", "pattern", "enum"))
            if t == "structure" and not shape.is_document_type:
                result = result or bool(shape.required_members) or any(self.needs(m) for m in shape.members.values())
            elif t == "list":
                result = result or self.needs(shape.member)
            elif t == "map":
                result = result or self.needs(shape.key) or self.needs(shape.value)
        finally:
            self._visiting.discard(key)
        # A False reached by cutting a cycle may change once the cycle's head is known: don't cache it.
        if result or not self._cut:
            self._needs[key] = result
        self._cut = outer_cut or self._cut
        return result

    def elide(self, shape: Shape, depth: int = 0) -> bool:
        """AWS leaves the value out of the message for sensitive data; we also do for blobs."""
        if shape.metadata.get("sensitive") or shape.type_name == "blob":
            return True
        if depth > 8:
            return False
        if shape.type_name == "list":
            return self.elide(shape.member, depth + 1)
        if shape.type_name == "map":
            return self.elide(shape.key, depth + 1) or self.elide(shape.value, depth + 1)
        return False

    # -- constraint texts --------------------------------------------------
    @staticmethod
    def constraint_texts(shape: Shape) -> list[tuple[str, str]]:
        """Ordered (kind, text) of the shape's own constraints."""
        meta = shape.metadata
        t = shape.type_name
        out = []
        numeric = t in ("integer", "long", "float", "double")
        word = "value" if numeric else "length"
        if "max" in meta:
            out.append(("max", f"Member must have {word} less than or equal to {_fmt_bound(meta['max'])}"))
        if "min" in meta:
            out.append(("min", f"Member must have {word} greater than or equal to {_fmt_bound(meta['min'])}"))
        if "pattern" in meta and t == "string":
            out.append(("pattern", f"Member must satisfy regular expression pattern: {meta['pattern']}"))
        if "enum" in meta and t == "string":
            out.append(("enum", enum_text(ENUM_ORDER.get(shape.name, meta["enum"]))))
        return out

    def scalar_failures(self, shape: Shape) -> Callable[[Any], list[str]] | None:
        """For a non-container shape: value -> list of failed constraint texts (None if unconstrained)."""
        texts = self.constraint_texts(shape)
        if not texts:
            return None
        meta = shape.metadata
        t = shape.type_name
        numeric = t in ("integer", "long", "float", "double")
        hi = meta.get("max")
        lo = meta.get("min")
        pattern = meta["pattern"] if "pattern" in meta and t == "string" else None
        compiled: list[Callable[[str], Any]] = []

        def matcher(value: str) -> Any:
            # compiled at its first use: translating a Java pattern with \p{..} classes takes
            # milliseconds, and most of a model's patterns are never used by one server
            if not compiled:
                compiled.append(compile_java(pattern or "").fullmatch)
            return compiled[0](value)
        enum = frozenset(meta["enum"]) if "enum" in meta and t == "string" else None
        text = dict(texts)

        if numeric:

            def failures(value: Any) -> list[str]:
                out = []
                if hi is not None and value > hi:
                    out.append(text["max"])
                if lo is not None and value < lo:
                    out.append(text["min"])
                return out

            return failures

        def failures(value: Any) -> list[str]:  # type: ignore[no-redef]
            out = []
            if hi is not None or lo is not None:
                n = len(value)
                if hi is not None and n > hi:
                    out.append(text["max"])
                if lo is not None and n < lo:
                    out.append(text["min"])
            if pattern is not None and isinstance(value, str) and matcher(value) is None:
                out.append(text["pattern"])
            if enum is not None and value not in enum:
                out.append(text["enum"])
            return out

        return failures

    def member_constraint_text(self, shape: Shape) -> str:
        """Every constraint of a shape, as AWS lists them for list members, map keys and values."""
        parts = [t for _, t in self.constraint_texts(shape)]
        if shape.type_name == "list" and self.needs(shape.member):
            parts.append(f"Member must satisfy constraint: [{self.member_constraint_text(shape.member)}]")
        return ", ".join(parts)

    def element_ok(self, shape: Shape) -> Callable[[Any], bool] | None:
        """For list members / map keys and values: value -> bool, or None if it is a structure."""
        t = shape.type_name
        if t in ("structure", "map"):
            return None
        if t == "list":
            inner = self.element_ok(shape.member)
            own = self.scalar_failures(shape)
            if inner is None and self.needs(shape.member):
                return None

            def ok_list(value: Any) -> bool:
                if own is not None and own(value):
                    return False
                return inner is None or all(v is not None and inner(v) for v in value)

            return ok_list
        fails = self.scalar_failures(shape)
        if fails is None:
            return lambda value: value is not None
        return lambda value: value is not None and not fails(value)

    # -- validators ----------------------------------------------------------
    def for_shape(self, shape: Shape) -> Callable[[Any, str, list[str]], None] | None:
        if not self.needs(shape):
            return None
        t = shape.type_name
        if t == "structure":
            cached = self._structs.get(shape.name)
            if cached is not None:
                return cached
            v = _StructValidator(request_order=shape.name in REQUEST_ORDER)
            self._structs[shape.name] = v
            required = set(shape.required_members)
            for name, member in shape.members.items():
                rule = MEMBER_RULES.get((shape.name, name))
                sub = self.for_shape(member) if rule is None else self.by_rule(member, rule)
                if sub is None and name not in required:
                    continue
                v.members.append((name, lower_camel(name), name in required, sub))
            return v
        elide = self.elide(shape)
        own = self.scalar_failures(shape)
        if t == "list":
            member = shape.member
            ok = self.element_ok(member) if self.needs(member) else None
            deep = self.for_shape(member) if ok is None else None
            text = f"Member must satisfy constraint: [{self.member_constraint_text(member)}{MEMBER_NOT_NULL}]"
            return _ListValidator(own, ok, text, deep, elide)
        if t == "map":
            key_ok = self.element_ok(shape.key) if self.needs(shape.key) else None
            val_ok = self.element_ok(shape.value) if self.needs(shape.value) else None
            deep = self.for_shape(shape.value) if val_ok is None else None
            key_text = f"Map keys must satisfy constraint: [{self.member_constraint_text(shape.key)}]"
            val_text = f"Map value must satisfy constraint: [{self.member_constraint_text(shape.value)}{MEMBER_NOT_NULL}]"
            return _MapValidator(own, key_ok, key_text, val_ok, val_text, deep, elide)
        if own is None:
            return None

        def scalar(value: Any, path: str, errors: list[str]) -> None:
            for text in own(value):
                errors.append(_violation(value, path, text, elide))

        return scalar


    def by_rule(self, shape: Shape, rule: MemberRule) -> Callable[[Any, str, list[str]], None] | None:
        """The validator of a member AWS treats otherwise than the model says (``aws_differences``)."""
        if rule.service_checked:
            return None
        elide = self.elide(shape)
        if shape.type_name == "list":
            own = self.scalar_failures(shape)
            if rule.enum is not None:
                allowed = frozenset(rule.enum)
                text = enum_text(rule.enum) if rule.flat else f"Member must satisfy constraint: [{enum_text(rule.enum)}]"
                return _ListValidator(own, lambda v: v in allowed, text, None, elide)
            member = shape.member
            text = f"Member must satisfy constraint: [{self.member_constraint_text(member)}]"
            return _ListValidator(own, self.element_ok(member), text, None, elide)
        allowed_values = frozenset(rule.enum or ())

        def scalar(value: Any, path: str, errors: list[str]) -> None:
            if value not in allowed_values:
                errors.append(_violation(value, path, enum_text(rule.enum or ()), elide))

        return scalar


class _StructValidator:
    __slots__ = ("members", "request_order")

    def __init__(self, request_order: bool = False) -> None:
        self.members: list[tuple[str, str, bool, Any]] = []
        self.request_order = request_order  # list violations in the order the request gives members

    def __call__(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            return
        members = self.members
        if self.request_order:
            position = {k: i for i, k in enumerate(value)}
            members = sorted(members, key=lambda m: position.get(m[0], len(position)))
        for name, camel, required, sub in members:
            item = value.get(name)
            if item is None:
                if required:
                    errors.append(_violation(None, f"{path}.{camel}" if path else camel, _NOT_NULL, False))
                continue
            if sub is not None:
                sub(item, f"{path}.{camel}" if path else camel, errors)


class _ListValidator:
    __slots__ = ("own", "ok", "text", "deep", "elide")

    def __init__(self, own, ok, text, deep, elide) -> None:
        self.own, self.ok, self.text, self.deep, self.elide = own, ok, text, deep, elide

    def __call__(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, (list, tuple)):
            return
        if self.own is not None:
            for text in self.own(value):
                errors.append(_violation(value, path, text, self.elide))
        ok = self.ok
        if ok is not None:
            for item in value:
                if not ok(item):
                    errors.append(_violation(value, path, self.text, self.elide))
                    break
        elif self.deep is not None:
            deep = self.deep
            for i, item in enumerate(value, 1):
                p = f"{path}.{i}.member"
                if item is None:
                    errors.append(_violation(None, p, _NOT_NULL, False))
                else:
                    deep(item, p, errors)


class _MapValidator:
    __slots__ = ("own", "key_ok", "key_text", "val_ok", "val_text", "deep", "elide")

    def __init__(self, own, key_ok, key_text, val_ok, val_text, deep, elide) -> None:
        self.own, self.key_ok, self.key_text = own, key_ok, key_text
        self.val_ok, self.val_text, self.deep, self.elide = val_ok, val_text, deep, elide

    def __call__(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            return
        if self.own is not None:
            for text in self.own(value):
                errors.append(_violation(value, path, text, self.elide))
        if self.key_ok is not None and not all(self.key_ok(k) for k in value):
            errors.append(_violation(value, path, self.key_text, self.elide))
        if self.val_ok is not None:
            if not all(self.val_ok(v) for v in value.values()):
                errors.append(_violation(value, path, self.val_text, self.elide))
        elif self.deep is not None:
            for k, v in value.items():
                if v is not None:
                    self.deep(v, f"{path}.{k}", errors)
