"""Verifying AWS Signature Version 4, for any service.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html:
the signer builds a canonical request (method, URI path encoded once more, the query
pairs sorted, the signed headers lower-cased and trimmed, the payload's SHA-256),
hashes it into a string to sign with the date and the credential scope
(``<date>/<region>/<service>/aws4_request``), and signs that with a key derived from
the secret key by HMAC over the scope. The signature arrives in the ``Authorization``
header or, for a presigned URL, in ``X-Amz-*`` query parameters. A request whose date
is more than 5 minutes off is refused, as AWS Lambda does; one past a presigned URL's
``X-Amz-Expires`` too. Derived signing keys are cached (one per secret, day, region and
service) as ready SHA-256 states (the HMAC's two pads), and so is the parse of an ``Authorization`` header's
credential and signed-header list (they repeat from request to request; the signature
does not): a request costs two SHA-256 and one HMAC on the hot path.

``verify`` is pure: the caller gives the request's parts, a ``secret_for(access key)``
lookup and the service name; it returns who signed or raises ``SignatureError`` with
AWS's error code and message.
"""

from __future__ import annotations

import hashlib
import hmac
import calendar
import functools
import re
import time
from typing import Callable, Mapping, NamedTuple
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_S = 5 * 60
_AUTH = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)")
# What precedes the signature (``_credential_of``); the signature is 64 hex digits.
_AUTH_HEAD = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*")
_HEX = frozenset("0123456789abcdef")
_SPACES = re.compile(r"\s+")


class SignatureError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")


class Signed(NamedTuple):
    """Who signed a request that verified."""

    access_key: str
    region: str
    service: str
    session_token: str | None = None


@functools.lru_cache(maxsize=4096)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class _Signer(NamedTuple):
    """HMAC-SHA256 under one derived key as two SHA-256 states, the key's inner and outer pads
    already absorbed (RFC 2104): a signature is two copies of C state and two updates, about
    half the time of copying an ``hmac.HMAC``."""

    inner: "hashlib._Hash"
    outer: "hashlib._Hash"

    def hexdigest(self, message: bytes) -> str:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@functools.lru_cache(maxsize=4096)
def _signer(secret: str, date: str, region: str, service: str) -> _Signer:
    """The HMAC keyed with the derived signing key, for each string to sign."""
    key = signing_key(secret, date, region, service).ljust(64, b"\0")  # SHA-256's block
    return _Signer(hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))


class _Credential(NamedTuple):
    """The parts of an Authorization header before its signature."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    scope: str
    signed_list: str  # the signed headers as the canonical request lists them (``a;b;c``)


@functools.lru_cache(maxsize=1024)
def _credential_of(head: str) -> "_Credential | None":
    """``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., `` parsed; None: not that shape."""
    m = _AUTH_HEAD.fullmatch(head)
    return None if m is None else _scoped(*m.groups())


def _scoped(credential: str, signed_headers: str) -> _Credential:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError("IncompleteSignatureException", "Credential should be scoped to a valid region. ")
    access_key, date, region, svc, _ = parts
    names = signed_headers.split(";")
    return _Credential(access_key, date, region, svc, names, f"{date}/{region}/{svc}/aws4_request", ";".join(names))


def _normalized(path: str) -> str:
    """The path with RFC 3986's dot segments resolved and empty segments dropped, as every
    service but S3 canonicalizes it ("Normalize URI paths according to RFC 3986. Remove
    redundant and relative path components."); a trailing slash is kept."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    tail = "/" if kept and path.endswith("/") else ""
    return "/" + "/".join(kept) + tail


@functools.lru_cache(maxsize=1024)
def _uri(path: str) -> str:
    return quote(_normalized(path or "/"), safe="/~")  # non-S3 services encode the path once more


def _raw(text: str) -> bytes:
    """The bytes a client hashed: header values reach Lamb decoded as latin-1 from the bytes
    sent (UTF-8 for a non-ASCII value), so latin-1 gives those bytes back."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire (a caller's own str)
        return text.encode()


def canonical_request(method: str, path: str, query: str, headers: Mapping[str, str], signed: list[str],
                      payload_hash: str, *, drop_query: str | None = None) -> str:
    """The canonical request of a request as received (``path`` and ``query`` raw)."""
    uri = _uri(path)
    pairs = []
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        if key == drop_query:
            continue
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value.replace("+", " ")), safe="-_.~")))
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    return "\n".join([method, uri, canonical_query, _canonical_headers(headers, signed), ";".join(signed), payload_hash])


def _canonical_headers(headers: Mapping[str, str], signed: list[str]) -> str:
    """The signed headers' lines of a canonical request: ``name:value`` with the value trimmed and
    its runs of spaces made one."""
    lines = []
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise SignatureError("IncompleteSignatureException", f"Signed header '{name}' is missing from the request.")
        value = value.strip()
        if "  " in value or "\t" in value or "\n" in value:
            value = _SPACES.sub(" ", value)
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


@functools.lru_cache(maxsize=256)
def _amz_time(value: str) -> float:
    """Seconds since the epoch of an ``X-Amz-Date`` (``20261206T080000Z``, UTC)."""
    m = _AMZ_DATE.fullmatch(value)
    if m is None:
        raise SignatureError("IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{value}'.")
    try:
        return float(calendar.timegm(tuple(map(int, m.groups()))))  # type: ignore[arg-type]
    except ValueError:
        raise SignatureError("IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{value}'.")


def _stamp(t: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def verify(method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
           secret_for: Callable[[str], str | None], service: str, *, now: float | None = None) -> Signed:
    """Check a request's SigV4 signature (``headers`` keyed in lower case)."""
    now = time.time() if now is None else now
    auth = headers.get("authorization")
    if auth and not query:
        signed = _verify_usual(method, path, headers, body, auth, secret_for, service, now)
        if signed is not None:
            return signed
    if auth:
        head, _, tail = auth.rpartition("Signature=")
        signature = _hex_prefix(tail)
        cred = _credential_of(head) if signature else None
        if cred is None:  # not the usual shape: the whole expression decides
            m = _AUTH.match(auth)
            if m is None:
                raise SignatureError("IncompleteSignatureException", f"Authorization header requires 'Credential', "
                                     f"'Signature' and 'SignedHeaders' parameters. Authorization={auth}")
            cred = _scoped(m.group(1), m.group(2))
            signature = m.group(3)
        amz_date = headers.get("x-amz-date") or ""
        expires = None
        drop = None
        token = headers.get("x-amz-security-token")
    elif "X-Amz-Signature=" in query:
        params = dict(pair.partition("=")[::2] for pair in query.split("&"))
        credential = unquote(params.get("X-Amz-Credential", ""))
        signature = params.get("X-Amz-Signature", "")
        amz_date = params.get("X-Amz-Date", "")
        expires = int(params.get("X-Amz-Expires") or 0)
        drop = "X-Amz-Signature"
        token = unquote(params["X-Amz-Security-Token"]) if "X-Amz-Security-Token" in params else None
        cred = _scoped(credential, unquote(params.get("X-Amz-SignedHeaders", "")))
    else:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    if cred.service != service:
        raise SignatureError("InvalidSignatureException",
                             f"Credential should be scoped to correct service: '{service}'. ")
    if not amz_date:
        raise SignatureError("IncompleteSignatureException", "Authorization header requires existence of either a "
                             "'X-Amz-Date' or a 'Date' header.")
    signed_at = _amz_time(amz_date)
    if expires is not None:
        if now > signed_at + expires:
            raise SignatureError("AccessDeniedException", "Request has expired.")
    elif now - signed_at > MAX_SKEW_S:
        raise SignatureError("InvalidSignatureException",
                             f"Signature expired: {amz_date} is now earlier than "
                             f"{_stamp(now - MAX_SKEW_S)} ({_stamp(now)} - {MAX_SKEW_S // 60} min.)")
    elif signed_at - now > MAX_SKEW_S:
        raise SignatureError("InvalidSignatureException",
                             f"Signature not yet current: {amz_date} is still later than "
                             f"{_stamp(now + MAX_SKEW_S)} ({_stamp(now)} + {MAX_SKEW_S // 60} min.)")
    secret = secret_for(cred.access_key)
    if secret is None:
        raise SignatureError("UnrecognizedClientException", "The security token included in the request is invalid.")
    # The body's own hash, never one a header claims: a request replayed with another body and an
    # ``x-amz-content-sha256`` naming the first body's hash must not verify. A client that signed
    # UNSIGNED-PAYLOAD (in the header) or a presigned URL (S3's sign it) keeps its body unsigned.
    claimed = headers.get("x-amz-content-sha256")
    hashes = ["UNSIGNED-PAYLOAD"] if claimed == "UNSIGNED-PAYLOAD" else [hashlib.sha256(body).hexdigest()]
    if expires is not None and claimed != "UNSIGNED-PAYLOAD":
        hashes.append("UNSIGNED-PAYLOAD")
    signer = _signer(secret, cred.date, cred.region, cred.service)
    for payload_hash in hashes:
        creq = canonical_request(method, path, query, headers, cred.signed_headers, payload_hash, drop_query=drop)
        expected = signer.hexdigest(
            f"{ALGORITHM}\n{amz_date}\n{cred.scope}\n{hashlib.sha256(_raw(creq)).hexdigest()}".encode())
        if hmac.compare_digest(expected, signature):
            break
    else:
        raise SignatureError("InvalidSignatureException", MISMATCH)
    return Signed(cred.access_key, cred.region, cred.service, token)


def _verify_usual(method: str, path: str, headers: Mapping[str, str], body: bytes, auth: str,
                  secret_for: Callable[[str], str | None], service: str, now: float) -> Signed | None:
    """The hot path: a well-formed ``Authorization`` header, no query string, a date within the
    skew, a known key and a matching signature. None for anything else, which ``verify``'s
    general path then checks step by step to give AWS's error."""
    head, _, signature = auth.rpartition("Signature=")
    cred = _credential_of(head)
    amz_date = headers.get("x-amz-date")
    if (cred is None or cred.service != service or not amz_date or len(signature) != 64
            or not _HEX.issuperset(signature)):
        return None
    try:
        skew = now - _amz_time(amz_date)
    except SignatureError:
        return None
    if not -MAX_SKEW_S <= skew <= MAX_SKEW_S:
        return None
    secret = secret_for(cred.access_key)
    if secret is None:
        return None
    try:
        lines = _canonical_headers(headers, cred.signed_headers)
    except SignatureError:
        return None
    claimed = headers.get("x-amz-content-sha256")
    payload_hash = "UNSIGNED-PAYLOAD" if claimed == "UNSIGNED-PAYLOAD" else hashlib.sha256(body).hexdigest()
    creq = f"{method}\n{_uri(path)}\n\n{lines}\n{cred.signed_list}\n{payload_hash}"
    expected = _signer(secret, cred.date, cred.region, cred.service).hexdigest(
        f"{ALGORITHM}\n{amz_date}\n{cred.scope}\n{hashlib.sha256(_raw(creq)).hexdigest()}".encode())
    if not hmac.compare_digest(expected, signature):
        return None
    return Signed(cred.access_key, cred.region, cred.service, headers.get("x-amz-security-token"))


def _hex_prefix(text: str) -> str:
    """The leading lower-case hex digits of ``text`` (all of it, for a signature as sent)."""
    if _HEX.issuperset(text):
        return text
    for i, c in enumerate(text):
        if c not in _HEX:
            return text[:i]
    return text

