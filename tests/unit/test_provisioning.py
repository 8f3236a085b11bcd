"""Reserved and provisioned concurrency as stored and applied (``lamb.services.provisioning``),
with a real (not started) invoker: no environment is started by these steps."""

from __future__ import annotations

from lamb.config import Settings
from lamb.invoke.invoker import Invoker
from lamb.logs.store import LogStore
from lamb.services.provisioning import PROVISIONED, RESERVED, Provisioning, configs, provisioned_aliases, version_of
from lamb.store.db import Database
from lamb.store.functions import FunctionStore


def build(tmp_path, functions):
    s = Settings(data_dir=tmp_path)
    invoker = Invoker(s, LogStore(tmp_path / "logs"), None, lambda key: tmp_path / key, None)
    return Provisioning(functions, invoker, None, None), invoker


def test_reserved_is_stored_and_enforced(tmp_path, functions):
    prov, invoker = build(tmp_path, functions)
    prov.set_reserved(functions.get("f"), 7)
    assert functions.get("f").data[RESERVED] == 7 and invoker.concurrency.reserved["f"] == 7
    prov.set_reserved(functions.get("f"), None)
    assert RESERVED not in functions.get("f").data and invoker.concurrency.reserved.get("f") is None


def test_configs_follow_their_version_or_alias(tmp_path, functions):
    prov, _ = build(tmp_path, functions)
    fn = functions.get("f")
    prov.put(fn, "live", {"Requested": 2, "LastModified": "t"})
    fn = functions.get("f")
    assert version_of(fn, "live") == "1" and provisioned_aliases(fn, "1") == ["live"]
    assert configs(fn) == {"live": {"Requested": 2, "LastModified": "t"}}
    status = prov.status(fn, "1", fn.data[PROVISIONED]["live"])  # no pool yet: nothing allocated
    assert (status["Status"], status["AllocatedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 0)
    functions.delete_alias("f", "live")
    assert configs(functions.get("f")) == {}  # a config does not outlive its alias
    assert prov.forget(functions.get("f"), "live") is True
    assert PROVISIONED not in functions.get("f").data
    assert prov.forget(functions.get("f"), "live") is False


def test_restore_tells_the_limiter_again(tmp_path, functions):
    functions.update_data("f", **{RESERVED: 3})
    functions.db.close()
    again = FunctionStore(Database(tmp_path / "lamb.db"))
    prov, invoker = build(tmp_path, again)
    prov.restore()  # no provisioned config: nothing to start
    assert invoker.concurrency.reserved["f"] == 3
