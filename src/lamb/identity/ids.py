"""IAM's identifiers and ARNs.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids:
unique ids start with a prefix naming their kind (``AIDA`` user, ``AROA`` role, ``ANPA``
managed policy, ``AKIA`` access key, ``ASIA`` temporary access key) followed by
upper-case letters and digits; secret access keys are 40 characters.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import string

_UPPER = string.ascii_uppercase + "234567"
_SECRET = string.ascii_letters + string.digits + "+/"


def unique_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_UPPER) for _ in range(17 if prefix in ("AIDA", "AROA", "ANPA") else 16))


def stable_id(prefix: str, seed: str) -> str:
    """A unique id that is always the same for ``seed`` (an AWS managed policy's, by its ARN)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(_UPPER[b % len(_UPPER)] for b in digest[:17])


def secret_key() -> str:
    return "".join(secrets.choice(_SECRET) for _ in range(40))


def session_token(min_size: int = 0) -> str:
    """A session token (at least ``min_size`` bytes: AssumeRole's ``MinimumSessionTokenSize``)."""
    token = "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(180)
    if len(token) < min_size:
        token += secrets.token_urlsafe(min_size)[:min_size - len(token)]
    return token


def account_id() -> str:
    return str(100000000000 + secrets.randbelow(899999999999))


@functools.lru_cache(maxsize=1024)  # asked on every authorized request
def root_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def user_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:user{path}{name}"


def role_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


def policy_arn(account: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:policy{path}{name}"


def assumed_role_arn(account: str, role_name: str, session: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"


def account_of(arn: str) -> str:
    return arn.split(":")[4]
