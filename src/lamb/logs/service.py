"""CloudWatch Logs' log groups over Lamb's log files: what the ``logs`` API handlers use.

Groups are the union of those created (``groups.LogGroups``) and those written to (a
folder in the log store: a function's ``/aws/lambda/<name>`` or its
``LoggingConfig.LogGroup``); a group first seen on disk is recorded with its folder's
time. ARNs are AWS's: ``arn:aws:logs:<region>:<account>:log-group:<name>`` (DescribeLogGroups'
``arn`` adds ``:*``) and ``…:log-group:<name>:log-stream:<stream>``
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..limits import Limits
from . import reader, retention
from .groups import LogGroup, LogGroups
from .live_tail import LiveTail
from .store import LogStore


class CloudWatchLogs:
    def __init__(self, store: LogStore, groups: LogGroups, *, region: str, account_id: str, limits: Limits,
                 day_ms: int):
        self.store = store
        self.groups = groups
        self.region = region
        self.account_id = account_id
        self.limits = limits
        self.day_ms = day_ms
        self.live_tail = LiveTail(store, limits.logs_live_tail_sessions)

    # ------------------------------------------------------------------ names
    def group_arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}"

    def stream_arn(self, group: str, stream: str) -> str:
        return f"{self.group_arn(group)}:log-stream:{stream}"

    def group_name(self, identifier: str) -> str:
        """A group's name from its name or ARN (with or without ``:*``)."""
        prefix = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:"
        if identifier.startswith("arn:"):
            rest = identifier[len(prefix):] if identifier.startswith(prefix) else identifier.split(":log-group:", 1)[-1]
            return rest[:-2] if rest.endswith(":*") else rest
        return identifier

    # ------------------------------------------------------------------ groups
    def get(self, name: str) -> LogGroup | None:
        group = self.groups.get(name)
        if group is None:
            path = self.store.group_path(name)
            if path.is_dir():
                group = self.groups.add(name, path.stat().st_mtime_ns // 1_000_000)
        return group

    def all(self) -> list[LogGroup]:
        known = self.groups.all()
        for name in self.store.groups():
            if name not in known:
                group = self.get(name)
                if group is not None:
                    known[name] = group
        return [known[n] for n in sorted(known)]

    def create(self, name: str, now_ms: int, tags: dict[str, str] | None, log_class: str = "STANDARD",
               deletion_protection: bool = False) -> bool:
        """False if it exists."""
        if self.get(name) is not None:
            return False
        self.store.group_path(name).mkdir(parents=True, exist_ok=True)
        self.groups.add(name, now_ms, tags, log_class, deletion_protection)
        return True

    def delete(self, name: str) -> bool:
        if self.get(name) is None:
            return False
        self.store.delete_group(name)
        self.groups.remove(name)
        return True

    def stored_bytes(self, name: str) -> int:
        return reader.total_bytes(self.store.group_path(name))

    def streams(self, name: str) -> list[tuple[str, Path]]:
        return [(s, self.store.stream_path(name, s)) for s in self.store.stream_names(name)]

    # --------------------------------------------------------------- retention
    def sweep(self, now_ms: int) -> retention.Swept:
        expired = evicted = 0
        for group in self.all():
            days = group.retention_days
            swept = retention.sweep_group(self.store.group_path(group.name), now_ms,
                                          days * self.day_ms if days else None, self.limits.log_group_max_bytes)
            expired += swept.expired
            evicted += swept.evicted
        if expired or evicted:
            self.store.deleted()
        return retention.Swept(expired, evicted)


