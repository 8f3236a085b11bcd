"""Signed code download URLs (``lamb.services.code_url``)."""

from __future__ import annotations

from lamb.services.code_url import CodeUrls


def split(url: str):
    path, _, query = url.removeprefix("http://h").partition("?")
    return path, dict(p.split("=", 1) for p in query.split("&"))


def test_signed_for_one_path_and_secret():
    urls = CodeUrls(b"k" * 32)
    path, query = split(urls.sign("http://h", "f", "a" * 64))
    assert path == f"/_lamb/code/f/{'a' * 64}.zip" and query["X-Amz-Expires"] == "600"
    assert urls.verify(path, query)
    assert not urls.verify(path.replace("/f/", "/g/"), query)
    assert not CodeUrls(b"x" * 32).verify(path, query)
    assert not urls.verify(path, {**query, "Expires": "nope"})


def test_expired():
    urls = CodeUrls(b"k" * 32, ttl_s=-1)
    assert not urls.verify(*split(urls.sign("http://h", "f", "a" * 64)))
