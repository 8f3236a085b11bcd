"""Versions: PublishVersion and ListVersionsByFunction.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html: a
published version is an immutable snapshot of $LATEST's code and configuration,
numbered 1, 2, 3... (numbers are never reused, even after a version is deleted).
Publishing when $LATEST has not changed since the last version returns that
version instead of a new one. Publishing gives $LATEST a new RevisionId, as AWS
does. A version's environments live in their own pool (keyed by the version),
so they keep running the snapshot while $LATEST changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, require_unqualified
from ..policy.resources import NOT_SNAPSHOTTED
from ..protocol.errors import invalid_parameter
from ..services.function_state import BUILD, unsettled
from . import configuration as conf
from . import operation, runtime_management
from .common import check_revision, function_of, listed, paginate, view

if TYPE_CHECKING:
    from .context import Services
    from .context import RequestContext

# What does not count as a change of $LATEST when deciding whether to publish.
_NOT_CONTENT = frozenset({
    "FunctionArn", "Version", "RevisionId", "LastModified", "State", "StateReason", "StateReasonCode",
    "LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode", BUILD,
    "RuntimeVersionConfig", runtime_management.GONE,  # derived from the runtime management mode (issue 16)
    *NOT_SNAPSHOTTED,
})


def fingerprint(config: dict) -> str:
    """A digest of $LATEST's code and configuration (what a version snapshots)."""
    content = {k: v for k, v in config.items() if k not in _NOT_CONTENT}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _next_number(fn) -> int:
    n = fn.data.get("NextVersion")
    if n is None:  # functions stored before versions existed
        n = 1 + max((int(v) for v in fn.versions if v != LATEST), default=0)
    return n


def publish(lamb: "Services", name: str, description: str | None = None) -> dict:
    """Snapshot $LATEST as the next version, or return the last version when nothing changed."""
    s = lamb.settings
    fn = lamb.functions.get(name)
    latest = fn.versions[LATEST]
    source = fingerprint(latest)
    number = _next_number(fn)
    previous = fn.versions.get(str(number - 1))
    if previous is not None and previous.get("_Source") == source:
        return previous
    version = str(number)
    config = {k: v for k, v in latest.items()
              if k not in ("LastUpdateStatusReason", "LastUpdateStatusReasonCode", *NOT_SNAPSHOTTED)}
    apply_on = (latest.get("SnapStart") or {}).get("ApplyOn", "None")
    config.update(
        FunctionArn=function_arn(s.region, s.account_id, name, version),
        Version=version,
        Description=description if description is not None else latest.get("Description", ""),
        LastModified=conf.last_modified(),
        RevisionId=conf.new_revision(),
        LastUpdateStatus="Successful",
        SnapStart={"ApplyOn": apply_on, "OptimizationStatus": "On" if apply_on == "PublishedVersions" else "Off"},
        _Source=source,
    )
    if unsettled(latest):  # published with Create/UpdateFunctionCode: Pending until $LATEST settles
        config = lamb.states.creating(config)
    data = dict(fn.data, NextVersion=number + 1)
    new_latest = lamb.states.touched(latest)
    return lamb.functions.publish(name, version, config, data, new_latest)


@operation("PublishVersion")
def publish_version(ctx: "RequestContext", params: dict) -> dict:
    ref, fn = function_of(ctx, params)
    if ref.qualifier not in (None, LATEST):
        require_unqualified(ref, "PublishVersion")
    if params.get("PublishTo"):
        raise conf.unsupported("PublishTo")
    latest = fn.versions[LATEST]
    check_revision(params, latest)
    sha = params.get("CodeSha256")
    if sha is not None and sha != latest["CodeSha256"]:
        raise invalid_parameter(
            f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({latest['CodeSha256']}). "
            "Please try again with the CodeSHA256 in $LATEST."
        )
    ctx.lamb.states.check_can_change(fn)
    return view(publish(ctx.lamb, fn.name, params.get("Description")))


@operation("ListVersionsByFunction")
def list_versions_by_function(ctx: "RequestContext", params: dict) -> dict:
    _, fn = function_of(ctx, params)
    rows = [fn.versions[v] for v in sorted(fn.versions, key=lambda v: (v != LATEST, int(v) if v != LATEST else 0))]
    return paginate(ctx, params, rows, "Versions", lambda c: listed(c, qualified=True))
