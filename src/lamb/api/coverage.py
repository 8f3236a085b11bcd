"""How much of the installed botocore Lambda model this Lamb serves.

Lamb serves the model of the botocore it runs with (docs/architecture.md, "botocore
model policy"). Every operation of that model is routed, parsed and validated; an
operation without a handler answers ``UnsupportedOperationException`` (501) in AWS's
REST-JSON error shape until it is built. A newer botocore therefore adds operations
that Lamb routes but does not yet serve, and this summary says how many: it is part of
``/_lamb/health`` and of the line ``lamb serve`` prints when it starts.
"""

from __future__ import annotations

from typing import Iterable, TypedDict


class Coverage(TypedDict):
    botocore: str  # version of the botocore whose model is served
    model: int  # operations in that model
    served: int  # operations of the model that have a handler
    not_built: list[str]  # operations of the model without a handler (answered with 501)
    not_in_model: list[str]  # handlers whose operation this model lacks (unreachable; older botocore)


def coverage(model_operations: Iterable[str], handlers: Iterable[str], botocore_version: str) -> Coverage:
    model = set(model_operations)
    built = set(handlers)
    return Coverage(
        botocore=botocore_version,
        model=len(model),
        served=len(model & built),
        not_built=sorted(model - built),
        not_in_model=sorted(built - model),
    )


def describe(c: Coverage) -> str:
    """One line for the start-up log: ``serving 43 of the 91 operations of botocore 1.44.18's Lambda model``."""
    text = f"serving {c['served']} of the {c['model']} operations of botocore {c['botocore']}'s Lambda model"
    if c["not_in_model"]:
        text += f" ({len(c['not_in_model'])} built operations missing from it: {', '.join(c['not_in_model'])})"
    return text
