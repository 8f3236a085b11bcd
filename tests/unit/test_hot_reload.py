"""services/hot_reload.py: which Code structures name a host folder, and which folders are allowed."""

import os

import pytest

from lamb.protocol.errors import AwsError
from lamb.services.hot_reload import BUCKET, folder_of


def test_other_buckets_are_s3(tmp_path):
    assert folder_of({"S3Bucket": "mine", "S3Key": str(tmp_path)}, str(tmp_path)) is None
    assert folder_of({"ZipFile": b"x"}, str(tmp_path)) is None


def test_a_folder_under_a_root(tmp_path):
    (tmp_path / "a" / "code").mkdir(parents=True)
    roots = os.pathsep.join([str(tmp_path / "elsewhere"), str(tmp_path / "a")])
    assert folder_of({"S3Bucket": BUCKET, "S3Key": str(tmp_path / "a" / "code")}, roots) == (tmp_path / "a" / "code").resolve()
    assert folder_of({"S3Bucket": BUCKET, "S3Key": str(tmp_path / "a")}, roots) == (tmp_path / "a").resolve()


@pytest.mark.parametrize("key, roots, text", [
    ("{t}/code", "", "Hot reload is not enabled on this Lamb server"),
    ("code", "{t}", "S3Key must be an absolute folder path"),
    ("{t}/code/../../etc", "{t}", "is not under LAMB_HOT_RELOAD_ROOTS"),
    ("{t}/missing", "{t}", "is not a folder on the Lamb host"),
])
def test_refusals(tmp_path, key, roots, text):
    (tmp_path / "code").mkdir()
    with pytest.raises(AwsError) as e:
        folder_of({"S3Bucket": BUCKET, "S3Key": key.format(t=tmp_path)}, roots.format(t=tmp_path))
    assert e.value.code == "InvalidParameterValueException" and text in e.value.message
