"""JWT authorizers of HTTP APIs.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html:
the token comes from the identity source (``$request.header.Authorization``, with or
without ``Bearer ``); a missing one answers 401 ``{"message":"Unauthorized"}``. API Gateway
finds the issuer's keys through ``<issuer>/.well-known/openid-configuration`` →
``jwks_uri`` (cached here for ``KEYS_TTL_S``, fetched again for an unknown ``kid``), checks
the signature (RSA/EC algorithms of the key), ``exp``/``nbf``/``iat``, ``iss`` against the
issuer, ``aud`` (or ``client_id`` when there is no ``aud``) against the audiences, and the
route's ``AuthorizationScopes`` against the token's ``scope``/``scp``. A bad token answers
401 with ``www-authenticate: Bearer scope="" error="invalid_token" error_description="…"``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html);
missing scopes answer 403 ``{"message":"Forbidden"}`` with ``error="insufficient_scope"``.
The claims reach the function as ``requestContext.authorizer.jwt`` (values as strings).

AWS requires an https issuer; Lamb also accepts an http issuer on a loopback host
(127.0.0.1, ::1, localhost), for tests and local identity providers. Verification is
PyJWT's (with ``cryptography``).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any, Callable
from urllib.parse import urlsplit

import jwt

from .authorizers import UNAUTHORIZED, Authorized, Refused

KEYS_TTL_S = 3600.0
REFETCH_MIN_S = 30.0  # an unknown kid fetches the keys again at most this often
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def issuer_allowed(issuer: str) -> bool:
    parts = urlsplit(issuer)
    return parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK)


def _invalid(description: str) -> Refused:
    e = Refused(*UNAUTHORIZED)
    e.www_authenticate = f'Bearer scope="" error="invalid_token" error_description="{description}"'
    return e


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - the issuer's https (or loopback) URL
        return json.loads(r.read())


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_as_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict) else str(value)


def token_scopes(claims: dict) -> list[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return scope.split()
    scp = claims.get("scp")
    if isinstance(scp, list):
        return [str(s) for s in scp]
    return scp.split() if isinstance(scp, str) else []


class JwtAuthorizers:
    """``__call__(ctx, authorizer, route)`` → awaitable ``Authorized``; raises ``Refused``."""

    def __init__(self, fetch: Callable[[str], Any] = _fetch_json, clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch = fetch
        self.clock = clock
        self._keys: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}  # issuer -> (fetched at, kid -> key)

    def __call__(self, ctx, auth: dict, route: dict):
        sources = auth.get("IdentitySource") or ["$request.header.Authorization"]
        src = sources[0]
        token = None
        if src.startswith("$request.header."):
            token = ctx.req.headers.get(src[len("$request.header."):].lower())
        if not token:
            raise Refused(*UNAUTHORIZED)
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        return self.verify(token, auth.get("JwtConfiguration") or {}, route.get("AuthorizationScopes") or [])

    async def keys(self, issuer: str, kid: str | None, jwks_uri: str | None = None) -> dict[str, jwt.PyJWK]:
        """The issuer's keys by kid: from ``jwks_uri`` when given (Cognito user pools, whose keys are at
        the configured endpoint), else found through the issuer's OpenID configuration."""
        now = self.clock()
        cached = self._keys.get(issuer)
        if cached is not None and (now - cached[0] < KEYS_TTL_S) and (kid in cached[1] or now - cached[0] < REFETCH_MIN_S):
            return cached[1]
        if jwks_uri is None and not issuer_allowed(issuer):
            raise _invalid("the issuer must use https")
        try:
            if jwks_uri is None:
                config = await asyncio.to_thread(self.fetch, issuer.rstrip("/") + "/.well-known/openid-configuration")
                jwks_uri = config["jwks_uri"]
            jwks = await asyncio.to_thread(self.fetch, jwks_uri)
            found: dict[str, jwt.PyJWK] = {}
            for data in jwks.get("keys", []):
                try:
                    found[data.get("kid", "")] = jwt.PyJWK(data)
                except jwt.PyJWTError:
                    continue
        except Exception:
            raise _invalid("unable to get the issuer's signing keys") from None
        self._keys[issuer] = (now, found)
        return found

    async def verify(self, token: str, config: dict, required_scopes: list[str]) -> Authorized:
        claims = await self.claims(token, config.get("Issuer", ""))
        audiences = config.get("Audience") or []
        aud = claims.get("aud", claims.get("client_id"))
        given = aud if isinstance(aud, list) else [aud] if aud is not None else []
        if not any(a in audiences for a in given):
            raise _invalid("the token does not have a valid audience")
        scopes = token_scopes(claims)
        if required_scopes and not any(s in scopes for s in required_scopes):
            e = Refused(403, "Forbidden")
            e.www_authenticate = (f'Bearer scope="{" ".join(required_scopes)}" error="insufficient_scope" '
                                  f'error_description="expected scopes: [{" ".join(required_scopes)}]"')
            raise e
        return Authorized("jwt", claims=claims_as_text(claims), scopes=scopes or None)

    async def claims(self, token: str, issuer: str, jwks_uri: str | None = None) -> dict:
        """The token's claims once its signature, ``exp``/``nbf`` and ``iss`` are verified; raises
        ``Refused`` (401 with ``www-authenticate``)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid("the token is malformed") from None
        kid = header.get("kid")
        keys = await self.keys(issuer, kid, jwks_uri)
        key = keys.get(kid or "") or (next(iter(keys.values())) if kid is None and len(keys) == 1 else None)
        if key is None:
            raise _invalid("the token's key was not found in the issuer's keys")
        alg = header.get("alg", "")
        if alg.upper().startswith("HS") or alg == "none":
            raise _invalid(f"signing method {alg} is invalid")
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg], issuer=issuer,
                                options={"verify_aud": False, "require": ["exp", "iss"]})
        except jwt.ExpiredSignatureError:
            raise _invalid("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise _invalid("the token is not valid yet") from None
        except jwt.InvalidIssuerError:
            raise _invalid("the token does not have a valid issuer") from None
        except jwt.InvalidSignatureError:
            raise _invalid("the token has an invalid signature") from None
        except jwt.PyJWTError as e:
            raise _invalid(f"the token is invalid: {e}") from None
        return claims


def claims_as_text(claims: dict) -> dict[str, str]:
    """Claims as API Gateway hands them to functions: every value a string."""
    return {k: _as_text(v) for k, v in claims.items()}
