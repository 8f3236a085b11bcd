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


def test_install_keeps_the_users_files_and_rewrites_only_for_another_arn(tmp_path):
    """``install`` writes what ``export`` answers, marks it with the ARN, and never replaces the user's own."""
    acm = AcmCertificates()
    exported = []
    acm.export = lambda arn: exported.append(arn) or (b"CERT " + arn.encode(), b"KEY")
    assert acm.install(tmp_path, "a.example.com", CERT)
    assert (tmp_path / "a.example.com.pem").read_bytes() == b"CERT " + CERT.encode()
    assert (tmp_path / "a.example.com.key").stat().st_mode & 0o777 == 0o600
    assert not acm.install(tmp_path, "a.example.com", CERT)  # the same ARN: not asked again
    assert acm.install(tmp_path, "a.example.com", CERT + "2") and exported == [CERT, CERT + "2"]
    (tmp_path / "mine.example.com.pem").write_bytes(b"mine")
    assert not acm.install(tmp_path, "mine.example.com", CERT)
    assert (tmp_path / "mine.example.com.pem").read_bytes() == b"mine" and len(exported) == 2
    assert not acm.install(tmp_path, "b.example.com", None)
    acm.export = lambda arn: None  # not exportable (an imported certificate)
    assert not acm.install(tmp_path, "c.example.com", CERT) and not (tmp_path / "c.example.com.pem").exists()


def test_iam_certificates_are_not_exported():
    assert AcmCertificates().export("arn:aws:iam::123456789012:server-certificate/x") is None
