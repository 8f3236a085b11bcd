"""AWS's millisecond timestamps, one formatter for all of them."""

from __future__ import annotations

import time


def iso_ms(t: float, zone: str = "Z") -> str:
    """``t`` (epoch seconds) as ``2019-11-14T18:16:05.568Z``; ``zone="+0000"`` gives the
    ``LastModified`` form of the Lambda API (``2024-04-08T16:56:05.123+0000``)."""
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03d%s" % (ms % 1000, zone)


def now_ms() -> int:
    """Epoch milliseconds (log event timestamps, the Runtime API's deadline)."""
    return int(time.time() * 1000)
