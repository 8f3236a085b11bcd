"""lamb/master_key.py without KMS: the 0600 file, rotation's next key, and a damaged KMS file
(KMS itself: tests/integration/test_master_key_kms.py, moto's server as KMS)."""

from __future__ import annotations

import os
import stat

import pytest

from lamb.master_key import MasterKeyError, MasterKeys


def test_the_key_file_without_kms(tmp_path):
    keys = MasterKeys(tmp_path / "master.key")
    assert not keys.in_kms and keys.where() == str(tmp_path / "master.key")
    key = keys.load()
    assert len(key) == 32 and keys.load() == key
    assert stat.S_IMODE(os.stat(tmp_path / "master.key").st_mode) == 0o600
    sealed = keys.sealer().seal("x", "aad")
    new = keys.next_key()
    assert new != key and keys.next_key() == new  # an interrupted rotation finds the same next key
    keys.commit_next()
    assert keys.load() == new and not (tmp_path / "master.key.next").exists()
    assert MasterKeys(tmp_path / "master.key").sealer().open(keys.sealer().seal("y")) == "y"
    with pytest.raises(Exception):
        keys.sealer().open(sealed, "aad")  # sealed under the old key


def test_a_kms_file_is_what_opens_and_a_damaged_one_is_refused(tmp_path):
    (tmp_path / "master.key.kms").write_text("not json")
    keys = MasterKeys(tmp_path / "master.key")  # no KMS key named: the file says it is in KMS
    assert keys.in_kms
    with pytest.raises(MasterKeyError, match="not a KMS-wrapped master key"):
        keys.load()
    (tmp_path / "master.key.kms").write_text('{"KeyId": "k"}')
    with pytest.raises(MasterKeyError, match="not a KMS-wrapped master key"):
        keys.load()
