"""Scopes (``lamb.scopes``): one per account and region, made on first use, found on disk at
start, and picked per request from the credential scope's region and the caller's account."""

from __future__ import annotations

import pytest

from lamb.config import Settings
from lamb.scopes import Scope, Scopes, ScopeSettings

HOME = ("000000000000", "us-east-1")
OTHER = "111111111111"


class Started:
    """A component that records the start and stop calls it gets."""

    def __init__(self, log: list, name: str):
        self.log, self.name = log, name

    def __getattr__(self, method: str):
        def call(*_a, **_k):
            self.log.append(f"{self.name}.{method}")
            if method == "start" and self.name.endswith(("events", "sources")):
                return _done()
        return call


async def _done() -> None:
    return None


def scopes(tmp_path, log: list | None = None, held=(HOME[0], OTHER)) -> Scopes:
    log = [] if log is None else log

    def make(account: str, region: str, folder) -> Scope:
        scope = Scope(account, region, folder, shared=None)
        for name in ("events", "sources", "states", "provisioning", "schedules", "invocations"):
            setattr(scope, name, Started(log, f"{account}/{region}/{name}"))
        scope.reconcile = lambda: log.append(f"{account}/{region}/reconcile")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lamb.db").touch()
        return scope

    return Scopes(make, data_dir=tmp_path, home=HOME, held_accounts=lambda: held)


def test_home_keeps_the_data_dir_and_others_have_folders_of_their_own(tmp_path):
    s = scopes(tmp_path)
    assert s.home.folder == tmp_path
    eu = s.get(OTHER, "eu-west-1")
    assert eu.folder == tmp_path / "accounts" / OTHER / "eu-west-1"
    assert s.get(OTHER, "eu-west-1") is eu and s.list() == [s.home, eu]
    with pytest.raises(ValueError):
        s.get(OTHER, "../x")
    with pytest.raises(ValueError):
        s.get("root", "eu-west-1")


def test_discover_finds_every_scope_on_disk(tmp_path):
    scopes(tmp_path).get(OTHER, "ap-south-1")
    again = scopes(tmp_path)
    again.discover()
    assert [(x.account, x.region) for x in again] == [HOME, (OTHER, "ap-south-1")]


def test_start_runs_every_scope_and_a_later_one_at_once(tmp_path):
    log: list = []
    s = scopes(tmp_path, log)
    s.start()
    home = "000000000000/us-east-1"
    assert log == [f"{home}/events.start", f"{home}/sources.start", f"{home}/states.prepare_all",
                   f"{home}/provisioning.restore", f"{home}/schedules.start"]
    log.clear()
    s.get(OTHER, "eu-west-1")  # made while running: started before it is used
    assert log[0] == f"{OTHER}/eu-west-1/events.start" and log[-1] == f"{OTHER}/eu-west-1/schedules.start"
    log.clear()
    s.stop()
    assert f"{OTHER}/eu-west-1/events.stop" in log and f"{home}/schedules.stop" in log


def test_a_request_is_for_its_region_and_the_callers_account_or_the_arns(tmp_path):
    s = scopes(tmp_path)
    assert s.for_request(OTHER, None, {}).region == HOME[1]
    assert (s.for_request(OTHER, "eu-west-1", {"FunctionName": "f"}).account, s.get(OTHER, "eu-west-1").region) == (
        OTHER, "eu-west-1")
    arn = f"arn:aws:lambda:eu-west-1:{HOME[0]}:function:f"
    assert s.for_request(OTHER, "eu-west-1", {"FunctionName": arn}).account == HOME[0]  # a held account's ARN
    stranger = "arn:aws:lambda:eu-west-1:222222222222:function:f"
    assert s.for_request(OTHER, "eu-west-1", {"FunctionName": stranger}).account == OTHER  # not held: denied later
    assert s.for_request(OTHER, "eu-west-1", {"FunctionName": "arn:bad"}).account == OTHER


def test_scope_settings_read_through():
    base = Settings(port=0)
    view = ScopeSettings(base, region="eu-west-1", account_id=OTHER)
    base.port = 4321  # chosen at start
    assert (view.region, view.account_id, view.port, view.limits) == ("eu-west-1", OTHER, 4321, base.limits)



def test_a_partial_arn_of_a_held_account_is_that_accounts(tmp_path):
    s = scopes(tmp_path)
    assert s.for_request(OTHER, "us-east-1", {"FunctionName": f"{HOME[0]}:function:f"}).account == HOME[0]
    assert s.for_request(OTHER, "us-east-1", {"FunctionName": "f:1"}).account == OTHER
