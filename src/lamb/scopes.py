"""State per account and region: one ``Scope`` per (account, region), each over its own database.

AWS keeps Lambda's state per account and per region: a function, layer, event source
mapping or schedule exists in one region of one account, its ARN names both, and
listings and quotas (ConcurrentExecutions, code storage) are per region per account
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Lamb serves every
region on one port: a request's region is its SigV4 credential scope's
(``lamb.auth.credential_scope``) and its account is the caller's (the home account when
authentication is off), or the account a function ARN names when Lamb holds that account
(cross-account access, decided by the function's resource policy).

Each scope has its own SQLite database: the home account in the default region keeps
``<data dir>/lamb.db`` (so upgrades keep their data), every other one uses
``<data dir>/accounts/<account>/<region>/lamb.db`` and, for its async queue,
``events.db`` beside it. Scopes are made on first use and cached; at start every scope
found on disk is made and its background work (async queue, event source pollers,
schedules, provisioned concurrency) runs. The invoker, runtimes, sandbox, code store,
logs and identities are shared: the invoker keys functions by scope
(``lamb.invoke.scoped``).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from .arn import OtherAccount, parse_function_name
from .protocol.errors import AwsError

log = logging.getLogger("lamb.scopes")

_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}")
# Request parameters that may name another account's function (by ARN).
_FUNCTION_MEMBERS = ("FunctionName",)


class ScopeSettings:
    """Lamb's settings as one scope sees them: its region and account; the rest shared
    (read through, so a port chosen at start is seen)."""

    def __init__(self, base: Any, *, region: str, account_id: str, data_dir: Path | None = None) -> None:
        self._base = base
        self.region = region
        self.account_id = account_id
        if data_dir is not None:
            self.data_dir = data_dir

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def start_now(coro) -> None:
    """Run a start coroutine that never suspends (``EventQueue.start``, ``SourceManager.start``)
    to its end, so a scope made during a request is running before the request goes on."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("a scope's start suspended")


class Scope:
    """One account in one region: its stores and the services over them (``api.context.Services``).

    The components are set by the factory (``app.Lamb.make_scope``); what a scope does not
    hold itself (the code store, identities, the port, ...) is the shared Lamb's.
    """

    def __init__(self, account: str, region: str, folder: Path, shared: Any) -> None:
        self.account = account
        self.region = region
        self.folder = folder
        self._shared = shared
        self.started = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._shared, name)

    def __repr__(self) -> str:
        return f"Scope({self.account}, {self.region})"

    def start(self) -> None:
        """Its background work: the async queue, event source pollers, function states
        settled, provisioned concurrency, schedules (runtime versions are reconciled by
        ``reconcile``, before Lamb's port opens)."""
        if self.started:
            return
        self.started = True
        start_now(self.events.start())
        start_now(self.sources.start())
        self.states.prepare_all()
        self.provisioning.restore()
        self.schedules.start()

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        self.schedules.stop()
        self.sources.stop()
        self.events.stop()  # before the environments die: their attempts stay leased for the restart
        self.invocations.close()

    def close(self) -> None:
        if self.db is not self._shared.db:
            self.db.close()


class Scopes:
    """Every scope, by (account, region): made on first use with ``make(account, region, folder)``."""

    def __init__(self, make: Callable[[str, str, Path], Scope], *, data_dir: Path, home: tuple[str, str],
                 held_accounts: Callable[[], Any]) -> None:
        self._make = make
        self.data_dir = data_dir
        self.home_key = home
        self._held = held_accounts
        self._scopes: dict[tuple[str, str], Scope] = {}
        self._lock = threading.Lock()
        self.running = False
        self._list: list[Scope] | None = None
        self.home = self.get(*home)

    def folder(self, account: str, region: str) -> Path:
        if (account, region) == self.home_key:
            return self.data_dir
        return self.data_dir / "accounts" / account / region

    def get(self, account: str, region: str) -> Scope:
        scope = self._scopes.get((account, region))
        if scope is not None:
            return scope
        if not _ACCOUNT.fullmatch(account) or not _REGION.fullmatch(region):
            raise ValueError(f"no scope for account {account!r} in region {region!r}")
        with self._lock:
            scope = self._scopes.get((account, region))
            if scope is None:
                scope = self._make(account, region, self.folder(account, region))
                self._scopes[(account, region)] = scope
                log.info("state for account %s in region %s: %s", account, region, scope.folder)
        if self.running:
            scope.start()
        return scope

    def discover(self) -> None:
        """Make every scope that has state on disk (``accounts/<account>/<region>/lamb.db``)."""
        root = self.data_dir / "accounts"
        for db in sorted(root.glob("*/*/lamb.db")) if root.is_dir() else ():
            account, region = db.parent.parent.name, db.parent.name
            if _ACCOUNT.fullmatch(account) and _REGION.fullmatch(region):
                self.get(account, region)

    def list(self) -> list[Scope]:
        """Every scope, the home one first (the cached list changes only when a scope is made)."""
        if self._list is None or len(self._list) != len(self._scopes):
            self._list = list(self._scopes.values())
        return self._list

    def __iter__(self) -> Iterator[Scope]:
        return iter(self.list())

    def start(self) -> None:
        self.running = True
        for scope in self:
            scope.start()

    def stop(self) -> None:
        self.running = False
        for scope in self:
            scope.stop()

    def close(self) -> None:
        for scope in self:
            scope.close()

    # ------------------------------------------------------------ per request
    def for_request(self, account: str, region: str | None, params: dict | None) -> Scope:
        """The scope a request reads and changes: ``region`` (the credential scope's, the
        default one when unsigned) of the caller's ``account``, or of the account a function ARN
        in the request names, when Lamb holds it (its resource policy then decides)."""
        region = region or self.home_key[1]
        if params:
            for member in _FUNCTION_MEMBERS:
                value = params.get(member)
                if isinstance(value, str) and ":" in value:  # an ARN, or a partial one (ACCOUNT:function:NAME)
                    other = _account_in(value, region, account)
                    if other is not None and other != account and other in self._held():
                        account = other
                    break
        return self.get(account, region)


@functools.lru_cache(maxsize=4096)
def _account_in(value: str, region: str, account: str) -> str | None:
    try:
        parse_function_name(value, region=region, account_id=account)
    except OtherAccount as e:  # another account's ARN: its resource names the account
        return e.resource.split(":")[4]
    except AwsError:
        return None  # the handler answers a malformed name as AWS does
    return None
