"""The invoker as one account in one region sees it.

AWS keeps functions per account and region, so two regions (or accounts) may each have a
function ``f``; their environments, reservations and concurrency must not mix. ConcurrentExecutions
is limited per account and region (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
The shared ``Invoker`` keys functions by a *key*: the plain name in the home scope (so the home
account's keys are the names, as before), ``<account>:<region>:<name>`` elsewhere (a function name
never holds ``:``). ``ScopedInvoker`` turns a scope's names into keys for the services above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Mapping

if TYPE_CHECKING:
    from .concurrency import Concurrency
    from .invoker import Invoker
    from .pool import VersionPool


def scoped_key(scope: str, name: str) -> str:
    """The invoker's key of function ``name`` in ``scope`` ("" is the home scope)."""
    return f"{scope}:{name}" if scope else name


def scope_of(key: str) -> str:
    """``<account>:<region>`` of a key, "" for the home scope."""
    return key.rpartition(":")[0]


def name_of(key: str) -> str:
    return key.rpartition(":")[2]


def scope_id(account: str, region: str, home: tuple[str, str]) -> str:
    """The scope part of keys for ``account`` in ``region``."""
    return "" if (account, region) == home else f"{account}:{region}"


class _Pools(Mapping):
    """The invoker's pools of one scope, by ``(name, version)``."""

    def __init__(self, invoker: "Invoker", scope: str):
        self._invoker = invoker
        self._scope = scope

    def __getitem__(self, key: tuple[str, str]) -> "VersionPool":
        return self._invoker.pools[(scoped_key(self._scope, key[0]), key[1])]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for key, version in list(self._invoker.pools):
            if scope_of(key) == self._scope:
                yield name_of(key), version

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Keyed(Mapping):
    """A mapping keyed by invoker keys, seen by the names of one scope."""

    def __init__(self, inner: Mapping, scope: str):
        self._inner = inner
        self._scope = scope

    def __getitem__(self, name: str):
        return self._inner[scoped_key(self._scope, name)]

    def __iter__(self) -> Iterator[str]:
        return (name_of(k) for k in list(self._inner) if scope_of(k) == self._scope)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _ScopedConcurrency:
    """``set_reserved`` and ``reserved`` by name; the counters are the scope's own."""

    def __init__(self, inner: "Concurrency", scope: str):
        self._inner = inner
        self._scope = scope
        self.reserved = _Keyed(inner.reserved, scope)

    def set_reserved(self, name: str, value: int | None) -> None:
        self._inner.set_reserved(scoped_key(self._scope, name), value)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class ScopedInvoker:
    """What a scope's services use of the invoker, by function name."""

    def __init__(self, invoker: "Invoker", scope: str):
        self._invoker = invoker
        self.scope = scope
        self.pools = _Pools(invoker, scope)
        self._concurrency: _ScopedConcurrency | None = None

    def key(self, name: str) -> str:
        return scoped_key(self.scope, name)

    @property
    def concurrency(self) -> "_ScopedConcurrency":
        """This scope's concurrency (its account in its region), by function name."""
        if self._concurrency is None:
            self._concurrency = _ScopedConcurrency(self._invoker.concurrency_of(self.scope), self.scope)
        return self._concurrency

    @property
    def metrics(self):
        """This scope's per-minute metric points (``metrics.ScopedMetrics``)."""
        return self._invoker.metrics.scoped(self.scope)

    @property
    def afterwards(self):
        """Work that follows a caller's answer (``lamb.http.afterwards.Afterwards``), shared by every scope."""
        return self._invoker.afterwards

    def pool_for(self, name: str, version: str, config: dict) -> "VersionPool":
        return self._invoker.pool_for(self.key(name), version, config)

    def provision(self, name: str, version: str, config: dict, target: int) -> "VersionPool":
        return self._invoker.provision(self.key(name), version, config, target)

    def provisioned_total(self, name: str) -> int:
        return self._invoker.provisioned_total(self.key(name))

    def retire_function(self, name: str, version: str | None = None) -> None:
        self._invoker.retire_function(self.key(name), version)

    def submit(self, *args, **kwargs):
        return self._invoker.submit(*args, **kwargs)
