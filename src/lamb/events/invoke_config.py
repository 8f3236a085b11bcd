"""Where a function's asynchronous settings live: its function-wide data.

Event invoke configs (one per ``$LATEST``, version or alias) are kept in
``Function.data`` (the ``functions`` table), so they are written through with the
function, read from memory on the dispatch path, and gone with the function when
it is deleted, as on AWS. (The recursive loop setting lives beside them, in
``lamb.services.recursion``.)

``data["EventInvokeConfigs"] = {qualifier: {"MaximumRetryAttempts": 1,
"MaximumEventAgeInSeconds": 3600, "DestinationConfig": {...}, "LastModified": 1.7e9}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store.functions import Function, FunctionStore

CONFIGS = "EventInvokeConfigs"


def _live(fn: "Function", qualifier: str) -> bool:
    """A config outlives neither its version nor its alias."""
    return qualifier in fn.versions or qualifier in (getattr(fn, "aliases", None) or {})


def get(fn: "Function", qualifier: str) -> dict | None:
    config = (fn.data.get(CONFIGS) or {}).get(qualifier)
    return config if config is not None and _live(fn, qualifier) else None


def all_of(fn: "Function") -> dict[str, dict]:
    return {q: c for q, c in (fn.data.get(CONFIGS) or {}).items() if _live(fn, q)}


def put(store: "FunctionStore", fn: "Function", qualifier: str, config: dict | None) -> None:
    """Set (or with None remove) one qualifier's config, written through."""
    configs = dict(fn.data.get(CONFIGS) or {})
    if config is None:
        configs.pop(qualifier, None)
    else:
        configs[qualifier] = config
    store.update_data(fn.name, **{CONFIGS: configs})


def destination(config: dict | None, success: bool) -> str | None:
    dc = (config or {}).get("DestinationConfig") or {}
    return (dc.get("OnSuccess" if success else "OnFailure") or {}).get("Destination") or None
