"""Which record a url id names (lamb.urls.index) and the records that hold policies and
URLs (lamb.policy.resources), on a real FunctionStore over a temporary SQLite file."""

from __future__ import annotations

from lamb.policy.resources import Resource, document_of, policy_of
from lamb.store.db import Database
from lamb.store.functions import FunctionStore
from lamb.urls.index import UrlIndex


def store(tmp_path) -> FunctionStore:
    s = FunctionStore(Database(tmp_path / "lamb.db"))
    s.create("f", {}, {"FunctionName": "f", "Version": "$LATEST", "RevisionId": "r0"})
    s.put_alias("f", {"Name": "live", "FunctionVersion": "$LATEST", "RevisionId": "a0"})
    return s


def test_resources_save_through_and_reload(tmp_path):
    s = store(tmp_path)
    fn = s.get("f")
    latest, alias = Resource(fn, None, False), Resource(fn, "live", True)
    latest.save(s, dict(latest.record, _Policy={"Document": {"Statement": [{"Sid": "a"}]}, "RevisionId": "p1"},
                        _Url={"UrlId": "u" * 32}))
    alias.save(s, dict(alias.record, _Url={"UrlId": "v" * 32}))
    again = FunctionStore(Database(tmp_path / "lamb.db")).get("f")
    assert policy_of(Resource(again, None, False).record)["RevisionId"] == "p1"
    assert document_of(again.latest) == {"Statement": [{"Sid": "a"}]}
    assert document_of(again.aliases["live"]) is None
    assert Resource(again, "live", True).record["_Url"]["UrlId"] == "v" * 32


def test_index_finds_records_and_forgets_gone_ones(tmp_path):
    s = store(tmp_path)
    fn = s.get("f")
    Resource(fn, None, False).save(s, dict(fn.latest, _Url={"UrlId": "u" * 32}))
    Resource(fn, "live", True).save(s, dict(fn.aliases["live"], _Url={"UrlId": "v" * 32}))
    index = UrlIndex(FunctionStore(Database(tmp_path / "lamb.db")))  # built from what is stored
    res, url = index.lookup("u" * 32)
    assert (res.fn.name, res.qualifier, url["UrlId"]) == ("f", None, "u" * 32)
    res, _ = index.lookup("v" * 32)
    assert (res.qualifier, res.is_alias) == ("live", True)
    assert index.lookup("w" * 32) is None and not index.seen("w" * 32)
    index.functions.delete_alias("f", "live")
    assert index.lookup("v" * 32) is None and index.seen("v" * 32)  # gone with its alias
    index.functions.put_alias("f", {"Name": "live", "FunctionVersion": "$LATEST", "RevisionId": "a1"})
    assert index.lookup("v" * 32) is None  # a new alias of the same name has no URL
    index.functions.delete("f")
    assert index.lookup("u" * 32) is None
