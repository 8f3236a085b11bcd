"""http/tls.py: the default certificate, and certificates and truststores chosen by SNI, over real sockets."""

import datetime
import socket
import ssl
import stat
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lamb.http import tls

NOW = datetime.datetime.now(datetime.timezone.utc)


def issue(cn: str, issuer=None, *, ca: bool = False, dns: str | None = None):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer[0].subject if issuer else name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def write(folder, name, pair):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pem").write_bytes(pair[0].public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(pair[1].private_bytes(serialization.Encoding.PEM,
                                                               serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))
    return str(folder / f"{name}.pem"), str(folder / f"{name}.key")


def test_default_certificate_is_made_once_with_a_private_key(tmp_path):
    cert, key = tls.default_certificate(tmp_path / "tls")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    made = x509.load_pem_x509_certificate(cert.read_bytes())
    names = made.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert names == ["localhost", "*.localhost"]
    before = cert.read_bytes()
    assert tls.default_certificate(tmp_path / "tls") == (cert, key) and cert.read_bytes() == before
    # another region's hosts: made again with them
    names = tls.default_names(("eu-west-1",))
    assert names[2:] == ("*.execute-api.eu-west-1.localhost", "*.lambda-url.eu-west-1.localhost")
    assert tls.default_certificate(tmp_path / "tls", names) == (cert, key) and cert.read_bytes() != before
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def hello_of(name: str | None) -> bytes:
    """A real ClientHello (OpenSSL's, through a memory BIO) naming ``name``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def test_server_name_of_a_client_hello():
    assert tls.server_name(hello_of("api.example.com")) == "api.example.com"
    assert tls.server_name(hello_of(None)) is None
    hello = hello_of("api.example.com")
    for cut in (0, 5, 40, 80, len(hello) // 2):  # a partial record: no name, never an error
        assert tls.server_name(hello[:cut]) in (None, "api.example.com")
    assert tls.server_name(b"GET / HTTP/1.1\r\n\r\n") is None


def test_peek_hello_leaves_the_bytes_and_waits_for_the_whole_record():
    import asyncio

    async def run():
        a, b = socket.socketpair()
        a.setblocking(False)
        hello = hello_of("x.example.com")
        b.sendall(hello[:20])
        peeking = asyncio.ensure_future(tls.peek_hello(a, 30))
        await asyncio.sleep(0.05)
        assert not peeking.done()
        b.sendall(hello[20:])
        assert await peeking == hello
        assert a.recv(len(hello)) == hello  # still there for OpenSSL
        silent, peer = socket.socketpair()  # a client that sends nothing
        silent.setblocking(False)
        with pytest.raises(TimeoutError):
            await tls.peek_hello(silent, 0.1)
        peer.close()
        assert await tls.peek_hello(silent, 30) == b""  # closed before a hello: nothing to wait for
        for s in (a, b, silent):
            s.close()

    asyncio.run(run())


def handshake(sites: tls.TlsSites, name: str, client=None) -> tuple:
    """One handshake on a real socket pair with the context ``for_hello`` picks from the client's own
    ClientHello: (server's certificate, what verified)."""
    a, b = socket.socketpair()
    a.settimeout(30)
    b.settimeout(30)
    got = {}

    def serve():
        try:
            hello = a.recv(65536, socket.MSG_PEEK)
            s = sites.for_hello(hello).wrap_socket(a, server_side=True)
            got["verified"] = tls.verified_by(s)  # an SSLSocket answers as asyncio's SSLObject does
            s.sendall(b"x")
            s.close()
        except Exception as e:  # noqa: BLE001 - the client must not wait for a dead server
            got["error"] = e
            a.close()

    t = threading.Thread(target=serve)
    t.start()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if client is not None:
        ctx.load_cert_chain(*client)
    try:
        with ctx.wrap_socket(b, server_hostname=name) as c:
            c.recv(1)
            served = x509.load_der_x509_certificate(c.getpeercert(binary_form=True))
    except (ssl.SSLError, OSError) as e:
        served = e
    t.join(30)
    return served, got


def test_sni_picks_the_domain_certificate_and_its_truststore(tmp_path):
    ca = issue("client CA", ca=True)
    other = issue("other CA", ca=True)
    good = write(tmp_path / "c", "good", issue("good", ca))
    stranger = write(tmp_path / "c", "stranger", issue("stranger", other))
    write(tmp_path / "certs", "api.example.com", issue("api.example.com", dns="api.example.com"))
    sites_by_name = {"api.example.com": tls.Site("api.example.com"),
                     "m.example.com": tls.Site("m.example.com", ca[0].public_bytes(serialization.Encoding.PEM).decode(),
                                               "v1")}
    sites = tls.TlsSites(tmp_path / "tls", tmp_path / "certs", sites_by_name.get)
    served, got = handshake(sites, "api.example.com", stranger)  # no truststore: a certificate is not even asked for
    assert served.subject.rfc4514_string() == "CN=api.example.com" and got["verified"] is None
    served, _ = handshake(sites, "unknown.example.com")
    assert served.subject.rfc4514_string() == "CN=Lamb default certificate"

    served, got = handshake(sites, "m.example.com", good)
    assert served.subject.rfc4514_string() == "CN=Lamb default certificate"  # no files: the default one
    site, der = got["verified"]
    assert site == ("m.example.com", "v1") and x509.load_der_x509_certificate(der).subject.rfc4514_string() == "CN=good"
    _, got = handshake(sites, "m.example.com")  # none offered: the handshake passes, nothing verified
    assert got["verified"] is None
    served, got = handshake(sites, "m.example.com", stranger)
    assert isinstance(got.get("error"), ssl.SSLError)


def test_verified_by_nothing():
    assert tls.verified_by(None) is None


def test_no_server_name_is_the_listener_context(tmp_path):
    sites = tls.TlsSites(tmp_path / "tls", tmp_path / "certs", lambda n: pytest.fail("asked"))
    assert sites.for_hello(hello_of(None)) is sites.context
    assert sites.for_hello(b"") is sites.context


def test_settings_name_the_tls_port_and_the_certificates_folder():
    from pathlib import Path

    from lamb.config import Settings

    s = Settings.from_env({"LAMB_HTTPS_PORT": "8443", "LAMB_TLS_CERTIFICATES_DIR": "/srv/certs"})
    assert (s.https_port, s.tls_certificates_dir) == (8443, Path("/srv/certs"))
    assert Settings.from_env({}).https_port is None
    assert Settings.from_env({"LAMB_HTTPS_PORT": "8443"}, https_port=9443).https_port == 9443
