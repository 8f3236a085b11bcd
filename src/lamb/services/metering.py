"""Usage and a cost estimate, as AWS bills Lambda (https://aws.amazon.com/lambda/pricing/).

- Billed duration: the invoke phase rounded up to the millisecond; since August 1, 2025 the
  Init phase of on-demand invocations is billed too (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/),
  so a cold start bills ``ceil(Init Duration + Duration)`` (REPORT's Billed Duration; counted by
  the environment, ``invoke/environment.py``, into ``store/usage.py``). Provisioned environments initialise
  ahead of demand: their Init is not in an invocation (AWS bills provisioned concurrency
  apart; Lamb does not meter that).
- GB-seconds: billed seconds × MemorySize / 1024; ephemeral storage above 512 MB likewise.
- Cost: requests × the price per million, plus GB-seconds priced by the tiers of the function's
  architecture, per month over all functions (AWS's tiers count a month's account-wide
  GB-seconds). The price table is data (``lambda_prices.json``; ``LAMB_PRICES_FILE`` names
  another), so it can be updated without code. The free tier is shown, not subtracted.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

PRICES_FILE = Path(__file__).with_name("lambda_prices.json")


def load_prices(path: str | os.PathLike | None = None) -> dict:
    return json.loads(Path(path or os.environ.get("LAMB_PRICES_FILE") or PRICES_FILE).read_text())


def gb_seconds(memory_mb: int, billed_ms: int) -> float:
    return memory_mb / 1024.0 * billed_ms / 1000.0


def _tiered(amount: float, tiers: list) -> float:
    cost, left = 0.0, amount
    for size, price in tiers:
        part = left if size is None else min(left, size)
        cost += part * price
        left -= part
        if left <= 0:
            break
    return cost


def report(rows: list[dict], prices: dict) -> dict:
    """Rows of ``UsageStore.rows`` with their GB-seconds and cost, and totals per month."""
    out_rows = []
    months: dict[str, dict] = defaultdict(lambda: {"requests": 0, "gb_seconds": defaultdict(float), "storage": 0.0})
    free_storage = prices.get("ephemeral_storage_free_mb", 512)
    for row in rows:
        gbs = gb_seconds(row["memory_mb"], row["billed_ms"])
        storage = gb_seconds(max(0, row["ephemeral_mb"] - free_storage), row["billed_ms"])
        month = months[row["month"]]
        month["requests"] += row["requests"]
        month["gb_seconds"][row["architecture"]] += gbs
        month["storage"] += storage
        flat = prices["duration_per_gb_second"][row["architecture"]][0][1]  # first tier, for the row's own estimate
        cost = (row["requests"] / 1e6 * prices["requests_per_million"] + gbs * flat
                + storage * prices["ephemeral_storage_per_gb_second"])
        out_rows.append({**row, "gb_seconds": round(gbs, 6), "cost": round(cost, 10)})
    totals = []
    for name, m in sorted(months.items()):
        duration = sum(_tiered(gbs, prices["duration_per_gb_second"][arch]) for arch, gbs in m["gb_seconds"].items())
        requests_cost = m["requests"] / 1e6 * prices["requests_per_million"]
        storage_cost = m["storage"] * prices["ephemeral_storage_per_gb_second"]
        totals.append({"month": name, "requests": m["requests"], "gb_seconds": round(sum(m["gb_seconds"].values()), 6),
                       "cost": round(requests_cost + duration + storage_cost, 10)})
    return {"currency": prices["currency"], "prices": prices["source"], "free_tier": prices.get("free_tier"),
            "usage": out_rows, "months": totals}


def table(doc: dict) -> str:
    """``lamb usage``'s table."""
    head = ("MONTH", "FUNCTION", "VERSION", "ARCH", "MEMORY", "REQUESTS", "BILLED MS", "INIT MS", "GB-S", "COST")
    lines = [head]
    for r in doc["usage"]:
        lines.append((r["month"], r["function"], r["version"], r["architecture"], f"{r['memory_mb']} MB",
                      str(r["requests"]), str(r["billed_ms"]), str(r["init_billed_ms"]), f"{r['gb_seconds']:.3f}",
                      f"{r['cost']:.6f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    for m in doc["months"]:
        text.append(f"{m['month']}: {m['requests']} requests, {m['gb_seconds']:.3f} GB-s, "
                    f"estimated {m['cost']:.6f} {doc['currency']} (before the free tier; prices: {doc['prices']})")
    return "\n".join(text) + "\n"
