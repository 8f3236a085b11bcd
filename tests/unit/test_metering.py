"""Pricing of metered usage (services/metering.py) and its store (store/usage.py)."""

from __future__ import annotations

from lamb.services import metering
from lamb.store.db import Database
from lamb.store.usage import UsageStore


def test_tiers_and_the_price_table():
    prices = metering.load_prices()
    assert prices["duration_per_gb_second"]["x86_64"][0] == [6_000_000_000, 0.0000166667]
    rows = [{"month": "2026-12", "function": "f", "version": "$LATEST", "architecture": "x86_64", "memory_mb": 1024,
             "ephemeral_mb": 512, "requests": 2_000_000, "billed_ms": 7_000_000_000 * 1000, "init_billed_ms": 0}]
    doc = metering.report(rows, prices)
    (month,) = doc["months"]
    assert month["gb_seconds"] == 7_000_000_000
    assert abs(month["cost"] - (0.40 + 6e9 * 0.0000166667 + 1e9 * 0.000015)) < 1e-3


def test_arm64_is_priced_by_its_own_table():
    row = {"month": "2026-12", "function": "f", "version": "1", "architecture": "arm64", "memory_mb": 2048,
           "ephemeral_mb": 512, "requests": 1, "billed_ms": 1000, "init_billed_ms": 0}
    (priced,) = metering.report([row], metering.load_prices())["usage"]
    assert priced["gb_seconds"] == 2.0
    assert abs(priced["cost"] - (0.20 / 1e6 + 2.0 * 0.0000133334)) < 1e-12


def test_usage_store_adds_up_per_key_and_month(tmp_path):
    now = [1_764_547_200.0]  # 2025-12-01
    store = UsageStore(Database(tmp_path / "db.sqlite"), clock=lambda: now[0])
    store.record("f", "1", "x86_64", 128, 512, 10, 4)
    store.record("f", "1", "x86_64", 128, 512, 3, 0)
    store.flush()
    store.record("f", "1", "x86_64", 128, 512, 5, 0)
    now[0] += 31 * 86400
    store.record("f", "1", "x86_64", 128, 512, 7, 0)
    rows = store.rows()
    assert [(r["month"], r["requests"], r["billed_ms"], r["init_billed_ms"]) for r in rows] == [
        ("2025-12", 3, 18, 4), ("2026-01", 1, 7, 0)]
    assert store.rows(month="2026-01", function="g") == []
    text = metering.table(metering.report(rows, metering.load_prices()))
    assert "2025-12" in text and "estimated" in text
