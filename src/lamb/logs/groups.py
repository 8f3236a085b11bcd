"""Log groups' own settings: creation time, retention, tags.

A log group exists when it was created (CreateLogGroup) or when something wrote to it (a
function's first log line creates ``/aws/lambda/<name>``, as on AWS:
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html). Its settings
live in one small JSON file beside the logs folder (``<data dir>/log-groups.json``, replaced
atomically: written, fsynced, renamed); a group seen only on disk is recorded on first sight
with the time its folder was made.

Retention (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutRetentionPolicy.html)
takes one of AWS's day counts (``RETENTION_DAYS``); none means never expire.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The values PutRetentionPolicy accepts, in AWS's order.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


@dataclass
class LogGroup:
    name: str
    created_ms: int
    retention_days: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    log_class: str = "STANDARD"  # logGroupClass
    deletion_protection: bool = False  # deletionProtectionEnabled: DeleteLogGroup is refused


class LogGroups:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._groups: dict[str, LogGroup] = {}
        if path.is_file():
            for raw in json.loads(path.read_text() or "{}").values():
                group = LogGroup(**raw)
                self._groups[group.name] = group

    def get(self, name: str) -> LogGroup | None:
        return self._groups.get(name)

    def all(self) -> dict[str, LogGroup]:
        return dict(self._groups)

    def add(self, name: str, created_ms: int, tags: dict[str, str] | None = None, log_class: str = "STANDARD",
            deletion_protection: bool = False) -> LogGroup:
        with self._lock:
            group = self._groups.get(name)
            if group is None:
                group = self._groups[name] = LogGroup(name, created_ms, None, dict(tags or {}), log_class,
                                                      deletion_protection)
                self._save()
            return group

    def remove(self, name: str) -> bool:
        with self._lock:
            if self._groups.pop(name, None) is None:
                return False
            self._save()
            return True

    def set_retention(self, name: str, days: int | None) -> None:
        with self._lock:
            self._groups[name].retention_days = days
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = json.dumps({n: asdict(g) for n, g in self._groups.items()}).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
