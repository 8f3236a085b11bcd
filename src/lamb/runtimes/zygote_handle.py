"""Lamb's handle on a zygote process (see ``lamb.runtimes.zygote``).

One ``Zygote`` per managed runtime. ``spawn`` asks it to fork an environment and
resolves with the child's pid; the zygote reports every child's exit, which is
passed to ``on_exit(pid, code, signal)``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
from pathlib import Path
from typing import Callable

from .. import aio
from . import zygote as zygote_module
from ..cpus import release

log = logging.getLogger("lamb.zygote")

ExitCallback = Callable[[int, "int | None", "int | None"], None]
# (interpreter folders, runtime root) -> the zygote's setup message (lamb.sandbox: ``zygote_setup``)
SetupFn = Callable[[tuple, "str"], dict]


class ZygoteError(Exception):
    pass


class Zygote:
    def __init__(
        self, name: str, interpreter: str, runtime_root: Path | None, on_exit: ExitCallback, setup: SetupFn,
        preload_env: dict | None = None, runtime_client: str = "lamb",
    ):
        self.name = name
        # Python: "lamb" preloads Lamb's Runtime API transport as awslambdaric's runtime_client
        # (runtimes/lamb_runtime_client.py), "native" leaves awslambdaric its own.
        self.runtime_client = runtime_client
        self.setup = setup
        # Variables that are the same in every environment of this zygote, set before preloading.
        self.preload_env = dict(preload_env or {})
        self.interpreter = interpreter
        self.runtime_root = runtime_root
        self.on_exit = on_exit
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self._ready: asyncio.Future | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._outbox: list[tuple[bytes, list[int]]] = []  # spawns waiting for the socket to drain
        self.dead = False
        self.prefixes: tuple[str, ...] = ()  # the interpreter's installation folders

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [self.interpreter, "-I", "-S", zygote_module.__file__, str(child.fileno())],
                pass_fds=[child.fileno()],
                # Nothing of Lamb's: the environ block a process starts with stays readable in
                # /proc/<pid>/environ of the zygote and of every fork of it, whatever os.environ says.
                env={},
                stdin=subprocess.DEVNULL,
                close_fds=True,
                start_new_session=True,
            )
            release(self.proc.pid)  # its forks, the runtimes, inherit its CPUs
        finally:
            child.close()
        parent.setblocking(False)
        self.sock = parent
        self._ready = loop.create_future()
        loop.add_reader(parent.fileno(), self._on_readable)
        try:
            await aio.wait_for(self._ready, 60)
        except TimeoutError:
            self.close()
            raise ZygoteError(f"zygote for {self.name} did not start")
        except BaseException:
            self.close()  # setup failed: the process must not outlive the attempt
            raise

    def _on_readable(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._died()
                return
            msg = json.loads(data)
            op = msg["op"]
            if op == "exit":
                self.on_exit(msg["pid"], msg["code"], msg["signal"])
            elif op == "spawned":
                fut = self._pending.pop(msg["id"], None)
                if fut is not None and not fut.done():
                    fut.set_result(msg["pid"])
            elif op == "failed":
                fut = self._pending.pop(msg["id"], None)
                if fut is not None and not fut.done():
                    fut.set_exception(ZygoteError(msg["error"]))
            elif op == "hello":
                self.prefixes = tuple(dict.fromkeys(p for p in (msg.get("prefix"), msg.get("exec_prefix")) if p))
                try:
                    plan = self.setup(self.prefixes, str(self.runtime_root or ""))
                    self.sock.send(json.dumps({
                        "op": "setup", **plan, "env": self.preload_env, "runtime_client": self.runtime_client,
                    }).encode())
                except Exception as e:  # noqa: BLE001 - reported as the zygote's failure
                    self._fail_start(f"zygote for {self.name}: setup failed: {e}")
            elif op == "setup_failed":
                self._fail_start(f"zygote for {self.name}: {msg.get('error')}")
            elif op == "ready":
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(True)

    def _fail_start(self, message: str) -> None:
        log.error("%s", message)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ZygoteError(message))

    def _died(self) -> None:
        if self.dead:
            return
        self.dead = True
        loop = asyncio.get_event_loop()
        if self.sock is not None:
            try:
                loop.remove_reader(self.sock.fileno())
            except Exception:
                pass
        err = ZygoteError(f"zygote for {self.name} exited")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(err)
        self._pending.clear()
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(err)

    def spawn(self, spec: dict, log_fd: int) -> asyncio.Future:
        """Fork an environment. The future resolves with its pid.

        Descriptors the sandbox plan lists in ``fds`` (its network namespace) go with ``log_fd``.
        """
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        if self.dead or self.sock is None:
            fut.set_exception(ZygoteError(f"zygote for {self.name} is not running"))
            return fut
        self._next_id += 1
        self._pending[self._next_id] = fut
        data = json.dumps({"op": "spawn", "id": self._next_id, "spec": spec}).encode()
        fds = [log_fd, *(spec.get("sandbox") or {}).get("fds", ())]
        if self._outbox:
            self._queue(data, fds)
            return fut
        try:
            socket.send_fds(self.sock, [data], fds)
        except BlockingIOError:
            # The zygote is behind (a burst of cold starts). Never block the event loop: the
            # zygote may itself be blocked sending us exit reports. Queue and send when writable.
            self._queue(data, fds)
        except OSError as e:
            self._pending.pop(self._next_id, None)
            fut.set_exception(ZygoteError(str(e)))
        return fut

    def end(self, pid: int) -> None:
        """End the PID namespace of environment ``pid`` (one with external extensions, whose
        namespace outlives its runtime for the Shutdown phase); a no-op for any other."""
        if self.dead or self.sock is None:
            return
        data = json.dumps({"op": "end", "pid": pid}).encode()
        if self._outbox:
            self._queue(data, [])
            return
        try:
            self.sock.send(data)
        except BlockingIOError:
            self._queue(data, [])
        except OSError:
            pass

    def _queue(self, data: bytes, fds: list[int]) -> None:
        assert self.sock is not None
        if not self._outbox:
            asyncio.get_running_loop().add_writer(self.sock.fileno(), self._flush)
        self._outbox.append((data, [os.dup(fd) for fd in fds]))  # the caller closes its copies right away

    def _flush(self) -> None:
        sock = self.sock
        while self._outbox and sock is not None:
            data, fds = self._outbox[0]
            try:
                if fds:
                    socket.send_fds(sock, [data], fds)
                else:
                    sock.send(data)
            except BlockingIOError:
                return
            except OSError:
                self._died()
                break
            self._outbox.pop(0)
            for fd in fds:
                os.close(fd)
        if sock is not None:
            try:
                asyncio.get_running_loop().remove_writer(sock.fileno())
            except Exception:
                pass
        for _, fds in self._outbox:
            for fd in fds:
                os.close(fd)
        self._outbox.clear()

    def close(self) -> None:
        """Stop the zygote; its environments die with it (PR_SET_PDEATHSIG)."""
        if self.sock is not None:
            try:
                asyncio.get_event_loop().remove_reader(self.sock.fileno())
            except Exception:
                pass
            try:
                self.sock.close()
            except OSError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.dead = True
