"""CloudWatch Logs for Lambda's log groups (botocore's ``logs`` model, the json protocol).

Groups, streams and events as the CloudWatch Logs API reference defines them
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/, one page per
operation): CreateLogGroup, DeleteLogGroup, DescribeLogGroups, Put/DeleteRetentionPolicy,
CreateLogStream, DeleteLogStream, DescribeLogStreams, PutLogEvents, GetLogEvents,
FilterLogEvents (``lamb.logs.filter_pattern``) and StartLiveTail (an event stream). The
files are Lamb's function logs (``lamb.logs``); errors carry AWS's codes and texts
(ResourceNotFoundException "The specified log group does not exist.", status 400).
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from typing import TYPE_CHECKING, AsyncIterator

from .. import aio
from ..clock import now_ms
from ..logs import reader
from ..logs.filter_pattern import InvalidPattern, compile_pattern
from ..logs.groups import RETENTION_DAYS
from ..logs.live_tail import Session
from ..protocol import eventstream
from ..protocol.errors import AwsError
from ..safe_path import UnsafePath
from . import operation

if TYPE_CHECKING:
    from ..logs.service import CloudWatchLogs
    from .context import RequestContext

SERVICE = "logs"
DAY_MS = 24 * 3600 * 1000  # PutLogEvents' "too old": 14 days (AWS's own window)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message, 400)


def _group_missing() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log group does not exist.", 400)


def _stream_missing() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log stream does not exist.", 400)


def _too_long() -> AwsError:
    """A name the model allows (512 characters) that Lamb cannot keep as a file name (Lamb's limit)."""
    return _invalid("Lamb keeps log group and stream names of up to 255 bytes once percent-encoded "
                    "(their file names); this one is longer.")


def _bad_token() -> AwsError:
    return _invalid("The specified nextToken is invalid.")


def _cwl(ctx: "RequestContext") -> "CloudWatchLogs":
    return ctx.lamb.cloudwatch_logs


def _group_of(ctx: "RequestContext", params: dict) -> str:
    """The group named by ``logGroupName`` or ``logGroupIdentifier`` (name or ARN); it must exist."""
    name, ident = params.get("logGroupName"), params.get("logGroupIdentifier")
    if name is not None and ident is not None:
        raise AwsError("ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.", 400)
    if name is None and ident is None:
        raise _invalid("Either logGroupName or logGroupIdentifier must be specified.")
    cwl = _cwl(ctx)
    group = name if name is not None else cwl.group_name(ident)
    try:
        if cwl.get(group) is None:
            raise _group_missing()
    except UnsafePath:
        raise _group_missing() from None
    return group


def _stream_path(ctx: "RequestContext", group: str, stream: str):
    try:
        path = _cwl(ctx).store.stream_path(group, stream)
    except UnsafePath:
        raise _stream_missing() from None
    if not path.is_file():
        raise _stream_missing()
    return path


def _page(order: list[str], params: dict, size_max: int) -> tuple[list[str], str | None]:
    """A page of ``order`` (group or stream names) after the one ``nextToken`` names (its position
    if it is gone)."""
    token = params.get("nextToken")
    start = 0
    if token:
        try:
            after, _, pos = base64.urlsafe_b64decode(token.encode()).decode().rpartition("\n")
            start = order.index(after) + 1 if after in order else int(pos)
        except (ValueError, UnicodeDecodeError):
            raise _bad_token() from None
    size = min(params.get("limit") or size_max, size_max)
    page = order[start:start + size]
    if start + size < len(order) and page:
        return page, base64.urlsafe_b64encode(f"{page[-1]}\n{start + size}".encode()).decode()
    return page, None


# ------------------------------------------------------------------ log groups
@operation("CreateLogGroup", service=SERVICE)
def create_log_group(ctx: "RequestContext", params: dict) -> dict:
    name = params["logGroupName"]
    try:
        created = _cwl(ctx).create(name, now_ms(), params.get("tags"), params.get("logGroupClass") or "STANDARD",
                                   bool(params.get("deletionProtectionEnabled")))
    except UnsafePath:
        raise _too_long() from None
    if not created:
        raise AwsError("ResourceAlreadyExistsException", "The specified log group already exists", 400)
    return {}


@operation("DeleteLogGroup", service=SERVICE)
def delete_log_group(ctx: "RequestContext", params: dict) -> dict:
    group = _group_of(ctx, params)
    if _cwl(ctx).get(group).deletion_protection:  # type: ignore[union-attr]
        raise AwsError("ValidationException", "Cannot delete log group with deletion protection enabled.", 400)
    _cwl(ctx).delete(group)
    return {}


@operation("DescribeLogGroups", service=SERVICE)
def describe_log_groups(ctx: "RequestContext", params: dict) -> dict:
    prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
    if prefix is not None and pattern is not None:
        raise _invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    cwl = _cwl(ctx)
    wanted = {cwl.group_name(i) for i in params.get("logGroupIdentifiers") or ()}
    groups = {g.name: g for g in cwl.all()
              if (prefix is None or g.name.startswith(prefix))
              and params.get("logGroupClass") in (None, g.log_class)
              and (pattern is None or pattern.lower() in g.name.lower())
              and (not wanted or g.name in wanted)}
    page, token = _page(sorted(groups), params, cwl.limits.logs_describe_max_items)
    out = []
    for name in page:
        g = groups[name]
        arn = cwl.group_arn(name)
        item = {"logGroupName": name, "creationTime": g.created_ms, "metricFilterCount": 0, "arn": arn + ":*",
                "storedBytes": cwl.stored_bytes(name), "logGroupClass": g.log_class, "logGroupArn": arn,
                "deletionProtectionEnabled": g.deletion_protection}
        if g.retention_days:
            item["retentionInDays"] = g.retention_days
        out.append(item)
    result: dict = {"logGroups": out}
    if token:
        result["nextToken"] = token
    return result


@operation("PutRetentionPolicy", service=SERVICE)
def put_retention_policy(ctx: "RequestContext", params: dict) -> dict:
    days = params["retentionInDays"]
    if days not in RETENTION_DAYS:
        raise _invalid(f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                       f"constraint: Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]")
    group = _group_of(ctx, params)
    _cwl(ctx).groups.set_retention(group, days)
    return {}


@operation("DeleteRetentionPolicy", service=SERVICE)
def delete_retention_policy(ctx: "RequestContext", params: dict) -> dict:
    group = _group_of(ctx, params)
    _cwl(ctx).groups.set_retention(group, None)
    return {}


# ----------------------------------------------------------------- log streams
@operation("CreateLogStream", service=SERVICE)
def create_log_stream(ctx: "RequestContext", params: dict) -> dict:
    group = _group_of(ctx, params)
    try:
        created = _cwl(ctx).store.create_stream(group, params["logStreamName"])
    except UnsafePath:
        raise _too_long() from None
    if not created:
        raise AwsError("ResourceAlreadyExistsException", "The specified log stream already exists", 400)
    return {}


@operation("DeleteLogStream", service=SERVICE)
def delete_log_stream(ctx: "RequestContext", params: dict) -> dict:
    group = _group_of(ctx, params)
    _stream_path(ctx, group, params["logStreamName"])
    _cwl(ctx).store.delete_stream(group, params["logStreamName"])
    return {}


@operation("DescribeLogStreams", service=SERVICE)
def describe_log_streams(ctx: "RequestContext", params: dict) -> dict:
    group = _group_of(ctx, params)
    prefix = params.get("logStreamNamePrefix")
    by_time = params.get("orderBy") == "LastEventTime"
    if by_time and prefix:
        raise _invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    cwl = _cwl(ctx)
    info: dict[str, dict] = {}
    for name, path in cwl.streams(group):
        if prefix and not name.startswith(prefix):
            continue
        try:
            f = reader.facts(path)
        except (FileNotFoundError, ValueError):
            continue
        item = {"logStreamName": name, "creationTime": f.first_ts if f.first_ts is not None else f.last_write_ms,
                "arn": cwl.stream_arn(group, name), "storedBytes": 0}
        if f.first_ts is not None:
            item.update(firstEventTimestamp=f.first_ts, lastEventTimestamp=f.last_ts,
                        # the file's mtime has the kernel's coarser clock: never before the last event
                        lastIngestionTime=max(f.last_write_ms, f.last_ts or 0))
        info[name] = item
    if by_time:
        # a stream without events has no last event time: it sorts before every stream with one
        order = sorted(info, key=lambda n: (info[n].get("lastEventTimestamp", 0), n))
    else:
        order = sorted(info)
    if params.get("descending"):
        order.reverse()
    page, token = _page(order, params, cwl.limits.logs_describe_max_items)
    result: dict = {"logStreams": [info[n] for n in page]}
    if token:
        result["nextToken"] = token
    return result


# ---------------------------------------------------------------------- events
@operation("PutLogEvents", service=SERVICE)
def put_log_events(ctx: "RequestContext", params: dict) -> dict:
    """Events must be in time order; those too far ahead (2 h), older than 14 days or past the
    group's retention are rejected (``rejectedLogEventsInfo``), the others stored."""
    group = _group_of(ctx, params)
    name = params["logStreamName"]
    _stream_path(ctx, group, name)
    cwl = _cwl(ctx)
    events = params["logEvents"]
    stamps = [e["timestamp"] for e in events]
    if stamps != sorted(stamps):
        raise _invalid("Log events in a single PutLogEvents request must be in chronological order.")
    now = now_ms()
    days = cwl.get(group).retention_days  # type: ignore[union-attr]
    too_new = next((i for i, t in enumerate(stamps) if t > now + cwl.limits.logs_future_event_max_ms), None)
    too_old = max((i for i, t in enumerate(stamps) if t < now - 14 * DAY_MS), default=None)
    expired = max((i for i, t in enumerate(stamps) if days and t < now - days * cwl.day_ms), default=None)
    low = max(x for x in (too_old, expired, -1) if x is not None) + 1
    high = too_new if too_new is not None else len(events)
    stream = cwl.store.stream(group, name)
    for e in events[low:high]:
        stream.write(e["timestamp"], e["message"].replace("\n", " "))
    stream.close()
    rejected = {k: v for k, v in (("tooNewLogEventStartIndex", too_new), ("tooOldLogEventEndIndex", too_old),
                                  ("expiredLogEventEndIndex", expired)) if v is not None}
    return {"rejectedLogEventsInfo": rejected} if rejected else {}


def _limit(ctx: "RequestContext", params: dict) -> int:
    most = _cwl(ctx).limits.logs_events_max_items
    return min(params.get("limit") or most, most)


@operation("GetLogEvents", service=SERVICE)
def get_log_events(ctx: "RequestContext", params: dict) -> dict:
    group = _group_of(ctx, params)
    path = _stream_path(ctx, group, params["logStreamName"])
    try:
        page = reader.get_events(path, start=params.get("startTime"), end=params.get("endTime"),
                                 limit=_limit(ctx, params), from_head=bool(params.get("startFromHead")),
                                 next_token=params.get("nextToken"),
                                 max_bytes=_cwl(ctx).limits.logs_response_max_bytes)
    except reader.BadToken:
        raise _bad_token() from None
    return {"events": page.events, "nextForwardToken": page.forward, "nextBackwardToken": page.backward}


def _pattern(text: str | None):
    try:
        return compile_pattern(text)
    except InvalidPattern as e:
        raise _invalid(str(e)) from None


@operation("FilterLogEvents", service=SERVICE)
def filter_log_events(ctx: "RequestContext", params: dict) -> dict:
    group = _group_of(ctx, params)
    names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
    if names and prefix is not None:
        raise _invalid("logStreamNames and logStreamNamePrefix are mutually exclusive.")
    matches = _pattern(params.get("filterPattern"))
    cwl = _cwl(ctx)
    streams = [(n, p) for n, p in cwl.streams(group)
               if (not names or n in names) and (prefix is None or n.startswith(prefix))]
    if names and not streams:
        raise _stream_missing()
    try:
        found = reader.filter_events(streams, start=params.get("startTime"), end=params.get("endTime"),
                                     matches=matches, limit=_limit(ctx, params), next_token=params.get("nextToken"),
                                     max_bytes=cwl.limits.logs_response_max_bytes,
                                     future_ms=cwl.limits.logs_future_event_max_ms)
    except reader.BadToken:
        raise _bad_token() from None
    result: dict = {"events": found.events,
                    "searchedLogStreams": [{"logStreamName": n, "searchedCompletely": found.next_token is None}
                                           for n, _ in streams]}
    if found.next_token:
        result["nextToken"] = found.next_token
    return result


# ------------------------------------------------------------------- Live Tail
@operation("StartLiveTail", service=SERVICE)
def start_live_tail(ctx: "RequestContext", params: dict) -> dict:
    cwl = _cwl(ctx)
    groups: dict[str, str] = {}
    for ident in params["logGroupIdentifiers"]:
        name = cwl.group_name(ident)
        try:
            known = cwl.get(name) is not None
        except UnsafePath:
            known = False
        if not known:
            raise _group_missing()
        groups[name] = ident
    names, prefixes = params.get("logStreamNames"), params.get("logStreamNamePrefixes")
    if names and prefixes:
        raise _invalid("logStreamNames and logStreamNamePrefixes are mutually exclusive.")
    if (names or prefixes) and len(groups) != 1:
        raise _invalid("Only one log group can be specified when logStreamNames or logStreamNamePrefixes is set.")
    matches = _pattern(params.get("logEventFilterPattern"))
    if cwl.live_tail.full():
        raise AwsError("LimitExceededException", "Resource limit exceeded.", 400)
    session = cwl.live_tail.open(Session(groups, frozenset(names or ()), tuple(prefixes or ()), matches,
                                         cwl.limits.logs_live_tail_update_max_events))
    start = {"requestId": ctx.request_id, "sessionId": str(uuid.uuid4()),
             "logGroupIdentifiers": list(params["logGroupIdentifiers"]), "logStreamNames": list(names or []),
             "logStreamNamePrefixes": list(prefixes or []),
             "logEventFilterPattern": params.get("logEventFilterPattern") or ""}
    interval = ctx.lamb.settings.log_live_tail_interval_s
    return {"responseStream": _live_events(cwl, session, start, interval)}


async def _live_events(cwl: "CloudWatchLogs", session: Session, start: dict, interval: float) -> AsyncIterator[bytes]:
    """initial-response, sessionStart, then a sessionUpdate per interval (empty ones too: they keep the
    connection alive, as AWS's do), until the 3-hour limit ends it with SessionTimeoutException."""
    deadline = time.monotonic() + cwl.limits.logs_live_tail_max_s
    try:
        yield eventstream.json_event("initial-response", {})  # the json protocol's first event: the other members
        yield eventstream.json_event("sessionStart", start)
        while time.monotonic() < deadline:
            if await aio.wait_event(session.wake, interval):
                await asyncio.sleep(max(0.0, interval / 10))  # a burst's lines travel together
            results, sampled = session.take()
            yield eventstream.json_event("sessionUpdate", {"sessionMetadata": {"sampled": sampled},
                                                           "sessionResults": results})
        yield eventstream.exception("SessionTimeoutException",
                                    {"message": "Session timed out after 3 hours."})
    finally:
        cwl.live_tail.close(session)
