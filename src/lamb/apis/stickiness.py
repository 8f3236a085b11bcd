"""Sticky sessions of a load balancer's target group, for private integrations (``private_targets.py``).

https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html and the Network
Load Balancer guide's "Sticky sessions". A target group's attributes (elbv2's
DescribeTargetGroupAttributes) turn stickiness on (``stickiness.enabled``) of one ``stickiness.type``:

- ``lb_cookie`` (ALB, duration-based): the load balancer answers with a cookie ``AWSALB`` naming the target,
  encrypted, and ``AWSALBCORS`` with the same value and ``SameSite=None; Secure`` for cross-origin requests.
  A request that brings one back goes to that target while the stickiness lasts
  (``stickiness.lb_cookie.duration_seconds``, 1 day by default) and the target is still one to send to;
  otherwise it is routed as if it had none. The cookie itself expires after 7 days.
- ``app_cookie`` (ALB, application-based): when the target's answer sets the application's cookie
  (``stickiness.app_cookie.cookie_name``), the load balancer adds its own, ``AWSALBAPP-0``, naming the
  target, for ``stickiness.app_cookie.duration_seconds``; a request that brings it back goes there.
  The load balancer's cookie is refreshed on every answer while the session is sticky.
- ``source_ip`` (NLB): a client's address always reaches the same target. Through a VPC link every request
  comes from the link's network interface, so all of them reach one target, as on AWS.

Cookies are sealed with AES-GCM under a key of this process (AWS encrypts them "using a rotating key"), so
a client can neither read nor forge one, and a cookie from before a restart routes as none. Not
reproduced: a forward action's target group stickiness across weighted groups (``AWSALBTG``).
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import time
import zlib
from typing import Callable, NamedTuple, Sequence, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LB_COOKIE = "AWSALB"
CORS_COOKIE = "AWSALBCORS"
APP_COOKIE = "AWSALBAPP-0"
COOKIE_LIFETIME_S = 7 * 24 * 3600  # what AWS gives its cookies, whatever the stickiness lasts
DEFAULT_DURATION_S = 86_400

T = TypeVar("T")


class Sticky(NamedTuple):
    kind: str  # lb_cookie | app_cookie | source_ip
    seconds: int  # how long a session sticks (cookie kinds)
    app_cookie: str = ""  # the application's cookie (app_cookie)


def of(attributes: Sequence[dict]) -> Sticky | None:
    """A target group's stickiness from its attributes, None when it is off."""
    attrs = {a.get("Key"): a.get("Value") for a in attributes}
    if str(attrs.get("stickiness.enabled", "false")).lower() != "true":
        return None
    kind = attrs.get("stickiness.type") or "lb_cookie"
    seconds = attrs.get(f"stickiness.{kind}.duration_seconds") or DEFAULT_DURATION_S
    return Sticky(kind, int(seconds), attrs.get("stickiness.app_cookie.cookie_name") or "")


def request_cookies(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in headers:
        if name.lower() == "cookie":
            for part in value.split(";"):
                k, sep, v = part.strip().partition("=")
                if sep:
                    found.setdefault(k, v)
    return found


def _set_cookie_names(headers: Sequence[tuple[str, str]]) -> set[str]:
    return {value.split("=", 1)[0].strip() for name, value in headers if name.lower() == "set-cookie"}


class Sessions:
    """Which target a sticky request goes to, and the cookies its answer gets (one per process)."""

    def __init__(self, key: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self._aead = AESGCM(key or AESGCM.generate_key(bit_length=128))
        self.clock = clock

    def seal(self, group: str, target: tuple[str, int], until: float) -> str:
        nonce = os.urandom(12)
        plain = json.dumps([group, target[0], target[1], int(until)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, plain, None)).decode().rstrip("=")

    def opened(self, token: str, group: str) -> tuple[str, int] | None:
        """The target a cookie names, if it is this group's and its stickiness still lasts."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            g, host, port, until = json.loads(self._aead.decrypt(raw[:12], raw[12:], None))
        except Exception:  # noqa: BLE001 - forged, truncated, or sealed by another process: no stickiness
            return None
        return (host, port) if g == group and until > self.clock() else None

    def choose(self, sticky: Sticky, group: str, link: str, headers: Sequence[tuple[str, str]],
               targets: Sequence[T], address: Callable[[T], tuple[str, int]]) -> tuple[T | None, bool]:
        """(the target the session sticks to, None to route as usual; whether a cookie named it)."""
        if sticky.kind == "source_ip":
            return targets[zlib.crc32(link.encode()) % len(targets)], False
        name = LB_COOKIE if sticky.kind == "lb_cookie" else APP_COOKIE
        token = request_cookies(headers).get(name)
        named = self.opened(token, group) if token else None
        if named is not None:
            for t in targets:
                if address(t) == named:
                    return t, True
        return None, False

    def cookies(self, sticky: Sticky, group: str, target: tuple[str, int], answer_headers: Sequence[tuple[str, str]],
                sticking: bool) -> list[tuple[str, str]]:
        """The ``Set-Cookie`` headers the load balancer adds to the target's answer."""
        if sticky.kind == "source_ip":
            return []
        if sticky.kind == "app_cookie" and not sticking and sticky.app_cookie not in _set_cookie_names(answer_headers):
            return []  # the application has not started a session
        now = self.clock()
        token = self.seal(group, target, now + sticky.seconds)
        expires = email.utils.formatdate(now + COOKIE_LIFETIME_S, usegmt=True)
        if sticky.kind == "app_cookie":
            return [("Set-Cookie", f"{APP_COOKIE}={token}; Expires={expires}; Path=/")]
        return [("Set-Cookie", f"{LB_COOKIE}={token}; Expires={expires}; Path=/"),
                ("Set-Cookie", f"{CORS_COOKIE}={token}; Expires={expires}; Path=/; SameSite=None; Secure")]
