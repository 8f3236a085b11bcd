"""Mutual TLS of API Gateway custom domain names: the truststore and the client certificate.

https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html,
…/http-api-mutual-tls.html. CreateDomainName/UpdateDomainName name a truststore, a PEM bundle in S3
(``s3://bucket/key``, optionally a version), read through boto3's standard configuration when the
domain is made or changed and kept with the domain. Certificates that cannot be used produce
``truststoreWarnings`` (expired, not yet valid, not a CA); a missing object or a bundle with no
certificate is refused. The handshake (``http/tls.py``) verifies the client's certificate against
the truststore; a request for the domain whose connection did not (the plain port, no certificate,
another SNI name, an older truststore) answers 403 ``{"message":"Forbidden"}``. A verified
certificate reaches the event as ``clientCert`` (``clientCertPem``, ``subjectDN``, ``issuerDN``,
``serialNumber``, ``validity.notBefore``/``notAfter``) and the access log as
``$context.identity.clientCert.*``.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from typing import TYPE_CHECKING, Callable

from ..limits import Limits
from ..protocol.errors import AwsError

if TYPE_CHECKING:
    from ..http.server import Request

# (bucket, key, version or None) -> the object's bytes; raises LookupError when it does not exist
ReadObject = Callable[[str, str, "str | None"], bytes]


def _bad(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def s3_reader(client: Callable[[], object], max_bytes: int) -> ReadObject:
    """``ReadObject`` over an S3 client (boto3's standard configuration); at most ``max_bytes`` + 1 read."""

    def read(bucket: str, key: str, version: str | None) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            extra = {"VersionId": version} if version else {}
            body = client().get_object(Bucket=bucket, Key=key, **extra)["Body"]  # type: ignore[attr-defined]
            try:
                return body.read(max_bytes + 1)
            finally:
                body.close()
        except ClientError as e:
            err = e.response.get("Error", {})
            raise LookupError(f"S3 answered {err.get('Code')}: {err.get('Message')}") from None
        except BotoCoreError as e:
            raise LookupError(f"S3 cannot be reached ({e})") from None

    return read


def parse_uri(uri: str) -> tuple[str, str]:
    if not isinstance(uri, str) or not uri.startswith("s3://") or "/" not in uri[5:] or \
            not uri[5:].partition("/")[0] or not uri[5:].partition("/")[2]:
        raise _bad(f"Truststore URI {uri} is invalid: it must be s3://bucket-name/key-name.")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def load(read: ReadObject, uri: str, version: str | None, limits: Limits, now: float | None = None) -> dict:
    """The domain's mutual TLS record: ``truststoreUri``, ``truststoreVersion``, ``truststoreWarnings``,
    ``pem`` (the certificates it trusts) and ``marker`` (changes with the truststore). Blocks: S3."""
    bucket, key = parse_uri(uri)
    try:
        data = read(bucket, key, version or None)
    except LookupError as e:
        raise _bad(f"Unable to read the truststore at {uri}{f' (version {version})' if version else ''}: "
                   f"{e.args[0] if e.args else 'the object does not exist'}.") from None
    if len(data) > limits.api_truststore_max_bytes:
        raise _bad(f"The truststore at {uri} is larger than {limits.api_truststore_max_bytes} bytes.")
    pem, warnings = check_bundle(data, uri, limits, now)
    return {"truststoreUri": uri, "truststoreVersion": version or None, "truststoreWarnings": warnings,
            "pem": pem, "marker": hashlib.sha256(f"{uri}\0{version}\0".encode() + data).hexdigest()[:16]}


def check_bundle(data: bytes, uri: str, limits: Limits, now: float | None = None) -> tuple[str, list[str]]:
    """(the usable certificates as PEM, warnings) of a truststore bundle; refused when none can be read."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise _bad(f"The truststore at {uri} is not a PEM bundle of X.509 certificates.")
    if len(certs) > limits.api_truststore_max_certificates:
        raise _bad(f"The truststore at {uri} holds {len(certs)} certificates; at most "
                   f"{limits.api_truststore_max_certificates} are allowed.")
    at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc) if now is not None else \
        datetime.datetime.now(datetime.timezone.utc)
    warnings, usable = [], []
    for cert in certs:
        subject = cert.subject.rfc4514_string()
        if cert.not_valid_after_utc < at:
            warnings.append(f"Certificate {subject} has expired: not valid after "
                            f"{cert.not_valid_after_utc.isoformat()}")
        elif cert.not_valid_before_utc > at:
            warnings.append(f"Certificate {subject} is not yet valid: not valid before "
                            f"{cert.not_valid_before_utc.isoformat()}")
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = cert.issuer == cert.subject  # a v1 self-signed root
        if not is_ca:
            warnings.append(f"Certificate {subject} is not a certificate authority (basic constraints CA:FALSE)")
        usable.append(cert.public_bytes(Encoding.PEM).decode())
    return "".join(usable), warnings


def view(mtls: dict | None, v2: bool) -> dict | None:
    """The ``mutualTlsAuthentication`` (v1) / ``MutualTlsAuthentication`` (v2) of a domain."""
    if not mtls:
        return None
    out = {"truststoreUri": mtls["truststoreUri"], "truststoreWarnings": list(mtls.get("truststoreWarnings") or [])}
    if mtls.get("truststoreVersion"):
        out["truststoreVersion"] = mtls["truststoreVersion"]
    return {k[0].upper() + k[1:]: v for k, v in out.items()} if v2 else out


@functools.lru_cache(maxsize=256)
def client_cert(der: bytes) -> dict:
    """``clientCert`` as API Gateway puts it in an event, from the certificate's DER."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = x509.load_der_x509_certificate(der)
    serial = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8 or 1, "big")
    return {"clientCertPem": cert.public_bytes(Encoding.PEM).decode(),
            "subjectDN": cert.subject.rfc4514_string(), "issuerDN": cert.issuer.rfc4514_string(),
            "serialNumber": ":".join(f"{b:02x}" for b in serial),
            "validity": {"notBefore": _openssl_time(cert.not_valid_before_utc),
                         "notAfter": _openssl_time(cert.not_valid_after_utc)}}


def _openssl_time(at: datetime.datetime) -> str:
    """OpenSSL's form, as AWS's examples show it: ``May 28 12:30:02 2019 GMT``."""
    return f"{at:%b} {at.day:2d} {at:%H:%M:%S %Y} GMT"


def access_values(cert: dict | None) -> dict:
    """``$context.identity.clientCert.*`` of the access log."""
    if not cert:
        return {}
    return {"identity.clientCert.clientCertPem": cert["clientCertPem"],
            "identity.clientCert.subjectDN": cert["subjectDN"], "identity.clientCert.issuerDN": cert["issuerDN"],
            "identity.clientCert.serialNumber": cert["serialNumber"],
            "identity.clientCert.validity.notBefore": cert["validity"]["notBefore"],
            "identity.clientCert.validity.notAfter": cert["validity"]["notAfter"]}


def of_request(req: "Request", record: dict) -> dict | None:
    """The ``clientCert`` of a request for a mutual TLS domain, or None when its connection's client
    certificate was not verified by this domain's current truststore."""
    from ..http.tls import verified_by

    conn = req.conn
    transport = conn.transport if conn is not None else None
    found = verified_by(transport.get_extra_info("ssl_object")) if transport is not None else None
    if found is None or found[0] != (record["domainName"], record["mutualTls"]["marker"]):
        return None
    return client_cert(found[1])
