"""Function states: Pending until the function's runtime is up on this host, then Active (or Failed).

https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: a function is
``Pending`` while Lambda prepares its resources and ``Active`` once it can be invoked;
``Failed`` with ``StateReasonCode`` ``InvalidRuntime`` when its runtime cannot run here.
boto3's ``function_active_v2`` waiter polls exactly this.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Callable, Coroutine

from ..runtimes.manager import SUPPORTED

if TYPE_CHECKING:
    from ..runtimes.manager import RuntimeManager
    from ..store.functions import FunctionStore

STATE_KEYS = ("State", "StateReason", "StateReasonCode")


class FunctionStates:
    """Computes a version's state from its runtime and moves Pending versions on once it is known."""

    def __init__(self, functions: "FunctionStore", runtimes: "RuntimeManager",
                 spawn: Callable[[Coroutine], object]):
        self.functions = functions
        self.runtimes = runtimes
        self.spawn = spawn  # run background work owned by Lamb (cancelled at stop)

    def of(self, runtime: str) -> dict:
        """The State members a version of ``runtime`` has now."""
        if self.runtimes.ready(runtime):
            return {"State": "Active"}
        err = self.runtimes.error(runtime)
        if err is not None or runtime not in SUPPORTED:
            return {
                "State": "Failed",
                "StateReason": err or f"The runtime {runtime} is not available on this Lamb host.",
                "StateReasonCode": "InvalidRuntime",
            }
        return {"State": "Pending", "StateReason": "The function is being created.", "StateReasonCode": "Creating"}

    def refresh(self, name: str) -> None:
        """Move every Pending version of ``name`` to Active/Failed (each gets a new RevisionId)."""
        fn = self.functions.get(name)
        if fn is None:
            return
        for version, cfg in list(fn.versions.items()):
            if cfg.get("State") != "Pending":
                continue
            new = {k: v for k, v in cfg.items() if k not in ("StateReason", "StateReasonCode")}
            new.update(self.of(cfg["Runtime"]))
            new["RevisionId"] = str(uuid.uuid4())
            self.functions.put_version(name, version, new)

    def prepare(self, names: list[str], runtime: str) -> None:
        """Start ``runtime`` in the background; the functions leave Pending once it is up (or failed)."""
        if runtime not in SUPPORTED:
            return

        async def run() -> None:
            await self.runtimes.wait_ready(runtime)
            for name in names:
                self.refresh(name)

        self.spawn(run())

    def prepare_all(self) -> None:
        """At start: bring up the runtimes existing functions use, off the request path."""
        by_runtime: dict[str, list[str]] = {}
        for name, fn in self.functions.functions.items():
            by_runtime.setdefault(fn.latest["Runtime"], []).append(name)
        for runtime, names in sorted(by_runtime.items()):
            self.prepare(names, runtime)
