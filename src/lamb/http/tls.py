"""The TLS listener: Lamb's public app on a second port, its connections wrapped in TLS when accepted.

The same ``HttpServer`` serves both ports (``HttpServer.add_socket(sock, ssl=context)``: asyncio's
TLS transport under the same ``HttpConnection``), so the plain port's path is untouched.

Certificates by SNI: ``lookup(server_name)`` names the custom domain (``Site``) a handshake is for;
its certificate is ``<certificates dir>/<domain>.pem`` with its key ``<domain>.key`` (a wildcard
domain's files are ``*.example.com.pem``/``.key``; an exportable ACM certificate is written there by
``apis/certificates.py``), else the default certificate: self-signed,
generated with ``cryptography`` on first start into ``<data dir>/tls/`` (key 0600), for ``localhost``,
``*.localhost``, the home region's ``*.execute-api.<region>.localhost`` and ``*.lambda-url.<region>.localhost``
and the loopback addresses. A site with a truststore (mutual TLS) verifies the
client's certificate against it: OpenSSL fails the handshake for an untrusted or expired one.

OpenSSL decides whether to ask for a client certificate when the connection is made, before SNI
names the site, and keeps that choice when the SNI callback switches contexts. So while any site has
a truststore (``mutual(True)``) every handshake asks for one (optional): a client that sends none is
let through and answered 403 by the domain (``apis/mutual_tls.py``); a client that offers a
certificate to a site without a truststore has it checked against nothing and fails.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import ssl
from pathlib import Path
from typing import Callable, NamedTuple

log = logging.getLogger("lamb.http.tls")

DEFAULT_NAMES = ("localhost", "*.localhost")
_CACHE_MAX = 1024  # contexts kept (one per site and truststore version)


class Site(NamedTuple):
    """What a handshake's SNI name resolved to."""

    name: str  # the custom domain's name (``*.example.com`` for a wildcard one): its certificate files
    truststore: str | None = None  # PEM bundle: mutual TLS
    marker: str = ""  # changes whenever the truststore does (its version)


def default_names(regions: "tuple[str, ...]") -> tuple[str, ...]:
    """The default certificate's names: ``localhost``, ``*.localhost`` and, per region, the execute-api
    and function URL hosts (a wildcard covers one label only)."""
    return DEFAULT_NAMES + tuple(f"*.{kind}.{r}.localhost" for r in regions for kind in ("execute-api", "lambda-url"))


def _names_of(cert_path: Path) -> set[str]:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                   .get_values_for_type(x509.DNSName))
    except (OSError, ValueError, x509.ExtensionNotFound):
        return set()


def default_certificate(folder: Path, names: "tuple[str, ...]" = DEFAULT_NAMES) -> tuple[Path, Path]:
    """``(certificate, key)`` of the self-signed default certificate in ``folder`` for ``names``, made on
    first use and again when it lacks one of them."""
    cert_path, key_path = folder / "default.pem", folder / "default.key"
    if cert_path.exists() and key_path.exists() and set(names) <= _names_of(cert_path):
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lamb default certificate")])
    now = datetime.datetime.now(datetime.timezone.utc)
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(a))
                                                       for a in ("127.0.0.1", "::1")]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return write_certificate(folder, "default", cert.public_bytes(serialization.Encoding.PEM), key_pem)


def write_certificate(folder: Path, name: str, chain: bytes, key: bytes) -> tuple[Path, Path]:
    """``<name>.pem`` and ``<name>.key`` (mode 0600, written whole then renamed) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    tmp = folder / f".{name}.key.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(tmp, key_path)
    tmp = folder / f".{name}.pem.tmp"
    tmp.write_bytes(chain)
    os.replace(tmp, cert_path)
    return cert_path, key_path


def _context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.load_cert_chain(cert, key)
    return ctx


class TlsSites:
    """The listener's ``context`` and the per-site contexts its SNI callback switches to."""

    def __init__(self, folder: Path, certificates: Path, lookup: Callable[[str], Site | None],
                 names: "tuple[str, ...]" = DEFAULT_NAMES) -> None:
        self.certificates = certificates
        self.lookup = lookup
        self.default = default_certificate(folder, names)
        self.context = _context(*self.default)
        self.context.sni_callback = self._sni
        self._contexts: dict[tuple, ssl.SSLContext] = {}

    def mutual(self, any_site: bool) -> None:
        """Whether some site has a truststore: handshakes then ask for a client certificate."""
        self.context.verify_mode = ssl.CERT_OPTIONAL if any_site else ssl.CERT_NONE

    def files(self, name: str) -> tuple[Path, Path] | None:
        cert, key = self.certificates / f"{name}.pem", self.certificates / f"{name}.key"
        return (cert, key) if cert.is_file() and key.is_file() else None

    def site_context(self, site: Site) -> ssl.SSLContext | None:
        """The context of ``site`` (None: the listener's own, the default certificate and no truststore)."""
        files = self.files(site.name)
        if files is None and site.truststore is None:
            return None
        stamp = tuple(p.stat().st_mtime_ns for p in files) if files is not None else ()
        key = (site.name, site.marker, stamp)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = _context(*(files or self.default))
            if site.truststore is not None:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(cadata=site.truststore)
            ctx.lamb_site = (site.name, site.marker)  # type: ignore[attr-defined]  # what verified a peer
            if len(self._contexts) >= _CACHE_MAX:
                self._contexts.clear()
            self._contexts[key] = ctx
        return ctx

    def _sni(self, conn: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> int | None:
        if not server_name:
            return None
        try:
            site = self.lookup(server_name.lower().rstrip("."))
            ctx = self.site_context(site) if site is not None else None
        except (OSError, ssl.SSLError, ValueError):
            log.exception("TLS: the certificate or truststore of %s cannot be used", server_name)
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        if ctx is not None:
            conn.context = ctx
        return None


def verified_by(ssl_object: ssl.SSLObject | None) -> tuple[tuple[str, str], bytes] | None:
    """``((site name, marker), client certificate DER)`` when the connection's client presented a
    certificate that a site's truststore verified, else None."""
    if ssl_object is None:
        return None
    site = getattr(ssl_object.context, "lamb_site", None)
    if site is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return (site, der) if der else None
