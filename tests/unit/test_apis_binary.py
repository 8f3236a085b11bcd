"""apis/binary.py: REST APIs' binary media types."""

import base64

from lamb.apis import binary


def test_matching():
    assert binary.matches(["image/png"], "image/png; charset=x")
    assert binary.matches(["image/*"], "IMAGE/JPEG")
    assert binary.matches(["*/*"], "text/plain")
    assert binary.matches(["image/png"], "image/png, application/json")
    assert not binary.matches(["image/png"], "application/json, image/png")  # the first type counts
    assert not binary.matches([], "image/png") and not binary.matches(["image/png"], None)


def test_request_and_response_bodies():
    assert binary.request_body(b"\x00\xff", "image/png", ["image/png"]) == ("AP8=", True)
    assert binary.request_body("é".encode(), "text/plain", ["image/png"]) == ("é", False)
    assert binary.request_body(b"\xff", "application/octet-stream", []) == ("\ufffd", False)
    assert binary.response_body(b"\x01\x02", "image/png", ["image/*"]) == b"\x01\x02"
    assert binary.response_body(b"\x01\x02", "*/*", ["image/*"]) == base64.b64encode(b"\x01\x02")


# contentHandling: the two tables of "Content type conversions in API Gateway", row by row.
import base64 as _b64  # noqa: E402

import pytest  # noqa: E402

from lamb.apis.binary import Unconvertible, convert_request, convert_response, decode  # noqa: E402

RAW = bytes(range(256))
B64 = _b64.b64encode(RAW)


@pytest.mark.parametrize("body, ctype, types, handling, expected", [
    (B64, "text/plain", [], None, B64),  # text, types undefined
    (B64, "text/plain", [], "CONVERT_TO_BINARY", RAW),
    (B64, "text/plain", [], "CONVERT_TO_TEXT", B64),
    (B64, "text/plain", ["image/png"], None, B64),  # text, types set
    (B64, "text/plain", ["image/png"], "CONVERT_TO_BINARY", RAW),
    (B64, "text/plain", ["image/png"], "CONVERT_TO_TEXT", B64),
    (RAW, "image/png", ["image/png"], None, RAW),  # binary
    (RAW, "image/png", ["image/*"], "CONVERT_TO_BINARY", RAW),
    (RAW, "image/png", ["image/png"], "CONVERT_TO_TEXT", B64),
])
def test_request_conversion_table(body, ctype, types, handling, expected):
    assert convert_request(body, ctype, types, handling) == expected


@pytest.mark.parametrize("payload, ptype, accept, types, handling, expected", [
    (B64, "application/json", "application/json", [], None, B64),  # types undefined
    (B64, "application/json", "application/json", [], "CONVERT_TO_BINARY", RAW),
    (B64, "application/json", "application/json", [], "CONVERT_TO_TEXT", B64),
    (B64, "application/json", "text/html", ["image/png"], None, B64),  # text, a text Accept
    (B64, "application/json", "text/html", ["image/png"], "CONVERT_TO_BINARY", RAW),
    (B64, "application/json", "text/html", ["image/png"], "CONVERT_TO_TEXT", B64),
    (B64, "application/json", "image/png, */*", ["image/png"], None, RAW),  # text, a binary Accept
    (B64, "application/json", "image/png", ["image/png"], "CONVERT_TO_BINARY", RAW),
    (B64, "application/json", "image/png", ["image/png"], "CONVERT_TO_TEXT", B64),
    (RAW, "image/png", "text/html", ["image/png"], None, B64),  # binary, a text Accept
    (RAW, "image/png", "text/html", ["image/png"], "CONVERT_TO_BINARY", RAW),
    (RAW, "image/png", "text/html", ["image/png"], "CONVERT_TO_TEXT", B64),
    (RAW, "image/png", "image/png", ["image/png"], None, RAW),  # binary, a binary Accept
    (RAW, "image/png", "image/png", ["image/png"], "CONVERT_TO_BINARY", RAW),
    (RAW, "image/png", "image/png", ["image/png"], "CONVERT_TO_TEXT", B64),
])
def test_response_conversion_table(payload, ptype, accept, types, handling, expected):
    assert convert_response(payload, ptype, accept, types, handling) == expected


def test_lenient_base64_decoding():
    assert decode(b'"aGVsbG8="') == b"hello"  # a JSON string's quotes are skipped
    assert decode(b"aGVs\nbG8") == b"hello"  # line breaks, missing padding
    with pytest.raises(Unconvertible):
        decode(b"abcde")
