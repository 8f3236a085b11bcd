"""The invoker as one account in one region sees it (``lamb.invoke.scoped``): keys, pools and
reservations of two scopes never mix, and concurrency is counted per scope."""

from __future__ import annotations

from lamb.config import Settings
from lamb.invoke.invoker import Invoker
from lamb.invoke.scoped import ScopedInvoker, name_of, scope_id, scope_of, scoped_key
from lamb.logs.store import LogStore

HOME = ("000000000000", "us-east-1")


def test_keys():
    assert scope_id(*HOME, HOME) == "" and scoped_key("", "f") == "f" and scope_of("f") == ""
    other = scope_id("111111111111", "eu-west-1", HOME)
    key = scoped_key(other, "f")
    assert key == "111111111111:eu-west-1:f" and scope_of(key) == other and name_of(key) == "f"


def test_reservations_and_concurrency_are_per_scope(tmp_path):
    invoker = Invoker(Settings(data_dir=tmp_path), LogStore(tmp_path / "logs"), None, lambda key: tmp_path / key, None)
    home = ScopedInvoker(invoker, "")
    other = ScopedInvoker(invoker, scope_id("000000000000", "eu-west-1", HOME))
    other.concurrency.set_reserved("f", 0)
    assert other.concurrency.reserved.get("f") == 0 and dict(other.concurrency.reserved) == {"f": 0}
    assert home.concurrency.reserved.get("f") is None and invoker.concurrency.reserved == {}
    assert invoker.concurrency_of(other.scope) is not invoker.concurrency
    assert other.concurrency.account_limit == invoker.concurrency.account_limit  # each region has the whole limit
    other.retire_function("f")  # a deleted function's reservation goes with it
    assert other.concurrency.reserved.get("f") is None
    assert dict(other.pools) == {} and other.provisioned_total("f") == 0
