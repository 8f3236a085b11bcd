"""Security tests: each module proves one promise of issue 18 from inside a real environment.

``sandbox`` runs a test against one ``lamb serve`` per sandbox backend (``linux``, and
``process`` where the promise means something there). A backend the host cannot run
makes the test FAIL (the server refuses ``--sandbox linux`` where it cannot isolate).
Lamb's own environment carries ``MARKERS``: nothing inside an environment may see them.
"""

from __future__ import annotations

import pytest

from ..integration.conftest import LambServer, create, invoke, unique  # noqa: F401 - re-exported for the tests

MARKERS = {"LAMB_TEST_SECRET": "marker-5f1c2b7e", "HOST_ONLY_MARKER": "marker-9a04d3c1"}

_SERVERS: dict[str, LambServer] = {}


@pytest.fixture(scope="session")
def _server_pool():
    yield _SERVERS
    for server in _SERVERS.values():
        server.close()
    _SERVERS.clear()


def server_for(pool: dict, mode: str, *extra: str) -> LambServer:
    """One shared server per backend (and extra flags), started on first use (with ``MARKERS`` in its environment)."""
    key = " ".join((mode, *extra))
    if key not in pool:
        pool[key] = LambServer(extra_args=["--sandbox", mode, *extra], env=dict(MARKERS)).start()
    server = pool[key]
    assert server.get_json("/_lamb/health")["sandbox"] == mode
    return server


@pytest.fixture
def linux_server(_server_pool) -> LambServer:
    """The linux backend with every promise on (``--network isolated``)."""
    return server_for(_server_pool, "linux", "--network", "isolated")


@pytest.fixture
def disk_tmp_server(_server_pool) -> LambServer:
    """The linux backend with /tmp on disk (``--tmp disk``)."""
    return server_for(_server_pool, "linux", "--network", "isolated", "--tmp", "disk")


@pytest.fixture
def process_server(_server_pool) -> LambServer:
    return server_for(_server_pool, "process")


@pytest.fixture(params=["linux", "process"])
def any_server(request, _server_pool) -> LambServer:
    """Both backends, one after the other."""
    return server_for(_server_pool, *(("linux", "--network", "isolated") if request.param == "linux" else ("process",)))
