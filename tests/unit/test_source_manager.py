"""lamb.sources.manager: pollers follow the stored mappings; leases decide who polls."""

from __future__ import annotations

import asyncio

from lamb.sources import mappings as m
from lamb.sources.manager import SourceKind, SourceManager, node_id
from lamb.store.db import Database


class RecordingPoller:
    def __init__(self, cfg, report):
        self.cfg, self.report = cfg, report
        self.started = self.stopped = self.cancelled = False

    def start(self):
        self.started = True
        self.report("OK")

    async def stop(self):
        self.stopped = True

    def cancel(self):
        self.cancelled = True


async def _noop(arn, timeout):
    return None


def make_manager(tmp_path, owner="me"):
    store = m.MappingStore(Database(tmp_path / "lamb.db"))
    made: list[RecordingPoller] = []

    def factory(cfg, report):
        made.append(RecordingPoller(cfg, report))
        return made[-1]

    return store, made, SourceManager(store, {"sqs": SourceKind(_noop, factory)}, owner, lease_s=30)


async def settle(mgr: SourceManager) -> None:
    while mgr._pending:
        await asyncio.gather(*list(mgr._pending.values()))


async def started(store: m.MappingStore, mgr: SourceManager, cfg: dict) -> None:
    store.put({"State": m.CREATING, "_Enabled": True, **cfg})
    await mgr.start()
    await settle(mgr)


def test_lifecycle(tmp_path):
    store, made, mgr = make_manager(tmp_path)

    async def scenario():
        await started(store, mgr, {"UUID": "u", "_Kind": "sqs"})
        assert store.get("u")["State"] == m.ENABLED and made[-1].started
        assert store.get("u")["LastProcessingResult"] == "OK" and store.lease("u")[0] == "me"
        store.put({**store.get("u"), "State": m.UPDATING, "BatchSize": 5})
        mgr.apply("u")
        await settle(mgr)
        assert made[0].stopped and made[1].cfg["BatchSize"] == 5 and store.get("u")["State"] == m.ENABLED
        store.put({**store.get("u"), "State": m.DISABLING, "_Enabled": False})
        mgr.apply("u")
        await settle(mgr)
        assert made[1].stopped and len(made) == 2 and store.get("u")["State"] == m.DISABLED
        assert store.lease("u") is None
        store.put({**store.get("u"), "State": m.DELETING})
        mgr.apply("u")
        await settle(mgr)
        assert store.get("u") is None
        mgr.stop()
    asyncio.run(scenario())


def test_a_lease_held_elsewhere_waits_for_expiry(tmp_path):
    store, made, mgr = make_manager(tmp_path)

    async def scenario():
        store.put({"UUID": "u", "State": m.CREATING, "_Enabled": True, "_Kind": "sqs"})
        store.acquire("u", "other-node", 30)
        await mgr.start()
        await settle(mgr)
        assert not made  # the other node polls it
        mgr._renew()
        assert not made
        store.acquire("u", "other-node", -1)  # the other node's lease has expired
        mgr._renew()
        assert made and made[0].started and store.lease("u")[0] == "me"
        store.release("u", "me")
        store.acquire("u", "other-node", 30)  # taken over: our poller must stop
        mgr._renew()
        assert made[0].cancelled and "u" not in mgr.pollers
        mgr.stop()
    asyncio.run(scenario())


def test_unknown_kind_is_reported(tmp_path):
    store, made, mgr = make_manager(tmp_path)

    async def scenario():
        await started(store, mgr, {"UUID": "k", "_Kind": "kinesis"})
        assert store.get("k")["LastProcessingResult"] == "PROBLEM: no poller for kinesis sources on this Lamb"
        mgr.stop()
    asyncio.run(scenario())


def test_node_id_is_kept_per_data_folder(tmp_path):
    first = node_id(tmp_path / "node-id")
    assert node_id(tmp_path / "node-id") == first
    assert node_id(tmp_path / "other") != first


def test_a_deleted_mapping_is_forgotten_by_its_kind(tmp_path):
    store = m.MappingStore(Database(tmp_path / "lamb.db"))
    forgotten: list[str] = []
    made: list[RecordingPoller] = []

    def factory(cfg, report):
        made.append(RecordingPoller(cfg, report))
        return made[-1]

    mgr = SourceManager(store, {"kinesis": SourceKind(_noop, factory, forget=forgotten.append)}, "me", lease_s=30)

    async def scenario():
        await started(store, mgr, {"UUID": "s", "_Kind": "kinesis"})
        assert not forgotten
        store.put({**store.get("s"), "State": m.DISABLING, "_Enabled": False})
        mgr.apply("s")
        await settle(mgr)
        assert not forgotten  # disabled mappings keep their progress
        store.put({**store.get("s"), "State": m.DELETING})
        mgr.apply("s")
        await settle(mgr)
        assert forgotten == ["s"] and store.get("s") is None and made[0].stopped
        mgr.stop()
    asyncio.run(scenario())
