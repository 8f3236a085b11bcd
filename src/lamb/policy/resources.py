"""The records that carry a function's resource-based policy and function URL.

Lambda keeps one policy per function (``$LATEST``, the unqualified function), per
published version and per alias (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html);
a function URL belongs to the unqualified function or to an alias
(https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html). Lamb keeps
both inside the record they belong to, under internal keys that never reach the
wire: ``_Policy`` (``{"Document": {...}, "RevisionId": "..."}``) and ``_Url``, in a
version's configuration or an alias's AliasConfiguration. So they are written in the
same SQLite transaction as that record, are in memory on the URL request path, and
go away with the function, version or alias; publishing a version does not copy them
(a new version starts without a policy, as on AWS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..arn import LATEST

if TYPE_CHECKING:
    from ..store.functions import Function, FunctionStore

# Keys of a $LATEST configuration that belong to the function, not to what a version snapshots.
NOT_SNAPSHOTTED = ("_Policy", "_Url")


@dataclass(frozen=True)
class Resource:
    """One record: ``$LATEST`` (qualifier None), a published version, or an alias."""

    fn: "Function"
    qualifier: str | None
    is_alias: bool

    @property
    def record(self) -> dict:
        if self.is_alias:
            return self.fn.aliases[self.qualifier]
        return self.fn.versions[self.qualifier or LATEST]

    def save(self, store: "FunctionStore", record: dict) -> dict:
        """Write ``record`` (a changed copy of ``self.record``) through to SQLite."""
        if self.is_alias:
            return store.put_alias(self.fn.name, record)
        return store.put_version(self.fn.name, self.qualifier or LATEST, record)


def policy_of(record: dict) -> dict | None:
    """The stored ``{"Document", "RevisionId"}`` of a record, or None."""
    return record.get("_Policy")


def document_of(record: dict) -> dict | None:
    stored = record.get("_Policy")
    return stored["Document"] if stored else None
