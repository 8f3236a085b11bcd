"""The TLS listener: Lamb's public app on a second port, its connections wrapped in TLS when accepted.

``TlsSites.serve`` accepts on the TLS port, peeks at each connection's ClientHello for its SNI name
(``server_name``; nothing is read from the socket) and hands the socket with the context for that
name to ``HttpServer.serve_accepted`` (asyncio's TLS transport under the same ``HttpConnection``),
so the plain port's path is untouched and each handshake has its domain's settings from its first
message: a certificate, and whether to ask for a client certificate (OpenSSL fixes that when the
connection is made; a context switched in an SNI callback would keep the listener's choice).

Certificates by SNI: ``lookup(server_name)`` names the custom domain (``Site``) a connection is for;
its certificate is ``<certificates dir>/<domain>.pem`` with its key ``<domain>.key`` (a wildcard
domain's files are ``*.example.com.pem``/``.key``; an exportable ACM certificate is written there by
``apis/certificates.py``), else the default certificate: self-signed, generated with ``cryptography``
on first start into ``<data dir>/tls/`` (key 0600), for ``localhost``, ``*.localhost``, the home
region's ``*.execute-api.<region>.localhost`` and ``*.lambda-url.<region>.localhost`` and the loopback
addresses. A site with a truststore (mutual TLS) asks for a client certificate and verifies one
against it: OpenSSL fails the handshake for an untrusted or expired one; a client that sends none is
let through and answered 403 by the domain (``apis/mutual_tls.py``). Other sites never ask.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import logging
import os
import socket
import ssl
from pathlib import Path
from typing import Awaitable, Callable, NamedTuple

from .. import aio

log = logging.getLogger("lamb.http.tls")

DEFAULT_NAMES = ("localhost", "*.localhost")
_CACHE_MAX = 1024  # contexts kept (one per site and truststore version)
HELLO_TIMEOUT_S = 10.0  # a connection's ClientHello must arrive within this
_RECORD_MAX = 5 + 16384  # a TLS record's header and its largest body


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
    """The TLS port's contexts: ``context`` (the default certificate, no client certificate asked) and
    one per site, picked by the ClientHello's SNI name (``for_hello``)."""

    def __init__(self, folder: Path, certificates: Path, lookup: Callable[[str], Site | None],
                 names: "tuple[str, ...]" = DEFAULT_NAMES) -> None:
        self.certificates = certificates
        self.lookup = lookup
        self.default = default_certificate(folder, names)
        self.context = _context(*self.default)
        self._contexts: dict[tuple, ssl.SSLContext] = {}
        self._starting: set[asyncio.Task] = set()  # connections between accept and the end of their handshake

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
                ctx.verify_mode = ssl.CERT_OPTIONAL  # asked for; none: the domain's 403, a bad one: no handshake
                ctx.load_verify_locations(cadata=site.truststore)
            ctx.lamb_site = (site.name, site.marker)  # type: ignore[attr-defined]  # what verified a peer
            if len(self._contexts) >= _CACHE_MAX:
                self._contexts.clear()
            self._contexts[key] = ctx
        return ctx

    def for_hello(self, hello: bytes) -> ssl.SSLContext:
        """The context for a connection whose first bytes are ``hello``."""
        name = server_name(hello)
        if not name:
            return self.context
        try:
            site = self.lookup(name.lower().rstrip("."))
            ctx = self.site_context(site) if site is not None else None
        except (OSError, ssl.SSLError, ValueError):
            log.exception("TLS: the certificate or truststore of %s cannot be used", name)
            return self.context
        return ctx or self.context

    async def serve(self, listener: socket.socket,
                    serve_accepted: Callable[[socket.socket, ssl.SSLContext], Awaitable]) -> None:
        """Accept on ``listener`` until cancelled; each connection is handed to ``serve_accepted`` with
        its context once its ClientHello has been seen."""
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(listener)
            task = loop.create_task(self._start(conn, serve_accepted))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    def close(self) -> None:
        """Give up on the connections still before or in their handshake (``serve`` is cancelled apart)."""
        for task in list(self._starting):
            task.cancel()

    async def _start(self, conn: socket.socket,
                     serve_accepted: Callable[[socket.socket, ssl.SSLContext], Awaitable]) -> None:
        try:
            conn.setblocking(False)
            hello = await peek_hello(conn, HELLO_TIMEOUT_S)
            await serve_accepted(conn, self.for_hello(hello))
        except Exception:  # noqa: BLE001 - a failed handshake or a silent client ends its connection only
            conn.close()


async def peek_hello(sock: socket.socket, timeout: float) -> bytes:
    """The connection's first TLS record (its ClientHello) as far as it has come, without reading it
    off the socket: what OpenSSL will read next. Raises TimeoutError after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            data = sock.recv(_RECORD_MAX, socket.MSG_PEEK)
        except BlockingIOError:
            data = None
        if data is not None:
            if not data or data[0] != 0x16 or len(data) >= 5 + int.from_bytes(data[3:5], "big") or \
                    len(data) >= _RECORD_MAX:
                return data  # closed, not TLS (the handshake will say so), or the whole record
            await asyncio.sleep(0.005)  # part of the record is here: the rest is on its way
        else:
            ready = loop.create_future()
            loop.add_reader(sock.fileno(), lambda: ready.done() or ready.set_result(None))
            try:
                await aio.wait_for(ready, max(0.0, deadline - loop.time()))
            finally:
                loop.remove_reader(sock.fileno())
        if loop.time() > deadline:
            raise TimeoutError("no ClientHello")


def server_name(hello: bytes) -> str | None:
    """The SNI host name of a ClientHello record (RFC 8446 4.1.2, RFC 6066 3), else None."""
    try:
        if len(hello) < 9 or hello[0] != 0x16 or hello[5] != 1:
            return None
        end = min(len(hello), 5 + int.from_bytes(hello[3:5], "big"))
        p = 9 + 2 + 32  # record header, handshake header, legacy_version, random
        p += 1 + hello[p]  # legacy_session_id
        p += 2 + int.from_bytes(hello[p:p + 2], "big")  # cipher_suites
        p += 1 + hello[p]  # legacy_compression_methods
        extensions_end = min(end, p + 2 + int.from_bytes(hello[p:p + 2], "big"))
        p += 2
        while p + 4 <= extensions_end:
            kind, length = int.from_bytes(hello[p:p + 2], "big"), int.from_bytes(hello[p + 2:p + 4], "big")
            p += 4
            if kind == 0:  # server_name: a list of (type, name); type 0 is a host name
                q, stop = p + 2, min(p + length, extensions_end)
                while q + 3 <= stop:
                    name_type, name_length = hello[q], int.from_bytes(hello[q + 1:q + 3], "big")
                    q += 3
                    if name_type == 0 and q + name_length <= stop:
                        return hello[q:q + name_length].decode("ascii")
                    q += name_length
                return None
            p += length
    except (IndexError, UnicodeDecodeError):
        return None
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
