"""Zip validation and unpacking rules of the code store."""

import io
import stat
import zipfile

import pytest

from lamb.protocol.errors import AwsError
from lamb.store.code import EMPTY_ZIP_ERROR, UNZIP_ERROR, CodeStore, _escapes


@pytest.mark.parametrize(
    "base,target,escapes",
    [
        ([], "x", False),
        ([], "../x", True),
        (["a"], "../x", False),
        (["a"], "../../x", True),
        ([], "a/../b", False),
        ([], "a/../../b", True),
        (["a", "b"], "./../../c", False),
    ],
)
def test_symlink_escape(base, target, escapes):
    assert _escapes(base, target) is escapes


def _zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, data)
    return buf.getvalue()


def test_put_keeps_modes_and_is_content_addressed(tmp_path):
    store = CodeStore(tmp_path)
    data = _zip([("bootstrap", b"#!/bin/sh\n", stat.S_IFREG | 0o755), ("lib/a.py", b"x = 1\n", stat.S_IFREG | 0o644)])
    stored = store.put(data, unzipped_limit=10_000)
    again = store.put(data, unzipped_limit=10_000)
    assert stored == again
    assert store.blob_path(stored.key).read_bytes() == data
    code = store.code_dir(stored.key)
    assert (code / "bootstrap").stat().st_mode & 0o111
    assert (code / "lib" / "a.py").read_text() == "x = 1\n"
    assert stored.unzipped_size == len(b"#!/bin/sh\n") + len(b"x = 1\n")


@pytest.mark.parametrize(
    "entries",
    [
        [("../evil.py", b"x", stat.S_IFREG | 0o644)],
        [("/abs.py", b"x", stat.S_IFREG | 0o644)],
        [("link", b"/etc/passwd", stat.S_IFLNK | 0o777)],
        [("sub/link", b"../../etc/passwd", stat.S_IFLNK | 0o777)],
    ],
)
def test_escaping_entries_are_refused(tmp_path, entries):
    with pytest.raises(AwsError) as e:
        CodeStore(tmp_path).put(_zip(entries), unzipped_limit=10_000)
    assert e.value.code == "InvalidParameterValueException"
    assert e.value.message == UNZIP_ERROR


def test_not_a_zip_and_too_big(tmp_path):
    store = CodeStore(tmp_path)
    with pytest.raises(AwsError) as e:
        store.put(b"not a zip", unzipped_limit=10)
    assert e.value.message == UNZIP_ERROR
    with pytest.raises(AwsError) as e:
        store.put(_zip([("a", b"x" * 100, stat.S_IFREG | 0o644)]), unzipped_limit=99)
    assert e.value.message == "Unzipped size must be smaller than 99 bytes"


def test_symlink_chain_cannot_write_outside(tmp_path):
    """Links judged one by one stay inside, but chained they climb out: never write through them."""
    entries = [("fn.py", b"x", stat.S_IFREG | 0o644)]
    entries += [(n, t.encode(), stat.S_IFLNK | 0o777) for n, t in [("y", "."), ("x", "y/.."), ("w", "x/.."), ("v", "w/..")]]
    entries += [("v/outside/pwned.txt", b"pwned", stat.S_IFREG | 0o644)]
    store_root = tmp_path / "store"
    with pytest.raises(AwsError) as e:
        CodeStore(store_root).put(_zip(entries), unzipped_limit=10_000)
    assert e.value.message == UNZIP_ERROR
    assert not list(tmp_path.rglob("pwned.txt"))
    assert [p.name for p in (store_root / "code").iterdir()] == []


def _encrypted_zip() -> bytes:
    """A zip whose entry says it is encrypted (general-purpose flag bit 0), as ``zip -e`` writes."""
    data = bytearray(_zip([("app.py", b"secret bytes", stat.S_IFREG | 0o644)]))
    data[6] |= 0x1  # local file header
    cd = data.rindex(b"PK\x01\x02")
    data[cd + 8] |= 0x1  # central directory entry
    return bytes(data)


def _refusal(store: CodeStore, data: bytes) -> str:
    with pytest.raises(AwsError) as e:
        store.put(data, unzipped_limit=10_000)
    assert e.value.code == "InvalidParameterValueException" and e.value.status == 400
    return e.value.message


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_encrypted_zip(), id="encrypted-entry"),
        pytest.param(_zip([("a" * 300 + ".py", b"x", stat.S_IFREG | 0o644)]), id="300-char-name"),
        pytest.param(_zip([("/".join(["d" * 99] * 50) + "/x.py", b"x", stat.S_IFREG | 0o644)]), id="5000-char-path"),
    ],
)
def test_unusable_entries_get_the_unzip_error_and_leave_nothing(tmp_path, data):
    store = CodeStore(tmp_path)
    assert _refusal(store, data) == UNZIP_ERROR
    assert list(store.blobs.iterdir()) == [] and list(store.code.iterdir()) == []


def test_an_empty_zip_is_refused_as_aws_does(tmp_path):
    empty = _zip([])
    assert len(empty) == 22  # only the end-of-central-directory record
    assert _refusal(CodeStore(tmp_path), empty) == EMPTY_ZIP_ERROR


def test_a_refused_unpack_removes_the_blob_it_wrote(tmp_path):
    # A file and a folder of one name pass the lexical checks and collide on disk.
    data = _zip([("x", b"1", stat.S_IFREG | 0o644), ("x/y", b"2", stat.S_IFREG | 0o644)])
    store = CodeStore(tmp_path)
    assert _refusal(store, data) == UNZIP_ERROR
    assert list(store.blobs.iterdir()) == []


def test_a_nul_in_an_entry_name_is_refused(tmp_path):
    data = _zip([("a_b.py", b"x", stat.S_IFREG | 0o644)]).replace(b"a_b.py", b"a\0b.py")
    assert _refusal(CodeStore(tmp_path), data) == UNZIP_ERROR
