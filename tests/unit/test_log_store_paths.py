"""Log group and stream names from requests stay inside the logs folder."""

import pytest

from lamb.logs.store import LogStore
from lamb.safe_path import UnsafePath


@pytest.mark.parametrize("group", ["..", ".", "a\0b", "x" * 300])
def test_unsafe_group_names_are_refused(tmp_path, group):
    (tmp_path / "lamb.db").write_text("secret")
    store = LogStore(tmp_path / "logs")
    with pytest.raises(UnsafePath):
        store.streams(group)
    with pytest.raises(UnsafePath):
        store.events(group, "s")
    with pytest.raises(UnsafePath):
        store.stream(group, "s")


@pytest.mark.parametrize("stream", ["..", ".", "a\0b"])
def test_unsafe_stream_names_are_refused(tmp_path, stream):
    with pytest.raises(UnsafePath):
        LogStore(tmp_path).events("/aws/lambda/f", stream)


def test_slashes_in_names_stay_one_folder(tmp_path):
    store = LogStore(tmp_path)
    s = store.stream("/aws/lambda/f", "2024/01/01/[$LATEST]abc")
    s.write(1, "hello")
    s.close()
    assert [d.name for d in tmp_path.iterdir()] == ["%2Faws%2Flambda%2Ff"]  # one folder for the group
    assert store.streams("/aws/lambda/f") == ["2024/01/01/[$LATEST]abc"]
    assert store.events("/aws/lambda/f", "2024/01/01/[$LATEST]abc") == [(1, "hello")]
    assert store.streams("/aws/lambda/../../x") == []


def test_a_stream_deleted_by_lamb_starts_a_new_file(tmp_path):
    store = LogStore(tmp_path)
    s = store.stream("/aws/lambda/f", "x")
    s.write(1, "one")
    s.flush()
    store.delete_group("/aws/lambda/f")
    s.write(2, "two")
    s.flush()
    assert store.events("/aws/lambda/f", "x") == [(2, "two")]
    s.close()


def test_listeners_see_each_flush(tmp_path):
    store = LogStore(tmp_path)
    seen = []
    store.listeners.append(lambda g, n, events: seen.append((g, n, events)))
    s = store.stream("/g", "s")
    s.write_lines(5, ["a", "b"])
    s.flush()
    assert seen == [("/g", "s", [(5, "a"), (5, "b")])]
    s.close()


def test_raw_and_text_lines_read_back_alike(tmp_path):
    store = LogStore(tmp_path)
    s = store.stream("/g", "s")
    s.write_raw(1, [b"caf\xc3\xa9", b"bad \xff"])
    s.write_lines(2, ["café", "bad \ufffd"])
    s.close()
    assert store.events("/g", "s") == [(1, "café"), (1, "bad \ufffd"), (2, "café"), (2, "bad \ufffd")]
