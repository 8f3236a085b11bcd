"""store/stacks.py: stack records with compare-and-swap revisions, on a real database."""

from __future__ import annotations

import pytest

from lamb.store.db import Database
from lamb.store.stacks import Conflict, StackStore


@pytest.fixture
def stacks(tmp_path) -> StackStore:
    return StackStore(Database(tmp_path / "lamb.db"))


def test_put_get_list_delete(stacks, tmp_path):
    assert stacks.get("app") is None
    assert stacks.put("app", {"Status": "CREATE_IN_PROGRESS", "Revision": 99}, 0) == 1
    assert stacks.put("app", {"Status": "CREATE_COMPLETE"}, 1) == 2
    got = stacks.get("app")
    assert (got["StackName"], got["Status"], got["Revision"]) == ("app", "CREATE_COMPLETE", 2)
    assert [s["StackName"] for s in StackStore(Database(tmp_path / "lamb.db")).list()] == ["app"]  # durable
    stacks.delete("app", 2)
    assert stacks.get("app") is None


def test_two_writers_of_one_revision_conflict(stacks):
    stacks.put("app", {"Status": "CREATE_COMPLETE"}, 0)
    stacks.put("app", {"Status": "UPDATE_IN_PROGRESS"}, 1)      # first user
    with pytest.raises(Conflict) as e:
        stacks.put("app", {"Status": "UPDATE_IN_PROGRESS"}, 1)  # second user read revision 1 too
    assert e.value.current == 2
    with pytest.raises(Conflict):
        stacks.put("other", {}, 3)                              # must not exist yet: expected 0
    with pytest.raises(Conflict):
        stacks.delete("app", 1)
