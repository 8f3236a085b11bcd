"""Function URL pieces without a server: addresses, the 2.0 event, responses, CORS
(lamb.urls.address, event, response, cors)."""

from __future__ import annotations

import base64
import json

import pytest

from lamb.urls import cors, event, response
from lamb.urls.address import Addresses, default_origin, new_url_id
from lamb.urls.serve import parse_keys


def test_addresses():
    a = Addresses(default_origin("us-east-1", 9000))
    uid = new_url_id()
    assert len(uid) == 32 and uid.isalnum() and uid == uid.lower()
    assert a.url(uid) == f"http://{uid}.lambda-url.us-east-1.localhost:9000/"
    assert a.id_from_host(f"{uid}.lambda-url.us-east-1.localhost:9000") == uid
    assert a.id_from_host(f"{uid.upper()}.LAMBDA-URL.us-east-1.localhost") == uid
    assert a.id_from_host("127.0.0.1:9000") is None and a.id_from_host(None) is None
    assert a.id_from_host(f"x.{uid}.lambda-url.us-east-1.localhost") is None
    assert Addresses.id_from_path(f"/_lamb/url/{uid}/a/b") == (uid, "/a/b")
    assert Addresses.id_from_path(f"/_lamb/url/{uid}") == (uid, "/")
    real = Addresses("https://{id}.fn.example.com")
    assert real.url(uid) == f"https://{uid}.fn.example.com/" and real.id_from_host(f"{uid}.fn.example.com") == uid
    with pytest.raises(ValueError):
        Addresses("https://fn.example.com")


def test_keys_setting():
    assert parse_keys("A=s1, B=s2@arn:aws:iam::444455556666:user/bob", "000000000000") == {
        "A": ("s1", "arn:aws:iam::000000000000:root"), "B": ("s2", "arn:aws:iam::444455556666:user/bob")}
    with pytest.raises(ValueError):
        parse_keys("nosecret", "000000000000")


def test_body_encoding_by_content_type():
    assert event.body_of(b'{"a":1}', "application/json; charset=utf-8") == ('{"a":1}', False)
    assert event.body_of(b"hi", "text/plain") == ("hi", False)
    assert event.body_of(b"a=1", "application/x-www-form-urlencoded") == (base64.b64encode(b"a=1").decode(), True)
    assert event.body_of(b"\xff", "text/plain") == ("/w==", True)
    assert event.body_of(b"\x00", "") == ("AA==", True)


def test_response_rules():
    assert response.from_result(b'"hello"') == (200, [("Content-Type", "application/json")], b"hello")
    assert response.from_result(b'{"a": [1, 2]}')[2] == b'{"a":[1,2]}'
    assert response.from_result(b"null")[2] == b"null"
    status, headers, body = response.from_result(json.dumps(
        {"statusCode": 302, "headers": {"Location": "/x", "X-N": 1}, "cookies": ["a=1"]}).encode())
    assert (status, body) == (302, b"")
    assert headers == [("Content-Type", "application/json"), ("Location", "/x"), ("X-N", "1"), ("Set-Cookie", "a=1")]
    for bad in (b"not json", b'{"statusCode": "x"}', b'{"statusCode": 99}', b'{"statusCode": 200, "headers": []}',
                b'{"statusCode": 200, "headers": {"a": {"b": 1}}}'):
        with pytest.raises(response.Malformed):
            response.from_result(bad)


def test_cors_rules():
    conf = {"AllowOrigins": ["https://a.example"], "AllowMethods": ["*"], "MaxAge": 0}
    req = {"origin": "https://a.example", "access-control-request-method": "PUT"}
    assert cors.is_preflight("OPTIONS", req) and not cors.is_preflight("GET", req)
    assert ("Access-Control-Allow-Methods", "*") in cors.preflight(conf, req)
    assert ("Access-Control-Max-Age", "0") in cors.preflight(conf, req)
    assert cors.preflight(conf, {"origin": "https://b.example"}) == []
    out = cors.apply({"AllowOrigins": ["*"]}, {"origin": "https://z"}, [("access-control-allow-origin", "q")])
    assert out == [("Access-Control-Allow-Origin", "*")]
    assert cors.apply(conf, {}, [("X", "1")]) == [("X", "1")]


def test_event_encoding():
    """Compact UTF-8 JSON that parses to the event; what orjson refuses (an integer past 64 bits from an
    authorizer's context, a lone surrogate) is written by the standard encoder instead."""
    ev = event.build(method="GET", raw_path="/é", raw_query="a=1&a=2&b", headers={"host": "h", "cookie": "c=1"},
                     body=b"caf\xc3\xa9", url_id="u", domain="d", account_id="1", source_ip="127.0.0.1",
                     request_id="r", extra_headers={"x-forwarded-proto": "http"}, now_ms=1)
    data = event.encode(ev)
    assert json.loads(data) == ev and b'": ' not in data and b', "' not in data and "é".encode() in data
    assert ev["queryStringParameters"] == {"a": "1,2", "b": ""} and ev["cookies"] == ["c=1"]
    big = {"authorizer": {"lambda": {"n": 2 ** 70}}}
    assert json.loads(event.encode(big)) == big
    odd = {"s": "\ud800"}
    assert event.encode(odd) == b'{"s":"\\ud800"}'


@pytest.mark.parametrize("payload", [
    b'{"statusCode":200,"headers":{"a":"b"},"body":"{\\"ok\\":true}"}', b'"text"', b"[1, 2.5, -0, 1E2, null]",
    b'{"n":12345678901234567890123,"m":-9223372036854775809}', b'{"x":NaN}', b'{"x":1e400}', b'{"a":1,"a":2}',
    b'"\\ud800"', b'"caf\xc3\xa9"', b'"\xff"', b'\xef\xbb\xbf{"bom":1}', b"{", b" 7 ", b'{"f":0.1234567890123456789}',
    b'{"statusCode":200,"headers":{"x":123456789012345678901234},"body":"b"}',
    b'{"statusCode":200,"multiValueHeaders":{"x":[1,99999999999999999999999]},"cookies":[18446744073709551616]}',
    b'{"statusCode":200,"body":{"id":123456789012345678901234567890}}', b'{"statusCode":200.0,"body":"b"}',
    b'{"statusCode":200,"extra":123456789012345678901234567890,"body":"b"}',
])
def test_results_read_as_json_loads_reads_them(payload):
    """What a response takes from a result is what json.loads reads, whichever reader read it."""
    def read(f):
        try:
            value = f(payload)
        except ValueError:
            return "refused"
        if isinstance(value, dict) and "statusCode" in value:
            value = {k: value.get(k) for k in ("statusCode", "headers", "multiValueHeaders", "cookies", "body",
                                                "isBase64Encoded")}
        return repr(value)  # the same values, types and float spelling (NaN too)

    assert read(response.read_result) == read(json.loads)


def test_query_pairs_are_parse_qsl_pairs():
    import random
    from urllib.parse import parse_qsl

    rng = random.Random(1)
    for _ in range(20000):
        q = "".join(rng.choice("ab=&;x1 .-_~%+2") for _ in range(rng.randint(0, 12)))
        assert event.query_pairs(q) == parse_qsl(q, keep_blank_values=True), q
