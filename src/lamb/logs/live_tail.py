"""Live Tail sessions: the log events of chosen groups and streams as they are written.

StartLiveTail (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartLiveTail.html)
streams a ``sessionStart`` event, then ``sessionUpdate`` events about once a second with the
new events that match the session's filter; more than 500 in one update are sampled
(``sessionMetadata.sampled``). A session lasts at most 3 hours (then
``SessionTimeoutException``) and an account has at most 15 at once. A session listens to
every flush of the log store (``LogStore.listeners``) while it is open.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

from .store import LogStore


@dataclass
class Session:
    groups: dict[str, str]  # group name -> the identifier the client gave (name or ARN)
    stream_names: frozenset[str]
    prefixes: tuple[str, ...]
    matches: Callable[[str], bool]
    max_events: int
    events: list[dict] = field(default_factory=list)
    sampled: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        ident = self.groups.get(group)
        if ident is None:
            return
        if self.stream_names and stream not in self.stream_names:
            return
        if self.prefixes and not stream.startswith(self.prefixes):
            return
        for ts, msg in events:
            if not self.matches(msg):
                continue
            if len(self.events) >= self.max_events:
                self.sampled = True
                continue
            self.events.append({"logStreamName": stream, "logGroupIdentifier": ident, "message": msg,
                                "timestamp": ts, "ingestionTime": ts})
        if self.events:
            self.wake.set()

    def take(self) -> tuple[list[dict], bool]:
        out, sampled = self.events, self.sampled
        self.events, self.sampled = [], False
        self.wake.clear()
        return out, sampled


class LiveTail:
    def __init__(self, store: LogStore, max_sessions: int):
        self.store = store
        self.max_sessions = max_sessions
        self.sessions: list[Session] = []

    def full(self) -> bool:
        return len(self.sessions) >= self.max_sessions

    def open(self, session: Session) -> Session:
        self.sessions.append(session)
        self.store.listeners.append(session.offer)
        return session

    def close(self, session: Session) -> None:
        if session in self.sessions:
            self.sessions.remove(session)
            self.store.listeners.remove(session.offer)
