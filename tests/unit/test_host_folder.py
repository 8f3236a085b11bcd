"""store/host_folder.py: the fingerprint of a hot-reload folder and its zip."""

import io
import os
import zipfile

from lamb.store.host_folder import fingerprint, snapshot_zip


def test_fingerprint_changes_with_every_kind_of_edit(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    first = fingerprint(str(tmp_path))
    assert fingerprint(str(tmp_path)) == first
    (tmp_path / "a.py").write_text("x = 2\n")  # same size
    second = fingerprint(str(tmp_path))
    assert second != first
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("")
    third = fingerprint(str(tmp_path))
    assert third != second
    (tmp_path / "tmp").write_text("y = 3\n")
    os.replace(tmp_path / "tmp", tmp_path / "a.py")  # an editor's atomic save
    assert fingerprint(str(tmp_path)) != third


def test_pycache_is_ignored(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    before = fingerprint(str(tmp_path))
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-312.pyc").write_bytes(b"\0")
    assert fingerprint(str(tmp_path)) == before


def test_snapshot_zip_holds_the_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "fn.py").write_text("def handler(e, c): pass\n")
    (tmp_path / "sub" / "m.py").write_text("")
    with zipfile.ZipFile(io.BytesIO(snapshot_zip(tmp_path))) as zf:
        assert sorted(zf.namelist()) == ["fn.py", "sub/m.py"]
    assert snapshot_zip(tmp_path) == snapshot_zip(tmp_path)  # deterministic: a stable CodeSha256
