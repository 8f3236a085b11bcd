"""A real RabbitMQ broker for the Amazon MQ (RabbitMQ) event source tests (issue 13).

``RabbitMQServer`` runs Debian's ``rabbitmq-server`` (installed by the suite's set-up,
``tests/conftest.py``) as separate processes of the test run, on loopback only:

* its own ``epmd`` on a free port (``ERL_EPMD_PORT``), started by the test in the foreground,
  so it never meets another broker's or another run's port mapper, and is stopped with it;
* the node on a free AMQP port (``RABBITMQ_NODE_PORT``) and a free distribution port
  (``RABBITMQ_DIST_PORT``), with a unique node name and its own data, log and cookie folders
  (``RABBITMQ_MNESIA_BASE``, ``RABBITMQ_LOG_BASE``, ``HOME``), no plugins;
* ``stop()`` ends the broker's process group and the port mapper and waits for both.

A missing ``rabbitmq-server`` fails the tests that use it (never a skip).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from .conftest import free_port, wait_for

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # the script itself, not the wrapper that switches user
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


class RabbitMQServer:
    def __init__(self, base: Path, user: str = "lamb", password: str = "lamb-secret"):
        if not Path(SERVER).exists():
            raise AssertionError("rabbitmq-server is not installed (Debian's rabbitmq-server; tests/conftest.py installs it)")
        self.base = base
        self.user, self.password = user, password
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.node = f"lamb-{secrets.token_hex(4)}@localhost"
        for d in ("mnesia", "log", "home"):
            (base / d).mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(base / "home"),
            "LANG": "C.UTF-8",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),  # none: defaults
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(base / "plugins-expand"),
            "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
            "RABBITMQ_DEFAULT_USER": user,
            "RABBITMQ_DEFAULT_PASS": password,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        self._epmd = subprocess.Popen(
            [shutil.which("epmd") or "/usr/bin/epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env, start_new_session=True,
        )
        self._log = open(base / "server.out", "wb")
        self._proc = subprocess.Popen([SERVER], stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                      start_new_session=True)
        try:
            wait_for(self._up, 120, 0.2, "rabbitmq-server to accept AMQP connections")
            self.ctl("await_startup")
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"amqp://127.0.0.1:{self.port}"

    def _up(self) -> bool:
        if self._proc.poll() is not None:
            raise AssertionError(f"rabbitmq-server exited with {self._proc.returncode}: "
                                 f"{(self.base / 'server.out').read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def ctl(self, *args: str) -> str:
        proc = subprocess.run([CTL, "-n", self.node, *args], env=self.env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise AssertionError(f"rabbitmqctl {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def add_vhost(self, vhost: str) -> None:
        self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, self.user, ".*", ".*", ".*")

    def stop(self) -> None:
        for proc in (self._proc, self._epmd):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
            try:  # children that outlived their leader (erl_child_setup, inet_gethost)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()


# ------------------------------------------------------------------ a test's own AMQP client
def _run(coro):
    return asyncio.run(coro)


async def _with_channel(server: "RabbitMQServer", vhost: str, fn):
    import aio_pika

    conn = await aio_pika.connect(host="127.0.0.1", port=server.port, login=server.user, password=server.password,
                                  virtualhost=vhost)
    try:
        return await fn(await conn.channel())
    finally:
        await conn.close()


def declare(server: "RabbitMQServer", queue: str, vhost: str = "/", arguments: dict | None = None) -> None:
    async def go(ch):
        await ch.declare_queue(queue, durable=True, arguments=arguments)
    _run(_with_channel(server, vhost, go))


def publish(server: "RabbitMQServer", queue: str, bodies: list[bytes], vhost: str = "/", **properties) -> None:
    import aio_pika

    async def go(ch):
        for body in bodies:
            await ch.default_exchange.publish(aio_pika.Message(body, **properties), routing_key=queue)
    _run(_with_channel(server, vhost, go))


def depth(server: "RabbitMQServer", queue: str, vhost: str = "/") -> tuple[int, int]:
    """(ready, unacknowledged) messages of ``queue``, as the broker counts them."""
    out = server.ctl("list_queues", "-p", vhost, "--no-table-headers", "--quiet", "name", "messages_ready",
                     "messages_unacknowledged")
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == queue:
            return int(parts[1]), int(parts[2])
    raise AssertionError(f"no queue {queue} in {vhost}: {out}")
