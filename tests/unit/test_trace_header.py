"""lamb.invoke.trace_header: the sampling decision an X-Ray header carries."""

from __future__ import annotations

from lamb.invoke.trace_header import decided, unsampled


def test_a_header_decision():
    assert [decided(h) for h in (None, "", "Root=1-a-b", "Root=1-a-b;Sampled=1", "Sampled=0;X=1", "Sampled=?")] == [
        None, None, None, "1", "0", None]


def test_no_decision_becomes_not_sampled():
    assert unsampled("Root=r;Sampled=?;Lineage=1:a:0") == "Root=r;Sampled=0;Lineage=1:a:0"
    assert unsampled("Root=r;Sampled=1") == "Root=r;Sampled=1"
    assert unsampled("Root=r") == "Root=r"
