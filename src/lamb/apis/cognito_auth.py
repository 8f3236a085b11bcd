"""Amazon Cognito user pool authorizers of REST APIs (type ``COGNITO_USER_POOLS``).

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-integrate-with-cognito.html:
the token is the identity source header's value (``method.request.header.Authorization``; a
``Bearer `` prefix is accepted too); a missing one, or one not matching the authorizer's
``identityValidationExpression``, answers 401 ``{"message":"Unauthorized"}``. The token must be signed
by a key of one of the ``providerARNs`` user pools, be unexpired and have that pool's issuer
``https://cognito-idp.<region>.amazonaws.com/<pool id>``. Without ``authorizationScopes`` on the method it
must be an ID token (``token_use: id``); with them an access token (``token_use: access``) whose ``scope``
has one of the method's scopes. Anything else answers 401 ``Unauthorized``. The claims reach the function
as ``requestContext.authorizer.claims`` (values as strings); with the authorizer's TTL (300 s by default) a
token's claims are cached.

The issuer is Cognito's own URL, whatever the endpoint: the keys are fetched from
``<cognito-idp endpoint>/<pool id>/.well-known/jwks.json``, the endpoint being the one boto3's standard
configuration gives (``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``, from the
service id "Cognito Identity Provider"; ``AWS_ENDPOINT_URL``, else AWS's), where Cognito and
compatible servers (moto) serve a pool's keys; tokens such servers issue carry Cognito's issuer. Key
fetching, caching and verification are ``jwt_auth``'s (PyJWT).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Callable

from .authorizers import UNAUTHORIZED, Authorized, Refused
from .jwt_auth import JwtAuthorizers, claims_as_text, token_scopes

log = logging.getLogger("lamb.apis.cognito_auth")
_POOL = re.compile(r"arn:aws[a-z-]*:cognito-idp:([a-z0-9-]+):\d{12}:userpool/(.+)")


def issuer_of(pool_arn: str) -> tuple[str, str, str] | None:
    """(region, pool id, issuer) of a user pool ARN."""
    m = _POOL.fullmatch(pool_arn)
    if m is None:
        return None
    region, pool = m.groups()
    return region, pool, f"https://cognito-idp.{region}.amazonaws.com/{pool}"


class CognitoAuthorizers:
    """``token(auth, headers)`` then ``await verify(auth, token, scopes)`` → ``Authorized``; raise ``Refused``."""

    def __init__(self, jwt: JwtAuthorizers, endpoint: Callable[[str], str]) -> None:
        self.jwt = jwt
        self.endpoint = endpoint  # region → the cognito-idp endpoint URL (boto3's standard configuration)

    @staticmethod
    def token(auth: dict, headers) -> str:
        header = (auth.get("identitySource") or "method.request.header.Authorization").removeprefix(
            "method.request.header.")
        token = (headers.get(header.lower()) or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        pattern = auth.get("identityValidationExpression")
        if not token or (pattern and not re.fullmatch(pattern, token)):
            raise Refused(*UNAUTHORIZED)
        return token

    async def verify(self, auth: dict, token: str, scopes: list[str]) -> Authorized:
        import jwt as pyjwt

        try:
            issuer = pyjwt.decode(token, options={"verify_signature": False}).get("iss")
        except pyjwt.PyJWTError:
            raise Refused(*UNAUTHORIZED) from None
        pools = {found[2]: found for found in map(issuer_of, auth.get("providerARNs") or []) if found}
        pool = pools.get(issuer)
        if pool is None:
            raise Refused(*UNAUTHORIZED)
        region, pool_id, _ = pool
        endpoint = await asyncio.to_thread(self.endpoint, region)  # made once per region (a boto3 client)
        jwks = f"{endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"
        try:
            claims = await self.jwt.claims(token, issuer, jwks)
        except Refused as e:
            log.info("Cognito authorizer %s: token refused (%s; keys at %s)", auth.get("id"),
                     getattr(e, "www_authenticate", e), jwks)
            raise Refused(*UNAUTHORIZED) from None
        use = claims.get("token_use")
        if scopes:
            if use != "access" or not set(scopes) & set(token_scopes(claims)):
                raise Refused(*UNAUTHORIZED)
        elif use != "id":
            raise Refused(*UNAUTHORIZED)
        return Authorized("cognito", claims=claims_as_text(claims))
