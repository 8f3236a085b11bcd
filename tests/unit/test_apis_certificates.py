"""apis/certificates.py: ACM is asked only when boto3 can sign, and an unreachable ACM is no answer."""

import socket

from lamb.apis.certificates import AcmCertificates

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_without_credentials_acm_is_not_asked(monkeypatch, tmp_path):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert AcmCertificates()(CERT) is None


def test_iam_server_certificates_are_not_asked_about():
    assert AcmCertificates()("arn:aws:iam::123456789012:server-certificate/x") is None


def test_an_unreachable_acm_is_no_answer(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ACM", f"http://127.0.0.1:{_closed_port()}")
    assert AcmCertificates()(CERT) is None
