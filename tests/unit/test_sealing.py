import os
import stat

import pytest

from lamb.sealing import SealError, Sealer, is_sealed, load_master_key


def test_master_key_file_is_created_0600_and_reused(tmp_path):
    path = tmp_path / "master.key"
    key = load_master_key(path)
    assert len(key) == 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_master_key(path) == key


def test_seal_opens_only_with_the_same_key_and_place(tmp_path):
    s = Sealer.from_file(tmp_path / "k")
    sealed = s.seal("hunter2", "fn/$LATEST")
    assert is_sealed(sealed) and "hunter2" not in sealed
    assert s.open(sealed, "fn/$LATEST") == "hunter2"
    with pytest.raises(SealError):
        s.open(sealed, "other")
    with pytest.raises(SealError):
        Sealer(os.urandom(32)).open(sealed, "fn/$LATEST")


def test_rewrap_moves_a_secret_to_a_new_master_key():
    old, new = Sealer(os.urandom(32)), Sealer(os.urandom(32))
    moved = old.rewrap(old.seal("v", "a"), new)
    assert new.open(moved, "a") == "v"
