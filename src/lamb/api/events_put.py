"""PutEvents and TestEventPattern (botocore's ``events`` model) on the default event bus.

https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html: each entry is
checked on its own (``schedules/bus.py``: a refused entry is a failed entry, the others go on);
an accepted one becomes an event and is delivered, asynchronously, to the Lambda targets of
every enabled rule whose ``EventPattern`` matches it (``Schedules.publish``), with the rule's
input settings (Input, InputPath, InputTransformer), retry policy and dead-letter queue, after
the function's resource policy allowed ``events.amazonaws.com`` for the rule. Entries over the
size limit in total (256 KB) refuse the whole request.
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html: whether an
event (a JSON object with EventBridge's envelope fields, else ``Parameter Event is not valid.``)
matches a pattern.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..protocol.errors import AwsError
from ..schedules import bus
from ..sources.filtering import parse_pattern
from . import operation
from .events_rules import DEFAULT_BUS, check_pattern

if TYPE_CHECKING:
    from .context import RequestContext

# What TestEventPattern requires of its event (the envelope fields EventBridge always sets).
ENVELOPE = ("id", "account", "source", "time", "region", "detail-type")


def _on_default_bus(ctx: "RequestContext", name: str | None) -> bool:
    s = ctx.lamb.settings
    return not name or name in (DEFAULT_BUS, f"arn:aws:events:{s.region}:{s.account_id}:event-bus/{DEFAULT_BUS}")


@operation("PutEvents", service="events")
def put_events(ctx: "RequestContext", params: dict) -> dict:
    settings = ctx.lamb.settings
    entries = params["Entries"]
    if sum(bus.entry_size(e) for e in entries) > settings.limits.events_put_max_bytes:
        raise AwsError("ValidationException", "Total size of the entries in the request is over the limit.", 400)
    schedules = ctx.lamb.schedules
    out, failed = [], 0
    for entry in entries:
        error = bus.entry_error(entry)
        if error is None and not _on_default_bus(ctx, entry.get("EventBusName")):
            error = ("ResourceNotFoundException",
                     f"Event bus {str(entry['EventBusName']).rsplit('/', 1)[-1]} does not exist.")
        if error is not None:
            failed += 1
            out.append({"ErrorCode": error[0], "ErrorMessage": error[1]})
            continue
        event = bus.envelope(entry, region=settings.region, account=settings.account_id, now=schedules.clock())
        schedules.publish(event)
        out.append({"EventId": event["id"]})
    return {"FailedEntryCount": failed, "Entries": out}


@operation("TestEventPattern", service="events")
def event_pattern_result(ctx: "RequestContext", params: dict) -> dict:
    check_pattern(params["EventPattern"])
    try:
        event = json.loads(params["Event"])
    except ValueError:
        event = None
    if not isinstance(event, dict) or any(k not in event for k in ENVELOPE):
        raise AwsError("ValidationException", "Parameter Event is not valid.", 400)
    return {"Result": parse_pattern(params["EventPattern"]).matches(event)}
