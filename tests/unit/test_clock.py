"""AWS's millisecond timestamps (``lamb.clock``)."""

from __future__ import annotations

from lamb.clock import iso_ms


def test_formats():
    assert iso_ms(1573755365.568) == "2019-11-14T18:16:05.568Z"
    assert iso_ms(1712595365.123, "+0000") == "2024-04-08T16:56:05.123+0000"
    assert iso_ms(0.0009) == "1970-01-01T00:00:00.001Z"
