"""CloudFormation's intrinsic functions and condition functions over a resolved context.

https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::FindInMap,
Fn::ImportValue, Fn::Base64, Fn::GetAZs, and Fn::Equals/And/Or/Not, Condition.
``AWS::NoValue`` removes the key or list item that holds it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Callable

NO_VALUE = object()


class Unresolved(Exception):
    """A reference to something not known yet (a resource not created, an attribute not read)."""


class TemplateError(Exception):
    """The template uses an intrinsic wrongly or names something it does not define."""


@dataclass
class Context:
    pseudo: dict[str, Any]                           # AWS::Region, AWS::AccountId, AWS::StackName, ...
    parameters: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)    # raw condition expressions
    ref: Callable[[str], Any] | None = None          # logical id → Ref value (raises Unresolved)
    get_att: Callable[[str, str], Any] | None = None  # (logical id, attribute) → value (raises Unresolved)
    import_value: Callable[[str], Any] | None = None
    _cond_cache: dict[str, bool] = field(default_factory=dict)

    def condition(self, name: str) -> bool:
        if name not in self._cond_cache:
            if name not in self.conditions:
                raise TemplateError(f"Condition {name} is not defined")
            self._cond_cache[name] = bool(self.resolve(self.conditions[name]))
        return self._cond_cache[name]

    # ------------------------------------------------------------------ resolve
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            out = [self.resolve(v) for v in value]
            return [v for v in out if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            fn = _FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, arg)
        out = {}
        for k, v in value.items():
            r = self.resolve(v)
            if r is not NO_VALUE:
                out[k] = r
        return out

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if self.ref is None:
            raise TemplateError(f"Unresolved reference {name}")
        return self.ref(name)


def _ref(ctx: Context, arg: Any) -> Any:
    return ctx._ref(ctx.resolve(arg))


def _get_att(ctx: Context, arg: Any) -> Any:
    arg = ctx.resolve(arg)
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    if not (isinstance(arg, list) and len(arg) == 2) or ctx.get_att is None:
        raise TemplateError(f"Fn::GetAtt needs [LogicalId, Attribute], got {arg!r}")
    return ctx.get_att(arg[0], arg[1])


_SUB_VAR = re.compile(r"\$\{([^}]+)\}")


def _sub(ctx: Context, arg: Any) -> Any:
    if isinstance(arg, list):
        text, variables = arg[0], ctx.resolve(arg[1] if len(arg) > 1 else {})
    else:
        text, variables = arg, {}
    text = ctx.resolve(text)

    def one(m: re.Match) -> str:
        name = m.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            logical, att = name.split(".", 1)
            return str(_get_att(ctx, [logical, att]))
        return str(ctx._ref(name))

    return _SUB_VAR.sub(one, text)


def _join(ctx: Context, arg: Any) -> Any:
    sep, items = ctx.resolve(arg)
    return sep.join(str(i) for i in items)


def _select(ctx: Context, arg: Any) -> Any:
    index, items = ctx.resolve(arg)
    return items[int(index)]


def _split(ctx: Context, arg: Any) -> Any:
    sep, text = ctx.resolve(arg)
    return text.split(sep)


def _if(ctx: Context, arg: Any) -> Any:
    name, yes, no = arg
    return ctx.resolve(yes if ctx.condition(name) else no)


def _find_in_map(ctx: Context, arg: Any) -> Any:
    name, top, second = ctx.resolve(arg)[:3]
    try:
        return ctx.mappings[name][top][second]
    except KeyError:
        raise TemplateError(f"Fn::FindInMap: {name}/{top}/{second} is not in the template's Mappings") from None


def _import_value(ctx: Context, arg: Any) -> Any:
    name = ctx.resolve(arg)
    if ctx.import_value is None:
        raise TemplateError(f"Fn::ImportValue {name}: no exports available")
    return ctx.import_value(name)


def _base64(ctx: Context, arg: Any) -> Any:
    return base64.b64encode(str(ctx.resolve(arg)).encode()).decode()


def _get_azs(ctx: Context, arg: Any) -> Any:
    region = ctx.resolve(arg) or ctx.pseudo.get("AWS::Region")
    return [f"{region}{z}" for z in "abc"]


def _equals(ctx: Context, arg: Any) -> Any:
    a, b = ctx.resolve(arg)
    return str(a) == str(b)


def _and(ctx: Context, arg: Any) -> Any:
    return all(bool(ctx.resolve(a)) for a in arg)


def _or(ctx: Context, arg: Any) -> Any:
    return any(bool(ctx.resolve(a)) for a in arg)


def _not(ctx: Context, arg: Any) -> Any:
    return not bool(ctx.resolve(arg[0]))


def _condition(ctx: Context, arg: Any) -> Any:
    return ctx.condition(arg)


_FUNCTIONS: dict[str, Callable[[Context, Any], Any]] = {
    "Ref": _ref, "Fn::GetAtt": _get_att, "Fn::Sub": _sub, "Fn::Join": _join, "Fn::Select": _select,
    "Fn::Split": _split, "Fn::If": _if, "Fn::FindInMap": _find_in_map, "Fn::ImportValue": _import_value,
    "Fn::Base64": _base64, "Fn::GetAZs": _get_azs, "Fn::Equals": _equals, "Fn::And": _and, "Fn::Or": _or,
    "Fn::Not": _not, "Condition": _condition,
}


def references(value: Any) -> set[str]:
    """Logical ids (and parameters/pseudo names) that ``value`` refers to via Ref, GetAtt or Sub."""
    out: set[str] = set()
    if isinstance(value, list):
        for v in value:
            out |= references(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                target = v.split(".", 1)[0] if isinstance(v, str) else v[0]
                if isinstance(target, str):
                    out.add(target)
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                if isinstance(text, str):
                    local = set(v[1]) if isinstance(v, list) and len(v) > 1 and isinstance(v[1], dict) else set()
                    for m in _SUB_VAR.finditer(text):
                        name = m.group(1)
                        if not name.startswith("!") and name not in local:
                            out.add(name.split(".", 1)[0])
                out |= references(v[1:] if isinstance(v, list) else [])
            else:
                out |= references(v)
    return out
