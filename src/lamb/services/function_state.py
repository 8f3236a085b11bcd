"""The function-state machine: State and LastUpdateStatus, their transitions and RevisionId effects.

https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: creating and updating
a function are asynchronous on AWS, and Lamb answers the same way, field by field:

====================================  ====================================================
transition                            what the answer / the stored configuration shows
====================================  ====================================================
CreateFunction (and a version          ``State: Pending``, ``StateReason: "The function is being
published with it or with              created."``, ``StateReasonCode: Creating``, no
UpdateFunctionCode): ``creating``      ``LastUpdateStatus``
UpdateFunctionCode/Configuration:      ``State`` kept (Active), ``LastUpdateStatus: InProgress``,
``updating``                           ``LastUpdateStatusReason: "The function is being created."``
                                       (AWS's wording), ``LastUpdateStatusReasonCode: Creating``
the work is done: ``settle``           ``State: Active`` and ``LastUpdateStatus: Successful`` with the
                                       reason fields gone (or ``Failed`` with the reason when the
                                       runtime cannot run here), and a **new RevisionId**
====================================  ====================================================

While a version is Pending or an update is InProgress, another change gets 409
``ResourceConflictException`` (``check_can_change``). Lamb's own work (unpacking code,
merging layers, preparing the runtime) is what happens meanwhile. With a prepared runtime
the settle is scheduled with ``loop.call_soon``: it runs before the event loop reads the
next request, so a GetFunction sent after CreateFunction's answer already sees Active
(boto3's ``function_active_v2`` waiter then returns without its one-second sleep).
``Settings.state_transition_s`` (``LAMB_STATE_TRANSITION_S``) keeps a function in the
intermediate state at least that long (tests observe the intermediate state with it).

A function whose ``Architectures`` this host cannot run settles ``Failed``
(``StateReasonCode: InvalidConfiguration``, the reason names both architectures), so it says
so at create instead of running under the wrong ``platform.machine()``.

Deliberate difference: an Invoke of a Pending version waits for it to settle (``until_settled``,
bounded) where AWS refuses it, so scripts that invoke right after create keep working.
"""

from __future__ import annotations

import asyncio
import platform
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Coroutine, Iterator

from .. import aio
from ..protocol.errors import conflict
from ..runtimes.manager import SUPPORTED

if TYPE_CHECKING:
    from ..runtimes.manager import RuntimeManager
    from ..store.functions import Function, FunctionStore

STATE_KEYS = ("State", "StateReason", "StateReasonCode")
UPDATE_KEYS = ("LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode")
CREATING_REASON = "The function is being created."  # AWS uses it for updates too
PENDING = {"State": "Pending", "StateReason": CREATING_REASON, "StateReasonCode": "Creating"}
IN_PROGRESS = {"LastUpdateStatus": "InProgress", "LastUpdateStatusReason": CREATING_REASON,
               "LastUpdateStatusReasonCode": "Creating"}
# What this host's processes run as (AWS's Architectures spelling): a function of another
# architecture settles Failed with the reason (platform.machine() inside follows the host).
HOST_ARCHITECTURE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), platform.machine())
BUILD = "_Build"  # internal: changes with code/configuration only (what the invoker's pools are keyed by)


def new_revision() -> str:
    return str(uuid.uuid4())


def unsettled(config: dict) -> bool:
    """Whether ``config`` is Pending or has an update in progress."""
    return config.get("State") == "Pending" or config.get("LastUpdateStatus") == "InProgress"


class FunctionStates:
    """The one place where State / LastUpdateStatus change (see the module docstring)."""

    def __init__(self, functions: "FunctionStore", runtimes: "RuntimeManager",
                 spawn: Callable[[Coroutine], object], *, transition_s: float = 0.0):
        self.functions = functions
        self.runtimes = runtimes
        self.spawn = spawn  # run background work owned by Lamb (cancelled at stop)
        self.transition_s = transition_s
        self._busy: set[str] = set()  # changes whose work runs before they are committed
        self._waiters: dict[str, list[asyncio.Future]] = {}

    # ------------------------------------------------------------ what a version is now
    def of(self, runtime: str, architectures: list[str] | None = None) -> dict:
        """The State members a settled version of ``runtime`` (on ``architectures``) has now."""
        arch = (architectures or ["x86_64"])[0]
        if arch != HOST_ARCHITECTURE:
            return {
                "State": "Failed",
                "StateReason": f"Lamb cannot run {arch} functions on this {HOST_ARCHITECTURE} host; "
                               f"use Architectures [{HOST_ARCHITECTURE}].",
                "StateReasonCode": "InvalidConfiguration",
            }
        if self.runtimes.ready(runtime):
            return {"State": "Active"}
        err = self.runtimes.error(runtime)
        if err is not None or runtime not in SUPPORTED:
            return {
                "State": "Failed",
                "StateReason": err or f"The runtime {runtime} is not available on this Lamb host.",
                "StateReasonCode": "InvalidRuntime",
            }
        return dict(PENDING)

    # ------------------------------------------------------------ entering a transition
    @staticmethod
    def creating(config: dict) -> dict:
        """``config`` as a new function or version starts: Pending, no LastUpdateStatus, new RevisionId."""
        new = {k: v for k, v in config.items() if k not in STATE_KEYS + UPDATE_KEYS}
        new.update(PENDING)
        new["RevisionId"] = new_revision()
        new.setdefault(BUILD, new["RevisionId"])
        return new

    @staticmethod
    def updating(config: dict) -> dict:
        """``config`` as an update commits it: State kept, LastUpdateStatus InProgress, new RevisionId and build."""
        new = {k: v for k, v in config.items() if k not in UPDATE_KEYS}
        new.update(IN_PROGRESS)
        new["RevisionId"] = new[BUILD] = new_revision()
        return new

    @staticmethod
    def touched(config: dict) -> dict:
        """``config`` after a change that is not an update (tags, publishing): a new RevisionId only."""
        return dict(config, RevisionId=new_revision())

    # ------------------------------------------------------------ guards
    def check_can_change(self, fn: "Function") -> None:
        """409 while the function is Pending or an update is in progress (AWS's texts)."""
        latest = fn.latest
        if latest.get("State") == "Pending":
            raise conflict(
                "The operation cannot be performed at this time. The function is currently in the following state: Pending"
            )
        if fn.name in self._busy or latest.get("LastUpdateStatus") == "InProgress":
            raise conflict(
                "The operation cannot be performed at this time. An update is in progress for resource: "
                + latest["FunctionArn"]
            )

    @contextmanager
    def working(self, name: str) -> Iterator[None]:
        """Mark an update whose work (storing code, merging layers) runs before it is committed."""
        self._busy.add(name)
        try:
            yield
        finally:
            self._busy.discard(name)

    # ------------------------------------------------------------ leaving it
    def settle(self, name: str) -> None:
        """Schedule the end of ``name``'s transition (quick path: before the next request is read)."""
        fn = self.functions.get(name)
        if fn is None:
            return
        runtimes = {cfg["Runtime"] for cfg in fn.versions.values() if unsettled(cfg)}
        known = all(self.runtimes.ready(r) or self.runtimes.error(r) is not None or r not in SUPPORTED
                    for r in runtimes)
        if known and self.transition_s <= 0:
            asyncio.get_running_loop().call_soon(self._finish, name)
            return

        async def run() -> None:
            for runtime in sorted(runtimes):
                if runtime in SUPPORTED:
                    await self.runtimes.wait_ready(runtime)
            if self.transition_s > 0:
                await asyncio.sleep(self.transition_s)
            self._finish(name)

        self.spawn(run())

    def _finish(self, name: str) -> None:
        fn = self.functions.get(name)
        if fn is not None:
            for version, cfg in list(fn.versions.items()):
                if unsettled(cfg):
                    self.functions.put_version(name, version, self._settled(cfg))
        for fut in self._waiters.pop(name, ()):
            if not fut.done():
                fut.set_result(None)

    def _settled(self, cfg: dict) -> dict:
        state = self.of(cfg["Runtime"], cfg.get("Architectures"))
        new = {k: v for k, v in cfg.items() if k not in STATE_KEYS + UPDATE_KEYS}
        new.update(state)
        if state["State"] == "Failed":
            new.update(LastUpdateStatus="Failed", LastUpdateStatusReason=state["StateReason"],
                       LastUpdateStatusReasonCode=state["StateReasonCode"])
        else:
            new["LastUpdateStatus"] = "Successful"
        new["RevisionId"] = new_revision()
        return new

    async def until_settled(self, name: str, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until ``name``'s transition ends; False if it did not."""
        fn = self.functions.get(name)
        if fn is None or not any(unsettled(c) for c in fn.versions.values()):
            return True
        fut = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(fut)
        try:
            await aio.wait_for(asyncio.shield(fut), timeout_s)
            return True
        except TimeoutError:
            return False

    # ------------------------------------------------------------ at start
    def prepare_all(self) -> None:
        """At start: settle what a stopped Lamb left Pending/InProgress and bring up the
        runtimes existing functions use, off the request path."""
        by_runtime: set[str] = set()
        for name, fn in self.functions.functions.items():
            by_runtime.add(fn.latest["Runtime"])
            if any(unsettled(c) for c in fn.versions.values()):
                self.settle(name)
        for runtime in sorted(by_runtime & set(SUPPORTED)):
            self.spawn(self.runtimes.wait_ready(runtime))
