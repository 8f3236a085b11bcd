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
