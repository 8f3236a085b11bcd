"""Reserved and provisioned concurrency as stored with a function and applied to the invoker.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html and
https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html. The API
(``api/concurrency.py``) checks AWS's rules and calls this; aliases and version
deletion call it too. Both settings live in ``Function.data``
(``ReservedConcurrentExecutions``; ``ProvisionedConcurrency``: qualifier ->
``{"Requested": n, "LastModified": ...}``) and are applied again at start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Coroutine

if TYPE_CHECKING:
    from ..invoke.invoker import Invoker
    from ..runtimes.manager import RuntimeManager
    from ..store.functions import Function, FunctionStore

log = logging.getLogger("lamb.concurrency")

RESERVED = "ReservedConcurrentExecutions"
PROVISIONED = "ProvisionedConcurrency"  # qualifier -> {"Requested": n, "LastModified": ...}


def version_of(fn: "Function", qualifier: str) -> str | None:
    """The version a config's qualifier (a version or an alias) stands for; None once it is gone."""
    if qualifier in fn.versions:
        return qualifier
    route = fn.routes.get(qualifier)
    return route.version if route is not None else None


def configs(fn: "Function") -> dict[str, dict]:
    """The function's provisioned configs whose version or alias still exists."""
    return {q: c for q, c in (fn.data.get(PROVISIONED) or {}).items() if version_of(fn, q) is not None}


def provisioned_aliases(fn: "Function", version: str) -> list[str]:
    """Aliases with a provisioned config of their own that point to ``version``."""
    return sorted(q for q in configs(fn) if q in fn.routes and fn.routes[q].version == version)


class Provisioning:
    def __init__(self, functions: "FunctionStore", invoker: "Invoker", runtimes: "RuntimeManager",
                 spawn: Callable[[Coroutine], object]):
        self.functions = functions
        self.invoker = invoker
        self.runtimes = runtimes
        self.spawn = spawn  # background work owned by Lamb (cancelled at stop)

    # ----------------------------------------------------------------- reserved
    def set_reserved(self, fn: "Function", value: int | None) -> None:
        """Store the reservation (None removes it) and tell the limiter."""
        self.functions.update_data(fn.name, **{RESERVED: value})
        self.invoker.concurrency.set_reserved(fn.name, value)

    # -------------------------------------------------------------- provisioned
    def put(self, fn: "Function", qualifier: str, record: dict) -> None:
        stored = dict(fn.data.get(PROVISIONED) or {})
        stored[qualifier] = record
        self.functions.update_data(fn.name, **{PROVISIONED: stored})

    def forget(self, fn: "Function", qualifier: str) -> bool:
        """Drop the stored config of ``qualifier`` (also when its version or alias is deleted); False if none."""
        stored = dict(fn.data.get(PROVISIONED) or {})
        if stored.pop(qualifier, None) is None:
            return False
        self.functions.update_data(fn.name, **{PROVISIONED: stored or None})
        return True

    def apply(self, fn: "Function", version: str) -> None:
        """Start (or stop) the provisioned environments of one version from the stored configs."""
        target = sum(c["Requested"] for q, c in configs(fn).items() if version_of(fn, q) == version)
        pool = self.invoker.pools.get((fn.name, version))
        if target == 0 and pool is None:
            return
        self.invoker.provision(fn.name, version, fn.versions[version], target)

    async def start(self, fn: "Function", version: str) -> None:
        """Apply once the version's runtime is up (raises RuntimeUnavailable when it cannot run here)."""
        await self.runtimes.prepare(fn.versions[version]["Runtime"])
        self.apply(fn, version)

    async def move(self, fn: "Function", old: str, new: str) -> None:
        """An alias with a config now points to ``new``: its environments leave ``old``."""
        if old in fn.versions:
            self.apply(fn, old)
        await self.start(fn, new)

    def status(self, fn: "Function", version: str, record: dict) -> dict:
        """A ProvisionedConcurrencyConfig as Get/List/Put answer it."""
        pool = self.invoker.pools.get((fn.name, version))
        requested = record["Requested"]
        allocated = min(requested, pool.provisioned_ready()) if pool is not None else 0
        out = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": allocated,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "LastModified": record["LastModified"],
        }
        error = pool.provision_error if pool is not None else record.get("Error")
        if error:
            out["Status"] = "FAILED"
            out["StatusReason"] = f"Provisioned Concurrency configuration failed to be applied. Reason: {error}."
        else:
            out["Status"] = "READY" if allocated >= requested else "IN_PROGRESS"
        return out

    def restore(self) -> None:
        """At start: reservations into the limiter, provisioned environments started again."""
        for fn in self.functions.functions.values():
            if fn.data.get(RESERVED) is not None:
                self.invoker.concurrency.set_reserved(fn.name, fn.data[RESERVED])
            for v in {version_of(fn, q) for q in configs(fn)}:
                async def start(fn=fn, v=v) -> None:
                    try:
                        await self.start(fn, v)
                    except Exception as e:  # one version's failure must not stop the others
                        log.warning("provisioned concurrency of %s:%s not restored: %s", fn.name, v, e)

                self.spawn(start())
