"""Runs the pollers of event source mappings: starts, restarts and stops them, holds their leases.

The API changes a mapping in the store (in a transitional state) and calls ``apply``;
the manager then brings the poller in line with it on the event loop and settles the
state (``Creating``/``Enabling``/``Updating`` → ``Enabled``, ``Disabling`` → ``Disabled``,
``Deleting`` → gone). A poller runs only while this node holds the mapping's lease
(``MappingStore.acquire``); leases are renewed every third of their time to live, and a
mapping whose lease another node holds is retried at each renewal.

Each source kind is a ``SourceKind``: a create-time ``check`` and a ``poller`` factory.
SQS's is ``sqs.sqs_kind``, Kinesis' and DynamoDB Streams' ``stream_kind.stream_kind``; a
kind's ``forget`` runs when one of its mappings is deleted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

from . import mappings as m
from .mappings import MappingStore

log = logging.getLogger("lamb.sources")


class Poller(Protocol):
    def start(self) -> None: ...
    async def stop(self) -> None: ...
    def cancel(self) -> None: ...


# poller(mapping configuration, report(LastProcessingResult)) -> Poller
PollerFactory = Callable[[dict, Callable[[str], None]], Poller]


@dataclass(frozen=True)
class SourceKind:
    """What the API and the manager need of one kind of event source."""

    # check(event source ARN, the function's timeout in seconds[, {"FunctionArn": ...}: checked as
    # that function's role where Lamb acts as it]): AWS's create-time errors as AwsError.
    check: Callable[..., Awaitable[None]]
    poller: PollerFactory
    # forget(mapping UUID): drop what the kind keeps of a deleted mapping (stream checkpoints).
    forget: Callable[[str], None] | None = None


class SourceManager:
    def __init__(self, store: MappingStore, kinds: dict[str, SourceKind], owner: str, lease_s: float = 30.0):
        self.store = store
        self.kinds = kinds
        self.owner = owner
        self.lease_s = lease_s
        self.pollers: dict[str, Poller] = {}
        self._pending: dict[str, asyncio.Task] = {}
        self._leases: set[str] = set()
        self._renewer: asyncio.Task | None = None
        self._closing = False

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Bring every stored mapping to a settled state and start the enabled ones."""
        for cfg in self.store.all():
            self.apply(cfg["UUID"])
        self._renewer = asyncio.ensure_future(self._renew_loop())

    def stop(self) -> None:
        """Lamb is shutting down: pollers stop at once, leases are given up."""
        self._closing = True
        if self._renewer is not None:
            self._renewer.cancel()
        try:
            self.store.flush()
        except Exception:
            log.exception("could not write the processing results of event source mappings")
        for task in self._pending.values():
            task.cancel()
        for uuid, poller in list(self.pollers.items()):
            poller.cancel()
        for uuid in list(self._leases):
            try:
                self.store.release(uuid, self.owner)
            except Exception:
                pass
        self.pollers.clear()
        self._leases.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "mappings": len(self.store.mappings),
            "pollers": len(self.pollers),
            "leases": len(self._leases),
            "owner": self.owner,
        }

    # ------------------------------------------------------------ changes
    def apply(self, uuid: str) -> None:
        """Bring ``uuid``'s poller in line with the stored mapping (after any change)."""
        if self._closing:
            return
        previous = self._pending.get(uuid)
        self._pending[uuid] = asyncio.ensure_future(self._apply(uuid, previous))

    async def _apply(self, uuid: str, previous: asyncio.Task | None) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            await self._stop_poller(uuid)
            cfg = self.store.get(uuid)
            if cfg is None:
                return
            if cfg.get("State") == m.DELETING:
                self._release(uuid)
                kind = self.kinds.get(cfg.get("_Kind", ""))
                if kind is not None and kind.forget is not None:
                    kind.forget(uuid)
                self.store.delete(uuid)
                return
            if cfg.get("_Enabled", True):
                self._start_poller(cfg)
            else:
                self._release(uuid)
            self.store.update(uuid, State=m.settled(cfg))
        except Exception:
            log.exception("event source mapping %s could not be applied", uuid)
        finally:
            if self._pending.get(uuid) is asyncio.current_task():
                del self._pending[uuid]

    def _start_poller(self, cfg: dict) -> None:
        uuid = cfg["UUID"]
        kind = self.kinds.get(cfg.get("_Kind", ""))
        if kind is None:
            self.report(uuid, f"PROBLEM: no poller for {cfg.get('_Kind')} sources on this Lamb")
            return
        if not self.store.acquire(uuid, self.owner, self.lease_s):
            return  # another node runs it; retried at the next renewal
        self._leases.add(uuid)
        poller = kind.poller(cfg, lambda result, uuid=uuid: self.report(uuid, result))
        self.pollers[uuid] = poller
        poller.start()

    async def _stop_poller(self, uuid: str) -> None:
        poller = self.pollers.pop(uuid, None)
        if poller is not None:
            await poller.stop()

    def _release(self, uuid: str) -> None:
        if uuid in self._leases:
            self._leases.discard(uuid)
            self.store.release(uuid, self.owner)

    def report(self, uuid: str, result: str) -> None:
        """A poller's ``LastProcessingResult``: in memory at once, on disk at the next lease renewal."""
        self.store.note(uuid, LastProcessingResult=result)

    # ------------------------------------------------------------ leases
    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                self._renew()
            except Exception:
                log.exception("event source leases could not be renewed")

    def _renew(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.store.flush()
        lost = self.store.renew(self.owner, list(self._leases), self.lease_s, now)
        for uuid in lost:
            log.warning("lease of event source mapping %s lost; its poller stops", uuid)
            self._leases.discard(uuid)
            poller = self.pollers.pop(uuid, None)
            if poller is not None:
                poller.cancel()
        for cfg in self.store.all():
            if cfg.get("_Enabled", True) and cfg.get("State") != m.DELETING and cfg["UUID"] not in self.pollers \
                    and cfg["UUID"] not in self._pending:
                self._start_poller(cfg)


def node_id(path: Path) -> str:
    """This node's lease owner id: made once per data folder, so a restarted Lamb takes
    its own leases back at once while other nodes (other folders) wait for expiry."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = f"{socket.gethostname()}-{secrets.token_hex(6)}"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(value)
        os.replace(tmp, path)
        return value
