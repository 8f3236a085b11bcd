"""The pieces of a deploy that need no server: parameters, resource order, the change set.

Resource order is CloudFormation's: a resource after everything it references (Ref,
Fn::GetAtt, Fn::Sub) or names in DependsOn. A change is decided by comparing the
resource's resolved properties with those stored in the stack record
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .intrinsics import TemplateError, references

# Change actions, as CloudFormation's change sets and `sam deploy` name them
ADD, MODIFY, REPLACE, REMOVE, NONE, SKIP = "Add", "Modify", "Replace", "Delete", "NoChange", "Skip"
REFUSE = "Refuse"  # a modification lamb deploy cannot apply in place: the deploy stops before any change


@dataclass
class Change:
    action: str
    logical: str
    type: str
    reason: str = ""


def parameters(declared: dict, overrides: dict[str, str]) -> dict[str, Any]:
    """Template parameters: overrides, else defaults; AllowedValues and types checked."""
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"Parameters {sorted(unknown)} do not exist in the template")
    out: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            value: Any = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise TemplateError(f"Parameters: [{name}] must have values")
        kind = spec.get("Type", "String")
        allowed = spec.get("AllowedValues")
        if allowed is not None and str(value) not in [str(a) for a in allowed]:
            raise TemplateError(f"Parameter '{name}' must be one of AllowedValues")
        if kind == "Number":
            try:
                value = int(str(value))
            except ValueError:
                try:
                    value = float(str(value))
                except ValueError:
                    raise TemplateError(f"Parameter '{name}' must be a number not '{value}'") from None
        elif kind == "CommaDelimitedList" or kind.startswith("List<"):
            value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        elif kind.startswith("AWS::SSM::Parameter"):
            raise TemplateError(f"Parameter '{name}': SSM parameter types are not supported by lamb deploy")
        else:
            value = str(value)
        out[name] = value
    return out


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``Key=Value`` (sam deploy) or ``ParameterKey=Key,ParameterValue=Value`` (aws cloudformation)."""
    out = {}
    for item in items:
        if item.startswith("ParameterKey="):
            fields = dict(part.split("=", 1) for part in item.split(",", 1))
            out[fields["ParameterKey"]] = fields.get("ParameterValue", "")
        elif "=" in item:
            key, value = item.split("=", 1)
            out[key] = value
        else:
            raise TemplateError(f"parameter override {item!r} is not Key=Value")
    return out


def order(resources: dict) -> list[str]:
    """Logical ids, each after what it depends on (template order otherwise)."""
    deps: dict[str, set[str]] = {}
    for logical, res in resources.items():
        depends = res.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else list(depends)
        found = references(res.get("Properties", {})) | set(depends)
        deps[logical] = {d for d in found if d in resources and d != logical}
        missing = set(depends) - set(resources)
        if missing:
            raise TemplateError(f"Resource {logical} DependsOn unknown resources {sorted(missing)}")
    out: list[str] = []
    done: set[str] = set()
    while len(out) < len(resources):
        ready = [lid for lid in resources if lid not in done and deps[lid] <= done]
        if not ready:
            raise TemplateError(f"Circular dependency between resources: {sorted(set(resources) - done)}")
        for lid in ready:
            out.append(lid)
            done.add(lid)
    return out


def needs_replacement(replace_on: frozenset[str], old: dict, new: dict) -> bool:
    if "*" in replace_on:
        return old != new
    return any(old.get(k) != new.get(k) for k in replace_on)


def render(changes: list[Change]) -> str:
    rows = [("Operation", "LogicalResourceId", "ResourceType", "Replacement / Note")]
    mark = {ADD: "+ Add", MODIFY: "* Modify", REPLACE: "* Modify", REMOVE: "- Delete", SKIP: "! Not applied",
            REFUSE: "x Refused"}
    for c in changes:
        if c.action == NONE:
            continue
        note = "True" if c.action == REPLACE else c.reason or ("N/A" if c.action != MODIFY else "False")
        rows.append((mark[c.action], c.logical, c.type, note))
    if len(rows) == 1:
        return "No changes to deploy."
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows)
