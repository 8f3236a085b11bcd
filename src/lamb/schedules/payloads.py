"""What a schedule's target receives.

- EventBridge rules send the *Scheduled Event*
  (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html):
  ``version "0"``, ``id``, ``detail-type "Scheduled Event"``, ``source "aws.events"``,
  ``account``, ``time`` (the tick, UTC, seconds), ``region``, ``resources [rule ARN]``,
  ``detail {}`` — or, per target, ``Input`` (constant JSON), ``InputPath`` (a JSONPath into
  the event) or ``InputTransformer`` (``InputPathsMap`` + ``InputTemplate``)
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).
- EventBridge Scheduler sends its target's ``Input`` with the context attributes
  ``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.scheduled-time>``,
  ``<aws.scheduler.execution-id>`` and ``<aws.scheduler.attempt-number>`` filled in
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html);
  without an Input, ``{}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


PREDEFINED = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time",
              "aws.events.event", "aws.events.event.json")


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def iso_seconds(t: float) -> str:
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(rule_arn: str, tick: float, *, region: str, account: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": iso_seconds(tick),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def valid_path(path: str) -> bool:
    """The JSONPath subset Lamb reads: ``$``, then ``.key`` and ``[index]`` steps."""
    if not path.startswith("$"):
        return False
    rest = path[1:]
    pos = 0
    for m in _PATH_STEP.finditer(rest):
        if m.start() != pos:
            return False
        pos = m.end()
    return pos == len(rest)


def select(doc: Any, path: str) -> Any:
    """The value at ``path`` (see ``valid_path``) or ``_MISSING``."""
    value = doc
    for m in _PATH_STEP.finditer(path[1:]):
        key, index = m.group(1), m.group(2)
        if key is not None and isinstance(value, dict) and key in value:
            value = value[key]
        elif index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def _inside_string(text: str, end: int) -> bool:
    """Whether position ``end`` of a JSON-like template lies inside a string literal."""
    inside = False
    i = 0
    while i < end:
        c = text[i]
        if c == "\\" and inside:
            i += 2
            continue
        if c == '"':
            inside = not inside
        i += 1
    return inside


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill ``<name>`` placeholders: inside a JSON string (or anywhere in a plain-text template)
    a value goes in as text, elsewhere as JSON (a string quoted); a name that is not in
    ``values`` stays as it is."""
    out = []
    last = 0
    is_json = template.lstrip()[:1] in ("{", "[")  # a plain-text template takes strings as they are
    for m in _PLACEHOLDER.finditer(template):
        name = m.group(1)
        if name not in values:
            continue
        value = values[name]
        out.append(template[last:m.start()])
        as_json = "null" if value is _MISSING else json.dumps(value, separators=(",", ":"))
        if not is_json:
            out.append(value if isinstance(value, str) else as_json)
        elif _inside_string(template, m.start()):
            out.append(json.dumps(value if isinstance(value, str) else as_json)[1:-1])
        else:
            out.append(as_json)
        last = m.end()
    out.append(template[last:])
    return "".join(out)


def rule_target_input(target: dict, event: dict, *, rule_name: str, rule_arn: str | None = None) -> bytes:
    """The payload of one rule target for ``event`` (see the module docstring)."""
    if target.get("Input") is not None:
        return target["Input"].encode()
    if target.get("InputPath") is not None:
        value = select(event, target["InputPath"])
        return json.dumps(None if value is _MISSING else value).encode()
    transformer = target.get("InputTransformer")
    if transformer is not None:
        values: dict[str, Any] = {
            "aws.events.rule-arn": rule_arn or event["resources"][0],
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": event["time"],
            # The event without its detail, detail-type spelled detailType; .json: the whole event.
            "aws.events.event": {("detailType" if k == "detail-type" else k): v
                                 for k, v in event.items() if k != "detail"},
            "aws.events.event.json": event,
        }
        for name, path in (transformer.get("InputPathsMap") or {}).items():
            values[name] = select(event, path)
        text = render_template(transformer["InputTemplate"], values)
        try:
            json.loads(text)
        except ValueError:
            text = json.dumps(text)  # a plain-text template reaches a function as a JSON string
        return text.encode()
    return json.dumps(event, separators=(",", ":")).encode()


def scheduler_input(target: dict, *, schedule_arn: str, tick: float, execution_id: str, attempt: int) -> bytes:
    text = target.get("Input")
    if text is None:
        return b"{}"
    context = {
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.scheduled-time>": iso_seconds(tick),
        "<aws.scheduler.execution-id>": execution_id,
        "<aws.scheduler.attempt-number>": str(attempt),
    }
    for name, value in context.items():
        text = text.replace(name, value)
    return text.encode()
