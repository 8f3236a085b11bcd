"""lamb.sources.mappings: states, the durable store and leases (a real SQLite file)."""

from __future__ import annotations

from lamb.sources import mappings as m
from lamb.store.db import Database


def store(tmp_path) -> m.MappingStore:
    return m.MappingStore(Database(tmp_path / "lamb.db"))


def test_states():
    assert m.state_after_create(True) == m.CREATING
    assert m.state_after_create(False) == m.DISABLED
    assert m.state_after_update(True, None) == m.UPDATING
    assert m.state_after_update(True, True) == m.UPDATING
    assert m.state_after_update(True, False) == m.DISABLING
    assert m.state_after_update(False, True) == m.ENABLING
    assert m.settled({"_Enabled": True}) == m.ENABLED
    assert m.settled({"_Enabled": False}) == m.DISABLED


def test_view_hides_internal_keys():
    assert m.view({"UUID": "u", "State": "Enabled", "_Tags": {"a": "b"}}) == {"UUID": "u", "State": "Enabled"}


def test_store_survives_reopen_and_updates_only_on_change(tmp_path):
    s = store(tmp_path)
    s.put({"UUID": "b", "State": m.CREATING, "_Created": 2})
    s.put({"UUID": "a", "State": m.CREATING, "_Created": 1})
    s.update("a", State=m.ENABLED, LastProcessingResult="OK")
    assert s.update("gone", State=m.ENABLED) is None
    again = store(tmp_path)
    assert [c["UUID"] for c in again.all()] == ["a", "b"]
    assert again.get("a")["State"] == m.ENABLED and again.get("a")["LastProcessingResult"] == "OK"
    again.delete("a")
    assert store(tmp_path).get("a") is None


def test_leases(tmp_path):
    s = store(tmp_path)
    assert s.acquire("u", "node-1", 10, now=100)
    assert not s.acquire("u", "node-2", 10, now=105)  # held
    assert s.acquire("u", "node-1", 10, now=105)  # its owner extends it
    assert s.lease("u") == ("node-1", 115)
    assert s.acquire("u", "node-2", 10, now=116)  # expired: another node takes it
    assert s.renew("node-1", ["u"], 10, now=117) == {"u"}  # node-1 learns it lost it
    assert s.renew("node-2", ["u"], 10, now=117) == set()
    s.release("u", "node-1")  # not the owner: no effect
    assert s.lease("u")[0] == "node-2"
    s.release("u", "node-2")
    assert s.lease("u") is None
    s.acquire("v", "node-1", 10)
    s.put({"UUID": "v"})
    s.delete("v")
    assert s.lease("v") is None


def test_noted_changes_are_written_by_flush(tmp_path):
    s = store(tmp_path)
    s.put({"UUID": "u", "State": m.ENABLED})
    s.note("u", LastProcessingResult="OK")
    assert s.get("u")["LastProcessingResult"] == "OK"
    assert "LastProcessingResult" not in store(tmp_path).get("u")
    s.flush()
    assert store(tmp_path).get("u")["LastProcessingResult"] == "OK"
