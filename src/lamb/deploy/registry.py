"""Resource-type handlers: how ``lamb deploy`` applies one CloudFormation resource type.

A handler creates, updates and deletes one resource and says which property changes
need a replacement (``replace_on``; ``ALL`` for immutable resources such as versions).
The engine (engine.py) never knows a type; it asks the ``Registry``. A type without a
handler is reported, never ignored: ``NotApplied(reason)`` for types Lamb will manage
once a feature lands (``Registry.pending``), and "not managed by Lamb" for the rest; a
handler may also refuse some properties (``unsupported(props)`` → reason, e.g. an
EventBridge rule with an EventPattern). Later features plug in with ``Registry.add``.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

ALL = frozenset({"*"})


@dataclass
class Applied:
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)  # "Ref" plus the GetAtt attributes
    note: str = ""


class Env(Protocol):
    """What handlers get: clients and the stack's identity (engine.ApplyEnv)."""

    stack: str
    region: str
    account: str

    def lambda_client(self) -> Any: ...
    def lamb_client(self, service: str) -> Any: ...             # events / scheduler on Lamb's port
    def service_client(self, service: str) -> Any | None: ...   # None: no endpoint configured
    def code(self, location: dict) -> bytes: ...               # S3Bucket/S3Key → zip bytes
    def progress(self, status: str, type_: str, logical: str, reason: str = "") -> None: ...
    def traffic_steps(self, logical: str) -> list[tuple[float, float]]: ...
    def sleep(self, seconds: float) -> None: ...


class Handler(Protocol):
    replace_on: frozenset[str]

    def create(self, env: Env, logical: str, props: dict) -> Applied: ...
    def update(self, env: Env, logical: str, physical: str, old: dict, new: dict, attrs: dict) -> Applied: ...
    def delete(self, env: Env, physical: str, props: dict) -> None: ...


@dataclass
class NotApplied:
    """A type Lamb does not apply: the plan lists it with ``reason``; references get placeholders."""

    reason: str


@dataclass
class Registry:
    handlers: dict[str, Handler] = field(default_factory=dict)
    not_applied: dict[str, str] = field(default_factory=dict)

    def add(self, type_: str, handler: Handler) -> None:
        self.handlers[type_] = handler
        self.not_applied.pop(type_, None)

    def pending(self, type_: str, feature: str) -> None:
        """``type_`` will be applied once ``feature`` exists on this Lamb."""
        self.not_applied[type_] = f"not applied: needs {feature}"

    def lookup(self, type_: str) -> Handler | NotApplied:
        handler = self.handlers.get(type_)
        if handler is not None:
            return handler
        return NotApplied(self.not_applied.get(type_, f"not applied: {type_} is not managed by lamb deploy"))


def physical_name(stack: str, logical: str, limit: int, lower: bool = False) -> str:
    """CloudFormation's generated names: ``<stack>-<logical id>-<random>``, cut to ``limit``."""
    alphabet = string.ascii_lowercase + string.digits if lower else string.ascii_uppercase + string.digits
    suffix = "".join(random.choice(alphabet) for _ in range(12))
    head = f"{stack}-{logical}"
    if lower:
        head = head.lower()
    return f"{head[: limit - 13]}-{suffix}"


def members(client: Any, operation: str) -> set[str]:
    """Input members of ``operation`` in the client's model (what this botocore can send)."""
    return set(client.meta.service_model.operation_model(operation).input_shape.members)


def pick(props: dict, allowed: set[str], rename: dict[str, str] | None = None) -> dict:
    rename = rename or {}
    out = {}
    for k, v in props.items():
        k = rename.get(k, k)
        if k in allowed:
            out[k] = v
    return out


def changed(old: dict, new: dict, keys: Callable[[str], bool]) -> bool:
    return any(old.get(k) != new.get(k) for k in set(old) | set(new) if keys(k))
