"""GetRuntimeManagementConfig and PutRuntimeManagementConfig
(https://docs.aws.amazon.com/lambda/latest/api/API_PutRuntimeManagementConfig.html,
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html).

Each function version ($LATEST or a published version, never an alias) has an
update mode:

* ``Auto`` (the default) and ``FunctionUpdate``: the version runs the runtime
  version Lamb has for its runtime (``lamb.runtimes.versions``). Lamb holds one
  version per runtime, so the two modes behave alike: a Lamb release that brings
  a new version moves every Auto function to it at start, and a FunctionUpdate
  function moves on its next update or, as AWS does with a version it withdraws,
  at start when its version is gone.
* ``Manual``: the version is pinned to ``RuntimeVersionArn``, which must be a
  version of the function's own runtime that this Lamb has. A $LATEST in Manual
  mode keeps its runtime and architecture: UpdateFunctionConfiguration and
  UpdateFunctionCode refuse to change them, as AWS documents
  (https://docs.aws.amazon.com/lambda/latest/dg/runtime-management-rollback.html).

``RuntimeVersionConfig.RuntimeVersionArn`` of GetFunction(Configuration) is the
version the function runs (its pin in Manual mode). When a Lamb release no longer
has a pinned version (its runtime root format changed), the function keeps its
state, ``RuntimeVersionConfig.Error`` says what happened, and invocations get
``RuntimeVersionDeletedException`` (409, as in botocore's newest model) until the
mode is changed or a version Lamb has is pinned. Lamb checks this when it starts
(``reconcile``), the only moment its set of versions can change.

Where AWS's exact wording is not known the messages are Lamb's (docs/status.md).
A version's mode is kept in its configuration under ``_RuntimeManagement``, so a
published version snapshots the mode of $LATEST and goes away with its version.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from ..arn import LATEST, function_arn, is_version, parse_function_name
from ..protocol.errors import invalid_parameter, not_found
from ..runtimes import versions
from ..services.invoke import RUNTIME_VERSION_GONE
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext
    from ..store.functions import FunctionStore

KEY = "_RuntimeManagement"  # {"UpdateRuntimeOn": "Manual", "RuntimeVersionArn": "arn:..."}
GONE = RUNTIME_VERSION_GONE  # set (to the pinned ARN) while a pinned version is not on this Lamb
AUTO, MANUAL = "Auto", "Manual"  # and "FunctionUpdate", which behaves as Auto on Lamb
LATEST_PUBLISHED = "$LATEST.PUBLISHED"
GONE_ERROR_CODE = "RuntimeVersionDeleted"


def mode(config: dict) -> dict:
    """A version's runtime management config: ``{"UpdateRuntimeOn": ..., ["RuntimeVersionArn": ...]}``."""
    return config.get(KEY) or {"UpdateRuntimeOn": AUTO}


def _target(ctx: "RequestContext", params: dict):
    """(function, version, its config, the FunctionArn to answer with) for a request."""
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], params.get("Qualifier"), region=s.region, account_id=s.account_id)
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name, ref.qualifier)}")
    qualifier = ref.qualifier
    if qualifier is not None and qualifier != LATEST_PUBLISHED and not is_version(qualifier):
        # Recorded from AWS (DataBiosphere/azul#7730): aliases are refused by name.
        raise invalid_parameter(
            f"The provided function name {function_arn(s.region, s.account_id, ref.name, qualifier)} is invalid. "
            "Aliases are not allowed."
        )
    version = qualifier or LATEST
    config = fn.versions.get(version)
    if config is None:  # an unpublished number, or $LATEST.PUBLISHED (Lamb has no capacity providers)
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name, version)}")
    return fn, version, config, function_arn(s.region, s.account_id, ref.name, qualifier)


def _answer(config: dict, arn: str) -> dict:
    m = mode(config)
    out = {"UpdateRuntimeOn": m["UpdateRuntimeOn"], "FunctionArn": arn}
    if "RuntimeVersionArn" in m:
        out["RuntimeVersionArn"] = m["RuntimeVersionArn"]
    return out


@operation("GetRuntimeManagementConfig")
def get_runtime_management_config(ctx: "RequestContext", params: dict) -> dict:
    _, _, config, arn = _target(ctx, params)
    return _answer(config, arn)


def _check_pin(region: str, runtime: str, arn: str | None) -> None:
    if not arn:
        raise invalid_parameter("RuntimeVersionArn is required when UpdateRuntimeOn is Manual.")
    pinned = versions.find(region, arn)
    if pinned is None:
        have = versions.current(region, runtime).arn
        raise invalid_parameter(
            f"Runtime version {arn} does not exist on this Lamb. The version of {runtime} it has is {have}."
        )
    if pinned.runtime != runtime:
        raise invalid_parameter(
            f"Runtime version {arn} is a version of {pinned.runtime}, not of the function's runtime {runtime}."
        )


@operation("PutRuntimeManagementConfig")
def put_runtime_management_config(ctx: "RequestContext", params: dict) -> dict:
    region = ctx.lamb.settings.region
    fn, version, config, arn = _target(ctx, params)
    if version == LATEST:
        ctx.lamb.states.check_can_change(fn)  # not while $LATEST is Pending or being updated
    update_on, pin = params["UpdateRuntimeOn"], params.get("RuntimeVersionArn")
    if update_on == MANUAL:
        _check_pin(region, config["Runtime"], pin)
    elif pin is not None:
        raise invalid_parameter(f"RuntimeVersionArn can only be given with UpdateRuntimeOn Manual, not {update_on}.")
    new = copy.deepcopy(config)
    new[KEY] = {"UpdateRuntimeOn": update_on, **({"RuntimeVersionArn": pin} if pin else {})}
    _settle(new, region)
    ctx.lamb.functions.put_version(fn.name, version, new)
    return _answer(new, arn)


def _settle(config: dict, region: str) -> bool:
    """Make a version's ``RuntimeVersionConfig`` (and the ``GONE`` mark) match its mode
    and the versions this Lamb has; True when anything changed."""
    before = (copy.deepcopy(config.get("RuntimeVersionConfig")), config.get(GONE))
    m = mode(config)
    if m["UpdateRuntimeOn"] == MANUAL:
        pin = m["RuntimeVersionArn"]
        found = versions.find(region, pin)
        if found is not None and found.runtime == config["Runtime"]:
            config["RuntimeVersionConfig"] = {"RuntimeVersionArn": pin}
            config.pop(GONE, None)
        else:
            have = versions.current(region, config["Runtime"])
            config["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": pin,
                "Error": {
                    "ErrorCode": GONE_ERROR_CODE,
                    "Message": f"Runtime version {pin} is no longer available on this Lamb, which runs "
                               f"{have.name} ({have.arn}) for {config['Runtime']}. Set UpdateRuntimeOn to Auto or "
                               f"FunctionUpdate, or pin {have.arn}.",
                },
            }
            config[GONE] = pin
    else:
        config["RuntimeVersionConfig"] = {"RuntimeVersionArn": versions.current(region, config["Runtime"]).arn}
        config.pop(GONE, None)
    return (config.get("RuntimeVersionConfig"), config.get(GONE)) != before


def on_update(old: dict, new: dict, region: str) -> None:
    """Called with $LATEST's configuration before and after UpdateFunctionCode or
    UpdateFunctionConfiguration: Manual mode keeps runtime and architecture; every
    other mode takes the runtime version Lamb has for the (new) runtime."""
    if mode(old)["UpdateRuntimeOn"] == MANUAL:
        for member in ("Runtime", "Architectures"):
            if new.get(member) != old.get(member):
                raise invalid_parameter(
                    f"The {member} of a function whose runtime update mode is Manual cannot be changed. "
                    "Set UpdateRuntimeOn to Auto or FunctionUpdate first."
                )
    _settle(new, region)


def reconcile(store: "FunctionStore", region: str) -> int:
    """At start: bring every version's ``RuntimeVersionConfig`` in line with the
    runtime versions this Lamb has (a new Lamb release may have changed them).
    Returns how many versions changed."""
    changed = 0
    for fn in list(store.functions.values()):
        for version, config in list(fn.versions.items()):
            new = copy.deepcopy(config)
            if _settle(new, region):
                store.put_version(fn.name, version, new)
                changed += 1
    return changed
