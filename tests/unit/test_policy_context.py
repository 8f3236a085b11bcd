"""policy/context.py: the global condition keys of a request."""

from lamb.policy.context import request_keys, time_keys


def test_time_keys():
    assert time_keys(1_700_000_000.7) == {"aws:CurrentTime": "2023-11-14T22:13:20Z", "aws:EpochTime": 1_700_000_000}


def test_request_keys():
    keys = request_keys("10.0.0.1", {"user-agent": "curl/8", "referer": "https://a.example/"}, secure=True, now=0)
    assert keys == {"aws:SourceIp": "10.0.0.1", "aws:SecureTransport": "true", "aws:CurrentTime": "1970-01-01T00:00:00Z",
                    "aws:EpochTime": 0, "aws:UserAgent": "curl/8", "aws:Referer": "https://a.example/"}
    bare = request_keys("::1", {}, secure=False, now=0)
    assert bare["aws:SecureTransport"] == "false" and "aws:UserAgent" not in bare and "aws:Referer" not in bare
