"""Two servers measured in one run, interleaved: this build and another build or setting (``--compare``).

    --compare SRC          the other build's ``src`` folder (``.`` or ``src``: this tree again)
    --serve-args "..."     more ``lamb serve`` options for this one   (e.g. "--network isolated")
    --compare-args "..."   more ``lamb serve`` options for the other (e.g. "--network host")

Both servers run at once and the measurements alternate between them, the first of each
pair alternating too, so the load of the host (other work on a shared machine) weighs on
both alike. Used by cold_start.py and burst.py.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
from dataclasses import dataclass

from invoke_latency import start_server, stop_server


@dataclass
class Side:
    label: str  # "this" or "compare"
    endpoint: str
    proc: object
    data: str


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--compare", metavar="SRC",
                    help="also measure another build (its src folder; '.' for this tree with other options), interleaved")
    ap.add_argument("--serve-args", default="", help="more `lamb serve` options for this build")
    ap.add_argument("--compare-args", default="", help="more `lamb serve` options for the compared server")


def start(args) -> list[Side]:
    """This server, and the compared one when ``--compare`` is given."""
    sides: list[Side] = []
    try:
        proc, endpoint, data = start_server(extra=shlex.split(args.serve_args))
        sides.append(Side("this", endpoint, proc, data))
        if args.compare:
            src = None if args.compare in (".", "src") else args.compare
            proc, endpoint, data = start_server(extra=shlex.split(args.compare_args), src=src)
            sides.append(Side("compare", endpoint, proc, data))
    except BaseException:
        stop(sides)
        raise
    return sides


def order(sides: list[Side], i: int) -> list[Side]:
    """Round ``i``: this one first on even rounds, the other on odd ones."""
    return sides if i % 2 == 0 else sides[::-1]


def stop(sides: list[Side]) -> None:
    for side in sides:
        stop_server(side.proc, side.data, 60)


def median_of_differences(this: list[float], other: list[float]) -> float:
    """The median of the pairwise differences (round i of this minus round i of the other)."""
    return statistics.median(a - b for a, b in zip(this, other))
