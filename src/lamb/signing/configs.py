"""Code signing configurations (https://docs.aws.amazon.com/lambda/latest/api/API_CodeSigningConfig.html),
by id (``csc-`` and 17 lower-case alphanumerics, as in AWS's ARNs)."""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING

from .docs import Documents

if TYPE_CHECKING:
    from ..store.db import Database

_ID_CHARS = string.ascii_lowercase + string.digits


class CodeSigningConfigs:
    def __init__(self, db: "Database", *, region: str, account: str) -> None:
        self.docs = Documents(db, "code_signing_configs")
        self.region = region
        self.account = account

    def arn(self, config_id: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:code-signing-config:{config_id}"

    def new_id(self) -> str:
        while True:
            config_id = "csc-" + "".join(secrets.choice(_ID_CHARS) for _ in range(17))
            if self.docs.get(config_id) is None:
                return config_id

    def get(self, arn: str) -> dict | None:
        """The config an ARN names (None for another region's or account's ARN, or an unknown id)."""
        prefix = self.arn("")
        return self.docs.get(arn[len(prefix):]) if arn.startswith(prefix) else None

    def put(self, doc: dict) -> None:
        self.docs.put(doc["CodeSigningConfigId"], doc)

    def delete(self, arn: str) -> bool:
        doc = self.get(arn)
        return doc is not None and self.docs.delete(doc["CodeSigningConfigId"])

    def all(self) -> list[dict]:
        return list(self.docs)
