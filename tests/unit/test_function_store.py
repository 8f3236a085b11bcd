"""``FunctionStore``'s resolution (the one "Function not found" path) and data updates."""

from __future__ import annotations

import pytest

from lamb.protocol.errors import AwsError

from .conftest import ARN


def test_resolve_names_versions_and_aliases(functions):
    assert functions.resolve("f").version == "$LATEST"
    assert functions.resolve(ARN, "1").config["RevisionId"] == "r1"
    target = functions.resolve("f:live", route=True)
    assert (target.ref.qualifier, target.version) == ("live", "1")
    ref, fn, version, config = functions.resolve("000000000000:function:f:1")  # unpacks like a tuple
    assert (fn.name, version, config["Version"]) == ("f", "1", "1")


@pytest.mark.parametrize("name, qualifier, arn", [
    ("g", None, ARN[:-1] + "g"),
    ("f", "7", ARN + ":7"),
    ("f", "gone", ARN + ":gone"),
])
def test_one_not_found_answer(functions, name, qualifier, arn):
    with pytest.raises(AwsError) as e:
        functions.resolve(name, qualifier)
    assert (e.value.code, e.value.message) == ("ResourceNotFoundException", f"Function not found: {arn}")


def test_function_whatever_its_qualifier(functions):
    ref, fn = functions.function("f:live")
    assert (ref.qualifier, fn.name) == ("live", "f")
    with pytest.raises(AwsError) as e:
        functions.function("nope", what="live")
    assert e.value.message == f"Function not found: {ARN[:-1]}nope:live"


def test_update_data_writes_through_and_none_removes(functions, tmp_path):
    functions.update_data("f", Tags={"a": "1"}, Created=None)
    assert functions.get("f").data == {"Tags": {"a": "1"}}
    from lamb.store.db import Database
    from lamb.store.functions import FunctionStore

    functions.db.close()
    assert FunctionStore(Database(tmp_path / "lamb.db")).get("f").data == {"Tags": {"a": "1"}}
