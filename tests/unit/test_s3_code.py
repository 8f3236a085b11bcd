"""lamb.services.s3_code: which requests name an S3 object, and S3's answers turned into AWS's
(the S3 client here is a stand-in for S3 itself; against moto's server: tests/integration/test_s3_code.py)."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from lamb.protocol.errors import AwsError
from lamb.services.s3_code import S3Code, location


def test_location():
    assert location({"ZipFile": b"x"}) is None
    assert location({"S3Bucket": "b", "S3Key": "k"}) == ("b", "k", None)
    assert location({"S3Bucket": "b", "S3Key": "k", "S3ObjectVersion": "v"}) == ("b", "k", "v")
    assert location({"S3Key": "k"}) == ("", "k", None)


class S3:
    def __init__(self, answer):
        self.answer = answer
        self.asked = None

    def get_object(self, **kw):
        self.asked = kw
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def with_client(answer, max_bytes=100) -> tuple[S3Code, S3]:
    s3 = S3(answer)
    return S3Code(lambda: s3, max_bytes), s3


def test_fetch_and_errors():
    code, s3 = with_client({"ContentLength": 3, "Body": io.BytesIO(b"zip")})
    assert code.fetch("b", "k", "v1") == b"zip" and s3.asked == {"Bucket": "b", "Key": "k", "VersionId": "v1"}
    missing = ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "GetObject")
    with pytest.raises(AwsError) as e:
        with_client(missing)[0].fetch("b", "k")
    assert (e.value.code, e.value.message) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.")
    with pytest.raises(AwsError) as e:
        with_client({"ContentLength": 101, "Body": io.BytesIO(b"")})[0].fetch("b", "k")
    assert e.value.message == "Unzipped size must be smaller than 100 bytes"
    with pytest.raises(AwsError) as e:
        with_client(NoCredentialsError())[0].fetch("b", "k")
    assert (e.value.code, e.value.status) == ("ServiceException", 500)
