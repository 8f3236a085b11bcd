"""deploy/apigateway_resources.py: a BodyS3Location's ETag check."""

from __future__ import annotations

import hashlib

import pytest

from lamb.deploy.apigateway_resources import check_etag


def test_etag_of_a_single_part_object_is_checked():
    body = b"openapi: 3.0.1\n"
    md5 = hashlib.md5(body).hexdigest()
    check_etag(body, None, "s3://b/k")
    check_etag(body, f'"{md5}"', "s3://b/k")  # as S3 quotes it
    check_etag(body, md5.upper(), "s3://b/k")
    check_etag(body, "0123456789abcdef0123456789abcdef-3", "s3://b/k")  # multipart: not recomputable
    with pytest.raises(ValueError, match=r"^BodyS3Location s3://b/k: the object's content does not match ETag abc$"):
        check_etag(body, "abc", "s3://b/k")
