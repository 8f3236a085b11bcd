"""apis/mutual_tls.py: the truststore's checks, the views, and clientCert as AWS's events carry it."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lamb.apis import mutual_tls as m
from lamb.limits import Limits
from lamb.protocol.errors import AwsError

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


def cert(cn: str, *, ca: bool, before: datetime.datetime, after: datetime.datetime, serial: int = 0x0a0b0c,
         constraints: bool = True) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
         .serial_number(serial).not_valid_before(before).not_valid_after(after))
    if constraints:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    return b.sign(key, hashes.SHA256())


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def test_uri_must_name_a_bucket_and_key():
    assert m.parse_uri("s3://bucket/dir/ca.pem") == ("bucket", "dir/ca.pem")
    for bad in ("https://x/y", "s3://bucket", "s3://bucket/", "s3:///key", None):
        with pytest.raises(AwsError, match="Truststore URI"):
            m.parse_uri(bad)


def test_bundle_warnings_for_expired_future_and_non_ca_certificates():
    good = cert("root", ca=True, before=NOW - datetime.timedelta(days=1), after=NOW + datetime.timedelta(days=1))
    old = cert("old", ca=True, before=NOW - datetime.timedelta(days=9), after=NOW - datetime.timedelta(days=1))
    future = cert("later", ca=True, before=NOW + datetime.timedelta(days=1), after=NOW + datetime.timedelta(days=9))
    leaf = cert("leaf", ca=False, before=NOW - datetime.timedelta(days=1), after=NOW + datetime.timedelta(days=1))
    v1_root = cert("v1", ca=False, constraints=False, before=NOW - datetime.timedelta(days=1),
                   after=NOW + datetime.timedelta(days=1))
    out, warnings = m.check_bundle(pem(good, old, future, leaf, v1_root), "s3://b/k", Limits(), NOW.timestamp())
    assert out.count("BEGIN CERTIFICATE") == 5
    assert len(warnings) == 3
    assert warnings[0].startswith("Certificate CN=old,C=US has expired")
    assert warnings[1].startswith("Certificate CN=later,C=US is not yet valid")
    assert warnings[2].startswith("Certificate CN=leaf,C=US is not a certificate authority")


def test_bundle_refusals_and_limits():
    with pytest.raises(AwsError, match="not a PEM bundle"):
        m.check_bundle(b"hello", "s3://b/k", Limits())
    root = cert("root", ca=True, before=NOW, after=NOW + datetime.timedelta(days=1))
    with pytest.raises(AwsError, match="at most 1 are allowed"):
        m.check_bundle(pem(root, root), "s3://b/k", Limits(api_truststore_max_certificates=1))
    with pytest.raises(AwsError, match="larger than 10 bytes"):
        m.load(lambda b, k, v: pem(root), "s3://b/k", None, Limits(api_truststore_max_bytes=10))
    with pytest.raises(AwsError, match=r"Unable to read the truststore at s3://b/k \(version 7\): S3 answered NoSuchKey"):
        m.load(lambda b, k, v: (_ for _ in ()).throw(LookupError("S3 answered NoSuchKey: gone")), "s3://b/k", "7",
               Limits())


def test_load_reads_the_version_and_marks_each_truststore():
    root = cert("root", ca=True, before=NOW, after=NOW + datetime.timedelta(days=1))
    asked = []

    def read(bucket, key, version):
        asked.append((bucket, key, version))
        return pem(root)

    one = m.load(read, "s3://b/k", "v1", Limits(), NOW.timestamp())
    two = m.load(read, "s3://b/k", "v2", Limits(), NOW.timestamp())
    assert asked == [("b", "k", "v1"), ("b", "k", "v2")]
    assert one["marker"] != two["marker"] and one["truststoreWarnings"] == []
    assert m.view(one, v2=True) == {"TruststoreUri": "s3://b/k", "TruststoreVersion": "v1", "TruststoreWarnings": []}
    assert m.view({**one, "truststoreVersion": None}, v2=False) == {"truststoreUri": "s3://b/k",
                                                                     "truststoreWarnings": []}
    assert m.view(None, v2=False) is None


def test_client_cert_fields_as_aws_sends_them():
    c = cert("client", ca=False, serial=0x01ff, before=datetime.datetime(2019, 5, 8, 12, 30, 2, tzinfo=datetime.timezone.utc),
             after=datetime.datetime(2021, 8, 5, 9, 36, 4, tzinfo=datetime.timezone.utc))
    got = m.client_cert(c.public_bytes(serialization.Encoding.DER))
    assert got == {"clientCertPem": c.public_bytes(serialization.Encoding.PEM).decode(), "subjectDN": "CN=client,C=US",
                   "issuerDN": "CN=client,C=US", "serialNumber": "01:ff",
                   "validity": {"notBefore": "May  8 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2021 GMT"}}
    assert m.access_values(got)["identity.clientCert.validity.notAfter"] == "Aug  5 09:36:04 2021 GMT"
    assert m.access_values(None) == {}
